//! What apps read about calls and texts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::entity::{calls, sms_messages};

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
