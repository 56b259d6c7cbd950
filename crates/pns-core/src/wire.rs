//! Bodies and query strings of the upstream REST API, field for field as on the wire (camelCase, plain
//! strings and integers). Validation lives in the domain types; these structs only carry bytes faithfully.
//! Responses keep undocumented fields in `extra`, because the platform's echo is not fully documented.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::phone::PhoneNumber;
use crate::redact::debug_masking;
use crate::types::WireBool;

/// Bind (POST), modify (PUT), unbind (DELETE) and query (GET) all share this path.
pub const BIND_PATH: &str = "/rest/caas/relationnumber/partners/v1.0";
/// GET, answers 301 with the recording's download URL in `Location`.
pub const RECORD_URL_PATH: &str = "/rest/provision/voice/record/v1.0";
pub const CALL_STOP_PATH: &str = "/rest/httpsessions/callStop/v2.0";

/// Ringback tones played before the call is connected (file names approved in the console).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreVoice {
    pub caller_hint_tone: Option<String>,
    pub callee_hint_tone: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindRequest {
    pub relation_num: Option<String>,
    pub area_code: Option<String>,
    pub area_match_mode: Option<String>,
    pub caller_num: String,
    pub callee_num: String,
    pub call_direction: Option<u8>,
    pub duration: Option<u32>,
    pub record_flag: Option<WireBool>,
    pub record_hint_tone: Option<String>,
    pub max_duration: Option<u16>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<WireBool>,
    pub pre_voice: Option<PreVoice>,
    pub user_data: Option<String>,
}

impl BindRequest {
    /// The two required fields, from validated numbers; everything else defaults to "omit".
    pub fn new(caller: &PhoneNumber, callee: &PhoneNumber) -> Self {
        Self {
            caller_num: caller.as_str().to_owned(),
            callee_num: callee.as_str().to_owned(),
            ..Self::default()
        }
    }
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindResponse {
    pub resultcode: String,
    #[serde(default)]
    pub resultdesc: String,
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    pub caller_num: Option<String>,
    pub callee_num: Option<String>,
    pub call_direction: Option<u8>,
    pub duration: Option<u32>,
    pub max_duration: Option<u16>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// PUT body: only `subscription_id` is required; omitted fields keep their value on the platform.
#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifyRequest {
    pub subscription_id: String,
    pub caller_num: Option<String>,
    pub callee_num: Option<String>,
    pub call_direction: Option<u8>,
    pub duration: Option<u32>,
    pub max_duration: Option<u16>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<WireBool>,
    pub record_flag: Option<WireBool>,
    pub pre_voice: Option<PreVoice>,
    pub user_data: Option<String>,
}

/// The answer of modify, unbind, call stop, and of every error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultResponse {
    pub resultcode: String,
    #[serde(default)]
    pub resultdesc: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResultResponse {
    pub fn new(resultcode: impl Into<String>, resultdesc: impl Into<String>) -> Self {
        Self {
            resultcode: resultcode.into(),
            resultdesc: resultdesc.into(),
            extra: Map::new(),
        }
    }

    pub fn success() -> Self {
        Self::new("0", "Success")
    }
}

/// DELETE query string. Beware: `relation_num` alone removes EVERY binding on that X.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnbindParams {
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
}

/// GET query string.
#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryParams {
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    pub caller_num: Option<String>,
    pub callee_num: Option<String>,
    pub page_index: Option<u32>,
    pub page_size: Option<u32>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    pub resultcode: String,
    #[serde(default)]
    pub resultdesc: String,
    pub total_count: Option<u64>,
    #[serde(default)]
    pub relation_num_list: Vec<BindingInfo>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `relationNumList`. Only the first four fields are documented as always present.
#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingInfo {
    pub subscription_id: String,
    pub relation_num: String,
    pub caller_num: String,
    pub callee_num: String,
    pub call_direction: Option<u8>,
    pub duration: Option<u32>,
    pub max_duration: Option<u16>,
    pub subscribe_time: Option<String>,
    pub record_flag: Option<WireBool>,
    pub private_sms: Option<WireBool>,
    pub user_data: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// GET query string of the recording-URL call; both values come from a CDR.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordUrlParams {
    pub record_domain: String,
    pub file_name: String,
}

/// `{"sessionid": "...", "signal": "call_stop"}`; the keys are lowercase on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallStopRequest {
    pub sessionid: String,
    pub signal: String,
}

impl CallStopRequest {
    pub const SIGNAL: &'static str = "call_stop";

    pub fn new(session_id: impl Into<String>) -> Self {
        Self {
            sessionid: session_id.into(),
            signal: Self::SIGNAL.to_owned(),
        }
    }
}

debug_masking!(BindRequest {
    plain: [
        relation_num,
        area_code,
        area_match_mode,
        call_direction,
        duration,
        record_flag,
        record_hint_tone,
        max_duration,
        last_min_voice,
        private_sms,
        pre_voice,
        user_data
    ],
    masked: [caller_num, callee_num],
});
debug_masking!(BindResponse {
    plain: [
        resultcode,
        resultdesc,
        subscription_id,
        relation_num,
        call_direction,
        duration,
        max_duration,
        extra
    ],
    masked: [caller_num, callee_num],
});
debug_masking!(ModifyRequest {
    plain: [
        subscription_id,
        call_direction,
        duration,
        max_duration,
        last_min_voice,
        private_sms,
        record_flag,
        pre_voice,
        user_data
    ],
    masked: [caller_num, callee_num],
});
debug_masking!(QueryParams {
    plain: [subscription_id, relation_num, page_index, page_size],
    masked: [caller_num, callee_num],
});
debug_masking!(BindingInfo {
    plain: [
        subscription_id,
        relation_num,
        call_direction,
        duration,
        max_duration,
        subscribe_time,
        record_flag,
        private_sms,
        user_data,
        extra
    ],
    masked: [caller_num, callee_num],
});

/// A JSON decoding failure that names the offending field, e.g. `relationNumList[0].callerNum`.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct DecodeError {
    /// `.` when the problem is the document itself (not JSON, wrong top-level type).
    pub path: String,
    pub message: String,
}

impl DecodeError {
    /// serde reports a missing field at the enclosing object (`feeLst[3]`, "missing field `icid`"); move
    /// the name into the path so every error points at the field itself (`feeLst[3].icid`).
    fn new(path: String, message: String) -> Self {
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field.to_owned());
        match missing {
            Some(field) => Self {
                path: if path == "." {
                    field
                } else {
                    format!("{path}.{field}")
                },
                message: "missing field".to_owned(),
            },
            None => Self { path, message },
        }
    }
}

/// Decodes a JSON body, reporting the path of the field that failed.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de)
        .map_err(|e| DecodeError::new(e.path().to_string(), e.inner().to_string()))
}

/// Like [`decode`], from an already parsed value.
pub fn decode_value<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| DecodeError::new(e.path().to_string(), e.inner().to_string()))
}

#[cfg(test)]
mod tests;
