//! `/metrics`: the Prometheus text exposition. Readable with `Authorization: Bearer <PNS_METRICS_TOKEN>`
//! or an admin JWT; scrape-time gauges (bindings by status, pool usage) are refreshed on each read.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::service::ops::stats;
use crate::state::AppState;
use crate::telemetry::metrics as recorder;

/// Prometheus metrics (text format 0.0.4).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !metrics_token_matches(&req, &state) {
        let principal = Principal::from_request(&req, &mut Payload::None).await?;
        principal.require(Scope::Admin)?;
    }
    match stats::collect(&state.db).await {
        Ok(stats) => recorder::set_scrape_gauges(&stats),
        // Still serve the counters: a scrape must not fail because one query did.
        Err(e) => tracing::warn!(error = %e, "metrics: counting bindings failed"),
    }
    match crate::service::webhooks::deliveries::backlog(&state.db).await {
        Ok(backlog) => {
            let age = backlog.oldest.map_or(0.0, |at| {
                (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            recorder::webhook_backlog(backlog.waiting, age);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: counting the webhook backlog failed"),
    }
    let body = recorder::render().ok_or_else(|| ApiError::not_found("metrics recorder"))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn metrics_token_matches(req: &HttpRequest, state: &AppState) -> bool {
    let Some(expected) = &state.settings.metrics_token else {
        return false;
    };
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    presented.is_some_and(|token| {
        Sha256::digest(token.as_bytes()) == Sha256::digest(expected.expose_secret().as_bytes())
    })
}
