//! A raw callback is kept once: the platform redelivers a batch it got no answer for (a new nonce, the
//! same body), and each retry of a body that goes raw would otherwise be another copy an operator
//! replays twice. Rows from before have no digest (NULLs never collide in a unique index).

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
                    .add_column(string_len_null(RawCallbacks::BodySha256, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_raw_callbacks_body_sha256")
                    .table(RawCallbacks::Table)
                    .col(RawCallbacks::BodySha256)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_raw_callbacks_body_sha256")
                    .table(RawCallbacks::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RawCallbacks::Table)
                    .drop_column(RawCallbacks::BodySha256)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RawCallbacks {
    Table,
    BodySha256,
}
