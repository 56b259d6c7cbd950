//! Facts about the deployment recorded at its first start, checked at every later one: today the
//! mode (`sandbox` or `production`), so a production database is never started as a sandbox (whose
//! simulator numbers would be seeded into the pool) and the reverse.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceFacts::Table)
                    .col(string_len(ServiceFacts::Name, 64).primary_key())
                    .col(text(ServiceFacts::Value))
                    .col(timestamp_with_time_zone(ServiceFacts::RecordedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceFacts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ServiceFacts {
    Table,
    Name,
    Value,
    RecordedAt,
}
