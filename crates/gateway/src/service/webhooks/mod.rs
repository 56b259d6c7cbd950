//! Events to apps: endpoints (this module), the outbox that records events with the changes they
//! report, Standard Webhooks signing, target checks, and the dispatcher that delivers.

pub mod deliveries;
pub mod dispatch;
pub mod endpoints;
mod send;
pub mod signing;
pub mod target;

use sea_orm::DbErr;

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

impl From<crate::service::error::QueryError> for WebhookError {
    fn from(e: crate::service::error::QueryError) -> Self {
        use crate::service::error::QueryError;
        match e {
            QueryError::Db(e) => Self::Db(e),
            other => Self::Invalid(other.to_string()),
        }
    }
}
