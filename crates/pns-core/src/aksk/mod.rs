//! AKSK, the platform's request signature, in both directions: we sign our calls to the platform, and the
//! platform signs its callbacks to us with the same APP_Key/APP_Secret.
//!
//! `PasswordDigest = Base64(HMAC-SHA256(key = APP_Secret, msg = Nonce + Created))`, exactly as Huawei's
//! `buildAKSKHeader` sample computes it.

mod header;
mod replay;
mod verifier;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::result_code::ResultCode;

pub use header::{XAksk, parse_created};
pub use replay::{InMemoryReplayGuard, ReplayGuard};
pub use verifier::Verifier;

/// The fixed `Authorization` value of every AKSK request.
pub const AUTHORIZATION: &str = r#"AKSK realm="SDP",profile="UsernameToken",type="Appkey""#;
/// `Created`: UTC, second precision, literal `Z`.
pub const CREATED_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
/// The usual allowed clock skew, in both directions (the platform does not publish its own).
pub const DEFAULT_SKEW_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);
pub const AUTHORIZATION_HEADER: &str = "Authorization";
pub const X_AKSK_HEADER: &str = "X-AKSK";

/// `Base64(HMAC-SHA256(app_secret, nonce + created))`.
pub fn password_digest(app_secret: &str, nonce: &str, created: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(nonce.as_bytes());
    mac.update(created.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// A fresh nonce: 32 lowercase hex characters, the shape of the samples' `uuid4().replace('-', '')`.
pub fn new_nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub fn format_created(t: DateTime<Utc>) -> String {
    t.format(CREATED_FORMAT).to_string()
}

/// An app's key pair. The secret stays wrapped so it cannot reach a log through `Debug`.
#[derive(Clone)]
pub struct Credentials {
    pub app_key: String,
    pub app_secret: SecretString,
}

impl Credentials {
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            app_key: app_key.into(),
            app_secret: SecretString::from(app_secret.into()),
        }
    }

    /// Signs with a fresh nonce and the current time.
    pub fn sign_now(&self) -> SignedHeaders {
        self.sign_with(&new_nonce(), Utc::now())
    }

    /// Signs with the given nonce and time (tests, and replaying the samples' vectors). The nonce must be
    /// 1-128 ASCII letters/digits, or the platform (and [`Verifier`]) will refuse the header.
    pub fn sign_with(&self, nonce: &str, created: DateTime<Utc>) -> SignedHeaders {
        let created = format_created(created);
        let digest = password_digest(self.app_secret.expose_secret(), nonce, &created);
        SignedHeaders {
            authorization: AUTHORIZATION,
            x_aksk: format!(
                r#"UsernameToken Username="{}",PasswordDigest="{digest}",Nonce="{nonce}",Created="{created}""#,
                self.app_key
            ),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("app_key", &self.app_key)
            .field("app_secret", &"[REDACTED]")
            .finish()
    }
}

/// The two header values to attach to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    pub authorization: &'static str,
    pub x_aksk: String,
}

#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum AkskError {
    #[error("Authorization header missing")]
    MissingAuthorization,
    #[error("Authorization header is not the AKSK UsernameToken scheme")]
    InvalidAuthorization,
    #[error("X-AKSK header missing")]
    MissingXAksk,
    #[error("X-AKSK header malformed: {0}")]
    Malformed(&'static str),
    #[error("unknown app key")]
    UnknownAppKey,
    #[error("password digest does not match")]
    BadDigest,
    #[error("Created is outside the allowed clock skew")]
    CreatedOutsideWindow,
    #[error("nonce already used")]
    Replayed,
}

impl AkskError {
    /// What the platform answers for the same fault, so the simulator and the callback endpoint speak its
    /// language. The documented header codes are 1023006..=1023012 (Authorization) and 1023033..=1023037
    /// (X-AKSK and each of its attributes). A bad digest and a replayed nonce have no code of their own in
    /// the tables we follow, so they fall under the X-AKSK attribute codes: permanent, "our signing is broken".
    pub fn result_code(&self) -> ResultCode {
        let code = match self {
            Self::MissingAuthorization => 1_023_006,
            Self::InvalidAuthorization => 1_023_009,
            Self::MissingXAksk => 1_023_033,
            Self::Malformed(what) => header::malformed_code(what),
            Self::UnknownAppKey => return ResultCode::InvalidAppKey,
            Self::CreatedOutsideWindow => return ResultCode::ClockSkew,
            Self::BadDigest => 1_023_037,
            Self::Replayed => 1_023_035,
        };
        ResultCode::AuthHeaderInvalid(code)
    }
}

#[cfg(test)]
mod tests;
