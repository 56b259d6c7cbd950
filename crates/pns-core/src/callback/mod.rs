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

/// Replaces every NUL character in `value`'s strings and keys with the six characters `\u0000`.
/// PostgreSQL stores no NUL in `text` or `jsonb`; escaping (rather than dropping) it keeps what was
/// sent visible, and is the same on every backend and every redelivery, so dedupe keys still match.
pub fn escape_nul(value: &mut Value) {
    fn escaped(s: &str) -> String {
        s.replace('\0', "\\u0000")
    }
    match value {
        Value::String(s) if s.contains('\0') => *s = escaped(s),
        Value::Array(items) => items.iter_mut().for_each(escape_nul),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (escaped(&k), v))
                    .collect();
            }
            map.values_mut().for_each(escape_nul);
        }
        _ => {}
    }
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
        Self::from_value(value)
    }

    /// The callback a JSON body holds (see [`Callback::parse`]).
    pub fn from_value(value: Value) -> Result<Callback, CallbackParseError> {
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
