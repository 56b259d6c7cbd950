use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(XNumbers::Table)
                    .col(string_len(XNumbers::Number, 20).primary_key())
                    .col(string_len(XNumbers::AreaCode, 8))
                    .col(integer(XNumbers::Capacity).default(5000))
                    .col(boolean(XNumbers::Reserved).default(false))
                    // normal | suspended | unavailable | frozen
                    .col(string_len(XNumbers::Status, 16).default("normal"))
                    .col(integer_null(XNumbers::StatusCause))
                    .col(timestamp_with_time_zone_null(XNumbers::StatusUpdatedAt))
                    .col(integer(XNumbers::InUse).default(0))
                    .col(timestamp_with_time_zone(XNumbers::CreatedAt))
                    .col(timestamp_with_time_zone(XNumbers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Number selection: usable numbers of an area, least loaded first.
        manager
            .create_index(index(
                "idx_x_numbers_pick",
                XNumbers::Table,
                &[
                    XNumbers::AreaCode,
                    XNumbers::Status,
                    XNumbers::Reserved,
                    XNumbers::InUse,
                ],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(XNumberStatusEvents::Table)
                    .col(pk_uuid(XNumberStatusEvents::Id))
                    .col(string_len(XNumberStatusEvents::Number, 20))
                    .col(string_len(XNumberStatusEvents::Status, 16))
                    .col(integer(XNumberStatusEvents::StatusCode))
                    .col(integer_null(XNumberStatusEvents::Cause))
                    .col(timestamp_with_time_zone(XNumberStatusEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_x_number_status_events_number_received",
                XNumberStatusEvents::Table,
                &[XNumberStatusEvents::Number, XNumberStatusEvents::ReceivedAt],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(XNumberStatusEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(XNumbers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum XNumbers {
    Table,
    Number,
    AreaCode,
    Capacity,
    Reserved,
    Status,
    StatusCause,
    StatusUpdatedAt,
    InUse,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum XNumberStatusEvents {
    Table,
    Id,
    Number,
    Status,
    StatusCode,
    Cause,
    ReceivedAt,
}
