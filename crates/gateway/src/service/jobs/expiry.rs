//! Expiry: a binding whose `expiresAt` has passed is marked `expired` and its X pairs are freed. The
//! platform unbinds it on its own, so nothing is sent upstream (and an expired binding is never
//! unbound there again).

use chrono::Utc;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::domain::BindingStatus;
use crate::repo::bindings::{self as repo, Ending};

/// Rows handled per pass; the next pass takes the rest.
const BATCH: u64 = 500;

/// Ends every due binding; returns how many it ended.
pub async fn sweep(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let now = Utc::now();
    let due = Bindings::find()
        .filter(bindings::Column::Status.eq(BindingStatus::Active))
        .filter(bindings::Column::ExpiresAt.lte(now))
        .order_by_asc(bindings::Column::ExpiresAt)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut ended = 0;
    for row in due {
        // Still due at the moment of the write: a modify with a new duration may have restarted the clock.
        let guard = Condition::all().add(bindings::Column::ExpiresAt.lte(now));
        let after = repo::end_if(db, row.id, Ending::expired(), guard).await?;
        if after.status == BindingStatus::Expired && after.ended_at.is_some_and(|t| t >= now) {
            ended += 1;
        }
    }
    if ended > 0 {
        tracing::info!(ended, "expired bindings swept");
    }
    Ok(ended)
}
