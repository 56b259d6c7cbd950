//! What admins send and receive for the X-number pool.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::entity::x_numbers;

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
pub struct NumberOut {
    pub number: String,
    pub area_code: String,
    pub capacity: i32,
    /// Live (pending or active) bindings on this X.
    pub in_use: i32,
    /// From the platform's number-status notifications: normal | suspended | unavailable | frozen.
    /// Only `normal` numbers take new bindings.
    pub status: String,
    /// The platform's cause code when unavailable (1 deleted, 2 arrears, ...).
    pub status_cause: Option<i32>,
    /// When that status took effect (the platform's time when it sends one, else when it arrived).
    /// A later-arriving push about an earlier moment does not replace it.
    pub status_updated_at: Option<DateTime<Utc>>,
    /// Set when the pool no longer offers this number: the platform refused it as not this app's
    /// (`1012001`), or an admin marked it. Cleared only by an admin (`PATCH` with `usable: true`).
    pub unusable_reason: Option<String>,
    pub unusable_since: Option<DateTime<Utc>>,
    pub reserved: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<x_numbers::Model> for NumberOut {
    fn from(m: x_numbers::Model) -> Self {
        Self {
            number: m.number,
            area_code: m.area_code,
            capacity: m.capacity,
            in_use: m.in_use,
            status: m.status,
            status_cause: m.status_cause,
            status_updated_at: m.status_updated_at,
            unusable_reason: m.unusable_reason,
            unusable_since: m.unusable_since,
            reserved: m.reserved,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
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
