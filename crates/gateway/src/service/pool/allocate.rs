//! Picking an X for a new binding. A candidate is in normal status, not reserved, under capacity, in
//! the asked area and free of both parties; least used first, then by number. Claiming it happens in
//! one transaction (slot, pending row, party rows), so the database decides between concurrent
//! requests: the `binding_parties` primary key keeps the AXB invariant, and a conditional UPDATE keeps
//! `in_use <= capacity`.

use std::collections::HashSet;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::db::entity::binding_parties::{self, Entity as BindingParties};
use crate::db::entity::bindings::{self};
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
use crate::domain::NewBinding;
use crate::repo::bindings as repo;
use crate::repo::can_take_a_binding;

/// Rounds of "read candidates, try each": under concurrent load a candidate can be taken between the
/// read and the claim, and a fresh read then sees what is really left.
const ROUNDS: usize = 3;

/// Distinct X numbers tried for one binding when the platform refuses the one picked.
pub const MAX_X_ATTEMPTS: usize = 3;

/// Platform refusals that are about the X picked, so another X may well succeed. 1012001 (not this
/// app's number) also takes X out of the pool: see [`crate::service::pool::admin::mark_unusable`].
pub fn worth_another_x(err: &pns_upstream::UpstreamError) -> bool {
    use pns_core::result_code::ResultCode as R;
    matches!(
        err.result_code(),
        Some(
            R::BindingExists
                | R::NotEnoughNumbers
                | R::NumberFull
                | R::NumberAbnormal
                | R::NumberNotOwned
        )
    )
}

/// What a new binding needs from the pool.
#[derive(Debug, Clone)]
pub struct Want<'a> {
    pub parties: [&'a str; 2],
    pub area_code: Option<&'a str>,
    /// Any area when the asked one has no free X.
    pub loose: bool,
    /// Numbers the platform already refused for this binding.
    pub exclude: Vec<String>,
}

pub enum PlaceError {
    /// Nothing free; says why.
    Exhausted(String),
    Db(DbErr),
}

impl From<DbErr> for PlaceError {
    fn from(e: DbErr) -> Self {
        Self::Db(e)
    }
}

/// True when the pool has no number at all: the platform then picks X from `areaCode`.
pub async fn pool_is_empty<C: ConnectionTrait>(conn: &C) -> Result<bool, DbErr> {
    Ok(XNumbers::find().count(conn).await? == 0)
}

/// Usable numbers for `want`, best first.
pub async fn candidates<C: ConnectionTrait>(
    conn: &C,
    want: &Want<'_>,
) -> Result<Vec<String>, DbErr> {
    let strict = eligible(conn, want, want.area_code).await?;
    if strict.is_empty() && want.loose && want.area_code.is_some() {
        return eligible(conn, want, None).await;
    }
    Ok(strict)
}

async fn eligible<C: ConnectionTrait>(
    conn: &C,
    want: &Want<'_>,
    area: Option<&str>,
) -> Result<Vec<String>, DbErr> {
    let holds_a_party = Query::select()
        .expr(Expr::val(1))
        .from(BindingParties)
        .and_where(
            Expr::col((BindingParties, binding_parties::Column::RelationNum))
                .equals((XNumbers, x_numbers::Column::Number)),
        )
        .and_where(
            Expr::col((BindingParties, binding_parties::Column::PartyNum))
                .is_in(want.parties.iter().copied()),
        )
        .to_owned();
    let mut query = XNumbers::find()
        .filter(can_take_a_binding())
        .filter(Expr::exists(holds_a_party).not());
    if let Some(area) = area {
        query = query.filter(x_numbers::Column::AreaCode.eq(area));
    }
    if !want.exclude.is_empty() {
        query = query.filter(x_numbers::Column::Number.is_not_in(want.exclude.iter().cloned()));
    }
    Ok(query
        .order_by_asc(x_numbers::Column::InUse)
        .order_by_asc(x_numbers::Column::Number)
        .all(conn)
        .await?
        .into_iter()
        .map(|x| x.number)
        .collect())
}

/// Writes the `pending` row on the best free X, claiming the slot and both parties with it.
pub async fn place(
    db: &DatabaseConnection,
    app_id: &str,
    new: &NewBinding,
    want: &Want<'_>,
) -> Result<bindings::Model, PlaceError> {
    first_free(db, want, |x| async move {
        repo::insert_pending_on(db, app_id, new, &x).await
    })
    .await
}

/// Moves a still-pending binding to another X after the platform refused the first.
pub async fn repoint(
    db: &DatabaseConnection,
    id: Uuid,
    from: &str,
    want: &Want<'_>,
) -> Result<bindings::Model, PlaceError> {
    first_free(db, want, |x| async move {
        repo::repoint(db, id, from, &x, want.parties).await
    })
    .await
}

/// Offers `take` the candidates best first until it gets one (`Some`); a candidate taken between the
/// read and the claim answers `None`, and after a round of those the candidates are read again.
async fn first_free<F, Fut>(
    db: &DatabaseConnection,
    want: &Want<'_>,
    mut take: F,
) -> Result<bindings::Model, PlaceError>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Option<bindings::Model>, DbErr>>,
{
    for _ in 0..ROUNDS {
        let xs = candidates(db, want).await?;
        if xs.is_empty() {
            break;
        }
        for x in xs {
            if let Some(model) = take(x).await? {
                return Ok(model);
            }
        }
    }
    Err(PlaceError::Exhausted(explain(db, want).await?))
}

/// Why nothing is free, for the 409: each number in scope counted under its first blocking reason.
async fn explain<C: ConnectionTrait>(conn: &C, want: &Want<'_>) -> Result<String, DbErr> {
    let scope_area = want.area_code.filter(|_| !want.loose);
    let mut query = XNumbers::find();
    if let Some(area) = scope_area {
        query = query.filter(x_numbers::Column::AreaCode.eq(area));
    }
    let numbers = query.all(conn).await?;
    let place = match scope_area {
        Some(area) => format!("in area {area}"),
        None => "in the pool".to_owned(),
    };
    if numbers.is_empty() {
        return Ok(format!("no X number {place}"));
    }
    let conflicting: HashSet<String> = BindingParties::find()
        .filter(binding_parties::Column::PartyNum.is_in(want.parties.iter().copied()))
        .filter(
            binding_parties::Column::RelationNum.is_in(numbers.iter().map(|n| n.number.clone())),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.relation_num)
        .collect();
    let (mut refused, mut unavailable, mut reserved, mut conflict, mut full) = (0, 0, 0, 0, 0);
    for n in &numbers {
        if want.exclude.contains(&n.number) {
            refused += 1;
        } else if !n.status.accepts_new_bindings() || n.unusable_since.is_some() {
            unavailable += 1;
        } else if n.reserved {
            reserved += 1;
        } else if conflicting.contains(&n.number) {
            conflict += 1;
        } else if n.in_use >= n.capacity {
            full += 1;
        }
    }
    let parties = format!(
        "{} or {}",
        pns_core::phone::mask(want.parties[0]),
        pns_core::phone::mask(want.parties[1])
    );
    let reasons: Vec<String> = [
        (conflict, format!("already bind {parties}")),
        (full, "are at capacity".to_owned()),
        (
            unavailable,
            "are not in normal status (suspended, unavailable, frozen or marked unusable)"
                .to_owned(),
        ),
        (reserved, "are reserved".to_owned()),
        (
            refused,
            "were refused by the platform for this binding".to_owned(),
        ),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, why)| format!("{count} {why}"))
    .collect();
    let total = numbers.len();
    let headline = if conflict == total {
        format!("every X number {place} already binds {parties}")
    } else if full == total {
        format!("every X number {place} is at capacity")
    } else {
        format!("no free X number {place}")
    };
    let why = if reasons.is_empty() {
        "the last free one was just taken by a concurrent request".to_owned()
    } else {
        reasons.join(", ")
    };
    Ok(format!("{headline} ({total} number(s): {why})"))
}
