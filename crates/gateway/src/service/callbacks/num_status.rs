//! X-number status pushes: each item kept as history, and the pool's number updated so selection
//! stops (or resumes) placing new bindings on it.
//!
//! Pushes can arrive out of order (a redelivery of an old one after a newer one), so each status
//! carries the time it took effect (the platform's, when it sends one; else when it arrived) and
//! the pool keeps the newest: a status older than the number's current one is history only.

use chrono::{DateTime, Utc};
use pns_core::callback::{NumStatusInfo, XNumberStatus};
use pns_core::wire_time::{parse_event_time, parse_sms_time};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::db::entity::x_number_status_events::{self, Entity as StatusEvents};
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
use crate::domain::number::NumberStatus;
use crate::repo::outbox::number_event;

/// The `status` text kept for a code: the pool's word for it, or `code:<n>` for one not documented.
fn status_label(code: i64) -> String {
    XNumberStatus::from_code(code)
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|| format!("code:{code}"))
}

/// A platform time in either of its formats (`yyyy-MM-dd HH:mm:ss` UTC, or ISO 8601 with `Z`).
fn event_time(raw: &str) -> Option<DateTime<Utc>> {
    parse_event_time(raw)
        .or_else(|| parse_sms_time(raw))
        .or_else(|| {
            DateTime::parse_from_rfc3339(raw.trim())
                .ok()
                .map(|t| t.to_utc())
        })
}

/// Returns how many items were stored. `sent_at`: the push's own time, for items without one.
pub async fn store(
    txn: &DatabaseTransaction,
    items: &[NumStatusInfo],
    sent_at: Option<&str>,
) -> Result<usize, DbErr> {
    let now = Utc::now();
    for item in items {
        let label = status_label(item.status);
        let cause = item.cause.and_then(|c| i32::try_from(c).ok());
        let at = item
            .timestamp
            .as_deref()
            .or(sent_at)
            .and_then(event_time)
            .unwrap_or(now);
        StatusEvents::insert(x_number_status_events::ActiveModel {
            id: Set(Uuid::new_v4()),
            number: Set(item.number.clone()),
            status: Set(label.clone()),
            status_code: Set(i32::try_from(item.status).unwrap_or(-1)),
            cause: Set(cause),
            received_at: Set(now),
            event_at: Set(Some(at)),
        })
        .exec_without_returning(txn)
        .await?;
        let Some(kind) = item.kind() else {
            tracing::warn!(
                status = item.status,
                "X number status code not documented; kept as history only"
            );
            continue;
        };
        apply(txn, &item.number, kind, cause, at).await?;
    }
    Ok(items.len())
}

/// Moves the pool's number to `kind` unless it already holds a newer status; admins hear of it
/// (`number.status_changed`) when the status or its cause really changed, so a redelivered push is
/// history only.
async fn apply(
    txn: &DatabaseTransaction,
    number: &str,
    kind: XNumberStatus,
    cause: Option<i32>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let masked = pns_core::mask(number);
    let Some(before) = XNumbers::find_by_id(number.to_owned()).one(txn).await? else {
        tracing::warn!(number = %masked, "status for an X number not in the pool; kept as history");
        return Ok(());
    };
    // Same time: the later arrival wins (the platform's clock says no more).
    let updated = XNumbers::update_many()
        .col_expr(
            x_numbers::Column::Status,
            Expr::value(NumberStatus::from(kind)),
        )
        .col_expr(x_numbers::Column::StatusCause, Expr::value(cause))
        .col_expr(x_numbers::Column::StatusUpdatedAt, Expr::value(at))
        .col_expr(x_numbers::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(x_numbers::Column::Number.eq(number))
        .filter(
            Condition::any()
                .add(x_numbers::Column::StatusUpdatedAt.is_null())
                .add(x_numbers::Column::StatusUpdatedAt.lte(at)),
        )
        .exec_with_returning(txn)
        .await?
        .pop();
    match updated {
        Some(after)
            if (&after.status, after.status_cause) != (&before.status, before.status_cause) =>
        {
            tracing::info!(number = %masked, status = kind.as_str(), ?cause, "X number status changed");
            number_event(txn, &after).await?;
        }
        Some(_) => {}
        None => {
            tracing::info!(number = %masked, status = kind.as_str(), %at, "X number status older than the current one; kept as history");
        }
    }
    Ok(())
}
