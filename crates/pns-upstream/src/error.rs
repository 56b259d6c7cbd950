use pns_core::result_code::{ResultClass, ResultCode};

/// Why a call to the platform did not succeed.
///
/// The split matters to callers: `Rejected` is the platform's decision (nothing happened, except for the
/// platform-side failures flagged by [`UpstreamError::is_ambiguous`]), while `Timeout`, `Transport` and
/// `Decode` leave the outcome unknown, so a caller that wrote must reconcile (query) before trusting either.
#[derive(thiserror::Error, Debug, Clone)]
pub enum UpstreamError {
    /// No complete answer within the configured timeout; the request may have taken effect.
    #[error("upstream timed out")]
    Timeout,
    /// Connection refused/reset, TLS failure, or a proxy error page; the request may have been sent.
    #[error("upstream transport error: {0}")]
    Transport(String),
    /// The platform answered with a non-"0" resultcode (on any HTTP status, 200 included).
    #[error(
        "upstream rejected the request: HTTP {http_status}, resultcode {} ({}): {}",
        code.code(),
        code.meaning(),
        // The platform's text may quote a number it refused.
        pns_core::phone::redact(desc)
    )]
    Rejected {
        http_status: u16,
        code: ResultCode,
        desc: String,
    },
    /// The platform answered but not in the documented shape.
    #[error("upstream answer could not be decoded: {0}")]
    Decode(String),
}

impl UpstreamError {
    /// The platform's resultcode, when it gave one.
    pub fn result_code(&self) -> Option<&ResultCode> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True when the request may have taken effect even though we got an error: the caller must find out
    /// (e.g. query by X and the A/B pair) instead of assuming failure.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Self::Timeout | Self::Transport(_) => true,
            // The platform failed internally or timed out talking to itself: the write may have landed.
            Self::Rejected { code, .. } => matches!(
                code,
                ResultCode::InternalError(_) | ResultCode::PlatformTimeout
            ),
            // We could not read the answer, so we cannot say what the platform did.
            Self::Decode(_) => true,
        }
    }

    /// True when sending the same request again may succeed. Only idempotent operations act on this.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout | Self::Transport(_) => true,
            Self::Rejected { code, .. } => code.class() == ResultClass::Retryable,
            Self::Decode(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(code: &str) -> UpstreamError {
        UpstreamError::Rejected {
            http_status: 500,
            code: ResultCode::parse(code),
            desc: String::new(),
        }
    }

    #[test]
    fn transport_level_failures_are_ambiguous_and_retryable() {
        for e in [
            UpstreamError::Timeout,
            UpstreamError::Transport("reset".into()),
        ] {
            assert!(e.is_ambiguous());
            assert!(e.is_retryable());
            assert!(e.result_code().is_none());
        }
    }

    #[test]
    fn platform_internal_errors_are_retryable_and_ambiguous() {
        for code in ["1010001", "1023001", "1023002"] {
            let e = rejected(code);
            assert!(e.is_retryable(), "{code}");
            assert!(e.is_ambiguous(), "{code}");
        }
    }

    #[test]
    fn business_rejections_are_final() {
        for code in ["1010002", "1012007", "1012010", "1023006", "1010013"] {
            let e = rejected(code);
            assert!(!e.is_retryable(), "{code}");
            assert!(!e.is_ambiguous(), "{code}");
            assert_eq!(e.result_code().map(|c| c.code()), Some(code.to_owned()));
        }
    }

    #[test]
    fn unreadable_answers_are_ambiguous_but_not_retried() {
        let e = UpstreamError::Decode("x".into());
        assert!(e.is_ambiguous());
        assert!(!e.is_retryable());
    }
}
