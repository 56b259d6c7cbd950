//! The catch-all that keeps every error in the `{code, message}` shape: any 4xx/5xx response that is
//! not JSON already (actix's own refusals, a handler's bare status) is rewritten, keeping the headers
//! a client acts on. A 404 for a path the API knows under other methods becomes 405 with `Allow`.

use std::sync::LazyLock;

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, ResponseError};

use crate::error::{ApiError, ErrorCode};

/// Headers of the original response that survive the rewrite.
const KEPT: [header::HeaderName; 3] =
    [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE];

pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(rewrite)
}

fn rewrite<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let allow = (res.status() == StatusCode::NOT_FOUND)
        .then(|| allowed_methods(res.request()))
        .flatten();
    if is_json && allow.is_none() {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, old) = res.into_parts();
    let (error, allow) = match allow {
        Some(allow) => (
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("{} is not allowed here; use {allow}", req.method()),
            ),
            Some(allow),
        ),
        None => (for_status(old.status()), None),
    };
    let mut new = error.error_response();
    if allow.is_none() {
        // The status is what actix chose; keep it where the code's own table differs (408, 411...).
        *new.status_mut() = old.status();
    }
    for name in KEPT {
        if let Some(value) = old.headers().get(&name) {
            new.headers_mut().insert(name, value.clone());
        }
    }
    if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
        new.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

fn for_status(status: StatusCode) -> ApiError {
    let code = match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        409 => ErrorCode::Conflict,
        422 => ErrorCode::Validation,
        429 => ErrorCode::RateLimited,
        502 | 503 => ErrorCode::UpstreamUnavailable,
        504 => ErrorCode::UpstreamTimeout,
        s if s >= 500 => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    ApiError::new(code, message)
}

/// One documented path: its segments (`None` = a `{parameter}`) and its methods.
type Template = (Vec<Option<String>>, Vec<&'static str>);

/// The documented routes, from the OpenAPI document built from the handlers themselves.
static ROUTES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    crate::openapi::api_doc()
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let segments = path
                .trim_matches('/')
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter_map(|(m, present)| present.then_some(m))
            .collect();
            (segments, methods)
        })
        .collect()
});

/// `Some("GET, POST")` when the path is a documented route that does not take this method.
fn allowed_methods(req: &HttpRequest) -> Option<String> {
    // The path as the router matched it (percent-decoded), so `/%76%31/...` gets the same answer.
    let segments: Vec<&str> = req
        .match_info()
        .as_str()
        .trim_matches('/')
        .split('/')
        .collect();
    let mut allowed: Vec<&str> = ROUTES
        .iter()
        .filter(|(template, _)| {
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.as_deref().is_none_or(|t| t == *s) && !s.is_empty())
        })
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect();
    allowed.sort_unstable();
    allowed.dedup();
    let method = req.method();
    let taken = allowed
        .iter()
        .any(|m| Method::from_bytes(m.as_bytes()).is_ok_and(|m| m == method));
    (!allowed.is_empty() && !taken).then(|| allowed.join(", "))
}
