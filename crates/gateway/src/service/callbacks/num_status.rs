//! X-number status pushes: each item kept as history, and the pool's number updated so selection
//! stops (or resumes) placing new bindings on it.

use chrono::Utc;
use pns_core::callback::{NumStatusInfo, XNumberStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::db::entity::x_number_status_events::{self, Entity as StatusEvents};
use crate::db::entity::x_numbers::{self, Entity as XNumbers};

/// The `status` text kept for a code: the pool's word for it, or `code:<n>` for one not documented.
fn status_label(code: i64) -> String {
    XNumberStatus::from_code(code)
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|| format!("code:{code}"))
}

/// Returns how many items were stored.
pub async fn store(txn: &DatabaseTransaction, items: &[NumStatusInfo]) -> Result<usize, DbErr> {
    let now = Utc::now();
    for item in items {
        let label = status_label(item.status);
        let cause = item.cause.and_then(|c| i32::try_from(c).ok());
        StatusEvents::insert(x_number_status_events::ActiveModel {
            id: Set(Uuid::new_v4()),
            number: Set(item.number.clone()),
            status: Set(label.clone()),
            status_code: Set(i32::try_from(item.status).unwrap_or(-1)),
            cause: Set(cause),
            received_at: Set(now),
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
        let updated = XNumbers::update_many()
            .col_expr(x_numbers::Column::Status, Expr::value(kind.as_str()))
            .col_expr(x_numbers::Column::StatusCause, Expr::value(cause))
            .col_expr(x_numbers::Column::StatusUpdatedAt, Expr::value(now))
            .col_expr(x_numbers::Column::UpdatedAt, Expr::value(now))
            .filter(x_numbers::Column::Number.eq(item.number.as_str()))
            .exec(txn)
            .await?;
        if updated.rows_affected == 0 {
            tracing::warn!(number = %pns_core::mask(&item.number), "status for an X number not in the pool; kept as history");
        } else {
            tracing::info!(number = %pns_core::mask(&item.number), status = kind.as_str(), ?cause, "X number status changed");
        }
    }
    Ok(items.len())
}
