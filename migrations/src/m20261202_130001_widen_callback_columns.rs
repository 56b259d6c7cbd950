//! Callback fields whose length the platform never promised become `text` on PostgreSQL: a sessionId
//! or recordObjectName longer than its `varchar` failed the whole CDR batch on every retry, and after
//! the platform's last retry the batch was gone. SQLite does not enforce `varchar` lengths, so there
//! this is a no-op. Identifiers stay bounded in code (the gateway keeps an overlong one raw), since
//! PostgreSQL cannot index an arbitrarily long value either.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column, its former varchar length).
const COLUMNS: &[(&str, &str, u32)] = &[
    ("call_events", "session_id", 255),
    ("call_events", "event_time", 32),
    ("call_events", "subscription_id", 64),
    ("call_events", "caller", 32),
    ("call_events", "called", 32),
    ("call_events", "state_desc", 255),
    ("calls", "session_id", 255),
    ("calls", "subscription_id", 64),
    ("calls", "relation_num", 32),
    ("calls", "caller", 32),
    ("calls", "called", 32),
    ("calls", "state_desc", 255),
    ("calls", "icid", 128),
    ("calls", "record_domain", 128),
    ("calls", "record_object_name", 255),
    ("cdrs", "icid", 128),
    ("cdrs", "session_id", 255),
    ("cdrs", "subscription_id", 64),
    ("cdrs", "bind_num", 32),
    ("cdrs", "caller_num", 32),
    ("cdrs", "callee_num", 32),
    ("cdrs", "record_domain", 128),
    ("cdrs", "record_bucket_name", 128),
    ("cdrs", "record_object_name", 255),
    ("sms_messages", "sms_identifier", 128),
    ("sms_messages", "calling", 32),
    ("sms_messages", "called", 32),
    ("sms_messages", "virtual_number", 32),
    ("sms_messages", "event", 32),
    ("sms_messages", "subscription_id", 64),
    ("sms_messages", "routed_to", 32),
    ("x_number_status_events", "number", 20),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, column, _) in COLUMNS {
            db.execute_unprepared(&format!(
                r#"ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE text"#
            ))
            .await?;
        }
        Ok(())
    }

    /// Values longer than the old limits are cut to fit: going back is lossy by nature.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, column, len) in COLUMNS {
            db.execute_unprepared(&format!(
                r#"ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar({len}) USING left("{column}", {len})"#
            ))
            .await?;
        }
        Ok(())
    }
}
