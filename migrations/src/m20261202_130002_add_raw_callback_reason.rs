//! Why a callback was kept raw (not JSON, a field that does not parse, a value that cannot be stored
//! as a key): the operator's starting point for replaying it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RawCallbacks::Table)
                    .add_column(text_null(RawCallbacks::Reason))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RawCallbacks::Table)
                    .drop_column(RawCallbacks::Reason)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RawCallbacks {
    Table,
    Reason,
}
