//! A binding's life in the table: insert pending, move it to another X, activate, end, and the call
//! counters. Each operation is one transaction with the party rows and X's counter it implies.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait, TryIntoModel,
};
use uuid::Uuid;

use super::ClaimError;
pub use super::ending::Ending;
use super::fused;
use super::outbox::{EventType, anyone_listens, binding_event, may_receive};
use super::parties::{claim, count_on_x, release, take_slot};
use super::row_change;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::domain::{BindingStatus, NewBinding};

pub(super) fn pending_row(
    app_id: &str,
    new: &NewBinding,
    relation_num: Option<&str>,
) -> bindings::ActiveModel {
    let now = Utc::now();
    bindings::ActiveModel {
        id: Set(Uuid::now_v7()),
        app_id: Set(app_id.to_owned()),
        subscription_id: Set(None),
        relation_num: Set(relation_num.map(str::to_owned)),
        caller_num: Set(new.caller.as_str().to_owned()),
        callee_num: Set(new.callee.as_str().to_owned()),
        call_direction: Set(new.direction as i16),
        duration: Set(new.duration.seconds() as i32),
        max_duration: Set(i32::from(new.max_duration.minutes())),
        record_flag: Set(new.record_flag),
        record_hint_tone: Set(new.record_hint_tone.clone()),
        last_min_voice: Set(new.last_min_voice.clone()),
        private_sms: Set(new.private_sms),
        pre_voice: Set(new
            .pre_voice
            .as_ref()
            .and_then(|p| serde_json::to_value(p).ok())),
        user_data: Set(new.user_data.clone()),
        external_ref: Set(new.external_ref.clone()),
        area_code: Set(new.area_code.clone()),
        status: Set(BindingStatus::Pending),
        upstream_code: Set(None),
        upstream_desc: Set(None),
        expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        call_count: Set(0),
        last_call_at: Set(None),
        total_talk_seconds: Set(0),
        version: Set(0),
        change_lease_until: Set(None),
    }
}

/// Writes the `pending` row before any upstream call: on the X the app named (its parties claimed
/// with it), or with no X when the platform is to pick one.
pub async fn insert_pending(
    db: &DatabaseConnection,
    app_id: &str,
    new: &NewBinding,
) -> Result<bindings::Model, ClaimError> {
    let x = new.relation.as_ref().map(|x| x.as_str());
    let parties = [new.caller.as_str(), new.callee.as_str()];
    if let Some(x) = x
        && fused::available(db)
    {
        let row = pending_row(app_id, new, Some(x));
        let model = row.clone().try_into_model()?;
        fused::insert_pending_on_named_x(db, row, x, parties).await?;
        return Ok(model);
    }
    let txn = db.begin().await?;
    let model = pending_row(app_id, new, x).insert(&txn).await?;
    if let Some(x) = x {
        count_on_x(&txn, x, 1).await?;
        claim(&txn, model.id, x, &parties).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// Writes the `pending` row on pool number `x`, taking a slot and both parties with it; None when
/// X is no longer free (taken meanwhile, or it holds a party).
pub async fn insert_pending_on(
    db: &DatabaseConnection,
    app_id: &str,
    new: &NewBinding,
    x: &str,
) -> Result<Option<bindings::Model>, DbErr> {
    let txn = db.begin().await?;
    if !take_slot(&txn, x).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    let model = pending_row(app_id, new, Some(x)).insert(&txn).await?;
    let parties = [new.caller.as_str(), new.callee.as_str()];
    claim_and_commit(txn, model, x, parties).await
}

/// Moves a still-pending binding from pool number `from` to `to` after the platform refused `from`
/// (its slot and parties there are released in the same transaction). None when `to` is no longer
/// free.
pub async fn repoint(
    db: &DatabaseConnection,
    id: Uuid,
    from: &str,
    to: &str,
    parties: [&str; 2],
) -> Result<Option<bindings::Model>, DbErr> {
    let txn = db.begin().await?;
    // Both X rows in number order: two bindings moving in opposite directions cannot deadlock.
    if from < to {
        count_on_x(&txn, from, -1).await?;
    }
    if !take_slot(&txn, to).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    if from > to {
        count_on_x(&txn, from, -1).await?;
    }
    let moved = row_change(Utc::now())
        .col_expr(bindings::Column::RelationNum, Expr::value(to))
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Status.eq(BindingStatus::Pending))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(model) = moved else {
        txn.rollback().await?;
        return Err(DbErr::RecordNotUpdated);
    };
    release(&txn, id, None).await?;
    claim_and_commit(txn, model, to, parties).await
}

/// The last step of placing a pending row on pool number `x`: claims both parties there and commits;
/// None (all of it rolled back, the slot too) when either already has a binding on `x`.
async fn claim_and_commit(
    txn: DatabaseTransaction,
    model: bindings::Model,
    x: &str,
    parties: [&str; 2],
) -> Result<Option<bindings::Model>, DbErr> {
    match claim(&txn, model.id, x, &parties).await {
        Ok(()) => {
            txn.commit().await?;
            Ok(Some(model))
        }
        Err(ClaimError::PartyTaken(_)) => {
            txn.rollback().await?;
            Ok(None)
        }
        Err(ClaimError::Db(e)) => Err(e),
    }
}

pub struct Activation<'a> {
    /// The binding's app (whether anyone listens to its events).
    pub app_id: &'a str,
    pub subscription_id: &'a str,
    pub relation_num: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    /// Parties to claim now: the platform picked X, so they could not be claimed before.
    pub claim: Option<[&'a str; 2]>,
}

/// The platform bound it: `pending` -> `active`, with its `binding.created` event. A row no longer
/// pending (reconciliation settled it first) is returned as it is.
pub async fn activate(
    db: &DatabaseConnection,
    id: Uuid,
    activation: Activation<'_>,
) -> Result<bindings::Model, ClaimError> {
    // The usual case: X was claimed with the pending row and no endpoint listens; one statement.
    if activation.claim.is_none() && !may_receive(db, activation.app_id).await? {
        return Ok(mark_active_or_current(db, id, &activation).await?);
    }
    let txn = db.begin().await?;
    let model = match mark_active(&txn, id, &activation).await? {
        Some(model) => {
            // The platform picked X: the parties could not be claimed with the pending row.
            if let Some(parties) = activation.claim {
                count_on_x(&txn, activation.relation_num, 1).await?;
                claim(&txn, id, activation.relation_num, &parties).await?;
            }
            binding_event(&txn, EventType::BindingCreated, &model).await?;
            model
        }
        None => current(&txn, id).await?,
    };
    txn.commit().await?;
    Ok(model)
}

/// `pending` -> `active` with the platform's ids, no claim and no event; a row no longer pending is
/// returned as it is.
pub(super) async fn mark_active_or_current(
    db: &DatabaseConnection,
    id: Uuid,
    activation: &Activation<'_>,
) -> Result<bindings::Model, DbErr> {
    match mark_active(db, id, activation).await? {
        Some(model) => Ok(model),
        None => current(db, id).await,
    }
}

/// `pending` -> `active` with the platform's ids; None when the row is no longer pending.
async fn mark_active<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    activation: &Activation<'_>,
) -> Result<Option<bindings::Model>, DbErr> {
    Ok(row_change(Utc::now())
        .col_expr(bindings::Column::Status, Expr::value(BindingStatus::Active))
        .col_expr(
            bindings::Column::SubscriptionId,
            Expr::value(activation.subscription_id),
        )
        .col_expr(
            bindings::Column::RelationNum,
            Expr::value(activation.relation_num),
        )
        .col_expr(
            bindings::Column::ExpiresAt,
            Expr::value(activation.expires_at),
        )
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Status.eq(BindingStatus::Pending))
        .exec_with_returning(conn)
        .await?
        .pop())
}

pub(super) async fn current<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<bindings::Model, DbErr> {
    Bindings::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(id.to_string()))
}

/// Ends a binding (failed, unbound, expired) and frees its parties, once: a binding already ended
/// keeps its first end (and only the first end has an event). Returns the row as it is afterwards.
pub async fn end(
    db: &DatabaseConnection,
    id: Uuid,
    ending: Ending,
) -> Result<bindings::Model, DbErr> {
    end_if(db, id, ending, Condition::all()).await
}

/// [`end`], only while `guard` still holds (e.g. "still due": a modify may have restarted the clock;
/// "still at the version read": reconciliation judged that row).
pub async fn end_if(
    db: &DatabaseConnection,
    id: Uuid,
    ending: Ending,
    guard: Condition,
) -> Result<bindings::Model, DbErr> {
    let now = Utc::now();
    let event_type = ending.event_type();
    let mut update = row_change(now)
        .col_expr(bindings::Column::Status, Expr::value(ending.status))
        .col_expr(bindings::Column::EndReason, Expr::value(ending.reason))
        .col_expr(bindings::Column::EndedAt, Expr::value(now));
    if let Some((code, desc)) = ending.upstream {
        update = update
            .col_expr(bindings::Column::UpstreamCode, Expr::value(code))
            .col_expr(bindings::Column::UpstreamDesc, Expr::value(desc));
    }
    if fused::available(db) && !anyone_listens(db).await? {
        return match fused::end_live(db, update, id, guard).await? {
            Some(model) => Ok(model),
            None => current(db, id).await,
        };
    }
    let txn = db.begin().await?;
    let ended = update
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Status.is_in(BindingStatus::LIVE))
        .filter(guard)
        .exec_with_returning(&txn)
        .await?
        .pop();
    let model = match ended {
        Some(model) => {
            // X's row before its party rows, the order every writer uses.
            if let Some(x) = &model.relation_num {
                count_on_x(&txn, x, -1).await?;
            }
            release(&txn, id, None).await?;
            binding_event(&txn, event_type, &model).await?;
            model
        }
        None => current(&txn, id).await?,
    };
    txn.commit().await?;
    Ok(model)
}

/// Records that an unbind of an active binding is about to reach the platform (reconciliation leaves
/// rows changed within one upstream call's time alone, see `service::reconcile`) and returns the row;
/// None when `id` is not an active binding of `app` (`None`: any app). One statement: the lookup and
/// the mark together.
pub async fn touch_active(
    db: &DatabaseConnection,
    id: Uuid,
    app: Option<&str>,
) -> Result<Option<bindings::Model>, DbErr> {
    let mut update = Bindings::update_many()
        .col_expr(bindings::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Status.eq(BindingStatus::Active));
    if let Some(app) = app {
        update = update.filter(bindings::Column::AppId.eq(app));
    }
    Ok(update.exec_with_returning(db).await?.pop())
}

/// Adds calls to a binding's counters. Only called for a CDR that was actually inserted, so a
/// redelivered batch never counts twice.
pub async fn count_call<C: ConnectionTrait>(
    conn: &C,
    binding_id: Uuid,
    calls: i32,
    call_at: DateTime<Utc>,
    talk_seconds: i64,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Cond, SimpleExpr};
    let later: SimpleExpr = Expr::case(
        Cond::any()
            .add(bindings::Column::LastCallAt.is_null())
            .add(bindings::Column::LastCallAt.lt(call_at)),
        Expr::value(call_at),
    )
    .finally(Expr::col(bindings::Column::LastCallAt))
    .into();
    Bindings::update_many()
        .col_expr(
            bindings::Column::CallCount,
            Expr::col(bindings::Column::CallCount).add(calls),
        )
        .col_expr(
            bindings::Column::TotalTalkSeconds,
            Expr::col(bindings::Column::TotalTalkSeconds).add(talk_seconds),
        )
        .col_expr(bindings::Column::LastCallAt, later)
        .filter(bindings::Column::Id.eq(binding_id))
        .exec(conn)
        .await?;
    Ok(())
}
