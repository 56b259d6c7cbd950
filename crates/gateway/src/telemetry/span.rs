//! The root span of every request: request id, method, route template and the path with phone numbers
//! masked (never the query string, which may carry numbers and filters). One closing line per request.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::RootSpanBuilder;

use super::redact;
use super::request_id::{RequestId, RequestStart};
use crate::error::ApiError;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            route = %route,
            path = %redact(request.path()),
            status = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        let mut probe = false;
        let (status, error, latency_ms) = match outcome {
            Ok(response) => {
                probe = matches!(
                    response.request().match_pattern().as_deref(),
                    Some("/healthz" | "/readyz" | "/metrics")
                );
                let latency = response
                    .request()
                    .extensions()
                    .get::<RequestStart>()
                    .map(|start| start.0.elapsed().as_secs_f64() * 1000.0);
                let error = response.response().error().map(error_code);
                (response.status(), error, latency)
            }
            Err(error) => (
                error.as_response_error().status_code(),
                Some(error_code(error)),
                None,
            ),
        };
        span.record("status", status.as_u16());
        // The error's code only: messages may quote the caller's input, numbers included.
        let error = error.unwrap_or_default();
        if status.is_server_error() {
            tracing::warn!(
                status = status.as_u16(),
                error,
                latency_ms,
                "request failed"
            );
        } else if probe && status.is_success() {
            // Probes and scrapes every few seconds would drown the log at info.
            tracing::debug!(status = status.as_u16(), latency_ms, "request finished");
        } else {
            tracing::info!(
                status = status.as_u16(),
                error,
                latency_ms,
                "request finished"
            );
        }
    }
}

fn error_code(error: &Error) -> &'static str {
    error
        .as_error::<ApiError>()
        .map_or("actix", |api| api.code.as_str())
}
