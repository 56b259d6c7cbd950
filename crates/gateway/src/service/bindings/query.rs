//! Reading bindings, always scoped to the calling app (admin sees all). Another app's binding is a
//! 404, never a 403: its existence is not disclosed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::validate::phone;
use crate::auth::Principal;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::error::ApiError;
use crate::routes::bindings::dto::BindingFilter;

pub const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;

pub async fn find_scoped(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<bindings::Model, ApiError> {
    // By primary key alone, the app checked here: with `AND app_id = ..` in the SQL, PostgreSQL may
    // pick the (app_id, ..) index on a table it has no statistics for yet and read every row of the app.
    Bindings::find_by_id(id)
        .one(db)
        .await?
        .filter(|row| principal.app_scope().is_none_or(|app| row.app_id == app))
        .ok_or_else(|| ApiError::not_found("binding"))
}

/// Keyset pagination over (created_at, id), newest first: stable under concurrent inserts.
pub struct Cursor {
    created_at: DateTime<Utc>,
    id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.created_at.to_rfc3339(), self.id))
    }

    pub fn decode(raw: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::validation("cursor", "not a cursor returned by this API");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once('|').ok_or_else(bad)?;
        Ok(Self {
            created_at: DateTime::parse_from_rfc3339(at)
                .map_err(|_| bad())?
                .with_timezone(&Utc),
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

pub fn page_size(limit: Option<u32>) -> Result<u64, ApiError> {
    match limit {
        None => Ok(u64::from(DEFAULT_PAGE)),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(u64::from(n)),
        Some(_) => Err(ApiError::validation(
            "limit",
            format!("must be 1..={MAX_PAGE}"),
        )),
    }
}

pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: BindingFilter,
) -> Result<(Vec<bindings::Model>, Option<String>), ApiError> {
    let limit = page_size(filter.limit)?;
    let mut query = Bindings::find();
    if let Some(app) = principal.app_scope() {
        query = query.filter(bindings::Column::AppId.eq(app));
    }
    if let Some(status) = filter.status {
        query = query.filter(bindings::Column::Status.eq(status.as_str()));
    }
    if let Some(x) = &filter.relation_num {
        query = query.filter(bindings::Column::RelationNum.eq(phone("relationNum", x)?.as_str()));
    }
    if let Some(n) = &filter.number {
        let n = phone("number", n)?;
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
    if let Some(raw) = &filter.cursor {
        let c = Cursor::decode(raw)?;
        query = query.filter(
            Condition::any()
                .add(bindings::Column::CreatedAt.lt(c.created_at))
                .add(
                    Condition::all()
                        .add(bindings::Column::CreatedAt.eq(c.created_at))
                        .add(bindings::Column::Id.lt(c.id)),
                ),
        );
    }
    let mut rows = query
        .order_by_desc(bindings::Column::CreatedAt)
        .order_by_desc(bindings::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|last| {
            Cursor {
                created_at: last.created_at,
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok((rows, next))
}
