//! HTTP surface: routes, and JSON errors for everything actix itself refuses.

pub mod admin;
pub mod bindings;
pub mod callbacks;
pub mod calls;
pub mod health;
pub mod metrics;
pub mod numbers;
pub mod sandbox;
pub mod sms;
pub mod webhooks;

use actix_web::{HttpRequest, HttpResponse, error, web};

use crate::error::{ApiError, ErrorCode};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .configure(bindings::configure)
        .configure(numbers::configure)
        .configure(admin::configure)
        .configure(calls::configure)
        .configure(sms::configure)
        .configure(sandbox::configure)
        .configure(webhooks::configure)
        .configure(callbacks::configure);
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
                error::JsonPayloadError::ContentType => ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Content-Type must be application/json",
                ),
                error::JsonPayloadError::Deserialize(e) if e.is_data() => {
                    ApiError::new(ErrorCode::Validation, e.to_string())
                }
                other => ApiError::bad_request(format!("malformed JSON: {other}")),
            };
            api.into()
        })
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
