//! `Idempotency-Key`: the same key with the same body replays the first result without a second
//! upstream call; the same key with another body is refused (422).

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::entity::bindings;
use crate::db::entity::idempotency_keys::{self, Entity as IdempotencyKeys};
use crate::db::is_unique_violation;
use crate::error::{ApiError, ErrorCode};
use crate::routes::bindings::dto::BindingOut;

/// A claim older than this with no outcome is taken over (its first holder crashed mid-request).
const STALE_CLAIM: Duration = Duration::seconds(120);

pub enum Claim {
    /// First use of the key: go ahead, then `record` the outcome.
    Fresh,
    /// Seen before with a definite outcome: answer this again.
    Replay {
        status: u16,
        body: serde_json::Value,
    },
    /// Seen before, the platform's answer was ambiguous: answer from the binding as it is now.
    Binding(Uuid),
}

pub fn request_hash(body: &impl serde::Serialize) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn validate_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::validation(
            "Idempotency-Key",
            "must be 1-255 visible ASCII characters",
        ));
    }
    Ok(())
}

pub async fn claim(
    db: &DatabaseConnection,
    app_id: &str,
    key: &str,
    hash: &str,
) -> Result<Claim, ApiError> {
    let fresh = idempotency_keys::ActiveModel {
        app_id: Set(app_id.to_owned()),
        idem_key: Set(key.to_owned()),
        request_hash: Set(hash.to_owned()),
        binding_id: Set(None),
        status_code: Set(None),
        response_body: Set(None),
        created_at: Set(Utc::now()),
    };
    match fresh.insert(db).await {
        Ok(_) => return Ok(Claim::Fresh),
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let existing = IdempotencyKeys::find_by_id((app_id.to_owned(), key.to_owned()))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::internal("idempotency key vanished"))?;
    if existing.request_hash != hash {
        return Err(ApiError::new(
            ErrorCode::IdempotencyMismatch,
            "this Idempotency-Key was already used with a different request body",
        ));
    }
    match (
        existing.status_code,
        existing.response_body,
        existing.binding_id,
    ) {
        (Some(status), Some(body), _) => Ok(Claim::Replay {
            status: status as u16,
            body,
        }),
        (_, _, Some(binding_id)) => Ok(Claim::Binding(binding_id)),
        _ if Utc::now() - existing.created_at > STALE_CLAIM => {
            let updated = IdempotencyKeys::update_many()
                .col_expr(idempotency_keys::Column::CreatedAt, Utc::now().into())
                .filter(idempotency_keys::Column::AppId.eq(app_id))
                .filter(idempotency_keys::Column::IdemKey.eq(key))
                .filter(idempotency_keys::Column::CreatedAt.eq(existing.created_at))
                .exec(db)
                .await?;
            if updated.rows_affected == 1 {
                Ok(Claim::Fresh)
            } else {
                Err(in_progress())
            }
        }
        _ => Err(in_progress()),
    }
}

fn in_progress() -> ApiError {
    ApiError::new(
        ErrorCode::IdempotencyInProgress,
        "a request with this Idempotency-Key is still in progress",
    )
}

/// Remembers how the first request with `key` ended, so a retry gets the same answer:
/// - bound: the 201 and its body;
/// - refused for a reason of the request's own (4xx): that error, with the failed row if one was kept;
/// - a row was written but the outcome is not known (5xx, timeout): the binding, answered from its
///   state at replay time (reconciliation settles it meanwhile);
/// - nothing was written: forgotten, so a retry goes ahead.
pub async fn settle(
    db: &DatabaseConnection,
    app_id: &str,
    key: &str,
    binding: Option<&bindings::Model>,
    error: Option<&ApiError>,
) -> Result<(), ApiError> {
    let binding_id = binding.map(|b| b.id);
    match (binding, error) {
        (Some(b), None) => {
            let body = serde_json::to_value(BindingOut::from(b.clone())).unwrap_or_default();
            record(db, app_id, key, binding_id, Some((201, body))).await
        }
        (_, Some(e)) if e.code.status().is_client_error() => {
            let body = serde_json::to_value(e.body()).unwrap_or_default();
            let outcome = Some((e.code.status().as_u16(), body));
            record(db, app_id, key, binding_id, outcome).await
        }
        (Some(_), Some(_)) => record(db, app_id, key, binding_id, None).await,
        (None, _) => release(db, app_id, key).await,
    }
}

/// Stores what the first request produced. `status`/`body` None means "ambiguous: derive from the binding".
async fn record(
    db: &DatabaseConnection,
    app_id: &str,
    key: &str,
    binding_id: Option<Uuid>,
    outcome: Option<(u16, serde_json::Value)>,
) -> Result<(), ApiError> {
    let (status, body) = match outcome {
        Some((s, b)) => (Some(i32::from(s)), Some(b)),
        None => (None, None),
    };
    IdempotencyKeys::update_many()
        .col_expr(idempotency_keys::Column::BindingId, binding_id.into())
        .col_expr(idempotency_keys::Column::StatusCode, status.into())
        .col_expr(idempotency_keys::Column::ResponseBody, body.into())
        .filter(idempotency_keys::Column::AppId.eq(app_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Lets a retry with the same key go ahead after a failure that left nothing behind.
pub async fn release(db: &DatabaseConnection, app_id: &str, key: &str) -> Result<(), ApiError> {
    IdempotencyKeys::delete_many()
        .filter(idempotency_keys::Column::AppId.eq(app_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}
