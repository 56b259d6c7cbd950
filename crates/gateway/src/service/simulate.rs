//! Sandbox only: drive the in-process simulator so it posts real signed callbacks to this gateway, and
//! return what the gateway made of them.

use pns_core::callback::{NotificationMode, SmsDecision};
use pns_sim::{CallOutcome, CallScript, Party, SimControl, SimError, SmsScript};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entity::{bindings, calls};
use crate::error::{ApiError, ErrorCode};
use crate::service::bindings::query::find_scoped;
use crate::state::AppState;

fn simulator(state: &AppState) -> Result<&SimControl, ApiError> {
    state.sandbox.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "sandbox endpoints exist only in sandbox mode (no PNS_UPSTREAM_URL)",
        )
    })
}

async fn live_subscription(
    state: &AppState,
    principal: &Principal,
    binding_id: Uuid,
) -> Result<bindings::Model, ApiError> {
    let binding = find_scoped(&state.db, principal, binding_id).await?;
    if binding.status != crate::domain::BindingStatus::Active || binding.subscription_id.is_none() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the binding is {}, not active", binding.status),
        ));
    }
    Ok(binding)
}

fn sim_error(e: SimError) -> ApiError {
    match e {
        SimError::UnknownSubscription(_) => ApiError::new(
            ErrorCode::Conflict,
            "the simulator no longer has this binding (expired or unbound on the platform)",
        ),
        SimError::InvalidScript(reason) => ApiError::new(ErrorCode::Validation, reason),
        other => ApiError::internal(format!("simulator: {other}")),
    }
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
) -> Result<calls::Model, ApiError> {
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
        .await
        .map_err(sim_error)?;
    sim.flush_cdrs().await.map_err(sim_error)?;
    calls::Entity::find()
        .filter(calls::Column::SessionId.eq(report.session_id.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::internal("the simulated call's callbacks were not stored"))
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
) -> Result<SmsResult, ApiError> {
    let sim = simulator(state)?;
    let binding = live_subscription(state, principal, req.binding_id).await?;
    let report = sim
        .send_sms(SmsScript {
            subscription_id: binding.subscription_id.unwrap_or_default(),
            from: req.from,
            mode: req.mode,
            content: req.content,
        })
        .await
        .map_err(sim_error)?;
    Ok(SmsResult {
        sms_identifier: report.sms_identifier,
        http_status: report.http_status,
        decision: report.decision,
    })
}
