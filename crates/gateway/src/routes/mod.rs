//! HTTP surface: routes, and JSON errors for everything actix itself refuses.

pub mod bindings;
pub mod callbacks;
pub mod calls;
mod errors;
pub mod health;
pub mod metrics;
pub mod numbers;
pub mod page;
pub mod reconcile;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod sms;
pub mod webhooks;

use actix_web::{HttpRequest, HttpResponse, error, web};

use crate::error::{ApiError, ErrorCode};
use crate::middleware::body_guard;
use crate::telemetry::redact;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .configure(bindings::configure)
        .configure(numbers::configure)
        .configure(reconcile::configure)
        .configure(calls::configure)
        .configure(sms::configure)
        .configure(webhooks::configure)
        .configure(callbacks::configure);
    #[cfg(feature = "sandbox")]
    cfg.configure(sandbox::configure);
}

/// Extractor failures answer the same `{code, message}` shape as everything else.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            let api = match &err {
                error::JsonPayloadError::Overflow { .. }
                | error::JsonPayloadError::OverflowKnownLength { .. } => {
                    ApiError::new(ErrorCode::PayloadTooLarge, "request body too large")
                }
                error::JsonPayloadError::Payload(e) if body_guard::is_timeout(e) => body_timeout(),
                error::JsonPayloadError::ContentType => ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Content-Type must be application/json",
                ),
                // serde quotes the offending value, which may be a number given as an integer.
                error::JsonPayloadError::Deserialize(e) if e.is_data() => {
                    ApiError::new(ErrorCode::Validation, redact(&e.to_string()))
                }
                other => ApiError::bad_request(format!("malformed JSON: {other}")),
            };
            api.into()
        })
}

/// The body did not arrive within `PNS_BODY_READ_TIMEOUT_SECS`.
pub fn body_timeout() -> ApiError {
    ApiError::new(
        ErrorCode::RequestTimeout,
        "the request body was not received in time",
    )
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        ApiError::new(ErrorCode::NotFound, format!("bad path parameter: {err}")).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| ApiError::validation("query", err).into())
}

pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let error = ApiError::new(
        ErrorCode::NotFound,
        format!("no route for {} {}", req.method(), req.path()),
    );
    actix_web::ResponseError::error_response(&error)
}
