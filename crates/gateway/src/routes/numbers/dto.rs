//! What admins send and receive for the X-number pool.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::views::NumberOut;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NumberIn {
    /// The X number, E.164.
    #[schema(example = "+8617000000001")]
    pub number: String,
    /// City code, e.g. `0755`.
    #[schema(example = "0755")]
    pub area_code: String,
    /// Most bindings the gateway puts on this X, 1..=5000 (default 5000, the platform's limit).
    pub capacity: Option<u32>,
    /// Reserved numbers are never picked by the pool (an explicit `relationNum` may still use them).
    pub reserved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NumbersBulkIn {
    pub numbers: Vec<NumberIn>,
}

/// One number, or `{"numbers": [...]}` to import many in one call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NumbersIn {
    One(NumberIn),
    Many(NumbersBulkIn),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NumberPatch {
    pub reserved: Option<bool>,
    /// `true` clears an unusable mark (after fixing what the platform refused); `false` sets one.
    pub usable: Option<bool>,
    pub capacity: Option<u32>,
    pub area_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NumberFilter {
    pub area_code: Option<String>,
    /// normal | suspended | unavailable | frozen
    pub status: Option<String>,
    pub reserved: Option<bool>,
    /// 1..=200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportOut {
    pub created: Vec<NumberOut>,
    /// Numbers already in the pool, left unchanged.
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NumberList {
    pub items: Vec<NumberOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
