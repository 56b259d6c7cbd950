//! What one operation costs, counted rather than timed: the statements the gateway sent (its own
//! `pns_db_statements_total`), and on PostgreSQL the commits and rows written (`pg_stat_database`),
//! the WAL bytes (LSN difference) and the CPU time of every PostgreSQL process (/proc), with the
//! gateway's own CPU time beside them. Where PostgreSQL loads `pg_stat_statements`, also the round
//! trips: every statement the database executed for this database, BEGIN and COMMIT included. These are what every added gateway instance spends of the one
//! shared database, so a change to the write path shows here what it bought.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::db::Backend;
use crate::procs::cpu_seconds;
use crate::stack::{METRICS_TOKEN, Stack};

/// Counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    statements: f64,
    gateway_cpu: f64,
    /// PostgreSQL only.
    pg: Option<PgCounters>,
}

#[derive(Debug, Clone, Copy, Default)]
struct PgCounters {
    /// Statements executed, from `pg_stat_statements` (when the server loads it).
    round_trips: Option<f64>,
    commits: f64,
    rows_written: f64,
    wal_bytes: f64,
    cpu: f64,
}

/// Costs per operation between two snapshots.
#[derive(Debug, Clone, Copy)]
pub struct PerOp {
    pub statements: f64,
    pub round_trips: Option<f64>,
    pub gateway_cpu_ms: f64,
    pub commits: Option<f64>,
    pub rows_written: Option<f64>,
    pub wal_bytes: Option<f64>,
    pub pg_cpu_ms: Option<f64>,
}

impl PerOp {
    /// The table cells after `operation, backend, ops`.
    pub fn cells(&self) -> Vec<String> {
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("n/a".to_owned(), |v| format!("{v:.digits$}"));
        vec![
            format!("{:.1}", self.statements),
            opt(self.round_trips, 1),
            opt(self.commits, 1),
            opt(self.rows_written, 1),
            opt(self.wal_bytes, 0),
            opt(self.pg_cpu_ms, 3),
            format!("{:.3}", self.gateway_cpu_ms),
        ]
    }
}

pub const COLUMNS: [&str; 7] = [
    "statements/op",
    "round trips/op",
    "commits/op",
    "rows written/op",
    "WAL bytes/op",
    "PostgreSQL CPU ms/op",
    "gateway CPU ms/op",
];

/// Takes snapshots of one stack.
pub struct Probe<'a> {
    stack: &'a Stack,
    db: DatabaseConnection,
}

impl<'a> Probe<'a> {
    pub async fn new(stack: &'a Stack) -> anyhow::Result<Self> {
        let db = stack.db.connect(1).await?;
        if stack.backend == Backend::Postgres {
            // Only to read its view; it counts whether or not this succeeds.
            let create = "CREATE EXTENSION IF NOT EXISTS pg_stat_statements";
            let _ = db.execute_unprepared(create).await;
        }
        Ok(Self { stack, db })
    }

    /// The counters now. PostgreSQL backends publish their statistics when they go idle, at most
    /// once a second, so this waits until the counters stop moving (the load has ended by then).
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let mut pg = self.pg_counters().await?;
        if pg.is_some() {
            for _ in 0..15 {
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                let again = self.pg_counters().await?;
                // The probe's own reads commit too: a step of one or two is its own.
                let settled = matches!((pg, again), (Some(p), Some(a))
                    if a.rows_written == p.rows_written && a.commits - p.commits <= 2.0);
                pg = again;
                if settled {
                    break;
                }
            }
        }
        Ok(Snapshot {
            statements: self.statements().await?,
            gateway_cpu: cpu_seconds(self.stack.gateway.pid()).unwrap_or(0.0),
            pg,
        })
    }

    /// Costs per operation since `before`, over `ops` operations (the probe's own few reads are in
    /// the commit count: a dozen over thousands of operations).
    pub async fn since(&self, before: Snapshot, ops: u64) -> anyhow::Result<PerOp> {
        let after = self.snapshot().await?;
        let n = ops.max(1) as f64;
        let pg = match (before.pg, after.pg) {
            (Some(b), Some(a)) => Some((b, a)),
            _ => None,
        };
        Ok(PerOp {
            statements: (after.statements - before.statements) / n,
            round_trips: pg
                .and_then(|(b, a)| Some((a.round_trips? - b.round_trips?) / n))
                .filter(|v| *v > 0.0),
            gateway_cpu_ms: (after.gateway_cpu - before.gateway_cpu) * 1000.0 / n,
            commits: pg.map(|(b, a)| (a.commits - b.commits) / n),
            rows_written: pg.map(|(b, a)| (a.rows_written - b.rows_written) / n),
            wal_bytes: pg.map(|(b, a)| (a.wal_bytes - b.wal_bytes) / n),
            pg_cpu_ms: pg.map(|(b, a)| (a.cpu - b.cpu) * 1000.0 / n),
        })
    }

    async fn statements(&self) -> anyhow::Result<f64> {
        let text = self
            .stack
            .client
            .get(format!("{}/metrics", self.stack.gateway_url))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await?
            .error_for_status()
            .context("scraping the gateway's /metrics")?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|l| l.starts_with("pns_db_statements_total{"))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum())
    }

    async fn pg_counters(&self) -> anyhow::Result<Option<PgCounters>> {
        if self.stack.backend != Backend::Postgres {
            return Ok(None);
        }
        let sql = "SELECT xact_commit::float8 AS commits, \
                   (tup_inserted + tup_updated + tup_deleted)::float8 AS rows_written, \
                   pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS wal_bytes \
                   FROM pg_stat_database WHERE datname = current_database()";
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await?
            .context("pg_stat_database has no row for this database")?;
        Ok(Some(PgCounters {
            round_trips: self.round_trips().await,
            commits: row.try_get("", "commits")?,
            rows_written: row.try_get("", "rows_written")?,
            wal_bytes: row.try_get("", "wal_bytes")?,
            cpu: postgres_cpu_seconds(),
        }))
    }
}

impl Probe<'_> {
    /// None where the server does not load `pg_stat_statements`.
    async fn round_trips(&self) -> Option<f64> {
        let sql = "SELECT coalesce(sum(calls), 0)::float8 AS calls FROM pg_stat_statements \
                   WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())";
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .ok()??;
        row.try_get("", "calls").ok()
    }
}

/// CPU seconds of every process named `postgres` on this machine: backends, WAL writer,
/// checkpointer, autovacuum. The benchmark's database is the only busy one while it runs.
fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(cpu_seconds)
        .sum()
}
