//! An X number of the pool as the numbers API shows it (admins only).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::entity::x_numbers;

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
            status: m.status.as_str().to_owned(),
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
