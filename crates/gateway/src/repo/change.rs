//! Changing an active binding: one change at a time (a lease on the row), the new parties claimed
//! before the platform is asked, and only the changed columns written after it agreed.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::ClaimError;
use super::outbox::{EventType, binding_event};
use super::parties::{claim, release};
use super::row_change;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::domain::{BindingStatus, Changes};

/// Takes the lease for one change of an active binding, if no other change holds it and the row is
/// still at the version the change was based on. False when another change got there first.
pub async fn begin(
    db: &DatabaseConnection,
    id: Uuid,
    seen: i32,
    lease: std::time::Duration,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
    let taken = row_change(now)
        .col_expr(bindings::Column::ChangeLeaseUntil, Expr::value(until))
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Version.eq(seen))
        .filter(bindings::Column::Status.eq(BindingStatus::Active))
        .filter(
            Condition::any()
                .add(bindings::Column::ChangeLeaseUntil.is_null())
                .add(bindings::Column::ChangeLeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Claims the new numbers on X before the platform is asked: both or neither (a refused claim rolls
/// back the other one with it).
pub async fn claim_added(
    db: &DatabaseConnection,
    id: Uuid,
    x: &str,
    added: &[&str],
) -> Result<(), ClaimError> {
    if added.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await?;
    claim(&txn, id, x, added).await?;
    txn.commit().await?;
    Ok(())
}

/// Gives back claims of a change the platform refused (or that lost the race with an end).
pub async fn release_added(db: &DatabaseConnection, id: Uuid, added: &[&str]) -> Result<(), DbErr> {
    if added.is_empty() {
        return Ok(());
    }
    release(db, id, Some(added)).await
}

/// Writes what the platform accepted: only the changed columns, so two instances changing different
/// fields never lose each other's update, frees the numbers that were replaced, and records
/// `binding.updated`. `changes` holds
/// new parties only where they differ from `before`. False when the binding ended meanwhile (the
/// added claims are then released).
pub async fn apply(
    db: &DatabaseConnection,
    before: &bindings::Model,
    leased_version: i32,
    changes: &Changes,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let mut update = row_change(now).col_expr(
        bindings::Column::ChangeLeaseUntil,
        Expr::value(Option::<DateTime<Utc>>::None),
    );
    if let Some(c) = &changes.caller {
        update = update.col_expr(bindings::Column::CallerNum, Expr::value(c.as_str()));
    }
    if let Some(c) = &changes.callee {
        update = update.col_expr(bindings::Column::CalleeNum, Expr::value(c.as_str()));
    }
    if let Some(d) = changes.direction {
        update = update.col_expr(bindings::Column::CallDirection, Expr::value(d as i16));
    }
    if let Some(d) = changes.duration {
        let expires = (!d.is_unlimited()).then(|| now + Duration::seconds(i64::from(d.seconds())));
        update = update
            .col_expr(bindings::Column::Duration, Expr::value(d.seconds() as i32))
            .col_expr(bindings::Column::ExpiresAt, Expr::value(expires));
    }
    if let Some(m) = changes.max_duration {
        update = update.col_expr(
            bindings::Column::MaxDuration,
            Expr::value(i32::from(m.minutes())),
        );
    }
    if let Some(v) = &changes.last_min_voice {
        update = update.col_expr(bindings::Column::LastMinVoice, Expr::value(v.clone()));
    }
    if let Some(v) = changes.private_sms {
        update = update.col_expr(bindings::Column::PrivateSms, Expr::value(v));
    }
    if let Some(v) = changes.record_flag {
        update = update.col_expr(bindings::Column::RecordFlag, Expr::value(v));
    }
    if let Some(v) = &changes.pre_voice {
        update = update.col_expr(
            bindings::Column::PreVoice,
            Expr::value(serde_json::to_value(v).ok()),
        );
    }
    if let Some(v) = &changes.user_data {
        update = update.col_expr(bindings::Column::UserData, Expr::value(v.clone()));
    }
    let written = update
        .filter(bindings::Column::Id.eq(before.id))
        .filter(bindings::Column::Version.eq(leased_version))
        .filter(bindings::Column::Status.eq(BindingStatus::Active))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let added = added_parties(changes);
    let Some(after) = written else {
        // Ended meanwhile (unbound, expired): its claims are gone but the ones this change added.
        txn.rollback().await?;
        release_added(db, before.id, &added).await?;
        return Ok(false);
    };
    let replaced: Vec<&str> = [
        changes.caller.as_ref().map(|_| before.caller_num.as_str()),
        changes.callee.as_ref().map(|_| before.callee_num.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !replaced.is_empty() {
        release(&txn, before.id, Some(&replaced)).await?;
    }
    binding_event(&txn, EventType::BindingUpdated, &after).await?;
    txn.commit().await?;
    Ok(true)
}

/// The numbers a change brings onto X.
pub fn added_parties(changes: &Changes) -> Vec<&str> {
    [changes.caller.as_ref(), changes.callee.as_ref()]
        .into_iter()
        .flatten()
        .map(|p| p.as_str())
        .collect()
}

/// Gives the lease back if the change that took it (at `version`) did not finish normally (the
/// finishing write clears it itself and moves the version on).
pub async fn end(db: &DatabaseConnection, id: Uuid, version: i32) -> Result<(), DbErr> {
    Bindings::update_many()
        .col_expr(
            bindings::Column::ChangeLeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(())
}
