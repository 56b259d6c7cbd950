//! Verification of incoming AKSK-signed requests (the platform's callbacks, or our calls in the simulator).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::{AUTHORIZATION, AkskError, Credentials, ReplayGuard, XAksk, password_digest};

#[derive(Clone)]
pub struct Verifier {
    credentials: Credentials,
    window: TimeDelta,
    replay: Arc<dyn ReplayGuard>,
}

impl Verifier {
    /// `window` bounds the clock skew in both directions (300 s is the usual choice).
    pub fn new(credentials: Credentials, window: Duration, replay: Arc<dyn ReplayGuard>) -> Self {
        Self {
            credentials,
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX),
            replay,
        }
    }

    /// Checks, in order: both headers present and well formed, the app key, the time window, the digest
    /// (constant time), and only then the nonce, so unauthenticated requests cannot fill the replay guard.
    pub fn verify(
        &self,
        authorization: Option<&str>,
        x_aksk: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AkskError> {
        let authorization = authorization.ok_or(AkskError::MissingAuthorization)?;
        if authorization.trim() != AUTHORIZATION {
            return Err(AkskError::InvalidAuthorization);
        }
        let header = XAksk::parse(x_aksk.ok_or(AkskError::MissingXAksk)?.trim())?;

        let app_key = self.credentials.app_key.as_bytes();
        if !bool::from(header.username.as_bytes().ct_eq(app_key)) {
            return Err(AkskError::UnknownAppKey);
        }

        let created = header
            .created_at()
            .ok_or(AkskError::Malformed("Created is not a valid time"))?;
        if (now - created).abs() > self.window {
            return Err(AkskError::CreatedOutsideWindow);
        }

        let expected = password_digest(
            self.credentials.app_secret.expose_secret(),
            header.nonce,
            header.created,
        );
        if !bool::from(expected.as_bytes().ct_eq(header.password_digest.as_bytes())) {
            return Err(AkskError::BadDigest);
        }

        if !self.replay.first_use(header.nonce, created, now) {
            return Err(AkskError::Replayed);
        }
        Ok(())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("credentials", &self.credentials)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}
