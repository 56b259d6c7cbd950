//! The database under the gateway: a fresh PostgreSQL database (dropped afterwards) or a SQLite file
//! in the run's temporary directory.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Sqlite => "SQLite",
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::Postgres => "pg",
            Self::Sqlite => "sqlite",
        }
    }

    /// The gateway's pool size for this backend with default settings (one connection on SQLite).
    pub fn gateway_pool(self) -> u32 {
        match self {
            Self::Postgres => 16,
            Self::Sqlite => 1,
        }
    }
}

pub struct BenchDb {
    pub backend: Backend,
    pub url: String,
    admin: Option<(String, String)>,
}

impl BenchDb {
    pub async fn create(backend: Backend, pg_admin_url: &str, dir: &Path) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => {
                let file = dir.join(format!("bench-{}.db", uuid::Uuid::new_v4().simple()));
                Ok(Self {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", file.display()),
                    admin: None,
                })
            }
            Backend::Postgres => {
                let mut url = url::Url::parse(pg_admin_url).context("--pg-url")?;
                ensure!(
                    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
                    "--pg-url must point at this machine (127.0.0.1)"
                );
                let name = format!(
                    "pns_bench_{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                );
                let admin = Database::connect(pg_admin_url)
                    .await
                    .context("connecting to PostgreSQL (--pg-url)")?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                admin.close().await?;
                url.set_path(&name);
                Ok(Self {
                    backend,
                    url: url.to_string(),
                    admin: Some((pg_admin_url.to_owned(), name)),
                })
            }
        }
    }

    /// A pool like the gateway's own (WAL and a busy timeout on SQLite).
    pub async fn connect(&self, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
        let mut options = ConnectOptions::new(self.url.clone());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false);
        options.map_sqlx_sqlite_opts(|opts| {
            opts.busy_timeout(Duration::from_secs(10))
                .pragma("journal_mode", "WAL")
                .pragma("synchronous", "NORMAL")
        });
        Ok(Database::connect(options).await?)
    }

    /// PostgreSQL: refreshes the planner's statistics, as autovacuum does within a minute of a
    /// deployment's start: a measurement begins after the warm-up, not on the statistics of an empty
    /// table (on which PostgreSQL plans a batch of lookups by primary key as a scan of the whole
    /// table). SQLite has no autovacuum and the gateway never runs ANALYZE there, so neither does this.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let db = self.connect(1).await?;
        db.execute_unprepared("ANALYZE").await?;
        db.close().await?;
        Ok(())
    }

    /// Drops the PostgreSQL database (the SQLite file goes with the temporary directory).
    pub async fn drop_database(self) -> anyhow::Result<()> {
        if let Some((admin_url, name)) = self.admin {
            let admin = Database::connect(&admin_url).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}
