//! Reading bindings, always scoped to the calling app (admin sees all). Another app's binding is a
//! 404, never a 403: its existence is not disclosed.

use chrono::{DateTime, Utc};
use pns_core::phone::PhoneNumber;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, QueryFilter};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::domain::BindingStatus;
use crate::service::error::QueryError;
use crate::service::page::{Cursor, Keyset, Page, PageRequest, uuid_key};

pub async fn find_scoped(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<bindings::Model, QueryError> {
    // By primary key alone, the app checked here: with `AND app_id = ..` in the SQL, PostgreSQL may
    // pick the (app_id, ..) index on a table it has no statistics for yet and read every row of the app.
    Bindings::find_by_id(id)
        .one(db)
        .await?
        .filter(|row| principal.app_scope().is_none_or(|app| row.app_id == app))
        .ok_or(QueryError::NotFound("binding"))
}

/// What a list of bindings is narrowed to; every field already valid.
#[derive(Debug, Clone, Default)]
pub struct BindingQuery {
    pub status: Option<BindingStatus>,
    pub relation_num: Option<PhoneNumber>,
    /// A or B.
    pub number: Option<PhoneNumber>,
    pub external_ref: Option<String>,
    pub subscription_id: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// Newest first over (created_at, id).
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: BindingQuery,
    page: &PageRequest,
) -> Result<Page<bindings::Model>, QueryError> {
    let mut query = Bindings::find();
    if let Some(app) = principal.app_scope() {
        query = query.filter(bindings::Column::AppId.eq(app));
    }
    if let Some(status) = filter.status {
        query = query.filter(bindings::Column::Status.eq(status));
    }
    if let Some(x) = &filter.relation_num {
        query = query.filter(bindings::Column::RelationNum.eq(x.as_str()));
    }
    if let Some(n) = &filter.number {
        query = query.filter(
            Condition::any()
                .add(bindings::Column::CallerNum.eq(n.as_str()))
                .add(bindings::Column::CalleeNum.eq(n.as_str())),
        );
    }
    if let Some(r) = &filter.external_ref {
        query = query.filter(bindings::Column::ExternalRef.eq(r.as_str()));
    }
    if let Some(s) = &filter.subscription_id {
        query = query.filter(bindings::Column::SubscriptionId.eq(s.as_str()));
    }
    if let Some(from) = filter.created_from {
        query = query.filter(bindings::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.created_to {
        query = query.filter(bindings::Column::CreatedAt.lt(to));
    }
    let keyset = Keyset {
        time: bindings::Column::CreatedAt,
        key: bindings::Column::Id,
        order: Order::Desc,
        key_value: uuid_key,
    };
    keyset
        .fetch(db, query, page, |b| Cursor::new(b.created_at, b.id))
        .await
}
