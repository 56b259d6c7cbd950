//! Pre-filling the bindings table straight through SQL: one in four rows active (with its two
//! `binding_parties` rows, as the gateway would have), the rest unbound history.

use std::time::Instant;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};

use crate::db::Backend;

const COLUMNS: &str = "id, app_id, subscription_id, relation_num, caller_num, callee_num, call_direction, \
    duration, max_duration, record_flag, status, created_at, updated_at, ended_at, end_reason, call_count, \
    total_talk_seconds, version";

/// Inserts rows numbered `from..=to` (numbers must not repeat within a database).
pub async fn fill(
    db: &DatabaseConnection,
    backend: Backend,
    from: u64,
    to: u64,
) -> anyhow::Result<()> {
    let chunk = match backend {
        Backend::Postgres => 100_000,
        Backend::Sqlite => 50_000,
    };
    let started = Instant::now();
    let mut next = from;
    while next <= to {
        let end = (next + chunk - 1).min(to);
        match backend {
            Backend::Postgres => {
                db.execute_unprepared(&postgres(next, end)).await?;
            }
            Backend::Sqlite => {
                let txn = db.begin().await?;
                let last = txn
                    .query_one_raw(sea_orm::Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT COALESCE(MAX(rowid), 0) AS n FROM bindings",
                    ))
                    .await?
                    .map(|r| r.try_get::<i64>("", "n"))
                    .transpose()?
                    .unwrap_or(0);
                txn.execute_unprepared(&sqlite_bindings(next, end)).await?;
                txn.execute_unprepared(&sqlite_parties(last)).await?;
                txn.commit().await?;
            }
        }
        if to - from >= 100_000 {
            eprintln!(
                "pns-bench: filled {}/{} bindings ({:.0} s)",
                end - from + 1,
                to - from + 1,
                started.elapsed().as_secs_f64()
            );
        }
        next = end + 1;
    }
    let analyze = match backend {
        Backend::Postgres => "ANALYZE bindings; ANALYZE binding_parties",
        Backend::Sqlite => "ANALYZE",
    };
    db.execute_unprepared(analyze).await?;
    Ok(())
}

fn postgres(from: u64, to: u64) -> String {
    format!(
        "WITH ins AS (
            INSERT INTO bindings ({COLUMNS})
            SELECT gen_random_uuid(), 'bench', 'fill-' || g,
                '+86171' || lpad((g % 100000)::text, 8, '0'),
                '+86150' || lpad(g::text, 8, '0'), '+86151' || lpad(g::text, 8, '0'),
                0, 0, 0, false,
                CASE WHEN g % 4 = 0 THEN 'active' ELSE 'unbound' END,
                now() - make_interval(secs => g), now() - make_interval(secs => g),
                CASE WHEN g % 4 = 0 THEN NULL ELSE now() END,
                CASE WHEN g % 4 = 0 THEN NULL ELSE 'unbound' END,
                0, 0, 0
            FROM generate_series({from}, {to}) AS g
            RETURNING id, relation_num, caller_num, callee_num, status)
        INSERT INTO binding_parties (relation_num, party_num, binding_id)
        SELECT relation_num, caller_num, id FROM ins WHERE status = 'active'
        UNION ALL SELECT relation_num, callee_num, id FROM ins WHERE status = 'active'"
    )
}

/// SQLite stores uuids as 16-byte blobs and timestamps as RFC 3339 text, as sqlx writes them.
fn sqlite_bindings(from: u64, to: u64) -> String {
    let pad = |expr: &str| format!("substr('00000000' || ({expr}), -8, 8)");
    let now = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')";
    format!(
        "INSERT INTO bindings ({COLUMNS})
        WITH RECURSIVE g(n) AS (SELECT {from} UNION ALL SELECT n + 1 FROM g WHERE n < {to})
        SELECT randomblob(16), 'bench', 'fill-' || n,
            '+86171' || {x}, '+86150' || {a}, '+86151' || {a},
            0, 0, 0, 0,
            CASE WHEN n % 4 = 0 THEN 'active' ELSE 'unbound' END,
            {now}, {now},
            CASE WHEN n % 4 = 0 THEN NULL ELSE {now} END,
            CASE WHEN n % 4 = 0 THEN NULL ELSE 'unbound' END,
            0, 0, 0
        FROM g",
        x = pad("n % 100000"),
        a = pad("n"),
    )
}

/// The parties of the active rows inserted after rowid `after`.
fn sqlite_parties(after: i64) -> String {
    let range = format!("rowid > {after} AND status = 'active'");
    format!(
        "INSERT INTO binding_parties (relation_num, party_num, binding_id)
        SELECT relation_num, caller_num, id FROM bindings WHERE {range}
        UNION ALL SELECT relation_num, callee_num, id FROM bindings WHERE {range}"
    )
}
