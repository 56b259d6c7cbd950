//! `/v1/bindings`: thin handlers. Each authorises, calls one service function and maps the result.

pub mod dto;
pub(crate) mod parse;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use actix_web::http::StatusCode;

use self::dto::{BindingFilter, BindingIn, BindingOut, BindingPage, BindingPatch};
use crate::auth::{Principal, Scope};
use crate::db::entity::bindings;
use crate::error::{ApiError, ErrorBody};
use crate::service::bindings::idempotent::{self, Created, IdemKey};
use crate::service::bindings::{BindError, modify, query, unbind};
use crate::service::page::PageRequest;
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
        (status = 409, description = "A party already has a binding on X, or no X is free", body = ErrorBody),
        (status = 422, description = "Invalid field, or Idempotency-Key reused with another body", body = ErrorBody),
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
            let raw = v
                .to_str()
                .map_err(|_| ApiError::validation("Idempotency-Key", "must be ASCII"))?;
            let key = IdemKey::new(raw, &input)
                .map_err(|reason| ApiError::validation("Idempotency-Key", reason))?;
            Some(key)
        }
    };
    let new = parse::new_binding(input)?;
    match idempotent::create(&state, &principal.app_id, new, key, render).await? {
        Created::Bound { binding, replayed } => {
            let mut answer = HttpResponse::Created();
            if replayed {
                answer.insert_header(REPLAYED);
            }
            Ok(answer.json(BindingOut::from(*binding)))
        }
        Created::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(HttpResponse::build(status)
                .insert_header(REPLAYED)
                .json(body))
        }
    }
}

const REPLAYED: (&str, &str) = ("Idempotent-Replayed", "true");

/// How a create's outcome is stored for an Idempotency-Key replay: exactly what was answered.
fn render(outcome: Result<&bindings::Model, &BindError>) -> (u16, serde_json::Value) {
    let (status, body) = match outcome {
        Ok(b) => (
            StatusCode::CREATED,
            serde_json::to_value(BindingOut::from(b.clone())),
        ),
        Err(e) => {
            // Only the platform's definite refusals are stored for replay.
            let api = match e {
                BindError::Upstream(e) => ApiError::from(e.clone()),
                other => ApiError::internal(other),
            };
            (api.code.status(), serde_json::to_value(api.body()))
        }
    };
    (status.as_u16(), body.unwrap_or_default())
}

/// One binding.
#[utoipa::path(
    get, path = "/v1/bindings/{id}", tag = "bindings",
    params(("id" = Uuid, Path, description = "Binding id")),
    responses(
        (status = 200, body = BindingOut),
        (status = 404, description = "Unknown, or another app's", body = ErrorBody),
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
    responses((status = 200, body = BindingPage), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/bindings")]
pub async fn list_bindings(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<BindingFilter>,
) -> Result<web::Json<BindingPage>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let page = PageRequest::new(filter.limit, filter.cursor.as_deref())?;
    let found = query::list(&state.db, &principal, parse::query(&filter)?, &page).await?;
    Ok(web::Json(BindingPage {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// Change an active binding (numbers, direction, duration, ...). A new `duration` restarts the expiry clock.
#[utoipa::path(
    patch, path = "/v1/bindings/{id}", tag = "bindings",
    params(("id" = Uuid, Path, description = "Binding id")),
    request_body = BindingPatch,
    responses(
        (status = 200, body = BindingOut),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not active, a new number is already bound on X, or another change of this binding is in progress (read it again and retry)", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody),
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
    let changes = parse::changes(body.into_inner())?;
    Ok(web::Json(
        modify::modify(&state, &principal, id.into_inner(), changes)
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
        (status = 404, body = ErrorBody),
        (status = 409, description = "Pending: the outcome of the bind is not yet known", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody),
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
        unbind::unbind(&state, &principal, id.into_inner())
            .await?
            .into(),
    ))
}
