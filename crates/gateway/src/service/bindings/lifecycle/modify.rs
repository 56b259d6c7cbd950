//! Modify an active binding: new parties are claimed on X before the platform is asked.

use chrono::{Duration, Utc};
use pns_core::types::WireBool;
use pns_core::wire::ModifyRequest;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::{conflict, pre_voice};
use crate::auth::Principal;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::error::{ApiError, ErrorCode};
use crate::routes::bindings::dto::BindingStatus;
use crate::service::bindings::query::find_scoped;
use crate::service::bindings::repo::{self, InsertError};
use crate::service::bindings::validate::Changes;
use crate::state::AppState;

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
            // Both new numbers or neither: a refused claim rolls back the other one with it.
            let txn = state.db.begin().await?;
            match repo::claim_parties(&txn, id, &x, &added).await {
                Ok(()) => txn.commit().await?,
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
