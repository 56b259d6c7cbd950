//! Pre-filling the bindings table straight through SQL: one in four rows active (with its two
//! `binding_parties` rows, as the gateway would have), the rest unbound history.

use std::time::Instant;

use anyhow::bail;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

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
    check_schema(db, backend).await?;
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

/// Refuses to fill a `bindings` table the SQL below no longer matches, naming the column: one it
/// fills that the migrations dropped or renamed, or a required one (NOT NULL, no default) it leaves
/// out. A schema change then stops the benchmark with a clear message instead of a SQL error deep in
/// a 100,000-row statement, or a fill that silently measures a different table.
pub async fn check_schema(db: &DatabaseConnection, backend: Backend) -> anyhow::Result<()> {
    let sql = match backend {
        Backend::Postgres => {
            "SELECT column_name AS name, (is_nullable = 'NO' AND column_default IS NULL) AS required \
             FROM information_schema.columns WHERE table_name = 'bindings' AND table_schema = current_schema()"
        }
        Backend::Sqlite => {
            "SELECT name, (\"notnull\" = 1 AND dflt_value IS NULL AND pk = 0) AS required \
             FROM pragma_table_info('bindings')"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut table = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get("", "name")?;
        let required: bool = row.try_get("", "required")?;
        table.push((name, required));
    }
    let filled: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
    if let Some(missing) = filled.iter().find(|c| !table.iter().any(|(n, _)| n == *c)) {
        bail!(
            "the bindings table has no column `{missing}` that the benchmark's fill writes: \
             update crates/pns-bench/src/scenarios/fill.rs to the migrations"
        );
    }
    if let Some((unfilled, _)) = table
        .iter()
        .find(|(name, required)| *required && !filled.contains(&name.as_str()))
    {
        bail!(
            "the bindings table requires column `{unfilled}` (NOT NULL, no default) that the \
             benchmark's fill leaves out: update crates/pns-bench/src/scenarios/fill.rs to the migrations"
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::Database;

    async fn migrated() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        db
    }

    #[tokio::test]
    async fn the_fill_matches_the_migrated_schema() {
        let db = migrated().await;
        fill(&db, Backend::Sqlite, 1, 8).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM binding_parties",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.try_get::<i64>("", "n").unwrap(),
            4,
            "two active rows, two parties each"
        );
    }

    #[tokio::test]
    async fn a_renamed_column_is_named_in_the_refusal() {
        let db = migrated().await;
        db.execute_unprepared("ALTER TABLE bindings RENAME COLUMN version TO revision")
            .await
            .unwrap();
        let e = fill(&db, Backend::Sqlite, 1, 8).await.unwrap_err();
        assert!(e.to_string().contains("no column `version`"), "{e}");
    }

    #[tokio::test]
    async fn a_required_column_the_fill_leaves_out_is_named() {
        let db = migrated().await;
        db.execute_unprepared(&format!(
            "DROP TABLE binding_parties; DROP TABLE bindings; \
             CREATE TABLE bindings ({COLUMNS}, shard TEXT NOT NULL, note TEXT, n INT NOT NULL DEFAULT 0)"
        ))
        .await
        .unwrap();
        let e = check_schema(&db, Backend::Sqlite).await.unwrap_err();
        assert!(e.to_string().contains("requires column `shard`"), "{e}");
    }
}
