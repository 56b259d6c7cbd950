//! Call events: `{"eventType": "callin"|"callout"|"alerting"|"answer"|"disconnect", "statusInfo": {...}}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::redact::debug_masking;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallEventType {
    Callin,
    Callout,
    Alerting,
    Answer,
    Disconnect,
}

impl CallEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Callin => "callin",
            Self::Callout => "callout",
            Self::Alerting => "alerting",
            Self::Answer => "answer",
            Self::Disconnect => "disconnect",
        }
    }

    pub fn from_wire(s: &str) -> Option<Self> {
        Some(match s {
            "callin" => Self::Callin,
            "callout" => Self::Callout,
            "alerting" => Self::Alerting,
            "answer" => Self::Answer,
            "disconnect" => Self::Disconnect,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEvent {
    pub event_type: CallEventType,
    pub status_info: StatusInfo,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusInfo {
    /// UTC `yyyy-MM-dd HH:mm:ss`; see [`crate::wire_time::parse_event_time`].
    pub timestamp: String,
    pub session_id: String,
    pub caller: Option<String>,
    pub called: Option<String>,
    pub subscription_id: Option<String>,
    /// Only on `callin`.
    pub user_data: Option<String>,
    /// Only on `disconnect`.
    pub state_code: Option<i64>,
    pub state_desc: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

debug_masking!(StatusInfo {
    plain: [
        timestamp,
        session_id,
        subscription_id,
        user_data,
        state_code,
        state_desc,
        extra
    ],
    masked: [caller, called],
});

/// What a `disconnect` event's `stateCode` means (the documented main codes).
pub fn state_code_meaning(code: i64) -> &'static str {
    match code {
        0 => "answered and hung up",
        7501 => "caller hung up before ringing",
        7502 => "caller hung up after ringing",
        7503 => "rejected",
        7504 => "call refused (rejected, do-not-disturb or blocked)",
        8010 => "maximum call duration reached",
        8014 => "no binding for this call",
        8016 => "call direction not allowed",
        8035 => "connect timeout",
        8100 => "callee number does not exist",
        8101 => "no answer",
        8102 => "busy",
        8104 => "powered off",
        8105 => "suspended",
        _ => "undocumented state code",
    }
}
