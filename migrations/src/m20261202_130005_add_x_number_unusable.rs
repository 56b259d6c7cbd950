//! A pool number the platform refused as not this app's (1012001) is marked unusable, so the pool
//! stops offering it first on every bind; the mark stays until an admin clears it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(XNumbers::Table)
                    .add_column(text_null(XNumbers::UnusableReason))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(XNumbers::Table)
                    .add_column(timestamp_with_time_zone_null(XNumbers::UnusableSince))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [XNumbers::UnusableSince, XNumbers::UnusableReason] {
            manager
                .alter_table(
                    Table::alter()
                        .table(XNumbers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum XNumbers {
    Table,
    UnusableReason,
    UnusableSince,
}
