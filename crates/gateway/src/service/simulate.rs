//! Sandbox only: drive the in-process simulator so it posts real signed callbacks to this gateway, and
//! return what the gateway made of them.

use pns_core::callback::{NotificationMode, SmsDecision};
use pns_sim::{CallOutcome, CallScript, Party, SimControl, SimError, SmsScript};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entity::{bindings, calls};
use crate::domain::BindingStatus;
use crate::service::bindings::query::find_scoped;
use crate::service::error::QueryError;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox endpoints exist only in sandbox mode (no PNS_UPSTREAM_URL)")]
    NotSandbox,
    #[error("the binding is {0}, not active")]
    NotActive(BindingStatus),
    #[error("the simulator no longer has this binding (expired or unbound on the platform)")]
    GoneFromSimulator,
    /// The script asks for something the platform could not do: why.
    #[error("{0}")]
    InvalidScript(String),
    #[error("the simulated call's callbacks were not stored")]
    NotStored,
    #[error("simulator: {0}")]
    Simulator(SimError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<SimError> for SandboxError {
    fn from(e: SimError) -> Self {
        match e {
            SimError::UnknownSubscription(_) => Self::GoneFromSimulator,
            SimError::InvalidScript(reason) => Self::InvalidScript(reason),
            other => Self::Simulator(other),
        }
    }
}

fn simulator(state: &AppState) -> Result<&SimControl, SandboxError> {
    state.sandbox.as_ref().ok_or(SandboxError::NotSandbox)
}

async fn live_subscription(
    state: &AppState,
    principal: &Principal,
    binding_id: Uuid,
) -> Result<bindings::Model, SandboxError> {
    let binding = find_scoped(&state.db, principal, binding_id).await?;
    if binding.status != BindingStatus::Active || binding.subscription_id.is_none() {
        return Err(SandboxError::NotActive(binding.status));
    }
    Ok(binding)
}

pub struct CallRequest {
    pub binding_id: Uuid,
    pub from: Party,
    pub outcome: CallOutcome,
    pub talk_seconds: u32,
    pub record: bool,
}

/// Plays the call (events posted one by one), pushes its CDR, and returns the call as stored.
pub async fn play_call(
    state: &AppState,
    principal: &Principal,
    req: CallRequest,
) -> Result<calls::Model, SandboxError> {
    let sim = simulator(state)?;
    let binding = live_subscription(state, principal, req.binding_id).await?;
    let report = sim
        .play_call(CallScript {
            subscription_id: binding.subscription_id.unwrap_or_default(),
            from: req.from,
            outcome: req.outcome,
            talk_seconds: req.talk_seconds,
            record: req.record,
        })
        .await?;
    sim.flush_cdrs().await?;
    calls::Entity::find()
        .filter(calls::Column::SessionId.eq(report.session_id.as_str()))
        .one(&state.db)
        .await?
        .ok_or(SandboxError::NotStored)
}

pub struct SmsRequest {
    pub binding_id: Uuid,
    pub from: Party,
    pub mode: NotificationMode,
    pub content: Option<String>,
}

pub struct SmsResult {
    pub sms_identifier: String,
    /// What this gateway answered the (simulated) platform.
    pub http_status: Option<u16>,
    /// Block only: the decision the platform read from the answer.
    pub decision: Option<SmsDecision>,
}

pub async fn send_sms(
    state: &AppState,
    principal: &Principal,
    req: SmsRequest,
) -> Result<SmsResult, SandboxError> {
    let sim = simulator(state)?;
    let binding = live_subscription(state, principal, req.binding_id).await?;
    let report = sim
        .send_sms(SmsScript {
            subscription_id: binding.subscription_id.unwrap_or_default(),
            from: req.from,
            mode: req.mode,
            content: req.content,
        })
        .await?;
    Ok(SmsResult {
        sms_identifier: report.sms_identifier,
        http_status: report.http_status,
        decision: report.decision,
    })
}
