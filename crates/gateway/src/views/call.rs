//! A call as `GET /v1/calls/{id}` shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::entity::calls;

/// One call through X, from its events and its CDR.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallOut {
    pub id: Uuid,
    /// The platform's sessionId.
    pub session_id: String,
    /// None for a call on X that matched no binding (admins only).
    pub binding_id: Option<Uuid>,
    pub subscription_id: Option<String>,
    /// X.
    pub relation_num: Option<String>,
    /// `a_to_b` (A dialled X) or `b_to_a`.
    pub direction: Option<String>,
    /// The real number that dialled X.
    pub from: Option<String>,
    /// The real number the call was forwarded to.
    pub to: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Billed seconds: end - answer (0 when not answered).
    pub talk_seconds: Option<i32>,
    /// `answered`, `no_answer`, `busy`, `rejected`, `powered_off`, `no_binding`, `direction_not_allowed`,
    /// `caller_hung_up`, `invalid_number`, `failed`, or `in_progress` until it ends.
    pub outcome: Option<String>,
    /// The platform's disconnect stateCode (0, 8014, 8016, 8101, ...).
    pub state_code: Option<i32>,
    /// What `stateCode` means.
    pub disconnect_reason: Option<String>,
    /// The CDR's id, once the CDR has arrived.
    pub icid: Option<String>,
    pub has_recording: bool,
}

impl From<calls::Model> for CallOut {
    fn from(m: calls::Model) -> Self {
        Self {
            id: m.id,
            session_id: m.session_id,
            binding_id: m.binding_id,
            subscription_id: m.subscription_id,
            relation_num: m.relation_num,
            direction: m.direction,
            from: m.caller,
            to: m.called,
            started_at: m.started_at,
            answered_at: m.answered_at,
            ended_at: m.ended_at,
            talk_seconds: m.talk_seconds,
            outcome: m.outcome,
            state_code: m.state_code,
            disconnect_reason: m.state_desc,
            icid: m.icid,
            has_recording: m.has_recording,
        }
    }
}
