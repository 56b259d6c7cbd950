//! Which addresses a webhook may be sent to. Checked when an endpoint is saved and again at every
//! delivery, by the HTTP client's own resolver, so a name that later resolves somewhere private (DNS
//! rebinding) is refused at connection time rather than trusted from the earlier check.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::settings::AllowedNetwork;

/// Never a target, whatever `PNS_WEBHOOK_ALLOWED_NETWORKS` says: link-local (where cloud metadata
/// services live), the metadata addresses clouds use outside it, and "this host" addresses.
static NEVER: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    nets(&[
        "169.254.0.0/16",
        "fe80::/10",
        "100.100.100.200/32",
        "fd00:ec2::254/128",
        "0.0.0.0/8",
        "::/128",
    ])
});

/// Not globally routable: private, loopback, shared, documentation, benchmarking, reserved, multicast.
static NOT_PUBLIC: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    nets(&[
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
        "::1/128",
        "64:ff9b::/96",
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",
        "ff00::/8",
    ])
});

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter()
        .map(|n| n.parse().expect("constant CIDR"))
        .collect()
}

#[derive(Debug, Clone)]
pub struct TargetPolicy {
    allowed: Vec<AllowedNetwork>,
}

/// Why a URL cannot be a webhook target; the text is shown to the caller.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    Invalid(String),
    #[error("`{host}` resolves to an address webhooks may not be sent to")]
    Forbidden { host: String },
    #[error("`{0}` does not resolve")]
    Unresolvable(String),
}

impl TargetPolicy {
    pub fn new(allowed: Vec<AllowedNetwork>) -> Self {
        Self { allowed }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if NEVER.iter().any(|n| n.contains(&ip)) {
            return false;
        }
        self.allowed.iter().any(|allowed| match allowed {
            AllowedNetwork::Public => !NOT_PUBLIC.iter().any(|n| n.contains(&ip)),
            AllowedNetwork::Net(net) => net.contains(&ip),
        })
    }

    /// The checks of a URL that need no network: shape, scheme, no credentials, an IP literal's range.
    pub fn check_url(&self, raw: &str) -> Result<url::Url, TargetError> {
        let invalid = |why: &str| TargetError::Invalid(format!("url: {why}"));
        if raw.len() > 2048 {
            return Err(invalid("longer than 2048 characters"));
        }
        let url = url::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("must be http:// or https://"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not carry credentials"));
        }
        if url.fragment().is_some() {
            return Err(invalid("must not have a #fragment"));
        }
        match url.host() {
            None => Err(invalid("has no host")),
            Some(url::Host::Ipv4(ip)) => self.literal(ip.into(), &url),
            Some(url::Host::Ipv6(ip)) => self.literal(ip.into(), &url),
            Some(url::Host::Domain(_)) => Ok(url),
        }
    }

    fn literal(&self, ip: IpAddr, url: &url::Url) -> Result<url::Url, TargetError> {
        if self.allows(ip) {
            Ok(url.clone())
        } else {
            Err(TargetError::Forbidden {
                host: ip.to_string(),
            })
        }
    }

    /// [`Self::check_url`], then every address the host resolves to must be allowed.
    pub async fn check_target(&self, raw: &str) -> Result<url::Url, TargetError> {
        let url = self.check_url(raw)?;
        if let Some(url::Host::Domain(host)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            let lookup = tokio::net::lookup_host((host, port));
            let addrs: Vec<SocketAddr> = tokio::time::timeout(Duration::from_secs(5), lookup)
                .await
                .ok()
                .and_then(Result::ok)
                .map(Iterator::collect)
                .unwrap_or_default();
            if addrs.is_empty() {
                return Err(TargetError::Unresolvable(host.to_owned()));
            }
            if !addrs.iter().all(|a| self.allows(a.ip())) {
                return Err(TargetError::Forbidden {
                    host: host.to_owned(),
                });
            }
        }
        Ok(url)
    }

    /// The webhook HTTP client: verified TLS, no redirects, no proxy, this policy in its resolver.
    pub fn client(self, timeout: Duration) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("pns-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(self))
            .build()
    }
}

/// Resolves, then keeps only the allowed addresses (none left: the connection fails).
impl Resolve for TargetPolicy {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = addrs.filter(|a| policy.allows(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(TargetError::Forbidden { host }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> TargetPolicy {
        TargetPolicy::new(vec![AllowedNetwork::Public])
    }

    #[test]
    fn public_policy_refuses_private_loopback_and_metadata_addresses() {
        let policy = public();
        for ip in [
            "10.1.2.3",
            "127.0.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(!policy.allows(ip.parse().unwrap()), "{ip} allowed");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "::ffff:1.1.1.1"] {
            assert!(policy.allows(ip.parse().unwrap()), "{ip} refused");
        }
    }

    #[test]
    fn an_allowed_network_opens_its_range_but_never_link_local() {
        let policy = TargetPolicy::new(vec![
            AllowedNetwork::Net("10.0.0.0/8".parse().unwrap()),
            AllowedNetwork::Net("0.0.0.0/0".parse().unwrap()),
        ]);
        assert!(policy.allows("10.9.9.9".parse().unwrap()));
        assert!(!policy.allows("169.254.169.254".parse().unwrap()));
        assert!(!policy.allows("169.254.1.1".parse().unwrap()));
    }

    #[test]
    fn urls_must_be_plain_http_targets() {
        let policy = public();
        for bad in [
            "ftp://example.com/x",
            "not a url",
            "https://user:pw@example.com/",
            "https://example.com/#frag",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://127.0.0.1/",
        ] {
            assert!(policy.check_url(bad).is_err(), "{bad} accepted");
        }
        assert!(policy.check_url("https://example.com/hooks?x=1").is_ok());
    }
}
