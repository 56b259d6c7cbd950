//! Markers on a call's row for the webhook events that must go out once per call: `call.completed`
//! (whichever of the disconnect event and the CDR settles the call first) and `call.recording_ready`.
//! A later callback that re-derives the row (the CDR after the disconnect, a redelivered batch) finds
//! the marker set and records no second event.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Calls::CompletedEventAt, Calls::RecordingEventAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Calls::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        // Calls settled before this version were never announced and are history now: a late
        // callback about one of them must not announce it after an upgrade.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE calls SET completed_event_at = updated_at \
                 WHERE ended_at IS NOT NULL OR cdr_received_at IS NOT NULL",
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE calls SET recording_event_at = updated_at WHERE has_recording",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Calls::RecordingEventAt, Calls::CompletedEventAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Calls::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Calls {
    Table,
    CompletedEventAt,
    RecordingEventAt,
}
