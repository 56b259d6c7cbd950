//! Reading SMS history, scoped to the calling app (admin sees all). Texts that matched no binding
//! have no app and are visible to admins only.

use chrono::{DateTime, Utc};
use pns_core::phone::PhoneNumber;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, QueryFilter};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entity::sms_messages::{self, Entity as SmsMessages};
use crate::service::bindings::query::find_scoped;
use crate::service::error::QueryError;
use crate::service::page::{Cursor, Keyset, Page, PageRequest, text_key};

/// What a list of texts is narrowed to; every field already valid.
#[derive(Debug, Clone, Default)]
pub struct SmsQuery {
    pub binding_id: Option<Uuid>,
    /// Sender, receiver or X.
    pub number: Option<PhoneNumber>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub decision: Option<String>,
}

/// Newest first over (received_at, smsIdentifier).
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: SmsQuery,
    page: &PageRequest,
) -> Result<Page<sms_messages::Model>, QueryError> {
    use sms_messages::Column as S;
    let mut query = SmsMessages::find();
    if let Some(app) = principal.app_scope() {
        query = query.filter(S::AppId.eq(app));
    }
    if let Some(binding) = filter.binding_id {
        find_scoped(db, principal, binding).await?;
        query = query.filter(S::BindingId.eq(binding));
    }
    if let Some(n) = &filter.number {
        query = query.filter(
            Condition::any()
                .add(S::Calling.eq(n.as_str()))
                .add(S::Called.eq(n.as_str()))
                .add(S::VirtualNumber.eq(n.as_str())),
        );
    }
    if let Some(decision) = &filter.decision {
        query = query.filter(S::Decision.eq(decision.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(S::ReceivedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(S::ReceivedAt.lt(to));
    }
    let keyset = Keyset {
        time: S::ReceivedAt,
        key: S::SmsIdentifier,
        order: Order::Desc,
        key_value: text_key,
    };
    keyset
        .fetch(db, query, page, |s| {
            Cursor::new(s.received_at, &s.sms_identifier)
        })
        .await
}
