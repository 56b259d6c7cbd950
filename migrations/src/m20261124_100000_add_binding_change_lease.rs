//! A lease on a binding while a change of it is with the platform: a second change (from any
//! instance) waits for it to end instead of racing it, so the table never loses an update.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Bindings::Table)
                    .add_column(timestamp_with_time_zone_null(Bindings::ChangeLeaseUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Bindings::Table)
                    .drop_column(Bindings::ChangeLeaseUntil)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Bindings {
    Table,
    ChangeLeaseUntil,
}
