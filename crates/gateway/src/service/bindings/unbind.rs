//! Unbind by subscriptionId, idempotently: an ended binding answers its final state with no
//! upstream call; an expired one is never unbound upstream again.

use chrono::Utc;
use pns_core::result_code::ResultCode;
use uuid::Uuid;

use super::error::BindError;
use super::query::find_scoped;
use super::wire;
use crate::auth::Principal;
use crate::db::entity::bindings;
use crate::domain::EndReason;
use crate::repo::bindings::Ending;
use crate::state::AppState;

/// Runs to its end even if the caller stops waiting (see [`super::detached`]).
pub async fn unbind(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<bindings::Model, BindError> {
    let (state, principal) = (state.clone(), principal.clone());
    super::detached(async move { unbind_now(&state, &principal, id).await }).await
}

async fn unbind_now(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<bindings::Model, BindError> {
    // The usual case, an active binding, in one statement that also marks the unbind in flight (so
    // reconciliation does not take it for a binding the platform lost); anything else is read.
    let current = match state
        .group_commit
        .touch_active(id, principal.app_scope())
        .await?
    {
        Some(row) => row,
        None => find_scoped(&state.db, principal, id).await?,
    };
    if current.status.is_ended() {
        return Ok(current);
    }
    if current.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Ok(state
            .group_commit
            .end(id, &current.app_id, Ending::expired())
            .await?);
    }
    let Some(sub) = current.subscription_id.as_deref() else {
        return Err(BindError::StillPending);
    };
    let sub = wire::subscription_id(sub)
        .ok_or_else(|| BindError::Internal(format!("stored subscriptionId {sub:?} is unusable")))?;
    let reason = match state.upstream.unbind(&sub).await {
        Ok(()) => EndReason::Unbound,
        Err(err) if matches!(err.result_code(), Some(ResultCode::RecordNotFound)) => {
            EndReason::AlreadyGoneUpstream
        }
        Err(err) => return Err(err.into()),
    };
    Ok(state
        .group_commit
        .end(id, &current.app_id, Ending::unbound(reason))
        .await?)
}
