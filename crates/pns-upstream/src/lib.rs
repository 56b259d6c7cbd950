//! The Huawei Cloud PrivateNumber (AXB) client.
//!
//! [`Upstream`] is what the gateway depends on (as `Arc<dyn Upstream>`, so tests can swap it); [`HuaweiClient`]
//! implements it over HTTPS. Requests are built in [`request`] and answers parsed in [`response`], both pure;
//! the client only signs, sends, reads and retries.

mod client;
mod error;
mod pages;
pub mod request;
pub mod response;
mod retry;

use async_trait::async_trait;
use pns_core::phone::PhoneNumber;
use pns_core::types::SubscriptionId;
use pns_core::wire::{BindRequest, BindResponse, ModifyRequest, QueryParams, QueryResponse};

pub use client::{ClientConfig, HuaweiClient};
pub use error::UpstreamError;
pub use pages::{PAGE_SIZE, query_all_on_x, query_parties_on_x, query_subscription};

/// The platform operations the gateway uses.
#[async_trait]
pub trait Upstream: Send + Sync {
    async fn bind(&self, req: &BindRequest) -> Result<BindResponse, UpstreamError>;

    /// Fields left `None` keep their value; a new `duration` restarts the expiry timer.
    async fn modify(&self, req: &ModifyRequest) -> Result<(), UpstreamError>;

    /// Removes one binding. 1012007 (already gone) comes back as `Rejected`: the caller decides what it means.
    async fn unbind(&self, subscription_id: &SubscriptionId) -> Result<(), UpstreamError>;

    /// Removes EVERY binding on X. Admin-only; never called by the binding lifecycle.
    async fn unbind_all_on_x(&self, relation_num: &PhoneNumber) -> Result<(), UpstreamError>;

    /// One page, by subscriptionId or by relationNum (optionally narrowed by callerNum/calleeNum).
    async fn query(&self, params: &QueryParams) -> Result<QueryResponse, UpstreamError>;

    /// The 301 Location, not followed.
    async fn record_url(
        &self,
        record_domain: &str,
        file_name: &str,
    ) -> Result<String, UpstreamError>;

    /// Hangs up a call in progress (sessionId from a call event).
    async fn stop_call(&self, session_id: &str) -> Result<(), UpstreamError>;
}
