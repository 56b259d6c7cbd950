//! The invariant rows (`binding_parties`) and X's counters, always inside the caller's transaction.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set,
    TryInsertResult,
};
use uuid::Uuid;

use super::ClaimError;
use crate::db::entity::binding_parties::{self, Entity as BindingParties};
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
use crate::domain::BindingStatus;
use crate::domain::number::NumberStatus;

/// Claims (X, party) for a binding, in one statement. Fails with the first party already bound on X
/// (the caller's transaction is then rolled back, taking any claim that did succeed with it).
pub(super) async fn claim<C: ConnectionTrait>(
    conn: &C,
    binding_id: Uuid,
    relation_num: &str,
    parties: &[&str],
) -> Result<(), ClaimError> {
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
        Some(taken) => Err(ClaimError::PartyTaken((*taken).to_owned())),
        None => Ok(()),
    }
}

/// Frees a binding's claims: all of them, or only `parties`.
pub(super) async fn release<C: ConnectionTrait>(
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

/// Keeps `x_numbers.in_use` (live bindings on X) in step, in the transaction that changes the
/// binding. A number outside the pool has no row and nothing to count.
pub(super) async fn count_on_x<C: ConnectionTrait>(
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

/// The rule for "X can take one more binding": normal on the platform, not reserved by an admin, not
/// marked unusable, and under its capacity. Allocation reads candidates with it and `take_slot`
/// re-checks it in its UPDATE, so the two can never disagree.
pub fn can_take_a_binding() -> Condition {
    Condition::all()
        .add(x_numbers::Column::Status.eq(NumberStatus::Normal))
        .add(x_numbers::Column::Reserved.eq(false))
        .add(x_numbers::Column::UnusableSince.is_null())
        .add(
            Expr::col((XNumbers, x_numbers::Column::InUse))
                .lt(Expr::col((XNumbers, x_numbers::Column::Capacity))),
        )
}

/// Takes one slot on X if X is still allocatable. The UPDATE re-checks every condition itself, so a
/// status change or a concurrent claim between reading the candidates and now cannot overfill X; on
/// PostgreSQL it also holds X's row lock until commit, which orders concurrent claims on one X.
pub(super) async fn take_slot<C: ConnectionTrait>(conn: &C, x: &str) -> Result<bool, DbErr> {
    let updated = XNumbers::update_many()
        .col_expr(
            x_numbers::Column::InUse,
            Expr::col(x_numbers::Column::InUse).add(1),
        )
        .filter(x_numbers::Column::Number.eq(x))
        .filter(can_take_a_binding())
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Live bindings on X, counted from the binding table (the truth `in_use` is kept equal to).
pub async fn live_bindings<C: ConnectionTrait>(conn: &C, number: &str) -> Result<i32, DbErr> {
    let n = Bindings::find()
        .filter(bindings::Column::RelationNum.eq(number))
        .filter(bindings::Column::Status.is_in(BindingStatus::LIVE))
        .count(conn)
        .await?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}
