//! Reading call history and recordings, scoped to the calling app (admin sees all). Calls that
//! matched no binding have no app and are visible to admins only.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, Order, QueryFilter};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entity::calls::{self, Entity as Calls};
use crate::service::error::QueryError;
use crate::service::history::{self, HistoryColumns, HistoryFilter};
use crate::service::page::{Cursor, Keyset, Page, PageRequest, uuid_key};
use crate::state::AppState;

/// The platform keeps a recording this long after the CDR push.
pub const RECORDING_RETENTION: Duration = Duration::days(7);
/// A download link stays valid about this long.
const RECORDING_LINK_TTL: Duration = Duration::days(3);

pub async fn find_call(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<calls::Model, QueryError> {
    let mut query = Calls::find_by_id(id);
    if let Some(app) = principal.app_scope() {
        query = query.filter(calls::Column::AppId.eq(app));
    }
    query.one(db).await?.ok_or(QueryError::NotFound("call"))
}

/// What a list of calls is narrowed to; every field already valid.
#[derive(Debug, Clone, Default)]
pub struct CallQuery {
    pub history: HistoryFilter,
    pub outcome: Option<String>,
    /// Only calls that matched no binding (admin only).
    pub unbound: bool,
}

/// Newest first over (started_at, id).
pub async fn list_calls(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: CallQuery,
    page: &PageRequest,
) -> Result<Page<calls::Model>, QueryError> {
    use calls::Column as C;
    let mut query = Calls::find();
    if filter.unbound {
        if !principal.is_admin() {
            return Err(QueryError::AdminOnly(
                "unbound call attempts are visible to admins only",
            ));
        }
        query = query.filter(C::BindingId.is_null());
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(C::Outcome.eq(outcome.as_str()));
    }
    let columns = HistoryColumns {
        app: C::AppId,
        binding: C::BindingId,
        numbers: [C::Caller, C::Called, C::RelationNum],
        time: C::StartedAt,
    };
    let query = history::narrow(db, principal, &filter.history, columns, query).await?;
    let keyset = Keyset {
        time: calls::Column::StartedAt,
        key: calls::Column::Id,
        order: Order::Desc,
        key_value: uuid_key,
    };
    keyset
        .fetch(db, query, page, |c| {
            Cursor::new(c.started_at.unwrap_or(c.created_at), c.id)
        })
        .await
}

/// A short-lived link to a recording's file.
#[derive(Debug, Clone)]
pub struct RecordingLink {
    pub url: String,
    /// After this the link (or the file) is gone.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("the recording is past the platform's 7-day retention")]
    Gone,
    #[error(transparent)]
    Upstream(#[from] pns_upstream::UpstreamError),
}

/// A download link for the call's recording, from the platform's record API.
pub async fn recording(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<RecordingLink, RecordingError> {
    let call = find_call(&state.db, principal, id).await?;
    let (Some(domain), Some(object), true) = (
        call.record_domain.as_deref(),
        call.record_object_name.as_deref(),
        call.has_recording,
    ) else {
        return Err(QueryError::NotFound("recording").into());
    };
    let now = Utc::now();
    let kept_until = call.cdr_received_at.unwrap_or(call.created_at) + RECORDING_RETENTION;
    if now >= kept_until {
        return Err(RecordingError::Gone);
    }
    let url = match state.upstream.record_url(domain, object).await {
        Ok(url) => url,
        // The platform no longer has it (deleted early, or our clock and its differ).
        Err(pns_upstream::UpstreamError::Rejected {
            code: pns_core::ResultCode::RecordNotFound,
            ..
        }) => return Err(RecordingError::Gone),
        Err(e) => return Err(e.into()),
    };
    Ok(RecordingLink {
        url,
        expires_at: (now + RECORDING_LINK_TTL).min(kept_until),
    })
}
