//! Bind, modify and unbind: the local table and the platform kept in step.
//!
//! Rules: the `pending` row is written before the platform is called; a definite refusal ends it as
//! `failed`; an ambiguous outcome (timeout, lost connection) leaves it `pending` for reconciliation;
//! a success that cannot be recorded is compensated by an unbind, so there is never an upstream
//! binding the table does not know.

use chrono::{Duration, Utc};
use pns_core::types::WireBool;
use pns_core::wire::{BindRequest, ModifyRequest, PreVoice};
use pns_upstream::UpstreamError;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use super::query::find_scoped;
use super::repo::{self, Activation, InsertError};
use super::validate::{Changes, NewBinding};
use crate::auth::Principal;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::error::{ApiError, ErrorCode};
use crate::routes::bindings::dto::{BindingStatus, PreVoiceIn};
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

fn pre_voice(p: Option<PreVoiceIn>) -> Option<PreVoice> {
    p.map(|p| PreVoice {
        caller_hint_tone: p.caller_hint_tone,
        callee_hint_tone: p.callee_hint_tone,
    })
}

fn conflict(party: &str) -> ApiError {
    ApiError::conflict(
        ErrorCode::BindingConflict,
        format!(
            "{} already has a binding on this X number",
            pns_core::phone::mask(party)
        ),
    )
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

    if let Some(x) = &relation {
        let taken = repo::taken_parties(&state.db, x, &[&caller, &callee]).await?;
        if let Some(party) = taken.first() {
            return Ok(Created::Rejected(conflict(party)));
        }
    }

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

fn upstream_desc(err: &UpstreamError) -> String {
    match err {
        UpstreamError::Rejected { desc, .. } => desc.chars().take(512).collect(),
        other => other.to_string(),
    }
}

pub async fn modify(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    changes: Changes,
) -> Result<bindings::Model, ApiError> {
    let current = find_scoped(&state.db, principal, id).await?;
    let status = BindingStatus::parse(&current.status).unwrap_or(BindingStatus::Pending);
    if status != BindingStatus::Active {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            format!(
                "the binding is {}; only an active binding can be changed",
                status.as_str()
            ),
        ));
    }
    let (Some(sub), Some(x)) = (
        current.subscription_id.clone(),
        current.relation_num.clone(),
    ) else {
        return Err(ApiError::internal(
            "active binding without subscriptionId/relationNum",
        ));
    };
    let new_caller = changes
        .caller
        .as_ref()
        .map(|p| p.as_str().to_owned())
        .filter(|p| *p != current.caller_num);
    let new_callee = changes
        .callee
        .as_ref()
        .map(|p| p.as_str().to_owned())
        .filter(|p| *p != current.callee_num);
    let final_caller = new_caller
        .clone()
        .unwrap_or_else(|| current.caller_num.clone());
    let final_callee = new_callee
        .clone()
        .unwrap_or_else(|| current.callee_num.clone());
    if final_caller == final_callee {
        return Err(ApiError::validation(
            "calleeNum",
            "must differ from callerNum",
        ));
    }
    // One change at a time, across instances: the change takes a lease on the row (and the version
    // it read) before anything else, so a concurrent change gets a 409 instead of racing this one at
    // the platform and losing an update. The lease also tells reconciliation to leave the row alone.
    let lease = state.settings.upstream_call_budget();
    if !repo::begin_change(&state.db, id, current.version, lease).await? {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "the binding is being changed by another request, or was changed since it was read; read it again and retry",
        ));
    }
    let result = async {
        // Claim the new numbers on X first: the invariant holds even while the platform is being asked.
        let added: Vec<&str> = [new_caller.as_deref(), new_callee.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !added.is_empty() {
            match repo::claim_parties(&state.db, id, &x, &added).await {
                Ok(()) => {}
                Err(InsertError::PartyTaken(p)) => return Err(conflict(&p.0)),
                Err(InsertError::Db(e)) => return Err(e.into()),
            }
        }
        let request = ModifyRequest {
            subscription_id: sub,
            caller_num: new_caller.clone(),
            callee_num: new_callee.clone(),
            call_direction: changes.direction.map(|d| d as u8),
            duration: changes.duration.map(|d| d.seconds()),
            max_duration: changes.max_duration.map(|m| m.minutes()),
            last_min_voice: changes.last_min_voice.clone(),
            private_sms: changes.private_sms.map(WireBool),
            record_flag: changes.record_flag.map(WireBool),
            pre_voice: pre_voice(changes.pre_voice.clone()),
            user_data: changes.user_data.clone(),
        };
        if let Err(err) = state.upstream.modify(&request).await {
            if !err.is_ambiguous() && !added.is_empty() {
                repo::release_parties(&state.db, id, Some(&added)).await?;
            }
            if matches!(
                err.result_code(),
                Some(pns_core::result_code::ResultCode::RecordNotFound)
            ) {
                repo::end(
                    &state.db,
                    id,
                    BindingStatus::Unbound,
                    "missing_upstream",
                    None,
                )
                .await?;
                return Err(ApiError::conflict(
                    ErrorCode::Conflict,
                    "the platform no longer has this binding; it is now marked unbound",
                ));
            }
            return Err(err.into());
        }

        // Only the changed columns are written, so two instances changing different fields never lose
        // each other's update.
        let now = Utc::now();
        let txn = state.db.begin().await?;
        let mut update = Bindings::update_many()
            .col_expr(bindings::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                bindings::Column::ChangeLeaseUntil,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .col_expr(
                bindings::Column::Version,
                Expr::col(bindings::Column::Version).add(1),
            );
        let replaced: Vec<&str> = [
            new_caller.as_ref().map(|_| current.caller_num.as_str()),
            new_callee.as_ref().map(|_| current.callee_num.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(c) = &new_caller {
            update = update.col_expr(bindings::Column::CallerNum, Expr::value(c.clone()));
        }
        if let Some(c) = &new_callee {
            update = update.col_expr(bindings::Column::CalleeNum, Expr::value(c.clone()));
        }
        if let Some(d) = changes.direction {
            update = update.col_expr(bindings::Column::CallDirection, Expr::value(d as i16));
        }
        if let Some(d) = changes.duration {
            let expires =
                (!d.is_unlimited()).then(|| now + Duration::seconds(i64::from(d.seconds())));
            update = update
                .col_expr(bindings::Column::Duration, Expr::value(d.seconds() as i32))
                .col_expr(bindings::Column::ExpiresAt, Expr::value(expires));
        }
        if let Some(m) = changes.max_duration {
            update = update.col_expr(
                bindings::Column::MaxDuration,
                Expr::value(i32::from(m.minutes())),
            );
        }
        if let Some(v) = changes.last_min_voice {
            update = update.col_expr(bindings::Column::LastMinVoice, Expr::value(v));
        }
        if let Some(v) = changes.private_sms {
            update = update.col_expr(bindings::Column::PrivateSms, Expr::value(v));
        }
        if let Some(v) = changes.record_flag {
            update = update.col_expr(bindings::Column::RecordFlag, Expr::value(v));
        }
        if let Some(v) = changes.pre_voice {
            update = update.col_expr(
                bindings::Column::PreVoice,
                Expr::value(serde_json::to_value(v).ok()),
            );
        }
        if let Some(v) = changes.user_data {
            update = update.col_expr(bindings::Column::UserData, Expr::value(v));
        }
        let written = update
            .filter(bindings::Column::Id.eq(id))
            .filter(bindings::Column::Version.eq(current.version + 1))
            .filter(bindings::Column::Status.eq(BindingStatus::Active.as_str()))
            .exec(&txn)
            .await?;
        if written.rows_affected == 0 {
            // Ended meanwhile (unbound, expired): its claims are gone but the ones this change added.
            txn.rollback().await?;
            if !added.is_empty() {
                repo::release_parties(&state.db, id, Some(&added)).await?;
            }
            return find_scoped(&state.db, principal, id).await;
        }
        if !replaced.is_empty() {
            repo::release_parties(&txn, id, Some(&replaced)).await?;
        }
        txn.commit().await?;
        find_scoped(&state.db, principal, id).await
    }
    .await;
    repo::end_change(&state.db, id, current.version + 1).await?;
    result
}

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
