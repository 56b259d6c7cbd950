//! Reading SMS history, scoped to the calling app (admin sees all). Texts that matched no binding
//! have no app and are visible to admins only.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, Order, QueryFilter};

use crate::auth::Principal;
use crate::db::entity::sms_messages::{self, Entity as SmsMessages};
use crate::service::error::QueryError;
use crate::service::history::{self, HistoryColumns, HistoryFilter};
use crate::service::page::{Cursor, Keyset, Page, PageRequest, text_key};

/// What a list of texts is narrowed to; every field already valid.
#[derive(Debug, Clone, Default)]
pub struct SmsQuery {
    pub history: HistoryFilter,
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
    if let Some(decision) = &filter.decision {
        query = query.filter(S::Decision.eq(decision.as_str()));
    }
    let columns = HistoryColumns {
        app: S::AppId,
        binding: S::BindingId,
        numbers: [S::Calling, S::Called, S::VirtualNumber],
        time: S::ReceivedAt,
    };
    let query = history::narrow(db, principal, &filter.history, columns, query).await?;
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
