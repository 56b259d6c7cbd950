//! Reading call and SMS history, scoped to the calling app (admin sees all). Calls and texts that
//! matched no binding have no app and are visible to admins only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entity::calls::{self, Entity as Calls};
use crate::db::entity::sms_messages::{self, Entity as SmsMessages};
use crate::error::{ApiError, ErrorCode};
use crate::routes::calls::dto::{CallFilter, RecordingOut, SmsFilter};
use crate::service::bindings::query::{find_scoped, page_size};
use crate::service::bindings::validate::phone;
use crate::state::AppState;

/// The platform keeps a recording this long after the CDR push.
pub const RECORDING_RETENTION: Duration = Duration::days(7);
/// A download link stays valid about this long.
const RECORDING_LINK_TTL: Duration = Duration::days(3);

/// Keyset cursor over (time, key), newest first.
fn encode_cursor(at: DateTime<Utc>, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{key}", at.to_rfc3339()))
}

fn decode_cursor(raw: &str) -> Result<(DateTime<Utc>, String), ApiError> {
    let bad = || ApiError::validation("cursor", "not a cursor returned by this API");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, key) = text.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?;
    Ok((at.with_timezone(&Utc), key.to_owned()))
}

pub async fn find_call(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<calls::Model, ApiError> {
    let mut query = Calls::find_by_id(id);
    if let Some(app) = principal.app_scope() {
        query = query.filter(calls::Column::AppId.eq(app));
    }
    query
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))
}

pub async fn list_calls(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: CallFilter,
) -> Result<(Vec<calls::Model>, Option<String>), ApiError> {
    let limit = page_size(filter.limit)?;
    let mut query = Calls::find();
    if let Some(app) = principal.app_scope() {
        query = query.filter(calls::Column::AppId.eq(app));
    }
    if filter.unbound == Some(true) {
        if !principal.is_admin() {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "unbound call attempts are visible to admins only",
            ));
        }
        query = query.filter(calls::Column::BindingId.is_null());
    }
    if let Some(binding) = filter.binding_id {
        // A binding the caller cannot see is a 404, as everywhere else.
        find_scoped(db, principal, binding).await?;
        query = query.filter(calls::Column::BindingId.eq(binding));
    }
    if let Some(n) = &filter.number {
        let n = phone("number", n)?;
        query = query.filter(
            Condition::any()
                .add(calls::Column::Caller.eq(n.as_str()))
                .add(calls::Column::Called.eq(n.as_str()))
                .add(calls::Column::RelationNum.eq(n.as_str())),
        );
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(calls::Column::Outcome.eq(outcome.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(calls::Column::StartedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(calls::Column::StartedAt.lt(to));
    }
    if let Some(raw) = &filter.cursor {
        let (at, key) = decode_cursor(raw)?;
        let id: Uuid = key
            .parse()
            .map_err(|_| ApiError::validation("cursor", "not a cursor returned by this API"))?;
        query = query.filter(
            Condition::any().add(calls::Column::StartedAt.lt(at)).add(
                Condition::all()
                    .add(calls::Column::StartedAt.eq(at))
                    .add(calls::Column::Id.lt(id)),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(calls::Column::StartedAt)
        .order_by_desc(calls::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next = next_page(&mut rows, limit, |c| {
        encode_cursor(c.started_at.unwrap_or(c.created_at), &c.id.to_string())
    });
    Ok((rows, next))
}

fn next_page<T>(rows: &mut Vec<T>, limit: u64, cursor: impl Fn(&T) -> String) -> Option<String> {
    if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(cursor)
    } else {
        None
    }
}

/// A download link for the call's recording, from the platform's record API.
pub async fn recording(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<RecordingOut, ApiError> {
    let call = find_call(&state.db, principal, id).await?;
    let (Some(domain), Some(object), true) = (
        call.record_domain.as_deref(),
        call.record_object_name.as_deref(),
        call.has_recording,
    ) else {
        return Err(ApiError::not_found("recording"));
    };
    let now = Utc::now();
    let kept_until = call.cdr_received_at.unwrap_or(call.created_at) + RECORDING_RETENTION;
    if now >= kept_until {
        return Err(gone());
    }
    let url = match state.upstream.record_url(domain, object).await {
        Ok(url) => url,
        // The platform no longer has it (deleted early, or our clock and its differ).
        Err(pns_upstream::UpstreamError::Rejected {
            code: pns_core::ResultCode::RecordNotFound,
            ..
        }) => return Err(gone()),
        Err(e) => return Err(e.into()),
    };
    Ok(RecordingOut {
        url,
        expires_at: (now + RECORDING_LINK_TTL).min(kept_until),
    })
}

fn gone() -> ApiError {
    ApiError::new(
        ErrorCode::Gone,
        "the recording is past the platform's 7-day retention",
    )
}

pub async fn list_sms(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: SmsFilter,
) -> Result<(Vec<sms_messages::Model>, Option<String>), ApiError> {
    use sms_messages::Column as S;
    let limit = page_size(filter.limit)?;
    let mut query = SmsMessages::find();
    if let Some(app) = principal.app_scope() {
        query = query.filter(S::AppId.eq(app));
    }
    if let Some(binding) = filter.binding_id {
        find_scoped(db, principal, binding).await?;
        query = query.filter(S::BindingId.eq(binding));
    }
    if let Some(n) = &filter.number {
        let n = phone("number", n)?;
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
    if let Some(raw) = &filter.cursor {
        let (at, key) = decode_cursor(raw)?;
        query = query.filter(
            Condition::any().add(S::ReceivedAt.lt(at)).add(
                Condition::all()
                    .add(S::ReceivedAt.eq(at))
                    .add(S::SmsIdentifier.lt(key)),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(S::ReceivedAt)
        .order_by_desc(S::SmsIdentifier)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next = next_page(&mut rows, limit, |s| {
        encode_cursor(s.received_at, &s.sms_identifier)
    });
    Ok((rows, next))
}
