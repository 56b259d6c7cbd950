//! Storage of the binding table group: the one owner of every write to `bindings`,
//! `binding_parties` and the X-number counters (`x_numbers.in_use`). Services call these named
//! operations; none writes those tables itself, so the invariant and the lock order live here only.
//!
//! The AXB invariant (on one X a real number is in at most one pending/active binding) is the
//! `binding_parties` primary key. Lock order, for every writer: X rows first (in number order), then
//! party rows (sorted); PostgreSQL then never sees a lock cycle. Every change of a binding row bumps
//! its `version`, which conditional writes and reconciliation compare.

pub mod bindings;
pub mod change;
pub mod correction;
mod ending;
mod fused;
mod group_commit;
pub mod outbox;
mod parties;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{DbErr, EntityTrait, UpdateMany};

use crate::db::entity::bindings::{Column, Entity as Bindings};

pub use group_commit::GroupCommit;
pub use parties::{can_take_a_binding, live_bindings};

/// A write that claims parties on X: refused when one is already bound there.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The conflicting number, unmasked (mask it before it reaches a log or an answer).
    #[error("a party is already bound on this X number")]
    PartyTaken(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The start of every change of a binding row: `updated_at` set and `version` bumped, so conditional
/// writes (`WHERE version = ?`) and reconciliation (which judges rows by `updated_at`) see it.
pub(crate) fn row_change(now: DateTime<Utc>) -> UpdateMany<Bindings> {
    Bindings::update_many()
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
}
