//! Callbacks the platform POSTs to us: call events, CDRs ("fee"), SMS notifications and X-number status.
//! `Callback::parse` takes the raw body (after the AKSK check) and tells the kinds apart the way the
//! platform does: SMS bodies carry `smsEvent`, everything else an `eventType`.

mod call_event;
mod fee;
mod num_status;
mod sms;

use serde_json::Value;

use crate::wire::{DecodeError, decode_value};

pub use call_event::{CallEvent, CallEventType, StatusInfo, state_code_meaning};
pub use fee::{FeeNotification, FeeRecord, MAX_FEE_BATCH};
pub use num_status::{NumStatusInfo, NumStatusNotification, XNumberStatus};
pub use sms::{NotificationMode, SmsDecision, SmsEvent, SmsNotification};

#[derive(Clone, Debug, PartialEq)]
pub enum Callback {
    CallEvent(CallEvent),
    Fee(FeeNotification),
    Sms(SmsNotification),
    NumStatus(NumStatusNotification),
    /// A well-formed JSON object of a kind we do not know (a new `eventType`): kept, not rejected.
    Unknown(Value),
}

#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CallbackParseError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("body is not a JSON object")]
    NotAnObject,
    /// A field has the wrong type or a required one is missing; `path` names it, e.g. `feeLst[3].icid`.
    #[error("{path}: {message}")]
    Field { path: String, message: String },
    #[error("feeLst must hold 1 to {MAX_FEE_BATCH} records, got {0}")]
    FeeBatchSize(usize),
}

impl CallbackParseError {
    /// The offending field, when the problem is one field.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Field { path, .. } => Some(path),
            _ => None,
        }
    }
}

impl From<DecodeError> for CallbackParseError {
    fn from(e: DecodeError) -> Self {
        Self::Field {
            path: e.path,
            message: e.message,
        }
    }
}

impl Callback {
    pub fn parse(body: &[u8]) -> Result<Callback, CallbackParseError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| CallbackParseError::NotJson(e.to_string()))?;
        let Value::Object(object) = &value else {
            return Err(CallbackParseError::NotAnObject);
        };
        if object.contains_key("smsEvent") {
            return Ok(Callback::Sms(decode_value(value)?));
        }
        let event_type = object
            .get("eventType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let callback = match event_type {
            "fee" => {
                let fee: FeeNotification = decode_value(value)?;
                let n = fee.fee_lst.len();
                if !(1..=MAX_FEE_BATCH).contains(&n) {
                    return Err(CallbackParseError::FeeBatchSize(n));
                }
                Callback::Fee(fee)
            }
            "numStatus" => Callback::NumStatus(decode_value(value)?),
            _ if CallEventType::from_wire(event_type).is_some() => {
                Callback::CallEvent(decode_value(value)?)
            }
            _ => Callback::Unknown(value),
        };
        Ok(callback)
    }

    /// A short label for logs and metrics: `callin`, `fee`, `sms`, `numStatus`, `unknown`.
    pub fn kind(&self) -> &'static str {
        match self {
            Callback::CallEvent(e) => e.event_type.as_str(),
            Callback::Fee(_) => "fee",
            Callback::Sms(_) => "sms",
            Callback::NumStatus(_) => "numStatus",
            Callback::Unknown(_) => "unknown",
        }
    }
}

#[cfg(test)]
mod tests;
