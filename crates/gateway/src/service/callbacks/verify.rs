//! Who may post callbacks: an optional source-IP allowlist, then the platform's AKSK signature over the
//! request (constant-time digest, `Created` window, nonce replay refused).
//!
//! Every refusal answers the same 401 body: which check failed (unknown key, bad digest, stale,
//! replayed, address) would tell a prober what to change next. The reason goes to the log and to the
//! `reason` label of `pns_callback_refusals_total` only.
//!
//! Replays are refused twice over: this process remembers the nonces it accepted, and the accepted
//! nonce is recorded in the database with the callback's rows (see `nonces`), so a captured callback
//! replayed to another instance inside the window is refused there too.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pns_core::aksk::{AkskError, Credentials, InMemoryReplayGuard, Verifier, XAksk};

use crate::settings::Settings;

/// Nonces remembered at once; beyond this the guard refuses (fails closed) until old ones expire.
const MAX_REMEMBERED_NONCES: usize = 200_000;

pub struct CallbackGuard {
    /// `None` when verification is switched off (`PNS_CALLBACK_VERIFY=false`).
    verifier: Option<Verifier>,
    allow_ips: Vec<IpAddr>,
    window: std::time::Duration,
}

/// A verified signature's nonce, recorded in the database with the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNonce {
    pub nonce: String,
    pub created: DateTime<Utc>,
}

/// A refused callback: always the same answer; `reason` is for the log and the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub reason: &'static str,
}

impl Refused {
    pub fn new(reason: &'static str, peer: Option<IpAddr>) -> Self {
        tracing::warn!(reason, peer = ?peer, "callback refused");
        crate::telemetry::metrics::callback_refused(reason);
        Self { reason }
    }
}

/// A fixed label per check, so the metric's cardinality stays bounded.
fn reason(error: &AkskError) -> &'static str {
    match error {
        AkskError::MissingAuthorization | AkskError::MissingXAksk => "unsigned",
        AkskError::InvalidAuthorization | AkskError::Malformed(_) => "malformed",
        AkskError::UnknownAppKey => "unknown_app_key",
        AkskError::BadDigest => "bad_digest",
        AkskError::CreatedOutsideWindow => "stale",
        AkskError::Replayed => "replayed",
    }
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
            window: settings.callback_window,
        }
    }

    /// Ok when the request may be processed, with the nonce it was signed with (None when verification
    /// is off). Nothing about the body is looked at here.
    pub fn check(
        &self,
        peer: Option<IpAddr>,
        authorization: Option<&str>,
        x_aksk: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedNonce>, Refused> {
        if !self.allow_ips.is_empty() && !peer.is_some_and(|ip| self.ip_allowed(ip)) {
            return Err(Refused::new("address_not_allowed", peer));
        }
        let Some(verifier) = &self.verifier else {
            return Ok(None);
        };
        verifier
            .verify(authorization, x_aksk, now)
            .map_err(|e| Refused::new(reason(&e), peer))?;
        // The verifier parsed the same header a moment ago: this cannot fail.
        let header = x_aksk
            .and_then(|h| XAksk::parse(h.trim()).ok())
            .ok_or_else(|| Refused::new("malformed", peer))?;
        Ok(Some(SignedNonce {
            nonce: header.nonce.to_owned(),
            created: header.created_at().unwrap_or(now),
        }))
    }

    /// The oldest `Created` still inside the window: a nonce signed before it can be forgotten.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX)
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
        let nonce = check().unwrap().expect("verified");
        assert!(
            signed
                .x_aksk
                .contains(&format!("Nonce=\"{}\"", nonce.nonce))
        );
        assert!((Utc::now() - nonce.created).num_seconds().abs() <= 2);
        assert_eq!(check().unwrap_err().reason, "replayed");
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
        assert_eq!(refused.unwrap_err().reason, "address_not_allowed");
        assert!(guard.check(None, None, None, now).is_err());
    }
}
