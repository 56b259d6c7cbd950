//! What apps read about calls and texts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub use crate::views::{CallOut, SmsOut};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallFilter {
    pub binding_id: Option<Uuid>,
    /// A real party (from or to) or X, E.164.
    pub number: Option<String>,
    /// Calls started at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Calls started before this time.
    pub to: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    /// Admin only: calls on X that matched no binding (8014, empty subscriptionId).
    pub unbound: Option<bool>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallPage {
    pub items: Vec<CallOut>,
    pub next_cursor: Option<String>,
}

/// A short-lived link to the recording's file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingOut {
    pub url: String,
    /// After this the link (or the file: the platform keeps it 7 days) is gone.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SmsFilter {
    pub binding_id: Option<Uuid>,
    /// Sender, receiver or X, E.164.
    pub number: Option<String>,
    /// Received at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Received before this time.
    pub to: Option<DateTime<Utc>>,
    /// `notify`, `route` or `discard`.
    pub decision: Option<String>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsPage {
    pub items: Vec<SmsOut>,
    pub next_cursor: Option<String>,
}
