//! What a request body may be before any handler reads it:
//! - not encoded: a `Content-Encoding` other than `identity` is refused (415) before a byte is read.
//!   Inflating first would let a few KB of zstd grow into gigabytes ahead of every size limit;
//!   the platform and the apps send plain JSON.
//! - received in time: the whole body must arrive within `PNS_BODY_READ_TIMEOUT_SECS` of the request's
//!   start, or the read fails and the request is answered 408 (connection closed). actix bounds the
//!   headers only; a client trickling a body would otherwise hold a connection and its buffer forever.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError, web};
use futures::Stream;

use crate::error::{ApiError, ErrorCode};

/// How long a request body may take to arrive, shared as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyReadTimeout(pub Duration);

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(encoding) = req.headers().get(CONTENT_ENCODING) {
        let encoding = String::from_utf8_lossy(encoding.as_bytes());
        if !encoding.trim().eq_ignore_ascii_case("identity") {
            let error = ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "Content-Encoding `{}` is not accepted: send the body uncompressed",
                    encoding.chars().take(32).collect::<String>()
                ),
            );
            return Ok(req
                .into_response(error.error_response())
                .map_into_right_body());
        }
    }
    let timeout = req.app_data::<web::Data<BodyReadTimeout>>().map(|t| t.0);
    if let Some(timeout) = timeout.filter(|_| has_body(&req)) {
        let inner = req.take_payload();
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            expired: false,
        });
        req.set_payload(Payload::from(stream));
    }
    let mut res = next.call(req).await?;
    if res.status() == StatusCode::REQUEST_TIMEOUT {
        // The rest of the body may still be on its way: do not try to read a next request after it.
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(res.map_into_left_body())
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// True for the error a [`Deadline`] ends a body with.
pub fn is_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

/// The request's body, ending in a `TimedOut` error once the deadline passes.
struct Deadline<S> {
    inner: S,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl<S> Stream for Deadline<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired = true;
            let error =
                io::Error::new(io::ErrorKind::TimedOut, "request body not received in time");
            return Poll::Ready(Some(Err(PayloadError::Io(error))));
        }
        Poll::Pending
    }
}
