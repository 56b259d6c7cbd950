//! The identity provider's signing keys: fetched at start and cached, refreshed every
//! `PNS_JWT_JWKS_REFRESH_SECS`, and fetched at once when a token names a key the cache lacks (at most
//! once per `PNS_JWT_JWKS_COOLDOWN_SECS`, however many such tokens arrive). A failed fetch keeps the
//! cached keys working; `/readyz` and the `pns_jwks_*` metrics show it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::Algorithm;
use reqwest::header::ACCEPT;
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;

use super::keyset::{KeySet, KeySetError, Selection};
use crate::settings::{JwksSettings, JwksSource, check_fetchable};

/// Far above any real JWKS or discovery document.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Retries after a failed fetch back off up to this (never past the refresh interval).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

pub struct Jwks {
    source: JwksSource,
    http: reqwest::Client,
    keys: RwLock<Arc<KeySet>>,
    /// Held while fetching: concurrent triggers wait for one fetch instead of each making their own.
    fetch: tokio::sync::Mutex<FetchState>,
    /// Fetches started so far: a waiter that sees it moved knows a fetch happened meanwhile.
    fetches: AtomicU64,
    health: Mutex<Health>,
    refresh_every: Duration,
    cooldown: Duration,
}

#[derive(Default)]
struct FetchState {
    /// The JWKS URL, once known (discovery names it for an OIDC issuer).
    jwks_uri: Option<Url>,
    last_attempt: Option<Instant>,
    /// Keys the last fetch skipped: logged when this changes, not at every refresh.
    skipped: Vec<String>,
}

#[derive(Default)]
struct Health {
    last_success: Option<Instant>,
    consecutive_failures: u32,
}

/// The provider's keys as `/readyz` shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JwksStatus {
    /// `ok` (the last fetch succeeded), `stale` (it failed; the cached keys still verify tokens) or
    /// `unavailable` (no fetch has succeeded yet: only HS256 tokens verify).
    pub status: &'static str,
    /// Usable keys cached.
    pub keys: usize,
    /// Since the last successful fetch.
    pub seconds_since_refresh: Option<u64>,
    pub consecutive_failures: u32,
}

impl JwksStatus {
    /// Tokens from the provider can be verified.
    pub fn is_usable(&self) -> bool {
        self.status != "unavailable"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}: {1}")]
    Http(Url, reqwest::Error),
    #[error("{0}: HTTP {1}")]
    Status(Url, reqwest::StatusCode),
    #[error("{0}: body larger than {MAX_BODY_BYTES} bytes")]
    TooLarge(Url),
    #[error("{0}: {1}")]
    KeySet(Url, KeySetError),
    #[error("OIDC discovery at {0}: {1}")]
    Discovery(Url, String),
}

/// Refreshes the keys in the background until dropped.
pub struct Refresher(tokio::task::JoinHandle<()>);

impl Drop for Refresher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Jwks {
    pub fn new(settings: &JwksSettings) -> anyhow::Result<Self> {
        // Redirects are not followed: the configured URL is the one whose TLS identity is trusted.
        let mut http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pns-gateway/", env!("CARGO_PKG_VERSION")));
        if let Some(file) = &settings.ca_file {
            let pem = std::fs::read(file)
                .with_context(|| format!("PNS_JWT_JWKS_CA_FILE: reading {file}"))?;
            let ca = reqwest::Certificate::from_pem(&pem).with_context(|| {
                format!("PNS_JWT_JWKS_CA_FILE: {file} is not a PEM certificate")
            })?;
            http = http.add_root_certificate(ca);
        }
        let jwks_uri = match &settings.source {
            JwksSource::Url(url) => Some(url.clone()),
            JwksSource::OidcIssuer(_) => None,
        };
        Ok(Self {
            source: settings.source.clone(),
            http: http.build()?,
            keys: RwLock::default(),
            fetch: tokio::sync::Mutex::new(FetchState {
                jwks_uri,
                ..FetchState::default()
            }),
            fetches: AtomicU64::new(0),
            health: Mutex::default(),
            refresh_every: settings.refresh_every,
            cooldown: settings.cooldown,
        })
    }

    /// Fetches the keys once and keeps them fresh. A provider down at start does not stop the
    /// gateway: the refresher retries, and `/readyz` says `unavailable` until a fetch succeeds.
    pub async fn start(settings: &JwksSettings) -> anyhow::Result<(Arc<Self>, Refresher)> {
        let jwks = Arc::new(Self::new(settings)?);
        let first = jwks.refresh().await;
        let refresher = Refresher(tokio::spawn(Arc::clone(&jwks).keep_fresh(first.is_ok())));
        Ok((jwks, refresher))
    }

    /// The keys a token's header selects; when none fits, the set is fetched again first (unless a
    /// fetch happened within the cooldown) and looked at once more.
    pub async fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection {
        let seen = self.fetches.load(Ordering::Acquire);
        match self.current().select(kid, alg) {
            Selection::Unknown => {}
            found => return found,
        }
        {
            let mut state = self.fetch.lock().await;
            let fetched_meanwhile = self.fetches.load(Ordering::Acquire) != seen;
            let too_soon = state
                .last_attempt
                .is_some_and(|at| at.elapsed() < self.cooldown);
            if !fetched_meanwhile && !too_soon {
                tracing::info!("a token names a key not in the cached JWKS; fetching it again");
                let _ = self.fetch_locked(&mut state).await;
            }
        }
        self.current().select(kid, alg)
    }

    /// Fetches the set now and replaces the cached keys with it; on failure they stay.
    pub async fn refresh(&self) -> Result<usize, FetchError> {
        let mut state = self.fetch.lock().await;
        self.fetch_locked(&mut state).await
    }

    pub fn status(&self) -> JwksStatus {
        let keys = self.current().len();
        let health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        let status = match (health.last_success, health.consecutive_failures) {
            (None, _) => "unavailable",
            (Some(_), 0) => "ok",
            (Some(_), _) => "stale",
        };
        JwksStatus {
            status,
            keys,
            seconds_since_refresh: health.last_success.map(|at| at.elapsed().as_secs()),
            consecutive_failures: health.consecutive_failures,
        }
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    async fn keep_fresh(self: Arc<Self>, mut healthy: bool) {
        let mut failures = u32::from(!healthy);
        loop {
            let wait = if healthy {
                self.refresh_every
            } else {
                // 1 s, 2 s, 4 s... while the provider is down.
                let backoff = Duration::from_secs(1 << failures.saturating_sub(1).min(6));
                backoff.min(MAX_RETRY_DELAY).min(self.refresh_every)
            };
            tokio::time::sleep(wait).await;
            healthy = self.refresh().await.is_ok();
            failures = if healthy { 0 } else { failures + 1 };
        }
    }

    async fn fetch_locked(&self, state: &mut FetchState) -> Result<usize, FetchError> {
        self.fetches.fetch_add(1, Ordering::AcqRel);
        state.last_attempt = Some(Instant::now());
        let result = self.fetch_set(state).await;
        let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok((set, skipped)) => {
                if !skipped.is_empty() && skipped != state.skipped {
                    tracing::warn!(skipped = %skipped.join("; "), "JWKS: keys skipped");
                }
                state.skipped = skipped;
                let n = set.len();
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
                health.last_success = Some(Instant::now());
                health.consecutive_failures = 0;
                crate::telemetry::metrics::jwks_fetched(Some(n));
                tracing::debug!(keys = n, "JWKS fetched");
                Ok(n)
            }
            Err(error) => {
                health.consecutive_failures += 1;
                crate::telemetry::metrics::jwks_fetched(None);
                tracing::warn!(%error, failures = health.consecutive_failures,
                    "JWKS fetch failed; the cached keys stay in use");
                if matches!(self.source, JwksSource::OidcIssuer(_)) {
                    // The provider may have moved its keys: ask discovery again next time.
                    state.jwks_uri = None;
                }
                Err(error)
            }
        }
    }

    async fn fetch_set(&self, state: &mut FetchState) -> Result<(KeySet, Vec<String>), FetchError> {
        let url = match (&state.jwks_uri, &self.source) {
            (Some(url), _) => url.clone(),
            (None, JwksSource::OidcIssuer(issuer)) => {
                let url = self.discover(issuer).await?;
                state.jwks_uri = Some(url.clone());
                url
            }
            (None, JwksSource::Url(url)) => url.clone(),
        };
        let body = self.get(&url).await?;
        KeySet::parse(&body).map_err(|e| FetchError::KeySet(url, e))
    }

    /// The JWKS URL an OIDC issuer's discovery document names. Its `issuer` must be the configured
    /// one (OpenID Connect Discovery 1.0, section 4.3) and its URL https (or loopback http).
    async fn discover(&self, issuer: &Url) -> Result<Url, FetchError> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let base = issuer.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{base}/.well-known/openid-configuration"))
            .map_err(|e| FetchError::Discovery(issuer.clone(), e.to_string()))?;
        let body = self.get(&url).await?;
        let failed = |reason: String| FetchError::Discovery(url.clone(), reason);
        let document: Discovery =
            serde_json::from_slice(&body).map_err(|e| failed(e.to_string()))?;
        if document.issuer.trim_end_matches('/') != base {
            return Err(failed(format!(
                "it names issuer `{}`, not the configured one",
                document.issuer.chars().take(200).collect::<String>()
            )));
        }
        let jwks_uri = Url::parse(&document.jwks_uri).map_err(|e| failed(e.to_string()))?;
        check_fetchable(&jwks_uri).map_err(failed)?;
        Ok(jwks_uri)
    }

    /// A 2xx body of at most [`MAX_BODY_BYTES`], read without buffering more.
    async fn get(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let failed = |e: reqwest::Error| FetchError::Http(url.clone(), e.without_url());
        let mut response = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(failed)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(url.clone(), response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FetchError::TooLarge(url.clone()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
