//! `X-Request-Id`: taken from the request when it is a sane token, generated otherwise, kept in the
//! request's extensions (so the root span and handlers can read it) and echoed on the response.

use std::fmt;
use std::future::{Ready, ready};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 128;

/// The id of one request, as logged and echoed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

/// When the request reached the gateway, for the latency in the closing log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestStart(pub(crate) Instant);

impl RequestId {
    /// An incoming id is kept only if it cannot forge log lines or headers: 1-128 characters of
    /// letters, digits and `-_.:`.
    pub fn accept(raw: &str) -> Option<Self> {
        let sane = !raw.is_empty()
            && raw.len() <= MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        sane.then(|| Self(raw.to_owned()))
    }

    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Handlers may take the id (e.g. to hand it to a background task's span).
impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned();
        ready(Ok(id.unwrap_or_else(Self::generate)))
    }
}

/// Outermost middleware: runs before the root span is opened and sees every response, errors included.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::accept)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    req.extensions_mut().insert(RequestStart(Instant::now()));
    // Handler errors are responses by now; an `Err` here (a failing middleware) is answered by actix
    // without the header. (Holding a clone of the request to build one would break routing.)
    let mut response = next.call(req).await?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::RequestId;

    #[test]
    fn incoming_ids_are_kept_only_when_sane() {
        assert!(RequestId::accept("req-123_abc.def:1").is_some());
        assert!(RequestId::accept("").is_none());
        assert!(RequestId::accept(&"a".repeat(129)).is_none());
        assert!(RequestId::accept("a b").is_none());
        assert!(RequestId::accept("x\n{\"level\":\"ERROR\"}").is_none());
    }
}
