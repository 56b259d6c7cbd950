//! Bind: the pending row first, then the platform, then the row follows the answer.

use chrono::{Duration, Utc};
use pns_core::types::WireBool;
use pns_core::wire::BindRequest;
use pns_upstream::UpstreamError;
use sea_orm::Set;
use uuid::Uuid;

use super::{conflict, pre_voice};
use crate::auth::Principal;
use crate::db::entity::bindings;
use crate::error::{ApiError, ErrorCode};
use crate::routes::bindings::dto::BindingStatus;
use crate::service::bindings::repo::{self, Activation, InsertError};
use crate::service::bindings::validate::NewBinding;
use crate::service::pool::allocate::{self, PlaceError};
use crate::state::AppState;

/// What a create produced: the row, or a refusal that already ended it.
pub enum Created {
    Bound(bindings::Model),
    /// The row exists (pending or failed) and the caller gets this error.
    Refused(bindings::Model, ApiError),
    /// Refused before any row was written.
    Rejected(ApiError),
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    new: NewBinding,
) -> Result<Created, ApiError> {
    let now = Utc::now();
    let caller = new.caller.as_str().to_owned();
    let callee = new.callee.as_str().to_owned();
    let relation = new.relation.as_ref().map(|x| x.as_str().to_owned());

    // The invariant is checked by the party claim in `insert_pending` (a primary key), before any
    // upstream call: a taken party there answers the same 409 as a separate look-up would.
    let row = bindings::ActiveModel {
        id: Set(Uuid::now_v7()),
        app_id: Set(principal.app_id.clone()),
        subscription_id: Set(None),
        relation_num: Set(relation.clone()),
        caller_num: Set(caller.clone()),
        callee_num: Set(callee.clone()),
        call_direction: Set(new.direction as i16),
        duration: Set(new.duration.seconds() as i32),
        max_duration: Set(i32::from(new.max_duration.minutes())),
        record_flag: Set(new.record_flag),
        record_hint_tone: Set(new.record_hint_tone.clone()),
        last_min_voice: Set(new.last_min_voice.clone()),
        private_sms: Set(new.private_sms),
        pre_voice: Set(new
            .pre_voice
            .as_ref()
            .and_then(|p| serde_json::to_value(p).ok())),
        user_data: Set(new.user_data.clone()),
        external_ref: Set(new.external_ref.clone()),
        area_code: Set(new.area_code.clone()),
        status: Set(BindingStatus::Pending.as_str().to_owned()),
        upstream_code: Set(None),
        upstream_desc: Set(None),
        expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ended_at: Set(None),
        end_reason: Set(None),
        call_count: Set(0),
        last_call_at: Set(None),
        total_talk_seconds: Set(0),
        version: Set(0),
        change_lease_until: Set(None),
    };
    // No X given: the pool picks one (an empty pool leaves the choice to the platform).
    let mut want = (relation.is_none() && !allocate::pool_is_empty(&state.db).await?).then(|| {
        allocate::Want {
            parties: [caller.as_str(), callee.as_str()],
            area_code: new.area_code.as_deref(),
            loose: new.loose_area,
            exclude: Vec::new(),
        }
    });
    let mut pending = if let Some(want) = &want {
        match allocate::place(&state.db, row, want).await {
            Ok(model) => model,
            Err(PlaceError::Exhausted(e)) => return Ok(Created::Rejected(e)),
            Err(PlaceError::Db(e)) => return Err(e.into()),
        }
    } else {
        let claim = relation
            .as_deref()
            .map(|x| (x, [caller.as_str(), callee.as_str()]));
        match repo::insert_pending(&state.db, row, claim).await {
            Ok(model) => model,
            Err(InsertError::PartyTaken(p)) => return Ok(Created::Rejected(conflict(&p.0))),
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
    };

    let mut request = BindRequest {
        relation_num: relation.clone(),
        area_code: new.area_code.clone(),
        area_match_mode: new
            .area_code
            .as_ref()
            .map(|_| if new.loose_area { "1" } else { "0" }.to_owned()),
        caller_num: caller.clone(),
        callee_num: callee.clone(),
        call_direction: Some(new.direction as u8),
        duration: Some(new.duration.seconds()),
        record_flag: Some(WireBool(new.record_flag)),
        record_hint_tone: new.record_hint_tone,
        max_duration: Some(new.max_duration.minutes()),
        last_min_voice: new.last_min_voice,
        private_sms: new.private_sms.map(WireBool),
        pre_voice: pre_voice(new.pre_voice),
        user_data: new.user_data,
    };
    let response = loop {
        request.relation_num.clone_from(&pending.relation_num);
        let err = match state.upstream.bind(&request).await {
            Ok(response) => break response,
            Err(err) => err,
        };
        if let Some(x) = pending.relation_num.as_deref() {
            not_ours(state, x, &err).await?;
        }
        // The platform refused the X the pool picked (it knows a binding we do not, or the X is full
        // or abnormal there): try another X, a bounded number of times.
        let (Some(want), Some(x)) = (want.as_mut(), pending.relation_num.clone()) else {
            return refused(state, pending, err).await;
        };
        if !allocate::worth_another_x(&err) || want.exclude.len() + 1 >= allocate::MAX_X_ATTEMPTS {
            return refused(state, pending, err).await;
        }
        tracing::warn!(binding_id = %pending.id, x = %pns_core::phone::mask(&x), error = %err, "the platform refused the picked X; trying another");
        want.exclude.push(x.clone());
        match allocate::repoint(&state.db, pending.id, &x, want).await {
            Ok(moved) => pending = moved,
            Err(PlaceError::Exhausted(_)) => return refused(state, pending, err).await,
            Err(PlaceError::Db(e)) => return Err(e.into()),
        }
    };

    let (Some(subscription_id), Some(relation_num)) = (
        response.subscription_id.as_deref(),
        response
            .relation_num
            .as_deref()
            .or(pending.relation_num.as_deref()),
    ) else {
        // A success without the ids leaves us unable to manage the binding: keep it pending and visible.
        tracing::error!(binding_id = %pending.id, "the platform's bind answer lacked subscriptionId/relationNum");
        return Ok(Created::Refused(
            pending,
            ApiError::new(
                ErrorCode::UpstreamUnavailable,
                "the platform's answer lacked the binding id; the binding will be reconciled",
            ),
        ));
    };
    let expires_at = (!new.duration.is_unlimited())
        .then(|| Utc::now() + Duration::seconds(i64::from(new.duration.seconds())));
    let activation = Activation {
        subscription_id,
        relation_num,
        expires_at,
        claim: pending
            .relation_num
            .is_none()
            .then_some([caller.as_str(), callee.as_str()]),
    };
    match repo::activate(&state.db, pending.id, activation).await {
        Ok(model) => Ok(Created::Bound(model)),
        Err(failure) => {
            compensate(state, pending.id, subscription_id, &failure).await;
            Ok(Created::Refused(
                pending,
                match failure {
                    InsertError::PartyTaken(p) => conflict(&p.0),
                    InsertError::Db(e) => {
                        ApiError::internal(format!("recording the binding failed: {e}"))
                    }
                },
            ))
        }
    }
}

/// The platform bound it but we could not record that: unbind it again so nothing upstream is
/// unknown here. If even that fails, the row stays `pending` and reconciliation adopts it.
async fn compensate(state: &AppState, id: Uuid, subscription_id: &str, failure: &InsertError) {
    tracing::error!(binding_id = %id, "recording an upstream binding failed; compensating with an unbind");
    let sub = match pns_core::types::SubscriptionId::parse(subscription_id) {
        Ok(sub) => sub,
        Err(_) => return,
    };
    match state.upstream.unbind(&sub).await {
        Ok(()) => {
            let reason = match failure {
                InsertError::PartyTaken(_) => "party_conflict",
                InsertError::Db(_) => "record_failed",
            };
            if let Err(e) = repo::end(&state.db, id, BindingStatus::Failed, reason, None).await {
                tracing::error!(binding_id = %id, error = %e, "could not mark the compensated binding failed");
            }
        }
        Err(e) => {
            tracing::error!(binding_id = %id, error = %e, "compensating unbind failed; left pending for reconciliation")
        }
    }
}

async fn refused(
    state: &AppState,
    pending: bindings::Model,
    err: UpstreamError,
) -> Result<Created, ApiError> {
    if err.is_ambiguous() {
        tracing::warn!(binding_id = %pending.id, error = %err, "bind outcome unknown; binding left pending");
        return Ok(Created::Refused(pending, ApiError::from(err)));
    }
    let upstream = err.result_code().map(|c| (c.code(), upstream_desc(&err)));
    let model = repo::end(
        &state.db,
        pending.id,
        BindingStatus::Failed,
        "upstream_refused",
        upstream,
    )
    .await?;
    Ok(Created::Refused(model, ApiError::from(err)))
}

/// 1012001: the platform says X is not this app's number. No retry changes that, so the pool stops
/// offering X (first, as least used, on every bind) until an admin clears the mark.
async fn not_ours(state: &AppState, x: &str, err: &UpstreamError) -> Result<(), ApiError> {
    if matches!(
        err.result_code(),
        Some(pns_core::result_code::ResultCode::NumberNotOwned)
    ) {
        let reason = "the platform answered 1012001: not this app's number";
        crate::service::pool::admin::mark_unusable(&state.db, x, reason).await?;
    }
    Ok(())
}

fn upstream_desc(err: &UpstreamError) -> String {
    match err {
        UpstreamError::Rejected { desc, .. } => desc.chars().take(512).collect(),
        other => other.to_string(),
    }
}
