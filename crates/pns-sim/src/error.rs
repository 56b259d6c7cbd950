//! The two ways the simulator says no: a platform `resultcode` on the AXB API, and `SimError` to the test
//! driving it.

/// A platform refusal: HTTP status plus `{"resultcode","resultdesc"}`, as the real API answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub http_status: u16,
    pub code: String,
    pub desc: String,
}

impl Rejection {
    pub fn new(http_status: u16, code: impl Into<String>, desc: impl Into<String>) -> Self {
        Self {
            http_status,
            code: code.into(),
            desc: desc.into(),
        }
    }

    /// 1010002 with a resultdesc naming the field, like the platform's parameter checks.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "1010002",
            format!("Invalid parameter {field}: {reason}"),
        )
    }

    pub fn not_owned() -> Self {
        Self::new(400, "1012001", "The number does not belong to this app")
    }

    pub fn not_found() -> Self {
        Self::new(400, "1012007", "The record does not exist")
    }

    pub fn no_free_number() -> Self {
        Self::new(400, "1012008", "Not enough numbers")
    }

    pub fn number_full() -> Self {
        Self::new(
            400,
            "1012009",
            "The number has reached the maximum number of bindings",
        )
    }

    pub fn binding_exists() -> Self {
        Self::new(400, "1012010", "The binding relationship already exists")
    }

    pub fn number_abnormal() -> Self {
        Self::new(400, "1012102", "The number status is abnormal")
    }

    /// HTTP status the platform uses for a resultcode when a fault names none: 403 for authentication,
    /// 500 for its own failures, 400 for everything else.
    pub fn status_for(code: &str) -> u16 {
        match code.parse::<u32>() {
            Ok(0) => 200,
            Ok(1010003 | 1010013 | 1023006..=1023012 | 1023033..=1023037) => 403,
            Ok(1010001 | 1023001 | 1023002) => 500,
            _ => 400,
        }
    }
}

/// Why a simulation step driven through `SimControl` could not be carried out.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    #[error("no callback URL is configured")]
    NoCallbackUrl,
    #[error("unknown subscriptionId {0}")]
    UnknownSubscription(String),
    #[error("the simulator is shutting down")]
    Stopped,
    #[error("invalid script: {0}")]
    InvalidScript(String),
    /// The receiver kept failing after every retry; like the platform, the simulator gives up.
    #[error(
        "callback delivery failed after {attempts} attempts: {last_error} ({delivered} delivered, {lost} lost)"
    )]
    Delivery {
        attempts: u32,
        last_error: String,
        delivered: usize,
        lost: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_platform() {
        assert_eq!(Rejection::status_for("1023006"), 403);
        assert_eq!(Rejection::status_for("1023012"), 403);
        assert_eq!(Rejection::status_for("1010013"), 403);
        assert_eq!(Rejection::status_for("1023001"), 500);
        assert_eq!(Rejection::status_for("1010002"), 400);
        assert_eq!(Rejection::status_for("1012010"), 400);
    }
}
