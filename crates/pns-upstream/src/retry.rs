//! When to send a request again, and after how long.

use std::time::Duration;

use pns_core::result_code::ResultCode;
use rand::Rng;

use crate::UpstreamError;
use crate::request::Operation;

/// Upper bound for one backoff sleep, so a large `max_retries` cannot park a request for minutes.
const MAX_DELAY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
}

impl RetryPolicy {
    /// The sleep before the next attempt, or `None` when `err` must go back to the caller.
    /// `retries_done` counts the retries already made (0 after the first attempt).
    pub fn next_delay(
        &self,
        operation: Operation,
        err: &UpstreamError,
        retries_done: u32,
    ) -> Option<Duration> {
        if retries_done >= self.max_retries || !should_retry(operation, err) {
            return None;
        }
        Some(jittered(backoff(self.base_delay, retries_done)))
    }
}

/// Only operations that cannot change the outcome when repeated, and only for errors that may clear up.
pub fn should_retry(operation: Operation, err: &UpstreamError) -> bool {
    if !operation.is_retry_safe() || !err.is_retryable() {
        return false;
    }
    // Flow control asks for about a minute of quiet; retrying within milliseconds only prolongs it.
    !matches!(err.result_code(), Some(ResultCode::FlowControl))
}

/// base * 2^n, capped.
pub fn backoff(base: Duration, n: u32) -> Duration {
    base.checked_mul(1u32 << n.min(16))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

/// Somewhere in [d/2, d], so clients that failed together do not retry together.
fn jittered(d: Duration) -> Duration {
    let half = d / 2;
    let spread = u64::try_from((d - half).as_micros()).unwrap_or(u64::MAX);
    half + Duration::from_micros(rand::rng().random_range(0..=spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(100),
    };

    fn rejected(code: &str) -> UpstreamError {
        UpstreamError::Rejected {
            http_status: 500,
            code: ResultCode::parse(code),
            desc: String::new(),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 0), Duration::from_millis(100));
        assert_eq!(backoff(base, 1), Duration::from_millis(200));
        assert_eq!(backoff(base, 3), Duration::from_millis(800));
        assert_eq!(backoff(base, 40), MAX_DELAY);
    }

    #[test]
    fn jitter_stays_between_half_and_full() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(400));
            assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&d));
        }
    }

    #[test]
    fn idempotent_operations_retry_transient_errors_up_to_the_budget() {
        for op in [Operation::Query, Operation::RecordUrl, Operation::Unbind] {
            for err in [
                UpstreamError::Timeout,
                rejected("1023001"),
                rejected("1023002"),
            ] {
                assert!(POLICY.next_delay(op, &err, 0).is_some(), "{op} {err}");
                assert!(POLICY.next_delay(op, &err, 2).is_some(), "{op} {err}");
                assert!(POLICY.next_delay(op, &err, 3).is_none(), "{op} {err}");
            }
        }
    }

    #[test]
    fn writes_are_never_retried() {
        for op in [
            Operation::Bind,
            Operation::Modify,
            Operation::StopCall,
            Operation::UnbindAllOnX,
        ] {
            assert!(POLICY.next_delay(op, &UpstreamError::Timeout, 0).is_none());
            assert!(POLICY.next_delay(op, &rejected("1023001"), 0).is_none());
        }
    }

    #[test]
    fn final_answers_and_flow_control_are_not_retried() {
        for code in ["1012007", "1010002", "1010010", "1023006"] {
            assert!(
                POLICY
                    .next_delay(Operation::Query, &rejected(code), 0)
                    .is_none(),
                "{code}"
            );
        }
        let decode = UpstreamError::Decode("garbage".into());
        assert!(POLICY.next_delay(Operation::Query, &decode, 0).is_none());
    }
}
