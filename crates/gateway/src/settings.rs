//! Typed settings: defaults -> optional TOML file (`PNS_CONFIG_FILE`) -> `PNS_*` environment variables,
//! validated once at start with an error naming the offending key.

use std::net::IpAddr;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;

mod jwt;
mod raw;
mod retention;
mod upstream;
mod webhooks;
pub use jwt::{JwksSettings, JwksSource, check_fetchable};
pub use raw::RawSettings;
pub use retention::Retention;
use upstream::is_loopback;
use webhooks::webhook_settings;
pub use webhooks::{AllowedNetwork, WebhookSettings};

/// Where bindings go: the real platform, or the in-process simulator.
#[derive(Debug, Clone)]
pub enum UpstreamMode {
    Production {
        url: url::Url,
        app_key: String,
        app_secret: SecretString,
        ca_file: Option<String>,
    },
    Sandbox {
        numbers: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub upstream: UpstreamMode,
    /// HS256 tokens (`gateway token`). None in sandbox mode (one is generated at start) or when an
    /// identity provider alone signs tokens.
    pub jwt_secret: Option<SecretString>,
    pub jwt_audience: String,
    /// The `iss` tokens must carry: `PNS_JWT_ISSUER`, else the OIDC issuer when one is configured.
    pub jwt_issuer: Option<String>,
    /// The identity provider whose JWKS signs tokens (RS256, ES256, EdDSA), if any.
    pub jwt_jwks: Option<JwksSettings>,
    /// The claim holding the app id (`sub`, `azp`, `client_id`...).
    pub jwt_app_claim: String,
    /// Provider scopes count only with this prefix, which is stripped (`pns/` maps `pns/admin`).
    pub jwt_scope_prefix: Option<String>,
    pub upstream_connect_timeout: Duration,
    pub upstream_timeout: Duration,
    pub upstream_max_retries: u32,
    pub callback_verify: bool,
    pub callback_window: Duration,
    pub callback_allow_ips: Vec<IpAddr>,
    pub public_url: Option<String>,
    pub body_limit_bytes: usize,
    pub callback_body_limit_bytes: usize,
    /// A request body not fully received this long after the request started is refused (408):
    /// a client trickling a body cannot hold a connection and its buffer forever.
    pub body_read_timeout: Duration,
    pub db_max_connections: u32,
    /// Extra root certificate(s) (PEM) for PostgreSQL TLS (`sslmode=verify-ca`/`verify-full`).
    pub database_ca_file: Option<String>,
    pub log_format: LogFormat,
    /// How often due bindings are marked expired; None = never.
    pub sweep_interval: Option<Duration>,
    /// How often the table is reconciled with the platform; None = only on demand.
    pub reconcile_interval: Option<Duration>,
    /// A pending row younger than this is not failed by reconciliation: its bind may be in flight.
    pub reconcile_pending_grace: Duration,
    /// Per-app requests per second on `/v1/...`; 0 = no limit.
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
    /// Bearer token that may read `/metrics` (admin JWTs always may).
    pub metrics_token: Option<SecretString>,
    /// How long a stop waits for in-flight requests.
    pub shutdown_timeout: Duration,
    pub retention: Retention,
    pub webhooks: WebhookSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {reason}")]
pub struct SettingsError {
    pub key: String,
    pub reason: String,
}

/// The log format, and the timeouts and limits that must be non-zero (or long enough).
fn check_format_and_limits(raw: &RawSettings) -> Result<LogFormat, SettingsError> {
    let log_format = match raw.log_format.as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            return Err(invalid(
                "PNS_LOG_FORMAT",
                format!("`{other}`: use text or json"),
            ));
        }
    };
    if raw.upstream_timeout_ms == 0 {
        return Err(invalid("PNS_UPSTREAM_TIMEOUT_MS", "must be > 0"));
    }
    if raw.body_limit_bytes == 0 || raw.callback_body_limit_bytes == 0 {
        return Err(invalid("PNS_BODY_LIMIT_BYTES", "body limits must be > 0"));
    }
    if raw.body_read_timeout_secs == 0 {
        return Err(invalid("PNS_BODY_READ_TIMEOUT_SECS", "must be > 0"));
    }
    if raw
        .metrics_token
        .as_ref()
        .is_some_and(|t| !t.is_empty() && t.len() < 16)
    {
        return Err(invalid(
            "PNS_METRICS_TOKEN",
            "must be at least 16 characters",
        ));
    }
    Ok(log_format)
}

/// A setting given as an empty (or blank) string counts as not given.
fn non_empty(value: &Option<String>) -> Option<String> {
    value.clone().filter(|s| !s.trim().is_empty())
}

fn invalid(key: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

impl Settings {
    /// Loads from the process environment (and `PNS_CONFIG_FILE` when set).
    pub fn load() -> Result<Self, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
        if let Ok(path) = std::env::var("PNS_CONFIG_FILE") {
            figment = figment.merge(Toml::file_exact(path));
        }
        let figment = figment.merge(Env::prefixed("PNS_").ignore(&["config_file"]));
        let raw: RawSettings = figment.extract().map_err(|e| {
            let key = e.path.last().map(|k| format!("PNS_{}", k.to_uppercase()));
            invalid(
                key.as_deref().unwrap_or("configuration"),
                e.kind.to_string(),
            )
        })?;
        Self::from_raw(raw)
    }

    pub fn from_raw(raw: RawSettings) -> Result<Self, SettingsError> {
        let retention = Retention::from_raw(&raw)?;
        let sandbox = non_empty(&raw.upstream_url).is_none();
        let webhooks = webhook_settings(&raw, sandbox)?;
        if raw.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "PNS_LISTEN",
                format!("`{}` is not host:port", raw.listen),
            ));
        }
        if raw.database_url.is_empty() {
            return Err(invalid("PNS_DATABASE_URL", "must not be empty"));
        }
        let jwt_secret = non_empty(&raw.jwt_secret);
        let jwt_jwks = jwt::jwks_settings(&raw)?;
        let jwt_app_claim = jwt::app_claim(&raw)?;
        let upstream = upstream::mode(&raw, jwt_secret.is_some() || jwt_jwks.is_some())?;
        if jwt_secret.as_ref().is_some_and(|secret| secret.len() < 32) {
            return Err(invalid("PNS_JWT_SECRET", "must be at least 32 characters"));
        }
        let callback_allow_ips = match non_empty(&raw.callback_allow_ips) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|ip| ip.trim().parse::<IpAddr>())
                .collect::<Result<_, _>>()
                .map_err(|e| invalid("PNS_CALLBACK_ALLOW_IPS", e.to_string()))?,
        };
        // Without the signature anyone who reaches the URL could post CDRs, or probe SMS Block mode
        // (answered with a party's real number): production needs the allowlist to stand in for it.
        let production = matches!(upstream, UpstreamMode::Production { .. });
        if production && !raw.callback_verify && callback_allow_ips.is_empty() {
            return Err(invalid(
                "PNS_CALLBACK_VERIFY",
                "false is refused in production unless PNS_CALLBACK_ALLOW_IPS lists the platform's \
                 callback addresses; set PNS_CALLBACK_VERIFY=true or set PNS_CALLBACK_ALLOW_IPS",
            ));
        }
        let database_ca_file = non_empty(&raw.database_ca_file);
        if let Some(path) = &database_ca_file
            && !std::path::Path::new(path).is_file()
        {
            return Err(invalid(
                "PNS_DATABASE_CA_FILE",
                format!("`{path}` is not a readable file"),
            ));
        }
        let log_format = check_format_and_limits(&raw)?;
        Ok(Self {
            retention,
            listen: raw.listen,
            database_url: raw.database_url,
            upstream,
            jwt_secret: jwt_secret.map(SecretString::from),
            jwt_audience: raw.jwt_audience,
            jwt_issuer: non_empty(&raw.jwt_issuer).or_else(|| match &jwt_jwks {
                Some(JwksSettings {
                    source: JwksSource::OidcIssuer(_),
                    ..
                }) => non_empty(&raw.jwt_oidc_issuer).map(|iss| iss.trim().to_owned()),
                _ => None,
            }),
            jwt_jwks,
            jwt_app_claim,
            jwt_scope_prefix: non_empty(&raw.jwt_scope_prefix),
            upstream_connect_timeout: Duration::from_millis(raw.upstream_connect_timeout_ms),
            upstream_timeout: Duration::from_millis(raw.upstream_timeout_ms),
            upstream_max_retries: raw.upstream_max_retries,
            callback_verify: raw.callback_verify,
            callback_window: Duration::from_secs(raw.callback_window_secs),
            callback_allow_ips,
            public_url: non_empty(&raw.public_url),
            body_limit_bytes: raw.body_limit_bytes,
            callback_body_limit_bytes: raw.callback_body_limit_bytes,
            body_read_timeout: Duration::from_secs(raw.body_read_timeout_secs),
            db_max_connections: raw.db_max_connections.max(1),
            database_ca_file,
            log_format,
            sweep_interval: interval(raw.sweep_interval_secs),
            reconcile_interval: interval(raw.reconcile_interval_secs),
            reconcile_pending_grace: Duration::from_secs(raw.reconcile_pending_grace_secs),
            rate_limit_per_sec: raw.rate_limit_per_sec,
            rate_limit_burst: raw.rate_limit_burst,
            metrics_token: non_empty(&raw.metrics_token).map(SecretString::from),
            shutdown_timeout: Duration::from_secs(raw.shutdown_timeout_secs),
            webhooks,
        })
    }

    /// The longest one upstream call can take, retries included.
    pub fn upstream_call_budget(&self) -> Duration {
        self.upstream_connect_timeout + self.upstream_timeout * (self.upstream_max_retries + 1)
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self.upstream, UpstreamMode::Sandbox { .. })
    }
}

/// 0 turns a periodic job off.
fn interval(secs: u64) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
