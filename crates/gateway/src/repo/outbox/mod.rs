//! The transactional outbox: an event row written with the connection (transaction) of the change it
//! reports, so an event exists exactly when its change committed. The dispatcher
//! (`service::webhooks::dispatch`) takes it from there.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

mod audience;

pub use audience::{
    FRESH_FOR as AUDIENCE_FRESH_FOR, anyone_listens, endpoints_changed, may_receive,
};

use crate::db::entity::webhook_sequences;
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

/// What happened, to whom: written by [`record_all`].
pub struct Event {
    pub event_type: EventType,
    /// The app whose resource changed; `None` for pool events.
    pub app_id: Option<String>,
    pub binding_id: Option<Uuid>,
    /// The resource, rendered as its REST endpoint shows it only once someone is to receive it.
    pub data: EventData,
}

/// An event's resource as stored; [`record_all`] renders the view of the ones it writes, so a write
/// nobody listens to builds no JSON.
pub enum EventData {
    Binding(bindings::Model),
    Call(calls::Model),
    Sms(sms_messages::Model),
    Number(x_numbers::Model),
    /// Already rendered (tests, and events about no single row).
    Json(Value),
}

impl EventData {
    fn render(self) -> Result<Value, DbErr> {
        match self {
            Self::Binding(b) => view(views::BindingOut::from(b)),
            Self::Call(c) => view(views::CallOut::from(c)),
            Self::Sms(s) => view(views::SmsOut::from(s)),
            Self::Number(n) => view(views::NumberOut::from(n)),
            Self::Json(v) => Ok(v),
        }
    }
}

/// Writes `event` to the outbox on `conn` (see [`record_all`]); its id, or `None` when no enabled
/// endpoint could receive it.
pub async fn record<C: ConnectionTrait>(conn: &C, event: Event) -> Result<Option<Uuid>, DbErr> {
    Ok(record_all(conn, vec![event]).await?.pop())
}

/// Writes `events` to the outbox on `conn`: pass the transaction that makes the change, so both
/// commit or neither does. Events of a binding get the next numbers of its sequence, in the order
/// given. Only events some enabled endpoint could receive are written (an endpoint gets the events
/// of changes committed after it was created; see [`audience`]): without endpoints this costs
/// nothing, with them two statements however many events (sequences, events). Returns the ids
/// written.
pub async fn record_all<C: ConnectionTrait>(
    conn: &C,
    mut events: Vec<Event>,
) -> Result<Vec<Uuid>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let audience = audience::current(conn).await?;
    events.retain(|e| audience.receives(e));
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut sequences = next_sequences(conn, &events).await?;
    let now = Utc::now();
    let timestamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut rows: Vec<webhook_events::ActiveModel> = Vec::with_capacity(events.len());
    for event in events {
        let sequence = event.binding_id.and_then(|b| sequences.take(b));
        let mut payload = json!({
            "type": event.event_type.as_str(),
            "timestamp": timestamp,
            "data": event.data.render()?,
        });
        if let (Some(binding), Some(sequence)) = (event.binding_id, sequence) {
            payload["bindingId"] = json!(binding);
            payload["sequence"] = json!(sequence);
        }
        rows.push(webhook_events::ActiveModel {
            id: Set(Uuid::now_v7()),
            app_id: Set(event.app_id),
            event_type: Set(event.event_type.as_str().to_owned()),
            binding_id: Set(event.binding_id),
            sequence: Set(sequence),
            payload: Set(payload),
            created_at: Set(now),
            fanned_out_at: Set(None),
        });
    }
    let ids = rows.iter().map(|r| *r.id.as_ref()).collect();
    webhook_events::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(ids)
}

/// The sequence numbers handed out, per binding, in order.
struct Sequences(HashMap<Uuid, std::ops::RangeInclusive<i64>>);

impl Sequences {
    fn take(&mut self, binding: Uuid) -> Option<i64> {
        self.0.get_mut(&binding)?.next()
    }
}

/// One statement for every binding among `events`: a binding with n events moves its counter by n
/// and gets the n numbers below the new value. The upsert locks the counter rows (in binding order,
/// so two transactions never wait on each other in a circle) until the transaction ends, so numbers
/// follow commit order.
async fn next_sequences<C: ConnectionTrait>(
    conn: &C,
    events: &[Event],
) -> Result<Sequences, DbErr> {
    let mut counts: BTreeMap<Uuid, i64> = BTreeMap::new();
    for binding in events.iter().filter_map(|e| e.binding_id) {
        *counts.entry(binding).or_default() += 1;
    }
    if counts.is_empty() {
        return Ok(Sequences(HashMap::new()));
    }
    let rows = webhook_sequences::Entity::insert_many(counts.iter().map(|(binding, n)| {
        webhook_sequences::ActiveModel {
            binding_id: Set(*binding),
            last: Set(*n),
        }
    }))
    .on_conflict(
        OnConflict::column(webhook_sequences::Column::BindingId)
            .value(
                webhook_sequences::Column::Last,
                Expr::col((webhook_sequences::Entity, webhook_sequences::Column::Last)).add(
                    Expr::col((Alias::new("excluded"), webhook_sequences::Column::Last)),
                ),
            )
            .to_owned(),
    )
    .exec_with_returning(conn)
    .await?;
    Ok(Sequences(
        rows.into_iter()
            .map(|row| {
                let n = counts.get(&row.binding_id).copied().unwrap_or(1);
                (row.binding_id, (row.last - n + 1)..=row.last)
            })
            .collect(),
    ))
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
) -> Result<Option<Uuid>, DbErr> {
    record(conn, call_event_of(event_type, call)).await
}

/// `event_type` about `call` as it is now, for [`record_all`].
pub fn call_event_of(event_type: EventType, call: &calls::Model) -> Event {
    Event {
        event_type,
        app_id: call.app_id.clone(),
        binding_id: call.binding_id,
        data: EventData::Call(call.clone()),
    }
}

/// Records `sms.received` for a text just stored, with the routing decision taken.
pub async fn sms_event<C: ConnectionTrait>(
    conn: &C,
    sms: &sms_messages::Model,
) -> Result<Option<Uuid>, DbErr> {
    let event = Event {
        event_type: EventType::SmsReceived,
        app_id: sms.app_id.clone(),
        binding_id: sms.binding_id,
        data: EventData::Sms(sms.clone()),
    };
    record(conn, event).await
}

/// Records `number.status_changed` (admin endpoints only) for a pool number as it is now.
pub async fn number_event<C: ConnectionTrait>(
    conn: &C,
    number: &x_numbers::Model,
) -> Result<Option<Uuid>, DbErr> {
    let event = Event {
        event_type: EventType::NumberStatusChanged,
        app_id: None,
        binding_id: None,
        data: EventData::Number(number.clone()),
    };
    record(conn, event).await
}

/// Records `event_type` about `binding` as it is now (the row the write returned), in its app.
pub async fn binding_event<C: ConnectionTrait>(
    conn: &C,
    event_type: EventType,
    binding: &bindings::Model,
) -> Result<Option<Uuid>, DbErr> {
    let event = Event {
        event_type,
        app_id: Some(binding.app_id.clone()),
        binding_id: Some(binding.id),
        data: EventData::Binding(binding.clone()),
    };
    record(conn, event).await
}
