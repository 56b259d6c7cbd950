//! Test databases: a SQLite file in the test's temporary directory, or a PostgreSQL database of its
//! own that is dropped when the test lets go of it, pass or fail.
//!
//! A test killed from outside (nextest's timeout, SIGKILL) never runs its drop, so the first
//! PostgreSQL test of each process also sweeps `pns_test_*` databases older than an hour.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use super::Backend;

/// Every test database's name starts with this; what follows is its creation time (Unix seconds).
const PREFIX: &str = "pns_test_";

/// Older than this, a test database is a leftover: no test runs that long.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// A database for one test. The SQLite file goes with the test's temporary directory; a PostgreSQL
/// database is dropped (with any connection still open to it) when this is dropped.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<Owned>,
}

/// A PostgreSQL database this process created: where to drop it from, and its name.
struct Owned {
    server_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn new(backend: Backend, dir: &tempfile::TempDir) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self {
                url: format!("sqlite://{}?mode=rwc", dir.path().join("pns.db").display()),
                postgres: None,
            }),
            Backend::Postgres => fresh_postgres().await,
        }
    }

    /// The PostgreSQL database's name (`None` on SQLite).
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|owned| owned.name.as_str())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(Owned { server_url, name }) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime (or while a failed test unwinds), where blocking on
        // async work is not allowed: a thread of its own with a runtime of its own does it. It
        // never panics (a panic during unwinding aborts the whole test binary).
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let server = Database::connect(&server_url)
                    .await
                    .map_err(|e| e.to_string())?;
                drop_database(&server, &name).await
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database not dropped (swept after an hour): {e}"),
            Err(_) => eprintln!("test database not dropped: the dropping thread panicked"),
        }
    }
}

/// Where PostgreSQL tests run. Unreachable: a failure when CI=true, a skip otherwise.
fn postgres_server_url() -> String {
    std::env::var("PNS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn fresh_postgres() -> Option<TestDatabase> {
    let server_url = postgres_server_url();
    let server = match Database::connect(&server_url).await {
        Ok(db) => db,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL unreachable at {server_url} in CI: {e}");
            }
            eprintln!("skipping PostgreSQL test: {e}");
            return None;
        }
    };
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if !SWEPT.swap(true, Ordering::SeqCst) {
        sweep_leftovers(&server).await;
    }
    let name = format!("{PREFIX}{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
    server
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let (prefix, _) = server_url
        .rsplit_once('/')
        .expect("database url has a path");
    Some(TestDatabase {
        url: format!("{prefix}/{name}"),
        postgres: Some(Owned { server_url, name }),
    })
}

/// Drops the test databases older than [`LEFTOVER_AGE`]: left by test processes that were killed.
async fn sweep_leftovers(server: &DatabaseConnection) {
    let rows = server
        .query_all_raw(Statement::from_string(
            server.get_database_backend(),
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"),
        ))
        .await;
    let names = match rows {
        Ok(rows) => rows
            .iter()
            .filter_map(|row| row.try_get::<String>("", "datname").ok())
            .collect::<Vec<_>>(),
        Err(e) => return eprintln!("test databases not swept: {e}"),
    };
    let cutoff = unix_now().saturating_sub(LEFTOVER_AGE.as_secs());
    for name in names {
        if created_at(server, &name)
            .await
            .is_some_and(|at| at < cutoff)
            && let Err(e) = drop_database(server, &name).await
        {
            eprintln!("leftover test database {name} not dropped: {e}");
        }
    }
}

/// When a test database was created: from its name, or for names without a time (made before
/// names carried one) from its `PG_VERSION` file, which PostgreSQL writes once at creation and
/// lets a superuser stat. `None` when neither can be told: such a database is left alone.
async fn created_at(server: &DatabaseConnection, name: &str) -> Option<u64> {
    if let Some(at) = parse_created_at(name) {
        return Some(at);
    }
    let row = server
        .query_one_raw(Statement::from_sql_and_values(
            server.get_database_backend(),
            "SELECT extract(epoch FROM (pg_stat_file('base/' || oid || '/PG_VERSION')).modification)::bigint AS at \
             FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await
        .ok()??;
    let at: i64 = row.try_get("", "at").ok()?;
    u64::try_from(at).ok()
}

/// `pns_test_<unix seconds>_<uuid>` → the seconds.
fn parse_created_at(name: &str) -> Option<u64> {
    let (seconds, rest) = name.strip_prefix(PREFIX)?.split_once('_')?;
    (!rest.is_empty()).then_some(())?;
    seconds.parse().ok()
}

async fn drop_database(server: &DatabaseConnection, name: &str) -> Result<(), String> {
    // Names are ours (prefix, digits, hex): safe to splice. FORCE ends the connections a test's
    // app may still hold open.
    server
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(name: &str) -> bool {
        let server = Database::connect(&postgres_server_url()).await.unwrap();
        let row = server
            .query_one_raw(Statement::from_sql_and_values(
                server.get_database_backend(),
                "SELECT count(*) AS n FROM pg_database WHERE datname = $1",
                [name.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap() == 1
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_postgres_test_database_is_dropped_with_its_app_even_when_the_test_fails() {
        let Some(app) = super::super::spawn_app(Backend::Postgres).await else {
            return;
        };
        let name = app
            .database
            .as_ref()
            .unwrap()
            .postgres_name()
            .unwrap()
            .to_owned();
        assert!(exists(&name).await);
        drop(app);
        assert!(!exists(&name).await, "{name} outlived its app");

        // A test that panics while its app (and open connections) are alive.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let failing = tokio::spawn(async move {
            let app = super::super::spawn_app(Backend::Postgres).await.unwrap();
            let name = app.database.as_ref().unwrap().postgres_name().unwrap();
            tx.send(name.to_owned()).unwrap();
            panic!("the test failed");
        });
        assert!(failing.await.unwrap_err().is_panic());
        let name = rx.await.unwrap();
        assert!(!exists(&name).await, "{name} outlived a failed test");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn leftovers_older_than_an_hour_are_swept_and_younger_ones_kept() {
        let Ok(server) = Database::connect(&postgres_server_url()).await else {
            return;
        };
        let name = |age: u64| {
            format!(
                "{PREFIX}{}_{}",
                unix_now() - age,
                uuid::Uuid::new_v4().simple()
            )
        };
        let (old, young) = (name(2 * 3600), name(600));
        for name in [&old, &young] {
            server
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
        }
        sweep_leftovers(&server).await;
        assert!(!exists(&old).await, "{old} was not swept");
        assert!(exists(&young).await, "{young} is in use by a running test");
        drop_database(&server, &young).await.unwrap();
    }

    #[test]
    fn names_carry_their_creation_time() {
        assert_eq!(
            parse_created_at("pns_test_1765140000_0123456789abcdef0123456789abcdef"),
            Some(1_765_140_000)
        );
        // The format before names carried a time, and other databases, are not read as times.
        assert_eq!(
            parse_created_at("pns_test_0123456789abcdef0123456789abcdef"),
            None
        );
        assert_eq!(parse_created_at("pns_bench_1765140000_x"), None);
    }
}
