//! `/v1/calls` and `/v1/bindings/{id}/calls`: call history from the platform's events and CDRs.

pub mod dto;

use actix_web::{get, web};
use uuid::Uuid;

use self::dto::{CallFilter, CallOut, CallPage, RecordingOut};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ErrorBody};
use crate::service::calls;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_calls)
        .service(get_call)
        .service(call_recording)
        .service(binding_calls);
}

/// Calls of the calling app (admin: all), newest first, with cursor pagination.
///
/// `unbound=true` (admin only) lists calls on our X numbers that matched no binding (8014).
#[utoipa::path(
    get, path = "/v1/calls", tag = "calls",
    params(CallFilter),
    responses(
        (status = 200, body = CallPage),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Missing bindings:read, or unbound=true without admin", body = ErrorBody),
        (status = 404, description = "bindingId unknown or another app's", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/calls")]
pub async fn list_calls(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<CallFilter>,
) -> Result<web::Json<CallPage>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let (rows, next_cursor) = calls::list_calls(&state.db, &principal, filter.into_inner()).await?;
    Ok(web::Json(CallPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Calls of one binding, newest first.
#[utoipa::path(
    get, path = "/v1/bindings/{id}/calls", tag = "calls",
    params(("id" = Uuid, Path, description = "Binding id"), CallFilter),
    responses(
        (status = 200, body = CallPage),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown binding, or another app's", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/bindings/{id}/calls")]
pub async fn binding_calls(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    filter: web::Query<CallFilter>,
) -> Result<web::Json<CallPage>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let filter = CallFilter {
        binding_id: Some(id.into_inner()),
        ..filter.into_inner()
    };
    let (rows, next_cursor) = calls::list_calls(&state.db, &principal, filter).await?;
    Ok(web::Json(CallPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One call.
#[utoipa::path(
    get, path = "/v1/calls/{id}", tag = "calls",
    params(("id" = Uuid, Path, description = "Call id")),
    responses(
        (status = 200, body = CallOut),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown, or another app's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/calls/{id}")]
pub async fn get_call(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<CallOut>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let call = calls::find_call(&state.db, &principal, id.into_inner()).await?;
    Ok(web::Json(call.into()))
}

/// A download link for the call's recording (asked of the platform each time).
#[utoipa::path(
    get, path = "/v1/calls/{id}/recording", tag = "calls",
    params(("id" = Uuid, Path, description = "Call id")),
    responses(
        (status = 200, body = RecordingOut),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown call, or it has no recording", body = ErrorBody),
        (status = 410, description = "Past the platform's 7-day retention", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/calls/{id}/recording")]
pub async fn call_recording(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<RecordingOut>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    Ok(web::Json(
        calls::recording(&state, &principal, id.into_inner()).await?,
    ))
}
