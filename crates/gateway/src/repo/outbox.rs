//! The transactional outbox: an event row written with the connection (transaction) of the change it
//! reports, so an event exists exactly when its change committed. The dispatcher
//! (`service::webhooks::dispatch`) takes it from there.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::entity::webhook_sequences::{self, Entity as Sequences};
use crate::db::entity::{bindings, calls, sms_messages, webhook_events, x_numbers};
use crate::views;

/// Every event an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "binding.created")]
    BindingCreated,
    #[serde(rename = "binding.updated")]
    BindingUpdated,
    #[serde(rename = "binding.unbound")]
    BindingUnbound,
    #[serde(rename = "binding.expired")]
    BindingExpired,
    #[serde(rename = "binding.failed")]
    BindingFailed,
    #[serde(rename = "binding.missing_upstream")]
    BindingMissingUpstream,
    #[serde(rename = "call.started")]
    CallStarted,
    #[serde(rename = "call.ringing")]
    CallRinging,
    #[serde(rename = "call.answered")]
    CallAnswered,
    #[serde(rename = "call.completed")]
    CallCompleted,
    #[serde(rename = "call.recording_ready")]
    CallRecordingReady,
    #[serde(rename = "sms.received")]
    SmsReceived,
    /// Admin endpoints only.
    #[serde(rename = "number.status_changed")]
    NumberStatusChanged,
}

impl EventType {
    pub const ALL: [Self; 13] = [
        Self::BindingCreated,
        Self::BindingUpdated,
        Self::BindingUnbound,
        Self::BindingExpired,
        Self::BindingFailed,
        Self::BindingMissingUpstream,
        Self::CallStarted,
        Self::CallRinging,
        Self::CallAnswered,
        Self::CallCompleted,
        Self::CallRecordingReady,
        Self::SmsReceived,
        Self::NumberStatusChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BindingCreated => "binding.created",
            Self::BindingUpdated => "binding.updated",
            Self::BindingUnbound => "binding.unbound",
            Self::BindingExpired => "binding.expired",
            Self::BindingFailed => "binding.failed",
            Self::BindingMissingUpstream => "binding.missing_upstream",
            Self::CallStarted => "call.started",
            Self::CallRinging => "call.ringing",
            Self::CallAnswered => "call.answered",
            Self::CallCompleted => "call.completed",
            Self::CallRecordingReady => "call.recording_ready",
            Self::SmsReceived => "sms.received",
            Self::NumberStatusChanged => "number.status_changed",
        }
    }

    /// Events about the pool rather than one app's bindings go to admin endpoints only.
    pub fn admin_only(self) -> bool {
        self == Self::NumberStatusChanged
    }
}

/// What happened, to whom: written by [`record`].
pub struct Event {
    pub event_type: EventType,
    /// The app whose resource changed; `None` for pool events.
    pub app_id: Option<String>,
    pub binding_id: Option<Uuid>,
    /// The resource as its REST endpoint shows it.
    pub data: Value,
}

/// Writes `event` to the outbox on `conn`: pass the transaction that makes the change, so both
/// commit or neither does. Events of a binding get the next number of its sequence.
pub async fn record<C: ConnectionTrait>(conn: &C, event: Event) -> Result<Uuid, DbErr> {
    let sequence = match event.binding_id {
        Some(binding) => Some(next_sequence(conn, binding).await?),
        None => None,
    };
    let id = Uuid::now_v7();
    let now = Utc::now();
    let mut payload = json!({
        "type": event.event_type.as_str(),
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": event.data,
    });
    if let (Some(binding), Some(sequence)) = (event.binding_id, sequence) {
        payload["bindingId"] = json!(binding);
        payload["sequence"] = json!(sequence);
    }
    webhook_events::Entity::insert(webhook_events::ActiveModel {
        id: Set(id),
        app_id: Set(event.app_id),
        event_type: Set(event.event_type.as_str().to_owned()),
        binding_id: Set(event.binding_id),
        sequence: Set(sequence),
        payload: Set(payload),
        created_at: Set(now),
        fanned_out_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}

/// `data` as JSON; a view that cannot be serialised is a bug, reported as a storage error so the
/// change it belongs to rolls back rather than commit without its event.
fn view<T: Serialize>(resource: T) -> Result<Value, DbErr> {
    serde_json::to_value(resource).map_err(|e| DbErr::Custom(format!("event data: {e}")))
}

/// Records `event_type` about `call` as it is now (`GET /v1/calls/{id}`), in its binding's app (a
/// call that matched no binding: admin endpoints only).
pub async fn call_event<C: ConnectionTrait>(
    conn: &C,
    event_type: EventType,
    call: &calls::Model,
) -> Result<Uuid, DbErr> {
    let event = Event {
        event_type,
        app_id: call.app_id.clone(),
        binding_id: call.binding_id,
        data: view(views::CallOut::from(call.clone()))?,
    };
    record(conn, event).await
}

/// Records `sms.received` for a text just stored, with the routing decision taken.
pub async fn sms_event<C: ConnectionTrait>(
    conn: &C,
    sms: &sms_messages::Model,
) -> Result<Uuid, DbErr> {
    let event = Event {
        event_type: EventType::SmsReceived,
        app_id: sms.app_id.clone(),
        binding_id: sms.binding_id,
        data: view(views::SmsOut::from(sms.clone()))?,
    };
    record(conn, event).await
}

/// Records `number.status_changed` (admin endpoints only) for a pool number as it is now.
pub async fn number_event<C: ConnectionTrait>(
    conn: &C,
    number: &x_numbers::Model,
) -> Result<Uuid, DbErr> {
    let event = Event {
        event_type: EventType::NumberStatusChanged,
        app_id: None,
        binding_id: None,
        data: view(views::NumberOut::from(number.clone()))?,
    };
    record(conn, event).await
}

/// Records `event_type` about `binding` as it is now (the row the write returned), in its app.
pub async fn binding_event<C: ConnectionTrait>(
    conn: &C,
    event_type: EventType,
    binding: &bindings::Model,
) -> Result<Uuid, DbErr> {
    let data = view(views::BindingOut::from(binding.clone()))?;
    record(
        conn,
        Event {
            event_type,
            app_id: Some(binding.app_id.clone()),
            binding_id: Some(binding.id),
            data,
        },
    )
    .await
}

/// One statement: the first event of a binding gets 1, each later one the next number. The upsert
/// locks the binding's counter row until the transaction ends, so numbers follow commit order.
async fn next_sequence<C: ConnectionTrait>(conn: &C, binding: Uuid) -> Result<i64, DbErr> {
    let row = Sequences::insert(webhook_sequences::ActiveModel {
        binding_id: Set(binding),
        last: Set(1),
    })
    .on_conflict(
        OnConflict::column(webhook_sequences::Column::BindingId)
            .value(
                webhook_sequences::Column::Last,
                Expr::col((Sequences, webhook_sequences::Column::Last)).add(1),
            )
            .to_owned(),
    )
    .exec_with_returning(conn)
    .await?;
    Ok(row.last)
}
