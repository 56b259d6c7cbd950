//! When each X-number status took effect, so a push that arrives late (a redelivery of an older one)
//! is kept as history without overwriting the newer status.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(XNumberStatusEvents::Table)
                    .add_column(timestamp_with_time_zone_null(XNumberStatusEvents::EventAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(XNumberStatusEvents::Table)
                    .drop_column(XNumberStatusEvents::EventAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum XNumberStatusEvents {
    Table,
    EventAt,
}
