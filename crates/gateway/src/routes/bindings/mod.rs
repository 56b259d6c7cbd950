//! `/v1/bindings`: thin handlers. Each authorises, calls one service function and maps the result.

pub mod dto;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use self::dto::{BindingFilter, BindingIn, BindingOut, BindingPage, BindingPatch};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ErrorBody};
use crate::service::bindings::lifecycle::{self, Created};
use crate::service::bindings::{query, validate};
use crate::service::idempotency::{self, Claim};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_binding)
        .service(list_bindings)
        .service(get_binding)
        .service(patch_binding)
        .service(delete_binding);
}

/// Bind A and B to an X number.
///
/// Without `relationNum` the gateway picks an X. Send an `Idempotency-Key` header to make retries safe:
/// the same key with the same body replays the first result without a second platform call.
#[utoipa::path(
    post, path = "/v1/bindings", tag = "bindings",
    request_body = BindingIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Bound", body = BindingOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No or invalid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 403, description = "Missing bindings:write", body = ErrorBody),
        (status = 409, description = "A party already has a binding on X, or no X is free", body = ErrorBody),
        (status = 422, description = "Invalid field, or Idempotency-Key reused with another body", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 502, description = "The platform refused our configuration", body = ErrorBody),
        (status = 503, description = "Platform flow control", body = ErrorBody),
        (status = 504, description = "The platform did not answer; the binding stays pending", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/bindings")]
pub async fn create_binding(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<BindingIn>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let input = body.into_inner();
    let key = match req.headers().get("Idempotency-Key") {
        None => None,
        Some(v) => {
            let key = v
                .to_str()
                .map_err(|_| ApiError::validation("Idempotency-Key", "must be ASCII"))?;
            idempotency::validate_key(key)?;
            Some(key.to_owned())
        }
    };
    let Some(key) = key else {
        return respond(outcome(&state, &principal, input).await?);
    };
    let hash = idempotency::request_hash(&input);
    match idempotency::claim(&state.db, &principal.app_id, &key, &hash).await? {
        Claim::Replay { status, body } => Ok(replay(status, body)),
        Claim::Binding(id) => replay_binding(&state, &principal, id).await,
        Claim::Fresh => {
            let result = outcome(&state, &principal, input).await;
            let app = &principal.app_id;
            match &result {
                Ok(done) => {
                    idempotency::settle(
                        &state.db,
                        app,
                        &key,
                        done.binding.as_ref(),
                        done.error.as_ref(),
                    )
                    .await?
                }
                Err(_) => idempotency::release(&state.db, app, &key).await?,
            }
            respond(result?)
        }
    }
}

struct Outcome {
    binding: Option<crate::db::entity::bindings::Model>,
    error: Option<ApiError>,
}

async fn outcome(
    state: &AppState,
    principal: &Principal,
    input: BindingIn,
) -> Result<Outcome, ApiError> {
    let new = match validate::new_binding(input) {
        Ok(new) => new,
        Err(e) => {
            return Ok(Outcome {
                binding: None,
                error: Some(e),
            });
        }
    };
    Ok(match lifecycle::create(state, principal, new).await? {
        Created::Bound(b) => Outcome {
            binding: Some(b),
            error: None,
        },
        Created::Refused(b, e) => Outcome {
            binding: Some(b),
            error: Some(e),
        },
        Created::Rejected(e) => Outcome {
            binding: None,
            error: Some(e),
        },
    })
}

fn respond(outcome: Outcome) -> Result<HttpResponse, ApiError> {
    match outcome {
        Outcome { error: Some(e), .. } => Err(e),
        Outcome {
            binding: Some(b), ..
        } => Ok(HttpResponse::Created().json(BindingOut::from(b))),
        Outcome {
            binding: None,
            error: None,
        } => Err(ApiError::internal("create produced nothing")),
    }
}

fn replay(status: u16, body: serde_json::Value) -> HttpResponse {
    let status =
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    HttpResponse::build(status)
        .insert_header(("Idempotent-Replayed", "true"))
        .json(body)
}

/// The first attempt's platform answer was lost: answer from what reconciliation has learned since.
async fn replay_binding(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<HttpResponse, ApiError> {
    let binding = query::find_scoped(&state.db, principal, id).await?;
    match dto::BindingStatus::parse(&binding.status) {
        Some(dto::BindingStatus::Pending) => {
            Err(ApiError::from(pns_upstream::UpstreamError::Timeout))
        }
        _ => Ok(HttpResponse::Created()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(BindingOut::from(binding))),
    }
}

/// One binding.
#[utoipa::path(
    get, path = "/v1/bindings/{id}", tag = "bindings",
    params(("id" = Uuid, Path, description = "Binding id")),
    responses(
        (status = 200, body = BindingOut),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown, or another app's", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/bindings/{id}")]
pub async fn get_binding(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<BindingOut>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    Ok(web::Json(
        query::find_scoped(&state.db, &principal, id.into_inner())
            .await?
            .into(),
    ))
}

/// Bindings of the calling app (admin: all), newest first, with cursor pagination.
#[utoipa::path(
    get, path = "/v1/bindings", tag = "bindings",
    params(BindingFilter),
    responses((status = 200, body = BindingPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/bindings")]
pub async fn list_bindings(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<BindingFilter>,
) -> Result<web::Json<BindingPage>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let (rows, next_cursor) = query::list(&state.db, &principal, filter.into_inner()).await?;
    Ok(web::Json(BindingPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Change an active binding (numbers, direction, duration, ...). A new `duration` restarts the expiry clock.
#[utoipa::path(
    patch, path = "/v1/bindings/{id}", tag = "bindings",
    params(("id" = Uuid, Path, description = "Binding id")),
    request_body = BindingPatch,
    responses(
        (status = 200, body = BindingOut),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not active, a new number is already bound on X, or another change of this binding is in progress (read it again and retry)", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/v1/bindings/{id}")]
pub async fn patch_binding(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Json<BindingPatch>,
) -> Result<web::Json<BindingOut>, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let changes = validate::changes(body.into_inner())?;
    Ok(web::Json(
        lifecycle::modify(&state, &principal, id.into_inner(), changes)
            .await?
            .into(),
    ))
}

/// Unbind. Idempotent: an ended binding answers its final state without calling the platform.
#[utoipa::path(
    delete, path = "/v1/bindings/{id}", tag = "bindings",
    params(("id" = Uuid, Path, description = "Binding id")),
    responses(
        (status = 200, description = "Ended (now or before)", body = BindingOut),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Pending: the outcome of the bind is not yet known", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/bindings/{id}")]
pub async fn delete_binding(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<BindingOut>, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    Ok(web::Json(
        lifecycle::unbind(&state, &principal, id.into_inner())
            .await?
            .into(),
    ))
}
