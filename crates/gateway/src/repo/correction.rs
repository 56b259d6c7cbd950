//! Reconciliation's writes to the binding table group: a row brought in line with the platform, and
//! X's `in_use` counters repaired where they drifted.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait};

use super::ClaimError;
use super::outbox::{EventType, binding_event};
use super::parties::{claim, count_on_x, live_bindings, release};
use super::row_change;
use crate::db::entity::bindings;
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
use crate::domain::BindingStatus;

/// The platform's values for the fields that differ; None: that field agrees.
#[derive(Debug, Default)]
pub struct Correction {
    pub relation_num: Option<String>,
    pub caller_num: Option<String>,
    pub callee_num: Option<String>,
    pub call_direction: Option<i16>,
    /// The duration in seconds and the expiry it implies.
    pub duration: Option<(i32, Option<DateTime<Utc>>)>,
}

pub enum Corrected {
    Yes,
    /// The row changed since it was read; the next run looks again.
    Stale,
    /// The platform's numbers collide with another live row's claim on that X (the number, unmasked).
    Conflict(String),
}

/// Applies `fix` to an active row still at the version reconciliation read, moving its claims (and
/// X's counters) when the numbers differ; apps get `binding.updated`.
pub async fn correct(
    db: &DatabaseConnection,
    row: &bindings::Model,
    fix: &Correction,
) -> Result<Corrected, DbErr> {
    let txn = db.begin().await?;
    let mut update = row_change(Utc::now());
    if let Some(x) = &fix.relation_num {
        update = update.col_expr(bindings::Column::RelationNum, Expr::value(x.clone()));
    }
    if let Some(n) = &fix.caller_num {
        update = update.col_expr(bindings::Column::CallerNum, Expr::value(n.clone()));
    }
    if let Some(n) = &fix.callee_num {
        update = update.col_expr(bindings::Column::CalleeNum, Expr::value(n.clone()));
    }
    if let Some(d) = fix.call_direction {
        update = update.col_expr(bindings::Column::CallDirection, Expr::value(d));
    }
    if let Some((seconds, expires_at)) = fix.duration {
        update = update
            .col_expr(bindings::Column::Duration, Expr::value(seconds))
            .col_expr(bindings::Column::ExpiresAt, Expr::value(expires_at));
    }
    let corrected = update
        .filter(bindings::Column::Id.eq(row.id))
        .filter(bindings::Column::Version.eq(row.version))
        .filter(bindings::Column::Status.eq(BindingStatus::Active))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(after) = corrected else {
        txn.rollback().await?;
        return Ok(Corrected::Stale);
    };
    if fix.relation_num.is_some() || fix.caller_num.is_some() || fix.callee_num.is_some() {
        let x = fix.relation_num.as_deref().or(row.relation_num.as_deref());
        if let Some(new_x) = &fix.relation_num {
            // X rows in number order, before any party row (the order every writer uses).
            let mut moves = vec![(new_x.as_str(), 1)];
            if let Some(old) = &row.relation_num {
                moves.push((old.as_str(), -1));
            }
            moves.sort_unstable();
            for (x, delta) in moves {
                count_on_x(&txn, x, delta).await?;
            }
        }
        release(&txn, row.id, None).await?;
        let parties = [
            fix.caller_num.as_deref().unwrap_or(&row.caller_num),
            fix.callee_num.as_deref().unwrap_or(&row.callee_num),
        ];
        if let Some(x) = x {
            match claim(&txn, row.id, x, &parties).await {
                Ok(()) => {}
                Err(ClaimError::PartyTaken(p)) => {
                    txn.rollback().await?;
                    return Ok(Corrected::Conflict(p));
                }
                Err(ClaimError::Db(e)) => return Err(e),
            }
        }
    }
    binding_event(&txn, EventType::BindingUpdated, &after).await?;
    txn.commit().await?;
    Ok(Corrected::Yes)
}

/// Puts `in_use` back to the count of live bindings where it drifted. Per number, in one
/// transaction: first X's row lock (a no-op UPDATE), then the count. Every binding change on X moves
/// `in_use` under that same lock, so the count is exact at that moment: a change already holding the
/// lock has committed before the count, and one that has not yet taken it applies its own delta after.
pub async fn repair_in_use(db: &DatabaseConnection) -> Result<(), DbErr> {
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
