//! The X-AKSK nonces of accepted callbacks, shared by every instance: a captured callback replayed
//! to another instance inside the signature window finds its nonce taken. A row is useless once its
//! `Created` has left the window (the window check refuses it first) and is purged.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CallbackNonces::Table)
                    .col(text(CallbackNonces::Nonce).primary_key())
                    .col(timestamp_with_time_zone(CallbackNonces::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(crate::index(
                "idx_callback_nonces_created_at",
                CallbackNonces::Table,
                &[CallbackNonces::CreatedAt],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CallbackNonces::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum CallbackNonces {
    Table,
    Nonce,
    CreatedAt,
}
