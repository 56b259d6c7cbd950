use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ReconcileRuns as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(pk_uuid(R::Id))
                    // scheduled | manual
                    .col(string_len(R::Trigger, 16))
                    .col(timestamp_with_time_zone(R::StartedAt))
                    .col(timestamp_with_time_zone_null(R::FinishedAt))
                    // running | done | failed
                    .col(string_len(R::Status, 16))
                    .col(integer(R::NumbersChecked).default(0))
                    .col(integer(R::Adopted).default(0))
                    .col(integer(R::FailedPending).default(0))
                    .col(integer(R::MissingUpstream).default(0))
                    .col(integer(R::Orphans).default(0))
                    .col(integer(R::Corrected).default(0))
                    .col(string_null(R::Error))
                    .to_owned(),
            )
            .await?;

        use ReconcileFindings as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .col(pk_uuid(F::Id))
                    .col(uuid(F::RunId))
                    .col(string_len(F::Category, 24))
                    .col(uuid_null(F::BindingId))
                    .col(string_len_null(F::SubscriptionId, 64))
                    .col(string_len_null(F::RelationNum, 32))
                    .col(json_binary(F::Detail))
                    .col(timestamp_with_time_zone(F::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reconcile_findings_run")
                            .from(F::Table, F::RunId)
                            .to(R::Table, R::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_reconcile_findings_run", F::Table, &[F::RunId]))
            .await?;

        // Bindings the platform reports on our numbers that this gateway has no row for.
        use OrphanBindings as O;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .col(string_len(O::SubscriptionId, 64).primary_key())
                    .col(string_len(O::RelationNum, 32))
                    .col(string_len(O::CallerNum, 32))
                    .col(string_len(O::CalleeNum, 32))
                    .col(timestamp_with_time_zone(O::FirstSeenAt))
                    .col(timestamp_with_time_zone(O::LastSeenAt))
                    .col(uuid_null(O::LastRunId))
                    .to_owned(),
            )
            .await?;

        // Cluster-wide "once per interval": one row per job, claimed with
        // `UPDATE ... WHERE lease_until < now`, so only one instance wins each round.
        manager
            .create_table(
                Table::create()
                    .table(JobLeases::Table)
                    .col(string_len(JobLeases::Job, 32).primary_key())
                    .col(string_len_null(JobLeases::Holder, 64))
                    .col(timestamp_with_time_zone(JobLeases::LeaseUntil))
                    .col(timestamp_with_time_zone_null(JobLeases::LastRunAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            JobLeases::Table.into_iden(),
            OrphanBindings::Table.into_iden(),
            ReconcileFindings::Table.into_iden(),
            ReconcileRuns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ReconcileRuns {
    Table,
    Id,
    Trigger,
    StartedAt,
    FinishedAt,
    Status,
    NumbersChecked,
    Adopted,
    FailedPending,
    MissingUpstream,
    Orphans,
    Corrected,
    Error,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReconcileFindings {
    Table,
    Id,
    RunId,
    Category,
    BindingId,
    SubscriptionId,
    RelationNum,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrphanBindings {
    Table,
    SubscriptionId,
    RelationNum,
    CallerNum,
    CalleeNum,
    FirstSeenAt,
    LastSeenAt,
    LastRunId,
}

#[derive(DeriveIden)]
enum JobLeases {
    Table,
    Job,
    Holder,
    LeaseUntil,
    LastRunAt,
}
