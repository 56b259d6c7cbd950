//! Unbind by subscriptionId, idempotently.

use chrono::Utc;
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::entity::bindings;
use crate::error::{ApiError, ErrorCode};
use crate::routes::bindings::dto::BindingStatus;
use crate::service::bindings::query::find_scoped;
use crate::service::bindings::repo;
use crate::state::AppState;

/// Unbinds by subscriptionId, idempotently: an ended binding answers its final state with no
/// upstream call; an expired one is never unbound upstream again.
pub async fn unbind(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<bindings::Model, ApiError> {
    let current = find_scoped(&state.db, principal, id).await?;
    let status = BindingStatus::parse(&current.status).unwrap_or(BindingStatus::Pending);
    if status.is_ended() {
        return Ok(current);
    }
    if current.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Ok(repo::end(&state.db, id, BindingStatus::Expired, "expired", None).await?);
    }
    let Some(sub) = current.subscription_id.as_deref() else {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "the binding is pending: the platform's answer was lost; reconciliation will settle it before it can be unbound",
        ));
    };
    let sub = pns_core::types::SubscriptionId::parse(sub).map_err(ApiError::internal)?;
    // Marks the unbind in flight, so reconciliation does not take it for a binding the platform lost.
    repo::touch(&state.db, id).await?;
    match state.upstream.unbind(&sub).await {
        Ok(()) => Ok(repo::end(&state.db, id, BindingStatus::Unbound, "unbound", None).await?),
        Err(err)
            if matches!(
                err.result_code(),
                Some(pns_core::result_code::ResultCode::RecordNotFound)
            ) =>
        {
            Ok(repo::end(
                &state.db,
                id,
                BindingStatus::Unbound,
                "already_gone_upstream",
                None,
            )
            .await?)
        }
        Err(err) => Err(err.into()),
    }
}
