//! `/v1/calls` and `/v1/bindings/{id}/calls`: call history from the platform's events and CDRs.

pub mod dto;

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use self::dto::{CallFilter, CallOut, CallPage, RecordingOut};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ErrorBody};
use crate::routes::bindings::parse::phone;
use crate::service::calls::{self, CallQuery};
use crate::service::history::HistoryFilter;
use crate::service::page::PageRequest;
use crate::state::AppState;

/// The filters every history list shares, parsed (`number` must be E.164).
pub(crate) fn history(
    binding_id: Option<Uuid>,
    number: Option<&str>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<HistoryFilter, ApiError> {
    Ok(HistoryFilter {
        binding_id,
        number: number.map(|n| phone("number", n)).transpose()?,
        from,
        to,
    })
}

fn query(filter: &CallFilter) -> Result<(CallQuery, PageRequest), ApiError> {
    let query = CallQuery {
        history: history(
            filter.binding_id,
            filter.number.as_deref(),
            filter.from,
            filter.to,
        )?,
        outcome: filter.outcome.clone(),
        unbound: filter.unbound == Some(true),
    };
    Ok((
        query,
        PageRequest::new(filter.limit, filter.cursor.as_deref())?,
    ))
}

async fn page(
    state: &AppState,
    principal: &Principal,
    filter: &CallFilter,
) -> Result<web::Json<CallPage>, ApiError> {
    let (filter, page) = query(filter)?;
    let found = calls::list_calls(&state.db, principal, filter, &page).await?;
    Ok(web::Json(CallPage {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}

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
    page(&state, &principal, &filter).await
}

/// Calls of one binding, newest first.
#[utoipa::path(
    get, path = "/v1/bindings/{id}/calls", tag = "calls",
    params(("id" = Uuid, Path, description = "Binding id"), CallFilter),
    responses(
        (status = 200, body = CallPage),
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
    page(&state, &principal, &filter).await
}

/// One call.
#[utoipa::path(
    get, path = "/v1/calls/{id}", tag = "calls",
    params(("id" = Uuid, Path, description = "Call id")),
    responses(
        (status = 200, body = CallOut),
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
    let link = calls::recording(&state, &principal, id.into_inner()).await?;
    Ok(web::Json(RecordingOut {
        url: link.url,
        expires_at: link.expires_at,
    }))
}
