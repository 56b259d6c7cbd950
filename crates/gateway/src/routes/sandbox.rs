//! `/v1/sandbox/*`: try the whole callback flow from Swagger UI. The in-process simulator plays a call
//! or a text on a binding and posts real signed callbacks to this gateway. 404 outside sandbox mode.

use actix_web::{HttpResponse, post, web};
use pns_core::callback::NotificationMode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ErrorBody};
use crate::routes::calls::dto::CallOut;
use crate::service::simulate::{self, CallRequest, SmsRequest};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sandbox_call).service(sandbox_sms);
}

/// Which party of the binding dials X or texts it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SandboxParty {
    /// A (`callerNum`).
    Caller,
    /// B (`calleeNum`).
    Callee,
}

impl From<SandboxParty> for pns_sim::Party {
    fn from(p: SandboxParty) -> Self {
        match p {
            SandboxParty::Caller => Self::Caller,
            SandboxParty::Callee => Self::Callee,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SandboxOutcome {
    Answered,
    NoAnswer,
    Busy,
    Rejected,
    PoweredOff,
}

impl From<SandboxOutcome> for pns_sim::CallOutcome {
    fn from(o: SandboxOutcome) -> Self {
        match o {
            SandboxOutcome::Answered => Self::Answered,
            SandboxOutcome::NoAnswer => Self::NoAnswer,
            SandboxOutcome::Busy => Self::Busy,
            SandboxOutcome::Rejected => Self::Rejected,
            SandboxOutcome::PoweredOff => Self::PoweredOff,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SandboxCallIn {
    pub binding_id: Uuid,
    pub from: SandboxParty,
    pub outcome: SandboxOutcome,
    /// Seconds between answer and hang-up (answered calls only).
    #[serde(default)]
    pub talk_seconds: u32,
    /// Record the call (answered calls only).
    #[serde(default)]
    pub record: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum SandboxSmsMode {
    /// Informational.
    Notify,
    /// The platform waits for this gateway's routing decision.
    Block,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SandboxSmsIn {
    pub binding_id: Uuid,
    pub from: SandboxParty,
    pub mode: SandboxSmsMode,
    pub content: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxSmsOut {
    pub sms_identifier: String,
    /// What this gateway answered the simulated platform.
    pub http_status: Option<u16>,
    /// Block only: the decision as the platform read it from the answer.
    #[schema(value_type = Option<Object>)]
    pub decision: Option<Value>,
}

/// Play a call on a binding: the simulator posts callin/alerting/answer/disconnect and the CDR to this
/// gateway, signed like the platform. Answers the call as stored.
#[utoipa::path(
    post, path = "/v1/sandbox/calls", tag = "sandbox",
    request_body = SandboxCallIn,
    responses(
        (status = 200, body = CallOut),
        (status = 404, description = "Not in sandbox mode, or unknown binding", body = ErrorBody),
        (status = 409, description = "The binding is not active", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/sandbox/calls")]
pub async fn sandbox_call(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<SandboxCallIn>,
) -> Result<web::Json<CallOut>, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let body = body.into_inner();
    let call = simulate::play_call(
        &state,
        &principal,
        CallRequest {
            binding_id: body.binding_id,
            from: body.from.into(),
            outcome: body.outcome.into(),
            talk_seconds: body.talk_seconds,
            record: body.record,
        },
    )
    .await?;
    Ok(web::Json(call.into()))
}

/// Send a text from one party to X: the simulator posts the SMS notification to this gateway; in
/// Block mode the answer carries the routing decision.
#[utoipa::path(
    post, path = "/v1/sandbox/sms", tag = "sandbox",
    request_body = SandboxSmsIn,
    responses(
        (status = 200, body = SandboxSmsOut),
        (status = 404, description = "Not in sandbox mode, or unknown binding", body = ErrorBody),
        (status = 409, description = "The binding is not active", body = ErrorBody),
        (status = 422, description = "Invalid field, or the binding has privateSms false", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/sandbox/sms")]
pub async fn sandbox_sms(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<SandboxSmsIn>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let body = body.into_inner();
    let result = simulate::send_sms(
        &state,
        &principal,
        SmsRequest {
            binding_id: body.binding_id,
            from: body.from.into(),
            mode: match body.mode {
                SandboxSmsMode::Notify => NotificationMode::Notify,
                SandboxSmsMode::Block => NotificationMode::Block,
            },
            content: body.content,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(SandboxSmsOut {
        sms_identifier: result.sms_identifier,
        http_status: result.http_status,
        decision: result.decision.as_ref().map(|d| d.to_body()),
    }))
}
