//! Change an active binding: check, take the change lease, claim new numbers on X, ask the platform,
//! then write what it accepted. The lease is given back whatever happens.

use pns_core::result_code::ResultCode;
use pns_upstream::UpstreamError;
use uuid::Uuid;

use super::error::BindError;
use super::query::find_scoped;
use super::wire;
use crate::auth::Principal;
use crate::db::entity::bindings;
use crate::domain::{BindingStatus, Changes, EndReason};
use crate::repo::bindings::{self as repo, Ending};
use crate::repo::change;
use crate::state::AppState;

/// Runs to its end even if the caller stops waiting (see [`super::detached`]).
pub async fn modify(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    changes: Changes,
) -> Result<bindings::Model, BindError> {
    let (state, principal) = (state.clone(), principal.clone());
    super::detached(async move { modify_now(&state, &principal, id, changes).await }).await
}

async fn modify_now(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    changes: Changes,
) -> Result<bindings::Model, BindError> {
    let current = find_scoped(&state.db, principal, id).await?;
    let (sub, x, changes) = check(&current, changes)?;
    // One change at a time, across instances: the change takes a lease on the row (and the version
    // it read) before anything else, so a concurrent change gets a 409 instead of racing this one at
    // the platform and losing an update. The lease also tells reconciliation to leave the row alone.
    let lease = state.settings.upstream_call_budget();
    if !change::begin(&state.db, id, current.version, lease).await? {
        return Err(BindError::ChangeInProgress);
    }
    let leased = current.version + 1;
    let result = apply(state, &current, leased, &sub, &x, &changes).await;
    change::end(&state.db, id, leased).await?;
    result?;
    Ok(find_scoped(&state.db, principal, id).await?)
}

/// Only an active binding, with its platform ids, can change; new parties are kept only where they
/// differ from the current ones, and A and B must stay distinct.
fn check(
    current: &bindings::Model,
    mut changes: Changes,
) -> Result<(String, String, Changes), BindError> {
    if current.status != BindingStatus::Active {
        return Err(BindError::NotActive(current.status));
    }
    let (Some(sub), Some(x)) = (
        current.subscription_id.clone(),
        current.relation_num.clone(),
    ) else {
        return Err(BindError::Internal(
            "active binding without subscriptionId/relationNum".into(),
        ));
    };
    changes.caller = changes.caller.filter(|p| p.as_str() != current.caller_num);
    changes.callee = changes.callee.filter(|p| p.as_str() != current.callee_num);
    let caller = changes
        .caller
        .as_ref()
        .map_or(current.caller_num.as_str(), |p| p.as_str());
    let callee = changes
        .callee
        .as_ref()
        .map_or(current.callee_num.as_str(), |p| p.as_str());
    if caller == callee {
        return Err(BindError::Invalid {
            field: "calleeNum",
            reason: "must differ from callerNum".into(),
        });
    }
    Ok((sub, x, changes))
}

/// Under the lease: claim, call, write.
async fn apply(
    state: &AppState,
    current: &bindings::Model,
    leased: i32,
    sub: &str,
    x: &str,
    changes: &Changes,
) -> Result<(), BindError> {
    // Claim the new numbers on X first: the invariant holds even while the platform is being asked.
    let added = change::added_parties(changes);
    change::claim_added(&state.db, current.id, x, &added).await?;
    let request = wire::modify_request(sub.to_owned(), changes);
    if let Err(err) = state.upstream.modify(&request).await {
        return Err(refused(state, current.id, &added, err).await);
    }
    change::apply(&state.db, current, leased, changes).await?;
    Ok(())
}

async fn refused(state: &AppState, id: Uuid, added: &[&str], err: UpstreamError) -> BindError {
    // An ambiguous answer keeps the claims: the change may have landed, reconciliation will tell.
    if !err.is_ambiguous()
        && let Err(e) = change::release_added(&state.db, id, added).await
    {
        return e.into();
    }
    if matches!(err.result_code(), Some(ResultCode::RecordNotFound)) {
        let ending = Ending::unbound(EndReason::MissingUpstream);
        return match repo::end(&state.db, id, ending).await {
            Ok(_) => BindError::GoneUpstream,
            Err(e) => e.into(),
        };
    }
    err.into()
}
