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
                    .table(Bindings::Table)
                    .col(pk_uuid(Bindings::Id))
                    .col(string_len(Bindings::AppId, 64))
                    .col(string_len_null(Bindings::SubscriptionId, 64).unique_key())
                    .col(string_len_null(Bindings::RelationNum, 20))
                    .col(string_len(Bindings::CallerNum, 20))
                    .col(string_len(Bindings::CalleeNum, 20))
                    .col(small_integer(Bindings::CallDirection).default(0))
                    .col(integer(Bindings::Duration).default(0))
                    .col(integer(Bindings::MaxDuration).default(0))
                    .col(boolean(Bindings::RecordFlag).default(false))
                    .col(string_null(Bindings::RecordHintTone))
                    .col(string_null(Bindings::LastMinVoice))
                    .col(boolean_null(Bindings::PrivateSms))
                    .col(json_binary_null(Bindings::PreVoice))
                    .col(string_len_null(Bindings::UserData, 256))
                    .col(string_len_null(Bindings::ExternalRef, 128))
                    .col(string_len_null(Bindings::AreaCode, 8))
                    // pending | active | unbound | expired | failed
                    .col(string_len(Bindings::Status, 16))
                    .col(string_len_null(Bindings::UpstreamCode, 16))
                    .col(string_len_null(Bindings::UpstreamDesc, 512))
                    .col(timestamp_with_time_zone_null(Bindings::ExpiresAt))
                    .col(timestamp_with_time_zone(Bindings::CreatedAt))
                    .col(timestamp_with_time_zone(Bindings::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Bindings::EndedAt))
                    .col(string_len_null(Bindings::EndReason, 64))
                    .col(integer(Bindings::CallCount).default(0))
                    .col(timestamp_with_time_zone_null(Bindings::LastCallAt))
                    .col(big_integer(Bindings::TotalTalkSeconds).default(0))
                    // Optimistic concurrency for PATCH/DELETE racing across instances.
                    .col(integer(Bindings::Version).default(0))
                    .to_owned(),
            )
            .await?;

        use Bindings as B;
        for (name, cols) in [
            (
                "idx_bindings_app_created_id",
                &[B::AppId, B::CreatedAt, B::Id][..],
            ),
            ("idx_bindings_app_external_ref", &[B::AppId, B::ExternalRef]),
            ("idx_bindings_relation_status", &[B::RelationNum, B::Status]),
            ("idx_bindings_caller", &[B::CallerNum]),
            ("idx_bindings_callee", &[B::CalleeNum]),
            ("idx_bindings_status_expires", &[B::Status, B::ExpiresAt]),
        ] {
            manager.create_index(index(name, B::Table, cols)).await?;
        }

        // The AXB invariant, enforced by the database: a (relation_num, party_num) pair has a row
        // only while its binding is pending or active, so a second live binding cannot claim it.
        manager
            .create_table(
                Table::create()
                    .table(BindingParties::Table)
                    .col(string_len(BindingParties::RelationNum, 20))
                    .col(string_len(BindingParties::PartyNum, 20))
                    .col(uuid(BindingParties::BindingId))
                    .primary_key(
                        Index::create()
                            .col(BindingParties::RelationNum)
                            .col(BindingParties::PartyNum),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_binding_parties_binding")
                            .from(BindingParties::Table, BindingParties::BindingId)
                            .to(Bindings::Table, Bindings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_binding_parties_binding",
                BindingParties::Table,
                &[BindingParties::BindingId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string_len(IdempotencyKeys::AppId, 64))
                    .col(string_len(IdempotencyKeys::IdemKey, 255))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(uuid_null(IdempotencyKeys::BindingId))
                    .col(integer_null(IdempotencyKeys::StatusCode))
                    .col(json_binary_null(IdempotencyKeys::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::AppId)
                            .col(IdempotencyKeys::IdemKey),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(BindingParties::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Bindings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Bindings {
    Table,
    Id,
    AppId,
    SubscriptionId,
    RelationNum,
    CallerNum,
    CalleeNum,
    CallDirection,
    Duration,
    MaxDuration,
    RecordFlag,
    RecordHintTone,
    LastMinVoice,
    PrivateSms,
    PreVoice,
    UserData,
    ExternalRef,
    AreaCode,
    Status,
    UpstreamCode,
    UpstreamDesc,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
    EndedAt,
    EndReason,
    CallCount,
    LastCallAt,
    TotalTalkSeconds,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum BindingParties {
    Table,
    RelationNum,
    PartyNum,
    BindingId,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    AppId,
    IdemKey,
    RequestHash,
    BindingId,
    StatusCode,
    ResponseBody,
    CreatedAt,
}
