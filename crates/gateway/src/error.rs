//! One error type for the whole API: a stable machine-readable `code`, a human `message`, and the HTTP
//! status chosen in one table (`ErrorCode::status`). 5xx bodies are opaque; the detail goes to the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use pns_core::result_code::{ResultClass, ResultCode};
use pns_upstream::UpstreamError;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API can answer with. The string form is the `code` field of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Validation,
    IdempotencyMismatch,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    Conflict,
    BindingConflict,
    PoolExhausted,
    IdempotencyInProgress,
    Gone,
    RateLimited,
    UpstreamFlowControl,
    UpstreamRefused,
    UpstreamUnavailable,
    UpstreamTimeout,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Validation => "validation_failed",
            Self::IdempotencyMismatch => "idempotency_key_reused",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Conflict => "conflict",
            Self::BindingConflict => "binding_conflict",
            Self::PoolExhausted => "pool_exhausted",
            Self::IdempotencyInProgress => "idempotency_in_progress",
            Self::Gone => "gone",
            Self::RateLimited => "rate_limited",
            Self::UpstreamFlowControl => "upstream_flow_control",
            Self::UpstreamRefused => "upstream_refused",
            Self::UpstreamUnavailable => "upstream_unavailable",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::Internal => "internal_error",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Validation | Self::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Conflict
            | Self::BindingConflict
            | Self::PoolExhausted
            | Self::IdempotencyInProgress => StatusCode::CONFLICT,
            Self::Gone => StatusCode::GONE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamFlowControl => StatusCode::SERVICE_UNAVAILABLE,
            Self::UpstreamRefused => StatusCode::BAD_GATEWAY,
            Self::UpstreamUnavailable => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON error body: `{code, message}` plus the platform's code and text when it refused.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `binding_conflict`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The platform's resultcode, when the platform refused the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_code: Option<String>,
    /// The platform's resultdesc, when the platform refused the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_desc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub upstream: Option<(String, String)>,
    /// Seconds for a `Retry-After` header (flow control, rate limits).
    pub retry_after: Option<u64>,
    /// What really went wrong behind an opaque 500: logged once, when the answer is sent.
    cause: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            upstream: None,
            retry_after: None,
            cause: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
    pub fn validation(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Validation, format!("{field}: {reason}"))
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(code, message)
    }
    /// An opaque 500; the real cause is logged when the answer is sent (in the request's span).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut error = Self::new(
            ErrorCode::Internal,
            "internal error; see the server log for this request id",
        );
        error.cause = Some(cause.to_string());
        error
    }
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.as_str().to_owned(),
            message: self.message.clone(),
            upstream_code: self.upstream.as_ref().map(|u| u.0.clone()),
            upstream_desc: self.upstream.as_ref().map(|u| u.1.clone()),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }
    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            tracing::error!(error = %cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(self.body())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(format!("database: {err}"))
    }
}

/// How a platform refusal reaches the caller (the table of the upstream contract).
impl From<UpstreamError> for ApiError {
    fn from(err: UpstreamError) -> Self {
        match err {
            UpstreamError::Timeout => Self::new(
                ErrorCode::UpstreamTimeout,
                "the platform did not answer in time; the outcome is unknown and will be reconciled",
            ),
            UpstreamError::Transport(detail) => {
                tracing::warn!(%detail, "upstream transport error");
                Self::new(
                    ErrorCode::UpstreamTimeout,
                    "the connection to the platform failed; the outcome is unknown and will be reconciled",
                )
            }
            UpstreamError::Decode(detail) => {
                tracing::error!(%detail, "undecodable upstream answer");
                Self::new(
                    ErrorCode::UpstreamUnavailable,
                    "the platform answered something unreadable",
                )
            }
            UpstreamError::Rejected {
                http_status,
                code,
                desc,
            } => {
                let (api_code, message) = refusal(&code, http_status);
                let mut error = Self::new(api_code, message);
                if api_code == ErrorCode::UpstreamFlowControl {
                    error.retry_after = Some(60);
                }
                error.upstream = Some((code.code(), desc));
                error
            }
        }
    }
}

fn refusal(code: &ResultCode, http_status: u16) -> (ErrorCode, String) {
    use ResultCode as R;
    let meaning = code.meaning();
    let api_code = match code {
        R::BindingExists | R::NumberFull => ErrorCode::BindingConflict,
        R::NotEnoughNumbers => ErrorCode::PoolExhausted,
        R::InvalidParameter | R::NumberNotOwned | R::RecordingNotEnabled | R::NumberAbnormal => {
            ErrorCode::Validation
        }
        R::RecordNotFound => ErrorCode::NotFound,
        R::FlowControl => ErrorCode::UpstreamFlowControl,
        R::PlatformTimeout => ErrorCode::UpstreamTimeout,
        R::AuthHeaderInvalid(_)
        | R::ClockSkew
        | R::InvalidAppKey
        | R::ApiNotAllowed
        | R::AccountFrozen => {
            tracing::error!(resultcode = %code.code(), http_status, "the platform refused our configuration");
            ErrorCode::UpstreamRefused
        }
        R::InternalError(_) | R::Other(_) | R::Success => match code.class() {
            ResultClass::Retryable => ErrorCode::UpstreamUnavailable,
            _ => ErrorCode::UpstreamRefused,
        },
    };
    (
        api_code,
        format!("the platform refused the request: {meaning}"),
    )
}
