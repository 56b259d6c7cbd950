//! Events to apps: endpoints (this module), the outbox that records events with the changes they
//! report, Standard Webhooks signing, target checks, and the dispatcher that delivers.

pub mod deliveries;
pub mod dispatch;
pub mod endpoints;
mod send;
pub mod signing;
pub mod target;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::DbErr;
use uuid::Uuid;

pub use self::target::{TargetError, TargetPolicy};
/// The outbox is storage (written in the transactions of `repo/` and the callbacks); re-exported
/// here beside the dispatcher that drains it.
pub use crate::repo::outbox;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook endpoint not found")]
    EndpointNotFound,
    #[error("delivery not found")]
    DeliveryNotFound,
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Lists page by id (UUIDv7, so by creation time); the cursor is the last id of the page.
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(raw: &str) -> Result<Uuid, WebhookError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| WebhookError::Invalid("cursor: not a cursor returned by this API".into()))
}

/// 1..=200, default 50.
pub fn page_size(limit: Option<u32>) -> Result<u64, WebhookError> {
    match limit.unwrap_or(50) {
        n @ 1..=200 => Ok(u64::from(n)),
        _ => Err(WebhookError::Invalid("limit: must be 1..=200".into())),
    }
}
