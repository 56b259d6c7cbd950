//! Reading drift reports back: runs, one run's findings and the orphans, each a bounded page so a
//! run with a million findings cannot make one admin request read them all.

use std::collections::BTreeMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Order, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::db::entity::orphan_bindings::{self, Entity as OrphanBindings};
use crate::db::entity::reconcile_findings::{self, Entity as Findings};
use crate::db::entity::reconcile_runs::{self, Entity as Runs};
use crate::service::error::QueryError;
use crate::service::page::{Cursor, Keyset, Page, PageRequest, text_key, uuid_key};

/// Runs, newest first.
pub async fn runs<C: ConnectionTrait>(
    db: &C,
    page: &PageRequest,
) -> Result<Page<reconcile_runs::Model>, QueryError> {
    let keyset = Keyset {
        time: reconcile_runs::Column::StartedAt,
        key: reconcile_runs::Column::Id,
        order: Order::Desc,
        key_value: uuid_key,
    };
    keyset
        .fetch(db, Runs::find(), page, |r| Cursor::new(r.started_at, r.id))
        .await
}

/// A run and how many findings of each category it has (counted by the database, not loaded).
pub async fn run<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<(reconcile_runs::Model, BTreeMap<String, u64>), QueryError> {
    let run = Runs::find_by_id(id)
        .one(db)
        .await?
        .ok_or(QueryError::NotFound("reconcile run"))?;
    #[derive(FromQueryResult)]
    struct CategoryCount {
        category: String,
        n: i64,
    }
    let counts = Findings::find()
        .select_only()
        .column(reconcile_findings::Column::Category)
        .column_as(reconcile_findings::Column::Id.count(), "n")
        .filter(reconcile_findings::Column::RunId.eq(id))
        .group_by(reconcile_findings::Column::Category)
        .into_model::<CategoryCount>()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.category, u64::try_from(c.n).unwrap_or(0)))
        .collect();
    Ok((run, counts))
}

/// One page of a run's findings, in the order the run found them; an unknown run is not found
/// (rather than an empty page).
pub async fn findings<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    page: &PageRequest,
) -> Result<Page<reconcile_findings::Model>, QueryError> {
    if Runs::find_by_id(run_id).one(db).await?.is_none() {
        return Err(QueryError::NotFound("reconcile run"));
    }
    let keyset = Keyset {
        time: reconcile_findings::Column::CreatedAt,
        key: reconcile_findings::Column::Id,
        order: Order::Asc,
        key_value: uuid_key,
    };
    let query = Findings::find().filter(reconcile_findings::Column::RunId.eq(run_id));
    keyset
        .fetch(db, query, page, |f| Cursor::new(f.created_at, f.id))
        .await
}

/// Orphans as of the last run that checked their X, oldest sighting first.
pub async fn orphans<C: ConnectionTrait>(
    db: &C,
    page: &PageRequest,
) -> Result<Page<orphan_bindings::Model>, QueryError> {
    let keyset = Keyset {
        time: orphan_bindings::Column::FirstSeenAt,
        key: orphan_bindings::Column::SubscriptionId,
        order: Order::Asc,
        key_value: text_key,
    };
    keyset
        .fetch(db, OrphanBindings::find(), page, |o| {
            Cursor::new(o.first_seen_at, &o.subscription_id)
        })
        .await
}
