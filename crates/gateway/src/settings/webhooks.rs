//! Event delivery to apps' webhook endpoints (`PNS_WEBHOOK_*`).

use std::time::Duration;

use super::{RawSettings, SettingsError, invalid};

/// Event delivery to apps' webhook endpoints.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Where targets may resolve to. Link-local and metadata addresses are refused whatever this says.
    pub allowed_networks: Vec<AllowedNetwork>,
    /// Delay before each attempt: entry 0 before the first, and so on; its length is the number of
    /// attempts before a delivery is marked failed.
    pub retry_schedule: Vec<Duration>,
    pub timeout: Duration,
    /// Deliveries in flight at once, per instance.
    pub concurrency: usize,
    /// How often the dispatcher looks for new events when it has nothing to do.
    pub poll_interval: Duration,
    /// An endpoint failing for this long without a success is disabled.
    pub disable_after: Duration,
}

/// One entry of `PNS_WEBHOOK_ALLOWED_NETWORKS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowedNetwork {
    /// Any globally routable address.
    Public,
    Net(ipnet::IpNet),
}

/// The sandbox also calls receivers on this machine and the local network by default (development);
/// production calls public addresses only unless told otherwise.
pub(super) fn webhook_settings(
    raw: &RawSettings,
    sandbox: bool,
) -> Result<WebhookSettings, SettingsError> {
    const KEY: &str = "PNS_WEBHOOK_ALLOWED_NETWORKS";
    let networks = match raw.webhook_allowed_networks.as_deref().map(str::trim) {
        Some(list) if !list.is_empty() => list,
        _ if sandbox => {
            "public,127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
        }
        _ => "public",
    };
    let allowed_networks = networks
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item {
            "public" => Ok(AllowedNetwork::Public),
            cidr => cidr
                .parse::<ipnet::IpNet>()
                .or_else(|_| cidr.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(AllowedNetwork::Net)
                .map_err(|_| invalid(KEY, format!("`{cidr}` is neither `public` nor a CIDR"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    const SCHEDULE: &str = "PNS_WEBHOOK_RETRY_SCHEDULE_SECS";
    let retry_schedule = raw
        .webhook_retry_schedule_secs
        .split(',')
        .map(|s| s.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(SCHEDULE, format!("a comma-separated list of seconds: {e}")))?;
    if retry_schedule.is_empty() || retry_schedule.len() > 30 {
        return Err(invalid(SCHEDULE, "between 1 and 30 attempts"));
    }
    if retry_schedule.iter().any(|s| *s > 7 * 24 * 3600) {
        return Err(invalid(SCHEDULE, "no delay may pass 7 days"));
    }
    if raw.webhook_timeout_secs == 0 || raw.webhook_timeout_secs > 60 {
        return Err(invalid("PNS_WEBHOOK_TIMEOUT_SECS", "between 1 and 60"));
    }
    if raw.webhook_concurrency == 0 || raw.webhook_concurrency > 1024 {
        return Err(invalid("PNS_WEBHOOK_CONCURRENCY", "between 1 and 1024"));
    }
    if raw.webhook_poll_interval_ms < 10 {
        return Err(invalid("PNS_WEBHOOK_POLL_INTERVAL_MS", "at least 10"));
    }
    Ok(WebhookSettings {
        allowed_networks,
        retry_schedule: retry_schedule
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
        timeout: Duration::from_secs(raw.webhook_timeout_secs),
        concurrency: raw.webhook_concurrency as usize,
        poll_interval: Duration::from_millis(raw.webhook_poll_interval_ms),
        disable_after: Duration::from_secs(raw.webhook_disable_after_secs.max(60)),
    })
}
