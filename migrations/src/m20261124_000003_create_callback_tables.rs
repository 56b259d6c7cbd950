use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CallEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(pk_uuid(E::Id))
                    .col(string_len(E::SessionId, 255))
                    .col(string_len(E::EventType, 16))
                    // The wire timestamp, kept exactly as received: part of the dedupe key.
                    .col(string_len(E::EventTime, 32))
                    .col(timestamp_with_time_zone_null(E::OccurredAt))
                    .col(string_len_null(E::SubscriptionId, 64))
                    .col(uuid_null(E::BindingId))
                    .col(string_len_null(E::Caller, 32))
                    .col(string_len_null(E::Called, 32))
                    .col(integer_null(E::StateCode))
                    .col(string_len_null(E::StateDesc, 255))
                    .col(json_binary(E::Payload))
                    .col(timestamp_with_time_zone(E::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        // Redelivered callbacks collide here and are acknowledged without a second row.
        manager
            .create_index(
                index(
                    "uq_call_events_session_type_time",
                    E::Table,
                    &[E::SessionId, E::EventType, E::EventTime],
                )
                .unique()
                .take(),
            )
            .await?;
        manager
            .create_index(index("idx_call_events_binding", E::Table, &[E::BindingId]))
            .await?;
        manager
            .create_index(index(
                "idx_call_events_subscription",
                E::Table,
                &[E::SubscriptionId],
            ))
            .await?;

        use Calls as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_uuid(C::Id))
                    .col(string_len_uniq(C::SessionId, 255))
                    .col(string_len_null(C::AppId, 64))
                    .col(uuid_null(C::BindingId))
                    .col(string_len_null(C::SubscriptionId, 64))
                    .col(string_len_null(C::RelationNum, 32))
                    .col(string_len_null(C::Caller, 32))
                    .col(string_len_null(C::Called, 32))
                    .col(string_len_null(C::Direction, 16))
                    .col(timestamp_with_time_zone_null(C::StartedAt))
                    .col(timestamp_with_time_zone_null(C::AlertedAt))
                    .col(timestamp_with_time_zone_null(C::AnsweredAt))
                    .col(timestamp_with_time_zone_null(C::EndedAt))
                    .col(integer_null(C::TalkSeconds))
                    .col(string_len_null(C::Outcome, 24))
                    .col(integer_null(C::StateCode))
                    .col(string_len_null(C::StateDesc, 255))
                    .col(string_len_null(C::Icid, 128))
                    .col(boolean(C::HasRecording).default(false))
                    .col(string_len_null(C::RecordDomain, 128))
                    .col(string_len_null(C::RecordObjectName, 255))
                    .col(timestamp_with_time_zone_null(C::CdrReceivedAt))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_calls_app_started_id",
                &[C::AppId, C::StartedAt, C::Id][..],
            ),
            ("idx_calls_binding_started", &[C::BindingId, C::StartedAt]),
            ("idx_calls_relation", &[C::RelationNum]),
            ("idx_calls_caller", &[C::Caller]),
            ("idx_calls_called", &[C::Called]),
        ] {
            manager.create_index(index(name, C::Table, cols)).await?;
        }

        use Cdrs as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(string_len(D::Icid, 128).primary_key())
                    .col(string_len_null(D::SessionId, 255))
                    .col(string_len_null(D::SubscriptionId, 64))
                    .col(uuid_null(D::BindingId))
                    .col(string_len_null(D::AppId, 64))
                    .col(string_len_null(D::BindNum, 32))
                    .col(string_len_null(D::CallerNum, 32))
                    .col(string_len_null(D::CalleeNum, 32))
                    .col(integer_null(D::Direction))
                    .col(timestamp_with_time_zone_null(D::CallInTime))
                    .col(timestamp_with_time_zone_null(D::FwdAnswerTime))
                    .col(timestamp_with_time_zone_null(D::CallEndTime))
                    .col(timestamp_with_time_zone_null(D::FailTime))
                    .col(boolean(D::Answered))
                    .col(integer(D::TalkSeconds))
                    .col(integer_null(D::FwdUnaswRsn))
                    .col(integer_null(D::UlFailReason))
                    .col(integer_null(D::SipStatusCode))
                    .col(boolean(D::RecordFlag).default(false))
                    .col(string_len_null(D::RecordDomain, 128))
                    .col(string_len_null(D::RecordBucketName, 128))
                    .col(string_len_null(D::RecordObjectName, 255))
                    .col(json_binary(D::Payload))
                    .col(timestamp_with_time_zone(D::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_cdrs_session", D::Table, &[D::SessionId]))
            .await?;
        manager
            .create_index(index("idx_cdrs_binding", D::Table, &[D::BindingId]))
            .await?;

        use SmsMessages as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(string_len(S::SmsIdentifier, 128).primary_key())
                    .col(string_len_null(S::AppId, 64))
                    .col(uuid_null(S::BindingId))
                    .col(string_len(S::Mode, 8))
                    .col(string_len_null(S::Calling, 32))
                    .col(string_len_null(S::Called, 32))
                    .col(string_len_null(S::VirtualNumber, 32))
                    .col(string_len_null(S::Event, 32))
                    .col(timestamp_with_time_zone_null(S::SmsTime))
                    .col(string_len_null(S::SubscriptionId, 64))
                    // notify | route | discard
                    .col(string_len(S::Decision, 16))
                    .col(string_len_null(S::RoutedTo, 32))
                    .col(json_binary(S::Payload))
                    .col(timestamp_with_time_zone(S::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_sms_messages_app_received",
                S::Table,
                &[S::AppId, S::ReceivedAt],
            ))
            .await?;
        manager
            .create_index(index("idx_sms_messages_binding", S::Table, &[S::BindingId]))
            .await?;

        // Well-formed bodies of a kind we do not recognise: kept so nothing is lost.
        manager
            .create_table(
                Table::create()
                    .table(RawCallbacks::Table)
                    .col(pk_uuid(RawCallbacks::Id))
                    .col(json_binary(RawCallbacks::Body))
                    .col(timestamp_with_time_zone(RawCallbacks::ReceivedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RawCallbacks::Table.into_iden(),
            SmsMessages::Table.into_iden(),
            Cdrs::Table.into_iden(),
            Calls::Table.into_iden(),
            CallEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum CallEvents {
    Table,
    Id,
    SessionId,
    EventType,
    EventTime,
    OccurredAt,
    SubscriptionId,
    BindingId,
    Caller,
    Called,
    StateCode,
    StateDesc,
    Payload,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Calls {
    Table,
    Id,
    SessionId,
    AppId,
    BindingId,
    SubscriptionId,
    RelationNum,
    Caller,
    Called,
    Direction,
    StartedAt,
    AlertedAt,
    AnsweredAt,
    EndedAt,
    TalkSeconds,
    Outcome,
    StateCode,
    StateDesc,
    Icid,
    HasRecording,
    RecordDomain,
    RecordObjectName,
    CdrReceivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Cdrs {
    Table,
    Icid,
    SessionId,
    SubscriptionId,
    BindingId,
    AppId,
    BindNum,
    CallerNum,
    CalleeNum,
    Direction,
    CallInTime,
    FwdAnswerTime,
    CallEndTime,
    FailTime,
    Answered,
    TalkSeconds,
    FwdUnaswRsn,
    UlFailReason,
    SipStatusCode,
    RecordFlag,
    RecordDomain,
    RecordBucketName,
    RecordObjectName,
    Payload,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SmsMessages {
    Table,
    SmsIdentifier,
    AppId,
    BindingId,
    Mode,
    Calling,
    Called,
    VirtualNumber,
    Event,
    SmsTime,
    SubscriptionId,
    Decision,
    RoutedTo,
    Payload,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum RawCallbacks {
    Table,
    Id,
    Body,
    ReceivedAt,
}
