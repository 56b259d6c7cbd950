//! What the call and the SMS history are both narrowed by: the calling app, a binding, a number on
//! either side or X, and a time window. One rule for both lists, so they cannot drift apart.

use chrono::{DateTime, Utc};
use pns_core::phone::PhoneNumber;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use crate::auth::Principal;
use crate::service::bindings::query::find_scoped;
use crate::service::error::QueryError;

/// The filters shared by every history list; every field already valid.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub binding_id: Option<Uuid>,
    /// A real party (either side) or X.
    pub number: Option<PhoneNumber>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// Where a history table keeps what [`HistoryFilter`] narrows by.
pub struct HistoryColumns<C> {
    pub app: C,
    pub binding: C,
    /// Caller, called and X: `number` matches any of them.
    pub numbers: [C; 3],
    /// The time `from` and `to` bound (and the list is ordered by).
    pub time: C,
}

/// `query` narrowed to what `principal` may see and `filter` asks for. A binding the caller cannot
/// see is a 404, as everywhere else.
pub async fn narrow<E: EntityTrait>(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: &HistoryFilter,
    columns: HistoryColumns<E::Column>,
    mut query: Select<E>,
) -> Result<Select<E>, QueryError> {
    if let Some(app) = principal.app_scope() {
        query = query.filter(columns.app.eq(app));
    }
    if let Some(binding) = filter.binding_id {
        find_scoped(db, principal, binding).await?;
        query = query.filter(columns.binding.eq(binding));
    }
    if let Some(n) = &filter.number {
        let any = columns
            .numbers
            .into_iter()
            .fold(Condition::any(), |any, c| any.add(c.eq(n.as_str())));
        query = query.filter(any);
    }
    if let Some(from) = filter.from {
        query = query.filter(columns.time.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(columns.time.lt(to));
    }
    Ok(query)
}
