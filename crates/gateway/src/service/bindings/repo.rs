//! The binding table and its invariant rows. Every state change of a binding goes through here, in
//! one transaction with its `binding_parties` rows, so the AXB invariant (on one X a real number is in
//! at most one pending/active binding) is enforced by the database's primary key.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, Set, TransactionTrait, TryInsertResult,
};
use uuid::Uuid;

use crate::db::entity::binding_parties::{self, Entity as BindingParties};
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
use crate::routes::bindings::dto::BindingStatus;

/// A party already bound on that X: the conflicting number, for the 409 message.
#[derive(Debug)]
pub struct PartyTaken(pub String);

pub enum InsertError {
    PartyTaken(PartyTaken),
    Db(DbErr),
}

impl From<DbErr> for InsertError {
    fn from(e: DbErr) -> Self {
        Self::Db(e)
    }
}

/// Claims (X, party) for a binding, in one statement. Fails with the first party already bound on X
/// (the caller's transaction is then rolled back, taking any claim that did succeed with it).
pub async fn claim_parties<C: ConnectionTrait>(
    conn: &C,
    binding_id: Uuid,
    relation_num: &str,
    parties: &[&str],
) -> Result<(), InsertError> {
    // One insertion order for everyone: two transactions claiming overlapping parties on PostgreSQL
    // then wait for each other instead of deadlocking.
    let mut parties = parties.to_vec();
    parties.sort_unstable();
    parties.dedup();
    let rows = parties.iter().map(|party| binding_parties::ActiveModel {
        relation_num: Set(relation_num.to_owned()),
        party_num: Set((*party).to_owned()),
        binding_id: Set(binding_id),
    });
    let claimed: Vec<(String, String)> = match BindingParties::insert_many(rows)
        .on_conflict_do_nothing_on([
            binding_parties::Column::RelationNum,
            binding_parties::Column::PartyNum,
        ])
        .exec_with_returning_keys(conn)
        .await?
    {
        TryInsertResult::Inserted(keys) => keys,
        TryInsertResult::Empty | TryInsertResult::Conflicted => Vec::new(),
    };
    match parties
        .iter()
        .find(|party| !claimed.iter().any(|(_, p)| p == *party))
    {
        Some(taken) => Err(InsertError::PartyTaken(PartyTaken((*taken).to_owned()))),
        None => Ok(()),
    }
}

/// Keeps `x_numbers.in_use` (live bindings on X) in step, in the transaction that changes the
/// binding. A number outside the pool has no row and nothing to count.
pub async fn count_on_x<C: ConnectionTrait>(
    conn: &C,
    relation_num: &str,
    delta: i32,
) -> Result<(), DbErr> {
    let mut update = XNumbers::update_many()
        .col_expr(
            x_numbers::Column::InUse,
            Expr::col(x_numbers::Column::InUse).add(delta),
        )
        .filter(x_numbers::Column::Number.eq(relation_num));
    if delta < 0 {
        update = update.filter(x_numbers::Column::InUse.gte(-delta));
    }
    update.exec(conn).await?;
    Ok(())
}

pub async fn release_parties<C: ConnectionTrait>(
    conn: &C,
    binding_id: Uuid,
    parties: Option<&[&str]>,
) -> Result<(), DbErr> {
    let mut delete =
        BindingParties::delete_many().filter(binding_parties::Column::BindingId.eq(binding_id));
    if let Some(parties) = parties {
        delete = delete.filter(binding_parties::Column::PartyNum.is_in(parties.iter().copied()));
    }
    delete.exec(conn).await?;
    Ok(())
}

/// Writes the `pending` row (and, when X is known, its party claims) before any upstream call.
pub async fn insert_pending(
    db: &DatabaseConnection,
    row: bindings::ActiveModel,
    claim: Option<(&str, [&str; 2])>,
) -> Result<bindings::Model, InsertError> {
    let txn = db.begin().await?;
    let model = row.insert(&txn).await?;
    if let Some((x, parties)) = claim {
        count_on_x(&txn, x, 1).await?;
        claim_parties(&txn, model.id, x, &parties).await?;
    }
    txn.commit().await?;
    Ok(model)
}

pub struct Activation<'a> {
    pub subscription_id: &'a str,
    pub relation_num: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    /// Parties to claim now: the platform picked X, so they could not be claimed before.
    pub claim: Option<[&'a str; 2]>,
}

/// The platform bound it: `pending` -> `active`. A row no longer pending (reconciliation settled it
/// first) is returned as it is.
pub async fn activate(
    db: &DatabaseConnection,
    id: Uuid,
    activation: Activation<'_>,
) -> Result<bindings::Model, InsertError> {
    // The parties were claimed with the pending row (X was known): one statement, no transaction.
    let Some(parties) = activation.claim else {
        return match mark_active(db, id, &activation).await? {
            Some(model) => Ok(model),
            None => Ok(current(db, id).await?),
        };
    };
    let txn = db.begin().await?;
    let model = match mark_active(&txn, id, &activation).await? {
        Some(model) => {
            count_on_x(&txn, activation.relation_num, 1).await?;
            claim_parties(&txn, id, activation.relation_num, &parties).await?;
            model
        }
        None => current(&txn, id).await?,
    };
    txn.commit().await?;
    Ok(model)
}

/// `pending` -> `active` with the platform's ids; None when the row is no longer pending.
async fn mark_active<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    activation: &Activation<'_>,
) -> Result<Option<bindings::Model>, DbErr> {
    Ok(Bindings::update_many()
        .col_expr(
            bindings::Column::Status,
            Expr::value(BindingStatus::Active.as_str()),
        )
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
        .col_expr(bindings::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            bindings::Column::Version,
            Expr::col(bindings::Column::Version).add(1),
        )
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Status.eq(BindingStatus::Pending.as_str()))
        .exec_with_returning(conn)
        .await?
        .pop())
}

async fn current<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bindings::Model, DbErr> {
    Bindings::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(id.to_string()))
}

/// Ends a binding (failed, unbound, expired) and frees its parties, once: a binding already ended
/// keeps its first end. Returns the row as it is afterwards.
pub async fn end(
    db: &DatabaseConnection,
    id: Uuid,
    status: BindingStatus,
    reason: &str,
    upstream: Option<(String, String)>,
) -> Result<bindings::Model, DbErr> {
    end_if(db, id, status, reason, upstream, Condition::all()).await
}

/// [`end`], only while `guard` still holds (e.g. "still due": a modify may have restarted the clock).
pub async fn end_if(
    db: &DatabaseConnection,
    id: Uuid,
    status: BindingStatus,
    reason: &str,
    upstream: Option<(String, String)>,
    guard: Condition,
) -> Result<bindings::Model, DbErr> {
    let txn = db.begin().await?;
    let now = Utc::now();
    let mut update = Bindings::update_many()
        .col_expr(bindings::Column::Status, Expr::value(status.as_str()))
        .col_expr(bindings::Column::EndReason, Expr::value(reason))
        .col_expr(bindings::Column::EndedAt, Expr::value(now))
        .col_expr(bindings::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            bindings::Column::Version,
            Expr::col(bindings::Column::Version).add(1),
        );
    if let Some((code, desc)) = upstream {
        update = update
            .col_expr(bindings::Column::UpstreamCode, Expr::value(code))
            .col_expr(bindings::Column::UpstreamDesc, Expr::value(desc));
    }
    let ended = update
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Status.is_in([
            BindingStatus::Pending.as_str(),
            BindingStatus::Active.as_str(),
        ]))
        .filter(guard)
        .exec_with_returning(&txn)
        .await?
        .pop();
    let model = match ended {
        Some(model) => {
            // X's row before its party rows, the order every writer uses (an allocation holds X's
            // row while it inserts parties), so PostgreSQL never sees a lock cycle.
            if let Some(x) = &model.relation_num {
                count_on_x(&txn, x, -1).await?;
            }
            release_parties(&txn, id, None).await?;
            model
        }
        None => current(&txn, id).await?,
    };
    txn.commit().await?;
    Ok(model)
}

/// Records that a change of the binding is about to reach the platform: reconciliation leaves rows
/// changed within one upstream call's time alone (see `service::reconcile`).
pub async fn touch(db: &DatabaseConnection, id: Uuid) -> Result<(), DbErr> {
    Bindings::update_many()
        .col_expr(bindings::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(bindings::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes the lease for one change of an active binding, if no other change holds it and the row is
/// still at the version the change was based on. False when another change got there first.
pub async fn begin_change(
    db: &DatabaseConnection,
    id: Uuid,
    seen: i32,
    lease: std::time::Duration,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let taken = Bindings::update_many()
        .col_expr(bindings::Column::UpdatedAt, Expr::value(now))
        .col_expr(bindings::Column::ChangeLeaseUntil, Expr::value(until))
        .col_expr(
            bindings::Column::Version,
            Expr::col(bindings::Column::Version).add(1),
        )
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Version.eq(seen))
        .filter(bindings::Column::Status.eq(BindingStatus::Active.as_str()))
        .filter(
            Condition::any()
                .add(bindings::Column::ChangeLeaseUntil.is_null())
                .add(bindings::Column::ChangeLeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives the lease back if the change that took it (at `version`) did not finish normally (the
/// finishing write clears it itself and moves the version on).
pub async fn end_change(db: &DatabaseConnection, id: Uuid, version: i32) -> Result<(), DbErr> {
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
