//! Schema migrations for the pns gateway, portable across SQLite and PostgreSQL.
//!
//! One file per change; every change has a real `down()`. Foreign keys live inside `CREATE TABLE`
//! (SQLite cannot add them later) and indexes are separate statements.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_bindings;
mod m20261124_000002_create_x_numbers;
mod m20261124_000003_create_callback_tables;
mod m20261124_000004_create_reconcile_runs;
mod m20261124_100000_add_binding_change_lease;
mod m20261202_130001_widen_callback_columns;
mod m20261202_130002_add_raw_callback_reason;
mod m20261202_130003_add_status_event_time;
mod m20261202_130004_index_retention_times;
mod m20261202_130005_add_x_number_unusable;
mod m20261202_131000_create_callback_nonces;
mod m20261202_131100_create_service_facts;
mod m20261202_150000_create_webhooks;
mod m20261207_120000_add_raw_callback_digest;
mod m20261207_200000_add_call_event_markers;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_bindings::Migration),
            Box::new(m20261124_000002_create_x_numbers::Migration),
            Box::new(m20261124_000003_create_callback_tables::Migration),
            Box::new(m20261124_000004_create_reconcile_runs::Migration),
            Box::new(m20261124_100000_add_binding_change_lease::Migration),
            Box::new(m20261202_131000_create_callback_nonces::Migration),
            Box::new(m20261202_131100_create_service_facts::Migration),
            Box::new(m20261202_130001_widen_callback_columns::Migration),
            Box::new(m20261202_130002_add_raw_callback_reason::Migration),
            Box::new(m20261202_130003_add_status_event_time::Migration),
            Box::new(m20261202_130004_index_retention_times::Migration),
            Box::new(m20261202_130005_add_x_number_unusable::Migration),
            Box::new(m20261202_150000_create_webhooks::Migration),
            Box::new(m20261207_120000_add_raw_callback_digest::Migration),
            Box::new(m20261207_200000_add_call_event_markers::Migration),
        ]
    }
}

/// A plain index over `cols` of `table`, as its own statement (works the same on SQLite and Postgres).
fn index<I: Iden + Copy + 'static>(name: &str, table: I, cols: &[I]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for &col in cols {
        index.col(col);
    }
    index
}
