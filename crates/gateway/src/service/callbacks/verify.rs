//! Who may post callbacks: an optional source-IP allowlist, then the platform's AKSK signature over the
//! request (constant-time digest, `Created` window, nonce replay refused).
//!
//! The replay guard is process-local: with several instances behind a balancer a captured callback could
//! be replayed once per instance inside the window. That is harmless here because every kind is
//! deduplicated by its natural key in the database; a shared guard (a table or Redis) would close it.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pns_core::aksk::{Credentials, InMemoryReplayGuard, Verifier};

use crate::error::{ApiError, ErrorCode};
use secrecy::ExposeSecret;

use crate::sandbox::Sandbox;
use crate::settings::{Settings, UpstreamMode};

/// Nonces remembered at once; beyond this the guard refuses (fails closed) until old ones expire.
const MAX_REMEMBERED_NONCES: usize = 200_000;

pub struct CallbackGuard {
    /// `None` when verification is switched off (`PNS_CALLBACK_VERIFY=false`).
    verifier: Option<Verifier>,
    allow_ips: Vec<IpAddr>,
}

impl CallbackGuard {
    pub fn new(credentials: Credentials, settings: &Settings) -> Self {
        let verifier = settings.callback_verify.then(|| {
            let guard = InMemoryReplayGuard::new(settings.callback_window, MAX_REMEMBERED_NONCES);
            Verifier::new(credentials, settings.callback_window, Arc::new(guard))
        });
        if verifier.is_none() {
            tracing::warn!(
                "PNS_CALLBACK_VERIFY=false: callbacks are accepted WITHOUT signature verification; anyone who can reach /callbacks/huawei can write call records"
            );
        }
        Self {
            verifier,
            allow_ips: settings.callback_allow_ips.clone(),
        }
    }

    /// The guard for this deployment: the production APP_Key/APP_Secret, or the sandbox's generated pair.
    pub fn for_app(settings: &Settings, sandbox: Option<&Sandbox>) -> anyhow::Result<Self> {
        let credentials = match (&settings.upstream, sandbox) {
            (
                UpstreamMode::Production {
                    app_key,
                    app_secret,
                    ..
                },
                _,
            ) => Credentials::new(app_key.clone(), app_secret.expose_secret()),
            (UpstreamMode::Sandbox { .. }, Some(s)) => {
                Credentials::new(s.app_key.clone(), s.app_secret.clone())
            }
            (UpstreamMode::Sandbox { .. }, None) => {
                anyhow::bail!("sandbox mode without a running simulator")
            }
        };
        Ok(Self::new(credentials, settings))
    }

    /// Ok when the request may be processed. Nothing about the body is looked at here.
    pub fn check(
        &self,
        peer: Option<IpAddr>,
        authorization: Option<&str>,
        x_aksk: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if !self.allow_ips.is_empty() && !peer.is_some_and(|ip| self.ip_allowed(ip)) {
            tracing::warn!(peer = ?peer, "callback from an address not in PNS_CALLBACK_ALLOW_IPS");
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "source address not allowed",
            ));
        }
        let Some(verifier) = &self.verifier else {
            return Ok(());
        };
        verifier.verify(authorization, x_aksk, now).map_err(|e| {
            tracing::warn!(error = %e, peer = ?peer, "callback refused: signature check failed");
            ApiError::new(ErrorCode::Unauthorized, format!("callback signature: {e}"))
        })
    }

    fn ip_allowed(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may show up as an IPv4-mapped IPv6 address on a dual-stack socket.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.allow_ips.contains(&ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RawSettings;

    fn make(tweak: impl FnOnce(&mut RawSettings)) -> (CallbackGuard, Credentials) {
        let mut raw = RawSettings::default();
        tweak(&mut raw);
        let settings = Settings::from_raw(raw).unwrap();
        let creds = Credentials::new("key", "secret");
        (CallbackGuard::new(creds.clone(), &settings), creds)
    }

    #[test]
    fn signed_passes_once_and_replay_is_refused() {
        let (guard, creds) = make(|_| {});
        let signed = creds.sign_now();
        let check = || {
            guard.check(
                None,
                Some(signed.authorization),
                Some(&signed.x_aksk),
                Utc::now(),
            )
        };
        assert!(check().is_ok());
        assert_eq!(check().unwrap_err().code, ErrorCode::Unauthorized);
    }

    #[test]
    fn unsigned_and_forged_are_refused_unless_verification_is_off() {
        let (guard, _) = make(|_| {});
        let forged = Credentials::new("key", "not-the-secret").sign_now();
        assert!(guard.check(None, None, None, Utc::now()).is_err());
        let result = guard.check(
            None,
            Some(forged.authorization),
            Some(&forged.x_aksk),
            Utc::now(),
        );
        assert!(result.is_err());
        let (off, _) = make(|raw| raw.callback_verify = false);
        assert!(off.check(None, None, None, Utc::now()).is_ok());
    }

    #[test]
    fn allowlist_refuses_other_addresses_and_accepts_mapped_ipv4() {
        let (guard, _) = make(|raw| {
            raw.callback_verify = false;
            raw.callback_allow_ips = Some("10.0.0.1".into());
        });
        let now = Utc::now();
        assert!(
            guard
                .check(Some("10.0.0.1".parse().unwrap()), None, None, now)
                .is_ok()
        );
        assert!(
            guard
                .check(Some("::ffff:10.0.0.1".parse().unwrap()), None, None, now)
                .is_ok()
        );
        let refused = guard.check(Some("10.0.0.2".parse().unwrap()), None, None, now);
        assert_eq!(refused.unwrap_err().code, ErrorCode::Forbidden);
        assert!(guard.check(None, None, None, now).is_err());
    }
}
