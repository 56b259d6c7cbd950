//! What `/readyz` checks, cached so that an unauthenticated flood of probes costs next to nothing.
//! Is the platform reachable? A TCP connect to its address with a short timeout, cached a few seconds
//! (and costing no signed request); the sandbox is always reachable. Is the database? A ping and the
//! migrations' bookkeeping, cached a second.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const CACHE_FOR: Duration = Duration::from_secs(5);
const DATABASE_CACHE_FOR: Duration = Duration::from_secs(1);

/// The database's part of readiness.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseHealth {
    pub reachable: bool,
    pub migrations_applied: bool,
}

/// Runs the database check at most once a second: probes arriving meanwhile get the last answer, and
/// those arriving while a check runs wait for it rather than start their own (on SQLite every
/// query shares one connection with the traffic).
#[derive(Default)]
pub struct DatabaseProbe {
    last: tokio::sync::Mutex<Option<(Instant, DatabaseHealth)>>,
}

impl DatabaseProbe {
    pub async fn check(&self, db: &DatabaseConnection) -> DatabaseHealth {
        let mut last = self.last.lock().await;
        if let Some((at, health)) = *last
            && at.elapsed() < DATABASE_CACHE_FOR
        {
            return health;
        }
        let reachable = db.ping().await.is_ok();
        let migrations_applied =
            reachable && crate::db::migrations_applied(db).await.unwrap_or(false);
        let health = DatabaseHealth {
            reachable,
            migrations_applied,
        };
        *last = Some((Instant::now(), health));
        health
    }
}

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

/// `gateway healthcheck`: exits non-zero unless this instance's `/readyz` answers 200 within 3 s.
/// For container health checks in images without a shell or curl.
pub async fn healthcheck(listen: &str) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = listen.parse()?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let url = match addr {
        std::net::SocketAddr::V6(_) if !addr.ip().is_unspecified() => {
            format!("http://[{host}]:{}/readyz", addr.port())
        }
        _ => format!("http://{host}:{}/readyz", addr.port()),
    };
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?
        .get(&url)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    Ok(())
}
