//! Creating a binding at most once per `Idempotency-Key`: claim the key, run the create to its end
//! on the runtime (a client that hangs up does not cancel it), settle the key with the outcome, and
//! answer a retry from what the first attempt did:
//! - bound: the first answer again;
//! - refused by the platform for good (flow control, configuration, invalid): the same error;
//! - outcome unknown (the row is pending): answered from the row as it is now: active is the
//!   binding, still pending is the same timeout, failed (the platform never bound it) is a fresh
//!   attempt;
//! - refused before the platform was asked, or undone: forgotten, so a retry is a fresh attempt.
//!
//! The same key with another body is refused. How an outcome looks on the wire is the caller's
//! (`Render`): this module stores it opaquely.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::create::{self, CreateFailure};
use super::error::BindError;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::idempotency_keys::{self, Entity as IdempotencyKeys};
use crate::db::is_unique_violation;
use crate::domain::{BindingStatus, NewBinding};
use crate::state::AppState;

/// A claim older than this with no outcome is taken over (its first holder died mid-request).
const STALE_CLAIM: Duration = Duration::seconds(120);

/// An `Idempotency-Key` and the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdemKey {
    key: String,
    hash: String,
}

impl IdemKey {
    /// 1-255 visible ASCII characters; `request` is what the key must keep meaning.
    pub fn new(key: &str, request: &impl serde::Serialize) -> Result<Self, &'static str> {
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err("must be 1-255 visible ASCII characters");
        }
        let bytes = serde_json::to_vec(request).unwrap_or_default();
        let hash = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            key: key.to_owned(),
            hash,
        })
    }
}

/// How an outcome is answered on the wire: (status, body). Stored for replays.
pub type Render = fn(Result<&bindings::Model, &BindError>) -> (u16, Value);

/// What a create answers.
#[derive(Debug)]
pub enum Created {
    /// Bound now (`replayed` false) or by the first attempt with this key (true).
    Bound {
        binding: Box<bindings::Model>,
        replayed: bool,
    },
    /// The first attempt's answer, stored and replayed as it was.
    Replayed { status: u16, body: Value },
}

/// Creates `new` for `app_id`, at most once per `key`. The work runs as its own task, so it ends
/// (bound, refused, or compensated) and settles the key even if the caller stops waiting.
pub async fn create(
    state: &AppState,
    app_id: &str,
    new: NewBinding,
    key: Option<IdemKey>,
    render: Render,
) -> Result<Created, BindError> {
    let (state, app_id) = (state.clone(), app_id.to_owned());
    super::detached(async move {
        match key {
            None => create::create(&state, &app_id, &new)
                .await
                .map(|binding| Created::Bound {
                    binding: Box::new(binding),
                    replayed: false,
                })
                .map_err(|f| f.error),
            Some(key) => once(&state, &app_id, &new, &key, render).await,
        }
    })
    .await
}

async fn once(
    state: &AppState,
    app_id: &str,
    new: &NewBinding,
    key: &IdemKey,
    render: Render,
) -> Result<Created, BindError> {
    match claim(&state.db, app_id, key).await? {
        Claim::Fresh => {}
        Claim::Replay { status, body } => return Ok(Created::Replayed { status, body }),
        Claim::Binding(id) => {
            let row = Bindings::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(|| BindError::Internal("the key's binding vanished".into()))?;
            match row.status {
                BindingStatus::Active => {
                    return Ok(Created::Bound {
                        binding: Box::new(row),
                        replayed: true,
                    });
                }
                BindingStatus::Pending => {
                    return Err(pns_upstream::UpstreamError::Timeout.into());
                }
                // The platform never bound it (reconciliation found nothing): try again.
                BindingStatus::Failed => retake(&state.db, app_id, &key.key, id).await?,
                ended => return Err(BindError::EndedSince(ended)),
            }
        }
    }
    let result = create::create(state, app_id, new).await;
    settle(&state.db, app_id, &key.key, &result, render).await?;
    result
        .map(|binding| Created::Bound {
            binding: Box::new(binding),
            replayed: false,
        })
        .map_err(|f| f.error)
}

/// Remembers how the attempt ended (see the module's rules).
async fn settle(
    db: &DatabaseConnection,
    app_id: &str,
    key: &str,
    result: &Result<bindings::Model, CreateFailure>,
    render: Render,
) -> Result<(), BindError> {
    match result {
        Ok(row) => record(db, app_id, key, Some(row.id), Some(render(Ok(row)))).await,
        Err(CreateFailure {
            left_pending: Some(id),
            ..
        }) => record(db, app_id, key, Some(*id), None).await,
        Err(CreateFailure {
            error: error @ BindError::Upstream(_),
            ..
        }) => record(db, app_id, key, None, Some(render(Err(error)))).await,
        Err(_) => release(db, app_id, key).await,
    }
}

enum Claim {
    /// First use of the key (or a take-over of a dead one): go ahead, then settle.
    Fresh,
    /// Seen before with a definite outcome: answer this again.
    Replay { status: u16, body: Value },
    /// Seen before, the platform's answer was ambiguous: answer from the binding as it is now.
    Binding(Uuid),
}

async fn claim(db: &DatabaseConnection, app_id: &str, key: &IdemKey) -> Result<Claim, BindError> {
    let fresh = idempotency_keys::ActiveModel {
        app_id: Set(app_id.to_owned()),
        idem_key: Set(key.key.clone()),
        request_hash: Set(key.hash.clone()),
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
    let existing = IdempotencyKeys::find_by_id((app_id.to_owned(), key.key.clone()))
        .one(db)
        .await?
        .ok_or_else(|| BindError::Internal("idempotency key vanished".into()))?;
    if existing.request_hash != key.hash {
        return Err(BindError::KeyReused);
    }
    match (
        existing.status_code,
        existing.response_body,
        existing.binding_id,
    ) {
        (Some(status), Some(body), _) => Ok(Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        }),
        (_, _, Some(binding_id)) => Ok(Claim::Binding(binding_id)),
        _ if Utc::now() - existing.created_at > STALE_CLAIM => {
            let updated = IdempotencyKeys::update_many()
                .col_expr(idempotency_keys::Column::CreatedAt, Utc::now().into())
                .filter(idempotency_keys::Column::AppId.eq(app_id))
                .filter(idempotency_keys::Column::IdemKey.eq(key.key.as_str()))
                .filter(idempotency_keys::Column::CreatedAt.eq(existing.created_at))
                .exec(db)
                .await?;
            if updated.rows_affected == 1 {
                Ok(Claim::Fresh)
            } else {
                Err(BindError::KeyInProgress)
            }
        }
        _ => Err(BindError::KeyInProgress),
    }
}

/// Stores what the attempt produced; no `outcome`: "ambiguous, answer from the binding".
async fn record(
    db: &DatabaseConnection,
    app_id: &str,
    key: &str,
    binding_id: Option<Uuid>,
    outcome: Option<(u16, Value)>,
) -> Result<(), BindError> {
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

/// Takes a key whose binding failed back for a fresh attempt; only one retry gets it.
async fn retake(
    db: &DatabaseConnection,
    app_id: &str,
    key: &str,
    failed: Uuid,
) -> Result<(), BindError> {
    let taken = IdempotencyKeys::update_many()
        .col_expr(
            idempotency_keys::Column::BindingId,
            Option::<Uuid>::None.into(),
        )
        .col_expr(idempotency_keys::Column::CreatedAt, Utc::now().into())
        .filter(idempotency_keys::Column::AppId.eq(app_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key))
        .filter(idempotency_keys::Column::BindingId.eq(failed))
        .exec(db)
        .await?;
    if taken.rows_affected == 1 {
        Ok(())
    } else {
        Err(BindError::KeyInProgress)
    }
}

/// Lets a retry with the same key go ahead after a failure that left nothing behind.
async fn release(db: &DatabaseConnection, app_id: &str, key: &str) -> Result<(), BindError> {
    IdempotencyKeys::delete_many()
        .filter(idempotency_keys::Column::AppId.eq(app_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}
