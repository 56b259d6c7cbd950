//! `POST /callbacks/huawei`: every kind of platform callback at one URL. Raw bytes in, verified before
//! parsing, stored before acknowledging. Mounted in its own scope, outside `/v1` middleware such as
//! rate limiting: the platform's retries are our only copy of a CDR.

use actix_web::{HttpRequest, HttpResponse, post, web};
use futures::StreamExt;

use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::service::callbacks::verify::Refused;
use crate::service::callbacks::{self, Ack, IngestError};
use crate::state::AppState;
use crate::telemetry::metrics::callback_received;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/callbacks").service(huawei));
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Receives the platform's callbacks: call events, CDR batches (`fee`), SMS notifications and X-number
/// status, told apart by the body.
///
/// Signed with `Authorization` + `X-AKSK` (the app's key and secret). Answers 200 only after the rows
/// are committed; a redelivery is 200 too. An SMS in `Block` mode gets the routing decision as the body.
#[utoipa::path(
    post, path = "/callbacks/huawei", tag = "callbacks",
    request_body(content = Object, description = "A callback body as the platform sends it", content_type = "application/json"),
    params(
        ("Authorization" = String, Header, description = "AKSK realm=\"SDP\",profile=\"UsernameToken\",type=\"Appkey\""),
        ("X-AKSK" = String, Header, description = "UsernameToken Username=..,PasswordDigest=..,Nonce=..,Created=.."),
    ),
    responses(
        (status = 200, description = "Stored (or already stored). Empty, or an SMS Block decision", body = Object),
        (status = 400, description = "Not a JSON object", body = ErrorBody),
        (status = 401, description = "Not authorised: unsigned, forged, stale, replayed or from an address not allowed (one answer for all; the reason is in the log)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 500, description = "Not stored; the platform will retry", body = ErrorBody),
    )
)]
#[post("/huawei")]
pub async fn huawei(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let peer = req.peer_addr().map(|a| a.ip());
    let checked = state.callbacks.check(
        peer,
        header(&req, "Authorization"),
        header(&req, "X-AKSK"),
        chrono::Utc::now(),
    );
    let nonce = checked.inspect_err(|_| callback_received("unverified", "refused"))?;
    let limit = state.settings.callback_body_limit_bytes;
    let declared = header(&req, "Content-Length").and_then(|v| v.parse::<usize>().ok());
    let body = match declared {
        Some(n) if n > limit => Err(too_large(limit)),
        _ => read_limited(payload, limit).await,
    }?;
    let result = callbacks::ingest(&state.db, &body, nonce.as_ref()).await;
    let ingested = match result {
        Ok(ingested) => ingested,
        Err(IngestError::Malformed(e)) => {
            callback_received("malformed", "refused");
            let message = crate::telemetry::redact(&format!("malformed callback: {e}"));
            return Err(ApiError::bad_request(message));
        }
        Err(IngestError::Replayed) => {
            callback_received("unverified", "refused");
            return Err(Refused::new("replayed", peer).into());
        }
        Err(IngestError::Storage(e)) => {
            callback_received("any", "storage_error");
            return Err(ApiError::internal(format!("callback not stored: {e}")));
        }
    };
    tracing::info!(
        kind = ingested.kind,
        stored = ingested.stored,
        duplicates = ingested.duplicates,
        "callback stored"
    );
    let outcome = if ingested.stored == 0 {
        "duplicate"
    } else {
        "stored"
    };
    callback_received(metric_kind(ingested.kind), outcome);
    Ok(match ingested.ack {
        Ack::Empty => HttpResponse::Ok().finish(),
        Ack::Json(body) => HttpResponse::Ok().json(body),
    })
}

/// Call events share one label, so the metric's cardinality stays fixed.
fn metric_kind(kind: &'static str) -> &'static str {
    match kind {
        "callin" | "callout" | "alerting" | "answer" | "disconnect" => "call_event",
        "numStatus" => "num_status",
        other => other,
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("callback body larger than {limit} bytes"),
    )
}

/// The body, refused with a JSON 413 past `limit`.
async fn read_limited(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::middleware::body_guard::is_timeout(&e) {
                super::body_timeout()
            } else {
                ApiError::bad_request(format!("reading the body: {e}"))
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
