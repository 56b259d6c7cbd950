//! The retention job deletes the oldest rows of each history table in small batches, picked by the
//! time that ages them: an index on that time keeps each batch a short range scan.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, time column).
const INDEXES: &[(&str, &str, &str)] = &[
    (
        "idx_idempotency_keys_created",
        "idempotency_keys",
        "created_at",
    ),
    ("idx_raw_callbacks_received", "raw_callbacks", "received_at"),
    ("idx_call_events_received", "call_events", "received_at"),
    ("idx_cdrs_received", "cdrs", "received_at"),
    ("idx_calls_created", "calls", "created_at"),
    ("idx_sms_messages_received", "sms_messages", "received_at"),
    (
        "idx_x_number_status_events_received",
        "x_number_status_events",
        "received_at",
    ),
    (
        "idx_reconcile_findings_created",
        "reconcile_findings",
        "created_at",
    ),
    (
        "idx_orphan_bindings_last_seen",
        "orphan_bindings",
        "last_seen_at",
    ),
    ("idx_reconcile_runs_started", "reconcile_runs", "started_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(*name)
                        .table(Alias::new(*table))
                        .col(Alias::new(*column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(*name)
                        .table(Alias::new(*table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
