//! The delivery log of an endpoint, a manual retry, and the backlog the metrics report.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{WebhookError, encode_cursor, endpoints};
use crate::auth::Principal;
use crate::db::entity::webhook_attempts::{self, Entity as Attempts};
use crate::db::entity::webhook_deliveries::{self, DeliveryStatus, Entity as Deliveries};
use crate::db::entity::webhook_events::{self, Entity as Events};

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
    before: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<DeliveryLog>, Option<String>), WebhookError> {
    let endpoint = endpoints::find(db, principal, endpoint_id).await?;
    let mut query =
        Deliveries::find().filter(webhook_deliveries::Column::EndpointId.eq(endpoint.id));
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::Column::Status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::Column::Id.lt(before));
    }
    let mut rows = query
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next = (rows.len() as u64 > limit).then(|| {
        rows.truncate(limit as usize);
        encode_cursor(rows[rows.len() - 1].id)
    });
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
    Ok((logs, next))
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
