//! Per-app rate limiting of the API (`/v1/...`) with `governor`'s GCRA: a sustained rate and a burst.
//! The key is the JWT's `sub` when the token verifies, the peer IP otherwise (so forged tokens cannot
//! mint fresh buckets). Callbacks, health and metrics are never limited.
//!
//! The prefix is matched on the path the router sees (percent-decoded where decoding changes no
//! meaning), not the raw one: `/%76%31/bindings` reaches the bindings handler, so it is limited too.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::{ApiError, ErrorCode};

/// Only these paths are limited: the API apps call.
const LIMITED_PREFIX: &str = "/v1/";
/// Idle buckets are dropped every this many requests, bounding memory to recently seen keys.
const SWEEP_EVERY: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    App(String),
    Peer(IpAddr),
    Unknown,
}

pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<Key>,
    seen: AtomicU64,
}

impl RateLimit {
    /// `None` when `per_second` is 0 (limiting off). A burst below the rate is raised to it.
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        Some(Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            seen: AtomicU64::new(0),
        })
    }

    /// `Err(seconds to wait)` when the key's bucket is empty.
    fn check(&self, key: &Key) -> Result<(), u64> {
        if self.seen.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

async fn key(req: &ServiceRequest) -> Key {
    if req.headers().contains_key(AUTHORIZATION)
        && let Ok(principal) = crate::auth::authenticate(req.request()).await
    {
        let key = Key::App(principal.app_id.clone());
        // The handler's `Principal` extractor takes it from here instead of verifying again.
        req.extensions_mut().insert(principal);
        return key;
    }
    match req.peer_addr() {
        Some(peer) => Key::Peer(peer.ip()),
        None => Key::Unknown,
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limit = req
        .app_data::<web::Data<Option<RateLimit>>>()
        .and_then(|limit| limit.get_ref().as_ref());
    let routed_path = req.match_info().as_str();
    if let Some(limit) = limit.filter(|_| routed_path.starts_with(LIMITED_PREFIX))
        && let Err(wait) = limit.check(&key(&req).await)
    {
        crate::telemetry::metrics::rate_limited();
        let wait = wait.max(1);
        let error = ApiError::new(
            ErrorCode::RateLimited,
            format!("rate limit exceeded; retry in {wait} s"),
        )
        .with_retry_after(wait);
        return Ok(req
            .into_response(error.error_response())
            .map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rate_is_off_and_burst_is_at_least_the_rate() {
        assert!(RateLimit::new(0, 10).is_none());
        let limit = RateLimit::new(2, 0).unwrap();
        let key = Key::App("app-1".into());
        assert!(limit.check(&key).is_ok());
        assert!(limit.check(&key).is_ok());
        let wait = limit.check(&key).unwrap_err();
        assert!((1..=1).contains(&wait), "{wait}");
        // Another key has its own bucket.
        assert!(limit.check(&Key::App("app-2".into())).is_ok());
    }
}
