//! A text as `GET /v1/sms` lists it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::entity::sms_messages;

/// One text through X and what the gateway decided.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsOut {
    pub sms_identifier: String,
    pub binding_id: Option<Uuid>,
    /// `notify` or `block`.
    pub mode: String,
    /// The real sender.
    pub from: Option<String>,
    /// The real receiver, when known.
    pub to: Option<String>,
    /// X.
    pub virtual_number: Option<String>,
    pub event: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// `notify` (informational), `route` or `discard`.
    pub decision: String,
    pub received_at: DateTime<Utc>,
}

impl From<sms_messages::Model> for SmsOut {
    fn from(m: sms_messages::Model) -> Self {
        Self {
            sms_identifier: m.sms_identifier,
            binding_id: m.binding_id,
            mode: m.mode,
            from: m.calling,
            to: m.routed_to.or(m.called),
            virtual_number: m.virtual_number,
            event: m.event,
            sent_at: m.sms_time,
            decision: m.decision,
            received_at: m.received_at,
        }
    }
}
