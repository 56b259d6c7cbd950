//! Is the platform reachable? A TCP connect to its address with a short timeout, cached a few seconds
//! so probes do not hammer it (and cost no signed request). The sandbox is always reachable.

use std::sync::Mutex;
use std::time::{Duration, Instant};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const CACHE_FOR: Duration = Duration::from_secs(5);

pub struct UpstreamProbe {
    /// `host:port`, or `None` in sandbox mode.
    target: Option<String>,
    last: Mutex<Option<(Instant, bool)>>,
}

impl UpstreamProbe {
    pub fn new(upstream: Option<&url::Url>) -> Self {
        let target = upstream.and_then(|url| {
            Some(format!(
                "{}:{}",
                url.host_str()?,
                url.port_or_known_default()?
            ))
        });
        Self {
            target,
            last: Mutex::new(None),
        }
    }

    pub fn sandbox() -> Self {
        Self::new(None)
    }

    pub async fn reachable(&self) -> bool {
        let Some(target) = &self.target else {
            return true;
        };
        if let Some((at, ok)) = *self.lock()
            && at.elapsed() < CACHE_FOR
        {
            return ok;
        }
        let ok = matches!(
            tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(target)).await,
            Ok(Ok(_))
        );
        if !ok {
            tracing::warn!(%target, "upstream unreachable");
        }
        *self.lock() = Some((Instant::now(), ok));
        ok
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, bool)>> {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
