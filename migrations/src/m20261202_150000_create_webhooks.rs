use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

/// Webhooks to apps: endpoints, the transactional outbox of events (with a per-binding sequence),
/// and deliveries with their attempts.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(pk_uuid(E::Id))
                    .col(string_len(E::AppId, 64))
                    // Created by an admin token: receives every app's events and number events.
                    .col(boolean(E::AllApps))
                    .col(string_len(E::Url, 2048))
                    .col(json_binary(E::Events))
                    .col(string_len_null(E::Description, 512))
                    .col(boolean(E::Enabled))
                    .col(string_len_null(E::DisabledReason, 256))
                    .col(string_len(E::Secret, 128))
                    .col(string_len_null(E::PreviousSecret, 128))
                    .col(timestamp_with_time_zone_null(E::PreviousSecretUntil))
                    .col(timestamp_with_time_zone_null(E::FailingSince))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .col(timestamp_with_time_zone(E::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_webhook_endpoints_app", E::Table, &[E::AppId]))
            .await?;

        // The outbox: written in the transaction of the change it reports.
        use WebhookEvents as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(pk_uuid(V::Id))
                    // None: an event about the pool (admin endpoints only).
                    .col(string_len_null(V::AppId, 64))
                    .col(string_len(V::EventType, 48))
                    .col(uuid_null(V::BindingId))
                    .col(big_integer_null(V::Sequence))
                    .col(json_binary(V::Payload))
                    .col(timestamp_with_time_zone(V::CreatedAt))
                    // Set once the event has been copied into one delivery per matching endpoint.
                    .col(timestamp_with_time_zone_null(V::FannedOutAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_events_fan_out",
                V::Table,
                &[V::FannedOutAt, V::CreatedAt],
            ))
            .await?;

        // The last sequence number handed out per binding.
        use WebhookSequences as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(uuid(S::BindingId).primary_key())
                    .col(big_integer(S::Last))
                    .to_owned(),
            )
            .await?;

        use WebhookDeliveries as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(pk_uuid(D::Id))
                    .col(uuid(D::EndpointId))
                    .col(uuid(D::EventId))
                    .col(string_len(D::EventType, 48))
                    // pending | delivered | failed
                    .col(string_len(D::Status, 16))
                    .col(integer(D::Attempts).default(0))
                    .col(timestamp_with_time_zone(D::NextAttemptAt))
                    // A dispatcher holds the row until then; past it, the claim is void (crash).
                    .col(timestamp_with_time_zone_null(D::ClaimedUntil))
                    .col(timestamp_with_time_zone(D::CreatedAt))
                    .col(timestamp_with_time_zone_null(D::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint")
                            .from(D::Table, D::EndpointId)
                            .to(E::Table, E::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_event")
                            .from(D::Table, D::EventId)
                            .to(V::Table, V::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_webhook_deliveries_endpoint_event",
                    D::Table,
                    &[D::EndpointId, D::EventId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_due",
                D::Table,
                &[D::Status, D::NextAttemptAt],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_event",
                D::Table,
                &[D::EventId],
            ))
            .await?;

        use WebhookAttempts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(pk_uuid(A::Id))
                    .col(uuid(A::DeliveryId))
                    .col(timestamp_with_time_zone(A::AttemptedAt))
                    .col(integer_null(A::HttpStatus))
                    .col(string_len_null(A::Error, 512))
                    .col(integer(A::LatencyMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(A::Table, A::DeliveryId)
                            .to(D::Table, D::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_attempts_delivery",
                A::Table,
                &[A::DeliveryId],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookSequences::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEndpoints {
    Table,
    Id,
    AppId,
    AllApps,
    Url,
    Events,
    Description,
    Enabled,
    DisabledReason,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEvents {
    Table,
    Id,
    AppId,
    EventType,
    BindingId,
    Sequence,
    Payload,
    CreatedAt,
    FannedOutAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookSequences {
    Table,
    BindingId,
    Last,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventId,
    EventType,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AttemptedAt,
    HttpStatus,
    Error,
    LatencyMs,
}
