//! The leader lease: a row per job in `job_leases`, claimed with a conditional UPDATE, so exactly one
//! instance sharing the database runs each round (see the module above).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};

use crate::db::entity::job_leases::{self, Entity as JobLeases};

/// Claims this round of `job` for `holder` until `now + lease` (a free or expired lease, or the
/// holder's own). True for exactly one claimant at a time, whichever instance and backend.
pub async fn try_lead(
    db: &DatabaseConnection,
    job: &str,
    holder: &str,
    lease: Duration,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    JobLeases::insert(job_leases::ActiveModel {
        job: Set(job.to_owned()),
        holder: Set(None),
        lease_until: Set(DateTime::<Utc>::UNIX_EPOCH),
        last_run_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(job_leases::Column::Job)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
    let claimed = JobLeases::update_many()
        .col_expr(job_leases::Column::Holder, Expr::value(holder))
        .col_expr(job_leases::Column::LeaseUntil, Expr::value(until))
        .col_expr(job_leases::Column::LastRunAt, Expr::value(now))
        .filter(job_leases::Column::Job.eq(job))
        .filter(
            Condition::any()
                .add(job_leases::Column::LeaseUntil.lt(now))
                .add(job_leases::Column::Holder.eq(holder)),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}
