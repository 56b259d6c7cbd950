//! SMS notifications `{"appKey": .., "smsEvent": {..}}`. In `Block` mode the platform holds the message
//! until our answer body says where it goes (`vNumberRoute`) or that it is dropped (`DiscardMessage`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::redact::{Masked, debug_masking};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationMode {
    /// Informational: answer 200 with an empty body.
    #[default]
    Notify,
    /// The platform waits for an [`SmsDecision`] in the answer.
    Block,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsNotification {
    pub app_key: Option<String>,
    pub sms_event: SmsEvent,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsEvent {
    pub sms_identifier: String,
    pub notification_mode: NotificationMode,
    /// The real sender.
    pub calling: String,
    /// The real receiver, when the platform knows it.
    pub called: Option<String>,
    /// X.
    pub virtual_number: String,
    pub event: Option<String>,
    /// `2018-09-13T09:46:16.023Z`; see [`crate::wire_time::parse_sms_time`].
    pub time_stamp: Option<String>,
    pub subscription_id: Option<String>,
    pub sms_content: Option<String>,
    pub send_result: Option<String>,
    /// `{"extParas": [{"key": .., "value": ..}]}`, kept as-is.
    pub ext_info: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

debug_masking!(SmsEvent {
    plain: [
        sms_identifier,
        notification_mode,
        virtual_number,
        event,
        time_stamp,
        subscription_id,
        send_result,
        ext_info,
        extra
    ],
    masked: [calling, called],
    redacted: [sms_content],
});

/// The answer to a `Block` notification.
#[derive(Clone, PartialEq, Eq)]
pub enum SmsDecision {
    /// Deliver to `called`, showing `calling` as the sender (normally X).
    Route {
        called: String,
        calling: String,
    },
    Discard,
}

impl std::fmt::Debug for SmsDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Route { called, calling } => f
                .debug_struct("Route")
                .field("called", &Masked(called))
                .field("calling", &Masked(calling))
                .finish(),
            Self::Discard => f.write_str("Discard"),
        }
    }
}

impl SmsDecision {
    pub fn to_body(&self) -> Value {
        let action = match self {
            Self::Route { called, calling } => json!({
                "operation": "vNumberRoute",
                "message": { "called": called, "calling": calling },
            }),
            Self::Discard => json!({ "operation": "DiscardMessage" }),
        };
        json!({ "actions": [action] })
    }

    /// Reads the first action of a Block answer; `None` if it is not one of the two documented shapes.
    pub fn from_body(v: &Value) -> Option<Self> {
        let action = v.get("actions")?.as_array()?.first()?;
        match action.get("operation")?.as_str()? {
            "vNumberRoute" => {
                let message = action.get("message")?;
                Some(Self::Route {
                    called: message.get("called")?.as_str()?.to_owned(),
                    calling: message.get("calling")?.as_str()?.to_owned(),
                })
            }
            "DiscardMessage" => Some(Self::Discard),
            _ => None,
        }
    }
}
