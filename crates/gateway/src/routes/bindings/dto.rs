//! What apps send and receive for bindings. Field names follow Huawei's where they overlap.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::domain::BindingStatus;
pub use crate::views::BindingOut;

/// Ringback tones played before the call is connected (files approved in the Huawei console).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreVoiceIn {
    pub caller_hint_tone: Option<String>,
    pub callee_hint_tone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindingIn {
    /// Real number A, E.164 (`+8618612345678`).
    #[schema(
        example = "+8618612345678",
        pattern = r"^\+(86[0-9]{9,12}|8[0-57-9][0-9]{6,13}|[1-79][0-9]{7,14})$"
    )]
    pub caller_num: String,
    /// Real number B, E.164.
    #[schema(
        example = "+8618612345679",
        pattern = r"^\+(86[0-9]{9,12}|8[0-57-9][0-9]{6,13}|[1-79][0-9]{7,14})$"
    )]
    pub callee_num: String,
    /// X number; omit it to let the gateway pick one from its pool.
    #[schema(pattern = r"^\+(86[0-9]{9,12}|8[0-57-9][0-9]{6,13}|[1-79][0-9]{7,14})$")]
    pub relation_num: Option<String>,
    /// City code such as `0755`, used to pick X.
    #[schema(pattern = r"^[0-9]{2,8}$", example = "0755")]
    pub area_code: Option<String>,
    /// `strict` (default) or `loose`: whether another city may be used when `areaCode` has no free X.
    pub area_match_mode: Option<AreaMatchMode>,
    /// 0 both ways (default), 1 only A->B, 2 only B->A.
    #[schema(minimum = 0, maximum = 2)]
    pub call_direction: Option<u8>,
    /// Seconds until the binding expires, 0..=7776000; 0 or absent: never.
    #[schema(minimum = 0, maximum = 7776000)]
    pub duration: Option<u32>,
    /// Longest single call in minutes, 0..=1440; 0: no limit.
    #[schema(minimum = 0, maximum = 1440)]
    pub max_duration: Option<u16>,
    pub record_flag: Option<bool>,
    pub record_hint_tone: Option<String>,
    #[schema(min_length = 1, max_length = 128)]
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub pre_voice: Option<PreVoiceIn>,
    /// Echoed in call events; 1-256 characters, no `{` or `}`.
    #[schema(min_length = 1, max_length = 256, pattern = r"^[^{}]*$")]
    pub user_data: Option<String>,
    /// Your own reference (an order id, say), searchable with `externalRef`.
    #[schema(min_length = 1, max_length = 128)]
    pub external_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AreaMatchMode {
    Strict,
    Loose,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindingPatch {
    #[schema(pattern = r"^\+(86[0-9]{9,12}|8[0-57-9][0-9]{6,13}|[1-79][0-9]{7,14})$")]
    pub caller_num: Option<String>,
    #[schema(pattern = r"^\+(86[0-9]{9,12}|8[0-57-9][0-9]{6,13}|[1-79][0-9]{7,14})$")]
    pub callee_num: Option<String>,
    #[schema(minimum = 0, maximum = 2)]
    pub call_direction: Option<u8>,
    /// Restarts the expiry clock from now.
    #[schema(minimum = 0, maximum = 7776000)]
    pub duration: Option<u32>,
    #[schema(minimum = 0, maximum = 1440)]
    pub max_duration: Option<u16>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub record_flag: Option<bool>,
    pub pre_voice: Option<PreVoiceIn>,
    #[schema(min_length = 1, max_length = 256, pattern = r"^[^{}]*$")]
    pub user_data: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BindingFilter {
    pub status: Option<BindingStatus>,
    #[param(pattern = r"^\+(86[0-9]{9,12}|8[0-57-9][0-9]{6,13}|[1-79][0-9]{7,14})$")]
    pub relation_num: Option<String>,
    /// A or B.
    #[param(pattern = r"^\+(86[0-9]{9,12}|8[0-57-9][0-9]{6,13}|[1-79][0-9]{7,14})$")]
    pub number: Option<String>,
    pub external_ref: Option<String>,
    pub subscription_id: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// 1..=200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingPage {
    pub items: Vec<BindingOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
