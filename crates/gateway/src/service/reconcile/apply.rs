//! The writing half of reconciliation: each action as a conditional change, so a row that moved on
//! since it was read (another instance, an app's request) is left for the next run.

use chrono::Utc;
use pns_core::wire::BindingInfo;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};

use super::compare::{Diff, upstream_expiry};
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::orphan_bindings::{self, Entity as OrphanBindings};
use crate::db::entity::x_numbers::Entity as XNumbers;
use crate::routes::bindings::dto::BindingStatus;
use crate::service::bindings::repo::{self, Activation, InsertError};
use crate::service::pool::admin::live_bindings;

/// Whether a row actually changed (false: someone else settled it first).
fn changed(before: &bindings::Model, after: &bindings::Model) -> bool {
    after.version != before.version
}

pub async fn adopt(
    db: &DatabaseConnection,
    row: &bindings::Model,
    info: &BindingInfo,
) -> Result<bool, DbErr> {
    let activation = Activation {
        subscription_id: &info.subscription_id,
        relation_num: &info.relation_num,
        expires_at: upstream_expiry(info, row.created_at),
        claim: row
            .relation_num
            .is_none()
            .then_some([row.caller_num.as_str(), row.callee_num.as_str()]),
    };
    match repo::activate(db, row.id, activation).await {
        Ok(after) => Ok(changed(row, &after)),
        Err(InsertError::PartyTaken(p)) => {
            tracing::warn!(binding_id = %row.id, party = %pns_core::phone::mask(&p.0), "reconcile: cannot adopt, a party is bound on that X by another row");
            Ok(false)
        }
        Err(InsertError::Db(e)) => Err(e),
    }
}

pub async fn fail_pending(db: &DatabaseConnection, row: &bindings::Model) -> Result<bool, DbErr> {
    let after = repo::end_if(
        db,
        row.id,
        BindingStatus::Failed,
        "not_found_upstream",
        None,
        version_is(row),
    )
    .await?;
    Ok(changed(row, &after))
}

pub async fn missing(
    db: &DatabaseConnection,
    row: &bindings::Model,
    expired: bool,
) -> Result<bool, DbErr> {
    let (status, reason) = if expired {
        (BindingStatus::Expired, "expired")
    } else {
        (BindingStatus::Unbound, "missing_upstream")
    };
    let after = repo::end_if(db, row.id, status, reason, None, version_is(row)).await?;
    Ok(changed(row, &after))
}

fn version_is(row: &bindings::Model) -> sea_orm::Condition {
    sea_orm::Condition::all().add(bindings::Column::Version.eq(row.version))
}

pub enum Corrected {
    Yes,
    /// The row changed since it was read; the next run looks again.
    Stale,
    /// The platform's numbers collide with another live row's claim on that X.
    Conflict(String),
}

pub async fn correct(
    db: &DatabaseConnection,
    row: &bindings::Model,
    info: &BindingInfo,
    diffs: &[Diff],
) -> Result<Corrected, DbErr> {
    let has = |field: &str| diffs.iter().any(|d| d.field == field);
    let txn = db.begin().await?;
    let mut update = Bindings::update_many()
        .col_expr(bindings::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            bindings::Column::Version,
            Expr::col(bindings::Column::Version).add(1),
        );
    if has("relationNum") {
        update = update.col_expr(
            bindings::Column::RelationNum,
            Expr::value(info.relation_num.clone()),
        );
    }
    if has("callerNum") {
        update = update.col_expr(
            bindings::Column::CallerNum,
            Expr::value(info.caller_num.clone()),
        );
    }
    if has("calleeNum") {
        update = update.col_expr(
            bindings::Column::CalleeNum,
            Expr::value(info.callee_num.clone()),
        );
    }
    if let Some(d) = info.call_direction.filter(|_| has("callDirection")) {
        update = update.col_expr(bindings::Column::CallDirection, Expr::value(i16::from(d)));
    }
    if let Some(d) = info.duration.filter(|_| has("duration")) {
        update = update
            .col_expr(bindings::Column::Duration, Expr::value(d as i32))
            .col_expr(
                bindings::Column::ExpiresAt,
                Expr::value(upstream_expiry(info, row.created_at)),
            );
    }
    let result = update
        .filter(bindings::Column::Id.eq(row.id))
        .filter(bindings::Column::Version.eq(row.version))
        .filter(bindings::Column::Status.eq(BindingStatus::Active.as_str()))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(Corrected::Stale);
    }
    if has("relationNum") || has("callerNum") || has("calleeNum") {
        if has("relationNum") {
            // X rows in number order, before any party row (the order every writer uses).
            let mut moves = vec![(info.relation_num.as_str(), 1)];
            if let Some(old) = &row.relation_num {
                moves.push((old.as_str(), -1));
            }
            moves.sort_unstable();
            for (x, delta) in moves {
                repo::count_on_x(&txn, x, delta).await?;
            }
        }
        repo::release_parties(&txn, row.id, None).await?;
        let parties = [info.caller_num.as_str(), info.callee_num.as_str()];
        match repo::claim_parties(&txn, row.id, &info.relation_num, &parties).await {
            Ok(()) => {}
            Err(InsertError::PartyTaken(p)) => {
                txn.rollback().await?;
                return Ok(Corrected::Conflict(pns_core::phone::mask(&p.0)));
            }
            Err(InsertError::Db(e)) => return Err(e),
        }
    }
    txn.commit().await?;
    Ok(Corrected::Yes)
}

/// Upserts this run's orphans and forgets earlier ones the platform no longer reports on the numbers
/// it was asked about.
pub async fn record_orphans(
    db: &DatabaseConnection,
    run_id: uuid::Uuid,
    seen: &[&BindingInfo],
    checked: &[String],
) -> Result<(), DbErr> {
    let now = Utc::now();
    for info in seen {
        let row = orphan_bindings::ActiveModel {
            subscription_id: Set(info.subscription_id.clone()),
            relation_num: Set(info.relation_num.clone()),
            caller_num: Set(info.caller_num.clone()),
            callee_num: Set(info.callee_num.clone()),
            first_seen_at: Set(now),
            last_seen_at: Set(now),
            last_run_id: Set(Some(run_id)),
        };
        OrphanBindings::insert(row)
            .on_conflict(
                OnConflict::column(orphan_bindings::Column::SubscriptionId)
                    .update_columns([
                        orphan_bindings::Column::RelationNum,
                        orphan_bindings::Column::CallerNum,
                        orphan_bindings::Column::CalleeNum,
                        orphan_bindings::Column::LastSeenAt,
                        orphan_bindings::Column::LastRunId,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    let still: Vec<String> = seen.iter().map(|i| i.subscription_id.clone()).collect();
    for chunk in checked.chunks(500) {
        let mut gone = OrphanBindings::delete_many()
            .filter(orphan_bindings::Column::RelationNum.is_in(chunk.iter().cloned()));
        if !still.is_empty() {
            gone = gone
                .filter(orphan_bindings::Column::SubscriptionId.is_not_in(still.iter().cloned()));
        }
        gone.exec(db).await?;
    }
    Ok(())
}

/// Puts `in_use` back to the count of live bindings where it drifted. Per number, in one
/// transaction: first X's row lock (a no-op UPDATE), then the count. Every binding change on X moves
/// `in_use` under that same lock, so the count is exact at that moment: a change already holding the
/// lock has committed before the count, and one that has not yet taken it applies its own delta after.
pub async fn repair_in_use(db: &DatabaseConnection) -> Result<(), DbErr> {
    use crate::db::entity::x_numbers;
    for x in XNumbers::find().all(db).await? {
        let txn = db.begin().await?;
        XNumbers::update_many()
            .col_expr(
                x_numbers::Column::InUse,
                Expr::col(x_numbers::Column::InUse),
            )
            .filter(x_numbers::Column::Number.eq(x.number.as_str()))
            .exec(&txn)
            .await?;
        let Some(current) = XNumbers::find_by_id(x.number.clone()).one(&txn).await? else {
            continue;
        };
        let live = live_bindings(&txn, &x.number).await?;
        if live != current.in_use {
            XNumbers::update_many()
                .col_expr(x_numbers::Column::InUse, Expr::value(live))
                .filter(x_numbers::Column::Number.eq(x.number.as_str()))
                .exec(&txn)
                .await?;
            tracing::warn!(x = %pns_core::phone::mask(&x.number), was = current.in_use, now = live, "reconcile: in_use repaired");
        }
        txn.commit().await?;
    }
    Ok(())
}
