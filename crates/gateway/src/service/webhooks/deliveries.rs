//! The delivery log of an endpoint, a manual retry, and the backlog the metrics report.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{WebhookError, endpoints};
use crate::auth::Principal;
use crate::db::entity::webhook_attempts::{self, Entity as Attempts};
use crate::db::entity::webhook_deliveries::{self, DeliveryStatus, Entity as Deliveries};
use crate::db::entity::webhook_events::{self, Entity as Events};
use crate::service::page::{Cursor, Keyset, Page, PageRequest, uuid_key};

pub struct DeliveryLog {
    pub delivery: webhook_deliveries::Model,
    /// Oldest first.
    pub attempts: Vec<webhook_attempts::Model>,
}

/// Newest first, with each delivery's attempts.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    page: &PageRequest,
) -> Result<Page<DeliveryLog>, WebhookError> {
    let endpoint = endpoints::find(db, principal, endpoint_id).await?;
    let mut query =
        Deliveries::find().filter(webhook_deliveries::Column::EndpointId.eq(endpoint.id));
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::Column::Status.eq(status));
    }
    let keyset = Keyset {
        time: webhook_deliveries::Column::CreatedAt,
        key: webhook_deliveries::Column::Id,
        order: Order::Desc,
        key_value: uuid_key,
    };
    let Page {
        items: rows,
        next_cursor,
    } = keyset
        .fetch(db, query, page, |d| Cursor::new(d.created_at, d.id))
        .await?;
    let mut attempts = Attempts::find()
        .filter(webhook_attempts::Column::DeliveryId.is_in(rows.iter().map(|d| d.id)))
        .order_by_asc(webhook_attempts::Column::AttemptedAt)
        .all(db)
        .await?;
    let logs = rows
        .into_iter()
        .map(|delivery| {
            let (mine, rest) = attempts
                .drain(..)
                .partition(|a: &webhook_attempts::Model| a.delivery_id == delivery.id);
            attempts = rest;
            DeliveryLog {
                delivery,
                attempts: mine,
            }
        })
        .collect();
    Ok(Page {
        items: logs,
        next_cursor,
    })
}

/// Sends the delivery again now, whatever its state (a receiver dedupes by `webhook-id`). A failed
/// delivery gets one more attempt.
pub async fn retry(
    db: &DatabaseConnection,
    principal: &Principal,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> Result<DeliveryLog, WebhookError> {
    let endpoint = endpoints::find(db, principal, endpoint_id).await?;
    let delivery = Deliveries::update_many()
        .col_expr(
            webhook_deliveries::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(
            webhook_deliveries::Column::NextAttemptAt,
            Expr::value(Utc::now()),
        )
        .col_expr(
            webhook_deliveries::Column::FinishedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_deliveries::Column::Id.eq(delivery_id))
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint.id))
        .exec_with_returning(db)
        .await?
        .pop()
        .ok_or(WebhookError::DeliveryNotFound)?;
    let attempts = Attempts::find()
        .filter(webhook_attempts::Column::DeliveryId.eq(delivery.id))
        .order_by_asc(webhook_attempts::Column::AttemptedAt)
        .all(db)
        .await?;
    Ok(DeliveryLog { delivery, attempts })
}

/// What is waiting to be delivered: events not yet fanned out plus pending deliveries, and the age
/// of the oldest.
pub struct Backlog {
    pub waiting: u64,
    pub oldest: Option<DateTime<Utc>>,
}

pub async fn backlog<C: ConnectionTrait>(db: &C) -> Result<Backlog, DbErr> {
    let (pending, oldest_delivery): (i64, Option<DateTime<Utc>>) = Deliveries::find()
        .select_only()
        .column_as(webhook_deliveries::Column::Id.count(), "n")
        .column_as(webhook_deliveries::Column::CreatedAt.min(), "oldest")
        .filter(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    let (unsent, oldest_event): (i64, Option<DateTime<Utc>>) = Events::find()
        .select_only()
        .column_as(webhook_events::Column::Id.count(), "n")
        .column_as(webhook_events::Column::CreatedAt.min(), "oldest")
        .filter(webhook_events::Column::FannedOutAt.is_null())
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    let oldest = match (oldest_delivery, oldest_event) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Backlog {
        waiting: u64::try_from(pending + unsent).unwrap_or(0),
        oldest,
    })
}
