//! Purging history older than its retention period (see [`crate::settings::Retention`]). Run by the
//! leader-elected `retention` job; every DELETE removes at most [`BATCH`] rows picked by an indexed
//! time column, so a purge never holds a long lock or one huge transaction, and a round stops after
//! [`MAX_BATCHES`] per table (what is left goes next round).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::settings::Retention;

pub const BATCH: u64 = 1_000;
pub const MAX_BATCHES: u32 = 100;

/// One table's rule: its key columns, the time that ages a row, and how long a row is kept.
struct Rule {
    table: &'static str,
    keys: &'static [&'static str],
    time: &'static str,
    keep: Option<Duration>,
}

/// Findings before their runs (a run's findings go with it anyway, by cascade).
fn rules(r: &Retention) -> [Rule; 10] {
    let rule = |table, keys, time, keep| Rule {
        table,
        keys,
        time,
        keep,
    };
    [
        rule(
            "idempotency_keys",
            &["app_id", "idem_key"],
            "created_at",
            r.idempotency_keys,
        ),
        rule("raw_callbacks", &["id"], "received_at", r.raw_callbacks),
        rule("call_events", &["id"], "received_at", r.call_events),
        rule("cdrs", &["icid"], "received_at", r.cdrs),
        rule("calls", &["id"], "created_at", r.calls),
        rule("sms_messages", &["sms_identifier"], "received_at", r.sms),
        rule(
            "x_number_status_events",
            &["id"],
            "received_at",
            r.number_status,
        ),
        rule("reconcile_findings", &["id"], "created_at", r.reconcile),
        rule(
            "orphan_bindings",
            &["subscription_id"],
            "last_seen_at",
            r.reconcile,
        ),
        rule("reconcile_runs", &["id"], "started_at", r.reconcile),
    ]
}

/// Rows purged per table in this round.
pub async fn purge(
    db: &DatabaseConnection,
    retention: &Retention,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, u64)>, DbErr> {
    let mut purged = Vec::new();
    for rule in rules(retention) {
        let Some(keep) = rule.keep else { continue };
        let Ok(keep) = chrono::Duration::from_std(keep) else {
            continue;
        };
        let cutoff = now - keep;
        let mut total = 0;
        for _ in 0..MAX_BATCHES {
            let n = delete_batch(db, &rule, cutoff).await?;
            total += n;
            if n < BATCH {
                break;
            }
        }
        if total > 0 {
            tracing::info!(table = rule.table, rows = total, %cutoff, "retention: purged");
            crate::telemetry::metrics::purged(rule.table, total);
        }
        purged.push((rule.table, total));
    }
    Ok(purged)
}

/// `DELETE FROM t WHERE (keys) IN (SELECT keys FROM t WHERE time < cutoff LIMIT BATCH)`: the same
/// statement on PostgreSQL and SQLite (neither has a portable `DELETE .. LIMIT`).
async fn delete_batch(
    db: &DatabaseConnection,
    rule: &Rule,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let table = Alias::new(rule.table);
    let keys: Vec<Alias> = rule.keys.iter().map(|k| Alias::new(*k)).collect();
    let old = Query::select()
        .columns(keys.clone())
        .from(table.clone())
        .and_where(Expr::col(Alias::new(rule.time)).lt(cutoff))
        .limit(BATCH)
        .to_owned();
    let key = match &keys[..] {
        [one] => Expr::col(one.clone()),
        many => Expr::tuple(many.iter().map(|k| Expr::col(k.clone()))),
    };
    let delete = Query::delete()
        .from_table(table)
        .and_where(key.in_subquery(old))
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected())
}
