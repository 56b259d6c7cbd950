//! Call events (callin, callout, alerting, answer, disconnect): each kept as its own row, deduplicated
//! on (sessionId, eventType, timestamp); the call's row is then re-derived from all of them.

use chrono::Utc;
use pns_core::callback::{CallEvent, state_code_meaning};
use pns_core::wire_time::parse_event_time;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait};
use serde_json::Value;
use uuid::Uuid;

use super::{call_webhooks, calls_table, find_binding, lock_calls, was_inserted};
use crate::db::entity::call_events::{self, Entity as CallEvents};

/// The first identifier too long to be a key (see [`super::MAX_KEY_BYTES`]).
pub fn overlong(event: &CallEvent) -> Option<&'static str> {
    let info = &event.status_info;
    super::first_overlong([
        ("statusInfo.sessionId", Some(info.session_id.as_str())),
        ("statusInfo.timestamp", Some(info.timestamp.as_str())),
        ("statusInfo.subscriptionId", info.subscription_id.as_deref()),
        ("statusInfo.caller", info.caller.as_deref()),
        ("statusInfo.called", info.called.as_deref()),
    ])
}

/// Stores one event. Ok(false) for a redelivery (nothing changes).
pub async fn store(
    txn: &DatabaseTransaction,
    event: &CallEvent,
    payload: &Value,
) -> Result<bool, DbErr> {
    let info = &event.status_info;
    // On callin `called` is X; the lookup by (X, caller) only matters when subscriptionId is empty.
    let x_and_caller = info.called.as_deref().zip(info.caller.as_deref());
    let binding = find_binding(txn, info.subscription_id.as_deref(), x_and_caller).await?;
    let state_code = info.state_code.and_then(|c| i32::try_from(c).ok());
    let row = call_events::ActiveModel {
        id: Set(Uuid::new_v4()),
        session_id: Set(info.session_id.clone()),
        event_type: Set(event.event_type.as_str().to_owned()),
        event_time: Set(info.timestamp.clone()),
        occurred_at: Set(parse_event_time(&info.timestamp)),
        subscription_id: Set(info.subscription_id.clone().filter(|s| !s.is_empty())),
        binding_id: Set(binding.as_ref().map(|b| b.id)),
        caller: Set(info.caller.clone()),
        called: Set(info.called.clone()),
        state_code: Set(state_code),
        // The platform's own text, else what the documented code means.
        state_desc: Set(info
            .state_desc
            .clone()
            .or_else(|| info.state_code.map(|c| state_code_meaning(c).to_owned()))),
        payload: Set(payload.clone()),
        received_at: Set(Utc::now()),
    };
    use call_events::Column as C;
    let result = CallEvents::insert(row)
        .on_conflict_do_nothing_on([C::SessionId, C::EventType, C::EventTime])
        .exec_without_returning(txn)
        .await?;
    if !was_inserted(result) {
        tracing::debug!(session = %info.session_id, kind = event.event_type.as_str(), "duplicate call event");
        return Ok(false);
    }
    if event.event_type.as_str() == "disconnect" && binding.is_none() {
        tracing::info!(
            session = %info.session_id,
            caller = %info.caller.as_deref().map(pns_core::mask).unwrap_or_default(),
            state_code = ?info.state_code,
            "call on X with no binding"
        );
    }
    let session = [info.session_id.clone()];
    lock_calls(txn, &session).await?;
    let known = calls_table::Known {
        cdrs: Vec::new(),
        bindings: binding.into_iter().collect(),
    };
    let refreshed = calls_table::refresh_calls(txn, &session, known).await?;
    if let Some(call) = refreshed.first() {
        call_webhooks::on_call_event(txn, call, event.event_type.as_str()).await?;
    }
    Ok(true)
}
