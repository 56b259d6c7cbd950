//! Database connection, migrations, and the small helpers every repository module needs.

pub mod entity;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr,
    SqlErr, TransactionTrait,
};

/// Connects to SQLite or PostgreSQL with a bounded pool. For PostgreSQL, TLS follows the URL's
/// `sslmode` (`verify-full` checks the certificate and host name against the system's roots plus
/// `ca_file`, when given).
pub async fn connect(
    url: &str,
    max_connections: u32,
    ca_file: Option<&str>,
) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        // SQLite admits one writer at a time, and a writer that finds the lock taken sleeps in its busy
        // handler (1, 2, 5, 10 ms...) rather than queueing: with one connection, writers wait their
        // turn in the pool instead, first come first served. SMS Block p99 at 1,000/s: 5.5 -> 4.4 ms
        // (p99.9 20 -> 10 ms); bind and CDR throughput unchanged (pns-bench, 2 cores).
        .max_connections(if is_sqlite { 1 } else { max_connections })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings a pooled connection on every checkout by default: one more round trip per
        // statement, on the gateway and on the database (a bind cycle made 8 round trips for its 4
        // statements). Only a connection idle long enough to have been dropped by the server or a
        // proxy is checked; a hot one that broke (PostgreSQL restarted) fails its statement once,
        // as the statements in flight at the restart do anyway.
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .sqlx_logging(false);
    // WAL lets readers proceed during a write; busy_timeout makes writers queue instead of failing.
    // Set per connection, so every pooled connection gets them.
    options.map_sqlx_sqlite_opts(|opts| {
        opts.busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .pragma("journal_mode", "WAL")
            .pragma("synchronous", "NORMAL")
    });
    if let Some(ca_file) = ca_file {
        let ca_file = ca_file.to_owned();
        options.map_sqlx_postgres_opts(move |opts| opts.ssl_root_cert(ca_file.clone()));
    }
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(|info| crate::telemetry::metrics::db_statement(info.failed));
    Ok(db)
}

/// Brings the schema up to date. On PostgreSQL several instances may start at once: an advisory
/// lock held by the migrating transaction makes them take turns (sea-orm-migration takes none).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let txn = db.begin().await?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(7242624001)")
        .await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// True when the database has no migration left to apply (used by `/readyz`).
pub async fn migrations_applied(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the database answered the statement with an error (it ran and failed, so nothing of it
/// was written), as opposed to an outcome unknown (the connection was lost on the way).
pub fn refused_by_database(err: &DbErr) -> bool {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(**e, sqlx::Error::Database(_))
        }
        _ => false,
    }
}

/// The same error again, for each of several waiters on one statement.
pub fn copy_err(err: &DbErr) -> DbErr {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) => DbErr::Exec(RuntimeErr::SqlxError(e.clone())),
        DbErr::Query(RuntimeErr::SqlxError(e)) => DbErr::Query(RuntimeErr::SqlxError(e.clone())),
        DbErr::Conn(RuntimeErr::SqlxError(e)) => DbErr::Conn(RuntimeErr::SqlxError(e.clone())),
        other => DbErr::Custom(other.to_string()),
    }
}
