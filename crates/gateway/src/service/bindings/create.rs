//! Bind, in three steps a reader can follow: write the `pending` row (on the X the app named, on a
//! pool X, or with none), ask the platform (moving to another pool X when it refuses the one picked),
//! then make the row follow the answer.
//!
//! Rules: a definite refusal ends the row as `failed`; an ambiguous outcome (timeout, lost
//! connection) leaves it `pending` for reconciliation; a success that cannot be recorded, or that
//! arrives after the row was settled otherwise, is compensated by an unbind, so there is never an
//! upstream binding the table does not know and never a created answer for a row that is not active.

use chrono::{Duration, Utc};
use pns_core::wire::BindResponse;
use pns_upstream::UpstreamError;
use uuid::Uuid;

use super::error::BindError;
use super::wire;
use crate::db::entity::bindings;
use crate::domain::{BindingStatus, EndReason, NewBinding};
use crate::repo::ClaimError;
use crate::repo::bindings::{Activation, Ending};
use crate::service::pool::allocate::{self, PlaceError, Want};
use crate::state::AppState;

/// A create that did not end in an active binding.
#[derive(Debug)]
pub struct CreateFailure {
    pub error: BindError,
    /// The row left `pending` because the platform's outcome is unknown; reconciliation settles it.
    pub left_pending: Option<Uuid>,
}

impl<E: Into<BindError>> From<E> for CreateFailure {
    fn from(e: E) -> Self {
        Self {
            error: e.into(),
            left_pending: None,
        }
    }
}

pub async fn create(
    state: &AppState,
    app_id: &str,
    new: &NewBinding,
) -> Result<bindings::Model, CreateFailure> {
    let (pending, mut want) = reserve(state, app_id, new).await?;
    let (pending, answer) = match call(state, pending, want.as_mut(), new).await {
        Ok(done) => done,
        Err((pending, err)) => return Err(refused(state, pending, err).await),
    };
    record(state, pending, &answer, new).await
}

/// Step 1: the pending row. No X named: the pool picks one (an empty pool leaves it to the platform).
async fn reserve<'a>(
    state: &AppState,
    app_id: &str,
    new: &'a NewBinding,
) -> Result<(bindings::Model, Option<Want<'a>>), BindError> {
    if new.relation.is_none() && !allocate::pool_is_empty(&state.db).await? {
        let want = Want {
            parties: [new.caller.as_str(), new.callee.as_str()],
            area_code: new.area_code.as_deref(),
            loose: new.loose_area,
            exclude: Vec::new(),
        };
        return match allocate::place(&state.db, app_id, new, &want).await {
            Ok(row) => Ok((row, Some(want))),
            Err(PlaceError::Exhausted(why)) => Err(BindError::PoolExhausted(why)),
            Err(PlaceError::Db(e)) => Err(e.into()),
        };
    }
    // The AXB invariant is checked by the party claim (a primary key), before any upstream call.
    Ok((state.group_commit.insert_pending(app_id, new).await?, None))
}

/// Step 2: the platform. When it refuses the pool's X for a reason about that X (it knows a binding
/// we do not, the X is full or abnormal there), another X is tried a bounded number of times.
async fn call(
    state: &AppState,
    mut pending: bindings::Model,
    mut want: Option<&mut Want<'_>>,
    new: &NewBinding,
) -> Result<(bindings::Model, BindResponse), (bindings::Model, UpstreamError)> {
    loop {
        let request = wire::bind_request(new, pending.relation_num.as_deref());
        let err = match state.upstream.bind(&request).await {
            Ok(answer) => return Ok((pending, answer)),
            Err(err) => err,
        };
        if let Some(x) = pending.relation_num.as_deref() {
            not_ours(state, x, &err).await;
        }
        let (Some(want), Some(x)) = (want.as_deref_mut(), pending.relation_num.clone()) else {
            return Err((pending, err));
        };
        if !allocate::worth_another_x(&err) || want.exclude.len() + 1 >= allocate::MAX_X_ATTEMPTS {
            return Err((pending, err));
        }
        tracing::warn!(binding_id = %pending.id, x = %pns_core::phone::mask(&x), error = %err, "the platform refused the picked X; trying another");
        want.exclude.push(x.clone());
        match allocate::repoint(&state.db, pending.id, &x, want).await {
            Ok(moved) => pending = moved,
            Err(_) => return Err((pending, err)),
        }
    }
}

/// Step 3: the platform bound it; the row becomes active, or the platform's binding is undone.
async fn record(
    state: &AppState,
    pending: bindings::Model,
    answer: &BindResponse,
    new: &NewBinding,
) -> Result<bindings::Model, CreateFailure> {
    let (Some(subscription_id), Some(relation_num)) = (
        answer.subscription_id.as_deref(),
        answer
            .relation_num
            .as_deref()
            .or(pending.relation_num.as_deref()),
    ) else {
        // A success without the ids leaves us unable to manage the binding: keep it pending and visible.
        tracing::error!(binding_id = %pending.id, "the platform's bind answer lacked subscriptionId/relationNum");
        return Err(CreateFailure {
            error: BindError::IncompleteAnswer,
            left_pending: Some(pending.id),
        });
    };
    let expires_at = (!new.duration.is_unlimited())
        .then(|| Utc::now() + Duration::seconds(i64::from(new.duration.seconds())));
    let activation = Activation {
        app_id: &pending.app_id,
        subscription_id,
        relation_num,
        expires_at,
        claim: pending
            .relation_num
            .is_none()
            .then_some([new.caller.as_str(), new.callee.as_str()]),
    };
    let (reason, why) = match state.group_commit.activate(pending.id, activation).await {
        Ok(row) if row.status == BindingStatus::Active => {
            if row.subscription_id.as_deref() == Some(subscription_id) {
                return Ok(row);
            }
            // Reconciliation adopted another platform binding for this row: ours is surplus.
            (None, "settled by reconciliation meanwhile")
        }
        // Settled meanwhile (reconciliation failed the pending row while the bind was in flight).
        Ok(row) => {
            tracing::warn!(binding_id = %row.id, status = %row.status, "the bind succeeded after the row was settled; undoing it upstream");
            (
                None,
                "settled as failed while the platform's answer was in flight",
            )
        }
        Err(ClaimError::PartyTaken(_)) => (
            Some(EndReason::PartyConflict),
            "a party was bound on that X meanwhile",
        ),
        Err(ClaimError::Db(e)) => {
            tracing::error!(binding_id = %pending.id, error = %e, "recording an upstream binding failed");
            (Some(EndReason::RecordFailed), "recording it failed")
        }
    };
    Err(compensate(state, &pending, subscription_id, reason, why).await)
}

/// The platform bound it but the table cannot take it: unbind it again so nothing upstream is
/// unknown here. If even that fails, the row stays `pending` and reconciliation adopts it (a row
/// already settled is left as it is: reconciliation reports the platform's binding as an orphan).
async fn compensate(
    state: &AppState,
    pending: &bindings::Model,
    subscription_id: &str,
    end: Option<EndReason>,
    why: &'static str,
) -> CreateFailure {
    let id = pending.id;
    tracing::error!(binding_id = %id, why, "compensating a bind with an unbind");
    let unbound = match wire::subscription_id(subscription_id) {
        Some(sub) => state.upstream.unbind(&sub).await,
        None => Err(UpstreamError::Decode("unusable subscriptionId".into())),
    };
    match unbound {
        Ok(()) => {
            if let Some(reason) = end
                && let Err(e) = state
                    .group_commit
                    .end(id, &pending.app_id, Ending::failed(reason))
                    .await
            {
                tracing::error!(binding_id = %id, error = %e, "could not mark the compensated binding failed");
            }
            BindError::Undone(why).into()
        }
        Err(e) => {
            tracing::error!(binding_id = %id, error = %e, "compensating unbind failed; left for reconciliation");
            CreateFailure {
                error: BindError::Undone(why),
                left_pending: end.map(|_| id),
            }
        }
    }
}

/// The platform refused or its answer was lost: `failed` for a definite refusal, else left pending.
async fn refused(state: &AppState, pending: bindings::Model, err: UpstreamError) -> CreateFailure {
    if err.is_ambiguous() {
        tracing::warn!(binding_id = %pending.id, error = %err, "bind outcome unknown; binding left pending");
        return CreateFailure {
            error: err.into(),
            left_pending: Some(pending.id),
        };
    }
    let mut ending = Ending::failed(EndReason::UpstreamRefused);
    ending.upstream = err.result_code().map(|c| (c.code(), upstream_desc(&err)));
    match state
        .group_commit
        .end(pending.id, &pending.app_id, ending)
        .await
    {
        Ok(_) => err.into(),
        Err(e) => e.into(),
    }
}

fn upstream_desc(err: &UpstreamError) -> String {
    match err {
        UpstreamError::Rejected { desc, .. } => desc.chars().take(512).collect(),
        other => other.to_string(),
    }
}

/// 1012001: the platform says X is not this app's number. No retry changes that, so the pool stops
/// offering X (first, as least used, on every bind) until an admin clears the mark.
async fn not_ours(state: &AppState, x: &str, err: &pns_upstream::UpstreamError) {
    if matches!(
        err.result_code(),
        Some(pns_core::result_code::ResultCode::NumberNotOwned)
    ) {
        let reason = "the platform answered 1012001: not this app's number";
        if let Err(e) = crate::service::pool::admin::mark_unusable(&state.db, x, reason).await {
            tracing::error!(error = %e, "could not mark a refused pool number unusable");
        }
    }
}
