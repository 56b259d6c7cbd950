//! The dispatcher: copies new outbox events into one delivery per subscribed endpoint, then claims
//! due deliveries and sends them, a bounded number at a time.
//!
//! A claim is a lease (`claimed_until`) taken by one conditional UPDATE (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so several instances never send one delivery at once; an instance killed mid-delivery
//! leaves a lease that runs out, and the delivery is sent again: at least once, never lost.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::send::Sender;
use crate::db::entity::webhook_deliveries::{self, DeliveryStatus, Entity as Deliveries};
use crate::db::entity::webhook_endpoints::{self, Entity as Endpoints};
use crate::db::entity::webhook_events::{self, Entity as Events};
use crate::service::webhooks::endpoints::subscribed;
use crate::service::webhooks::outbox::EventType;
use crate::state::AppState;

pub const JOB: &str = "webhook_dispatcher";
/// Events copied into deliveries per transaction.
const FAN_OUT_BATCH: u64 = 200;

/// Runs until `stop` turns true; deliveries in flight then finish (each is bounded by the timeout).
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let settings = state.settings.webhooks.clone();
    let sender = match Sender::new(&state) {
        Ok(sender) => Arc::new(sender),
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; no webhooks will be sent");
            return;
        }
    };
    let db = state.db.clone();
    let lease = settings.timeout * 2 + Duration::from_secs(15);
    let permits = Arc::new(Semaphore::new(settings.concurrency));
    let mut in_flight = JoinSet::new();
    state.jobs.register(
        JOB,
        settings.poll_interval + lease + Duration::from_secs(60),
    );
    while !*stop.borrow() {
        state.jobs.beat(JOB);
        let fanned = fan_out(&db).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "webhook fan-out failed");
            0
        });
        let free = permits.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            claim(&db, free as u64, lease).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                Vec::new()
            })
        };
        let saturated = free > 0 && claimed.len() == free;
        for delivery in claimed {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let sender = sender.clone();
            in_flight.spawn(async move {
                sender.deliver(delivery).await;
                drop(permit);
            });
        }
        while in_flight.try_join_next().is_some() {}
        if fanned > 0 || saturated {
            continue;
        }
        // Nothing to do now: wait for the poll interval, a free slot, or the stop.
        tokio::select! {
            _ = tokio::time::sleep(settings.poll_interval) => {}
            _ = stop.changed() => {}
            Some(_) = in_flight.join_next(), if free == 0 => {}
        }
    }
    while in_flight.join_next().await.is_some() {}
    state.jobs.deregister(JOB);
}

/// Copies up to a batch of new events into deliveries, one per subscribed enabled endpoint, and marks
/// them fanned out; events no endpoint wants are dropped. One transaction: a crash leaves the events
/// to the next round, and the unique (endpoint, event) pair makes a repeat harmless.
pub async fn fan_out(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let txn = db.begin().await?;
    let mut query = Events::find()
        .filter(webhook_events::Column::FannedOutAt.is_null())
        .order_by_asc(webhook_events::Column::CreatedAt)
        .limit(FAN_OUT_BATCH);
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let events = query.all(&txn).await?;
    if events.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    let endpoints = Endpoints::find()
        .filter(webhook_endpoints::Column::Enabled.eq(true))
        .all(&txn)
        .await?;
    let now = Utc::now();
    let (mut wanted, mut unwanted, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for event in &events {
        let before = rows.len();
        for endpoint in endpoints.iter().filter(|e| wants(e, event)) {
            rows.push(webhook_deliveries::ActiveModel {
                id: sea_orm::Set(uuid::Uuid::now_v7()),
                endpoint_id: sea_orm::Set(endpoint.id),
                event_id: sea_orm::Set(event.id),
                event_type: sea_orm::Set(event.event_type.clone()),
                status: sea_orm::Set(DeliveryStatus::Pending),
                attempts: sea_orm::Set(0),
                next_attempt_at: sea_orm::Set(now),
                claimed_until: sea_orm::Set(None),
                created_at: sea_orm::Set(event.created_at),
                finished_at: sea_orm::Set(None),
            });
        }
        if rows.len() > before {
            wanted.push(event.id);
        } else {
            unwanted.push(event.id);
        }
    }
    for chunk in rows.chunks(500) {
        Deliveries::insert_many(chunk.iter().cloned())
            .on_conflict_do_nothing_on([
                webhook_deliveries::Column::EndpointId,
                webhook_deliveries::Column::EventId,
            ])
            .exec_without_returning(&txn)
            .await?;
    }
    if !wanted.is_empty() {
        Events::update_many()
            .col_expr(webhook_events::Column::FannedOutAt, Expr::value(now))
            .filter(webhook_events::Column::Id.is_in(wanted))
            .exec(&txn)
            .await?;
    }
    if !unwanted.is_empty() {
        Events::delete_many()
            .filter(webhook_events::Column::Id.is_in(unwanted))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(events.len())
}

/// Whether `endpoint` receives `event`: its app's events (admin endpoints: every app's, and the
/// pool's), filtered by its subscriptions.
fn wants(endpoint: &webhook_endpoints::Model, event: &webhook_events::Model) -> bool {
    let admin_only = EventType::ALL
        .iter()
        .any(|t| t.as_str() == event.event_type && t.admin_only());
    let audience = if endpoint.all_apps {
        true
    } else {
        !admin_only && event.app_id.as_deref() == Some(endpoint.app_id.as_str())
    };
    audience && subscribed(&endpoint.events, &event.event_type)
}

/// Takes up to `n` due deliveries of enabled endpoints for `lease`. Rows another instance is claiming
/// right now are skipped rather than waited for (PostgreSQL); SQLite has one writer anyway.
pub async fn claim(
    db: &DatabaseConnection,
    n: u64,
    lease: Duration,
) -> Result<Vec<webhook_deliveries::Model>, DbErr> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(1));
    let enabled = Query::select()
        .column(webhook_endpoints::Column::Id)
        .from(Endpoints)
        .and_where(webhook_endpoints::Column::Enabled.eq(true))
        .to_owned();
    let mut due = Query::select();
    due.column(webhook_deliveries::Column::Id)
        .from(Deliveries)
        .and_where(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .and_where(webhook_deliveries::Column::NextAttemptAt.lte(now))
        .cond_where(
            Condition::any()
                .add(webhook_deliveries::Column::ClaimedUntil.is_null())
                .add(webhook_deliveries::Column::ClaimedUntil.lt(now)),
        )
        .and_where(webhook_deliveries::Column::EndpointId.in_subquery(enabled))
        .order_by(
            webhook_deliveries::Column::NextAttemptAt,
            sea_orm::Order::Asc,
        )
        .limit(n);
    if db.get_database_backend() == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    Deliveries::update_many()
        .col_expr(webhook_deliveries::Column::ClaimedUntil, Expr::value(until))
        .filter(webhook_deliveries::Column::Id.in_subquery(due.to_owned()))
        .exec_with_returning(db)
        .await
}
