//! Runs the real migrations up, down and up again on SQLite and on PostgreSQL, and checks the
//! constraints the gateway relies on.

use std::time::Duration;

use chrono::Utc;
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, ExecResult, SqlErr,
};
use uuid::Uuid;

const TABLES: [&str; 14] = [
    "bindings",
    "binding_parties",
    "idempotency_keys",
    "x_numbers",
    "x_number_status_events",
    "call_events",
    "calls",
    "cdrs",
    "sms_messages",
    "raw_callbacks",
    "reconcile_runs",
    "reconcile_findings",
    "orphan_bindings",
    "job_leases",
];

#[tokio::test]
async fn sqlite_migrates_up_down_and_up_again() {
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("open in-memory sqlite");
    exercise(&db).await;
}

#[tokio::test]
async fn postgres_migrates_up_down_and_up_again() {
    let Some(pg) = ScratchPostgres::create().await else {
        return;
    };
    let db = pg.connect().await;
    // Run on a task so a failed assertion still lets us drop the scratch database.
    let outcome = tokio::spawn(async move {
        exercise(&db).await;
        db.close().await.expect("close connection");
    })
    .await;
    pg.drop_database().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn exercise(db: &DatabaseConnection) {
    Migrator::up(db, None).await.expect("migrate up");
    assert_eq!(Migrator::get_pending_migrations(db).await.unwrap().len(), 0);
    assert_tables(db, true).await;
    check_axb_invariant(db).await;

    Migrator::down(db, None).await.expect("migrate down");
    assert_tables(db, false).await;

    Migrator::up(db, None).await.expect("migrate up again");
    assert_tables(db, true).await;
    check_axb_invariant(db).await;
}

async fn assert_tables(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        let exists = manager.has_table(table).await.expect("inspect schema");
        assert_eq!(exists, present, "table {table} exists = {exists}");
    }
}

/// A (relation_num, party_num) pair belongs to at most one live binding; deleting the binding
/// frees it.
async fn check_axb_invariant(db: &DatabaseConnection) {
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    insert_binding(db, first).await.expect("insert binding");
    insert_binding(db, second)
        .await
        .expect("insert second binding");

    insert_party(db, "+8613800000000", "+8613900000001", first)
        .await
        .expect("insert party");
    insert_party(db, "+8613800000000", "+8613900000002", first)
        .await
        .expect("insert other party");

    let err = insert_party(db, "+8613800000000", "+8613900000001", second)
        .await
        .expect_err("same X and party twice must be rejected");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "expected a unique violation, got {err:?}"
    );

    // The party rows go with their binding, so the pair can be claimed again.
    db.execute(
        Query::delete()
            .from_table("bindings")
            .and_where(Expr::col("id").eq(first)),
    )
    .await
    .expect("delete binding");
    insert_party(db, "+8613800000000", "+8613900000001", second)
        .await
        .expect("pair is free once its binding is gone");
}

async fn insert_binding(db: &DatabaseConnection, id: Uuid) -> Result<ExecResult, DbErr> {
    let now = Utc::now();
    // Only the columns without a default: the rest must be filled in by the schema.
    db.execute(
        Query::insert()
            .into_table("bindings")
            .columns([
                "id",
                "app_id",
                "caller_num",
                "callee_num",
                "status",
                "created_at",
                "updated_at",
            ])
            .values_panic([
                id.into(),
                "app-1".into(),
                "+8613900000001".into(),
                "+8613900000002".into(),
                "active".into(),
                now.into(),
                now.into(),
            ]),
    )
    .await
}

async fn insert_party(
    db: &DatabaseConnection,
    relation_num: &str,
    party_num: &str,
    binding_id: Uuid,
) -> Result<ExecResult, DbErr> {
    db.execute(
        Query::insert()
            .into_table("binding_parties")
            .columns(["relation_num", "party_num", "binding_id"])
            .values_panic([relation_num.into(), party_num.into(), binding_id.into()]),
    )
    .await
}

/// A fresh database on the test server, named `pns_mig_<uuid>`, dropped at the end.
struct ScratchPostgres {
    server: DatabaseConnection,
    url: url::Url,
    name: String,
}

impl ScratchPostgres {
    /// `None` (test skipped) when the server is unreachable, unless running in CI.
    async fn create() -> Option<Self> {
        let server_url = std::env::var("PNS_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let server = match Database::connect(options(server_url.clone())).await {
            Ok(db) => db,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("PostgreSQL unreachable at {server_url}: {e}")
            }
            Err(e) => {
                eprintln!("skipping: PostgreSQL unreachable at {server_url}: {e}");
                return None;
            }
        };
        let name = format!("pns_mig_{}", Uuid::new_v4().simple());
        server
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("create scratch database");
        let mut url = url::Url::parse(&server_url).expect("PNS_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(Self { server, url, name })
    }

    async fn connect(&self) -> DatabaseConnection {
        Database::connect(options(self.url.to_string()))
            .await
            .expect("connect to scratch database")
    }

    async fn drop_database(self) {
        self.server
            .execute_unprepared(&format!(
                r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
                self.name
            ))
            .await
            .expect("drop scratch database");
    }
}

fn options(url: String) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(2)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    options
}
