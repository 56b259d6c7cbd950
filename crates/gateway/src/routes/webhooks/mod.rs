//! `/v1/webhooks`: an app's endpoints for signed event delivery, and their delivery log.

pub mod dto;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use self::dto::{
    DeliveryOut, DeliveryPage, DeliveryQuery, WebhookIn, WebhookOut, WebhookPage, WebhookPatch,
    WebhookWithSecret,
};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::routes::page::PageQuery;
use crate::service::page::PageRequest;
use crate::service::webhooks::endpoints::{self, EndpointPatch, NewEndpoint};
use crate::service::webhooks::{TargetError, TargetPolicy, WebhookError, deliveries};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(patch_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(list_deliveries)
        .service(retry_delivery);
}

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::EndpointNotFound => ApiError::not_found("webhook endpoint"),
            WebhookError::DeliveryNotFound => ApiError::not_found("delivery"),
            WebhookError::Target(e @ (TargetError::Invalid(_) | TargetError::Unresolvable(_))) => {
                ApiError::new(ErrorCode::Validation, e.to_string())
            }
            WebhookError::Target(e @ TargetError::Forbidden { .. }) => {
                ApiError::validation("url", e)
            }
            WebhookError::Invalid(message) => ApiError::new(ErrorCode::Validation, message),
            WebhookError::Db(e) => e.into(),
        }
    }
}

fn policy(state: &AppState) -> TargetPolicy {
    TargetPolicy::new(state.settings.webhooks.allowed_networks.clone())
}

/// Register an endpoint for the calling app's events.
///
/// The answer carries the signing `secret`, shown only here and on rotation. With an admin token the
/// endpoint receives every app's events and `number.status_changed`.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks",
    request_body = WebhookIn,
    responses(
        (status = 201, description = "Registered", body = WebhookWithSecret),
        (status = 422, description = "Bad URL, a target address the gateway may not call, or an unknown event type", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<WebhookIn>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let body = body.into_inner();
    let new = NewEndpoint {
        url: body.url,
        events: body.events,
        description: body.description,
    };
    let endpoint = endpoints::create(&state.db, &policy(&state), &principal, new).await?;
    Ok(HttpResponse::Created().json(WebhookWithSecret::from(endpoint)))
}

/// The calling app's endpoints (admin: every app's), oldest first.
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    params(PageQuery),
    responses(
        (status = 200, body = WebhookPage),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<PageQuery>,
) -> Result<web::Json<WebhookPage>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let found = endpoints::list(&state.db, &principal, &query.request()?).await?;
    Ok(web::Json(WebhookPage {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// One endpoint; `enabled: false` with `disabledReason` when the gateway stopped sending to it.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = WebhookOut),
        (status = 404, description = "Unknown, or another app's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookOut>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let endpoint = endpoints::find(&state.db, &principal, id.into_inner()).await?;
    Ok(web::Json(endpoint.into()))
}

/// Change the URL, subscriptions or description; `enabled: true` re-enables a disabled endpoint.
#[utoipa::path(
    patch, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = Uuid, Path)),
    request_body = WebhookPatch,
    responses(
        (status = 200, body = WebhookOut),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/v1/webhooks/{id}")]
pub async fn patch_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Json<WebhookPatch>,
) -> Result<web::Json<WebhookOut>, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let body = body.into_inner();
    let patch = EndpointPatch {
        url: body.url,
        events: body.events,
        description: body.description,
        enabled: body.enabled,
    };
    let endpoint = endpoints::update(
        &state.db,
        &policy(&state),
        &principal,
        id.into_inner(),
        patch,
    )
    .await?;
    Ok(web::Json(endpoint.into()))
}

/// Remove an endpoint with its pending deliveries and log.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    endpoints::delete(&state.db, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret. The old one keeps signing beside it for 24 hours (two signatures in
/// `webhook-signature`), so the receiver can switch without missing an event.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = WebhookWithSecret),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookWithSecret>, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let endpoint = endpoints::rotate_secret(&state.db, &principal, id.into_inner()).await?;
    Ok(web::Json(endpoint.into()))
}

/// The endpoint's deliveries, newest first, each with its attempts (time, HTTP status or error,
/// latency) and its next attempt.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = Uuid, Path), DeliveryQuery),
    responses(
        (status = 200, body = DeliveryPage),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    query: web::Query<DeliveryQuery>,
) -> Result<web::Json<DeliveryPage>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let query = query.into_inner();
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let found =
        deliveries::list(&state.db, &principal, id.into_inner(), query.status, &page).await?;
    Ok(web::Json(DeliveryPage {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// Send a delivery again now (a failed one gets one more attempt). Same `webhook-id`.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/deliveries/{deliveryId}/retry", tag = "webhooks",
    params(("id" = Uuid, Path), ("deliveryId" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued", body = DeliveryOut),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/webhooks/{id}/deliveries/{deliveryId}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::BindingsWrite)?;
    let (id, delivery_id) = path.into_inner();
    let log = deliveries::retry(&state.db, &principal, id, delivery_id).await?;
    Ok(HttpResponse::Accepted().json(DeliveryOut::from(log)))
}
