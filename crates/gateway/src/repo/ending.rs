//! How a binding ends: the status, the reason, the platform's refusal, and the event apps get.

use super::outbox::EventType;
use crate::domain::{BindingStatus, EndReason};

/// How a binding ends: the status it ends in, why, and the platform's refusal when there was one.
#[derive(Debug, Clone)]
pub struct Ending {
    pub status: BindingStatus,
    pub reason: EndReason,
    pub upstream: Option<(String, String)>,
}

impl Ending {
    pub fn new(status: BindingStatus, reason: EndReason) -> Self {
        debug_assert!(status.is_ended());
        Self {
            status,
            reason,
            upstream: None,
        }
    }
    pub fn failed(reason: EndReason) -> Self {
        Self::new(BindingStatus::Failed, reason)
    }
    pub fn unbound(reason: EndReason) -> Self {
        Self::new(BindingStatus::Unbound, reason)
    }
    pub fn expired() -> Self {
        Self::new(BindingStatus::Expired, EndReason::Expired)
    }

    /// The event apps receive about this end.
    pub fn event_type(&self) -> EventType {
        match (self.status, self.reason) {
            (_, EndReason::MissingUpstream) => EventType::BindingMissingUpstream,
            (BindingStatus::Expired, _) => EventType::BindingExpired,
            (BindingStatus::Failed, _) => EventType::BindingFailed,
            _ => EventType::BindingUnbound,
        }
    }
}
