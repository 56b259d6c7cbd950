//! The webhook events of calls, recorded in the callback's transaction after the call's row was
//! re-derived. Only callbacks that stored something new get here (a redelivery stores nothing), and
//! the once-per-call events are claimed by a marker on the row, so `call.completed` goes out once
//! whichever of the disconnect and the CDR settles the call, and however often either is redelivered.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::db::entity::call_events::{self, Entity as CallEvents};
use crate::db::entity::calls::{self, Entity as Calls};
use crate::repo::outbox::{EventType, call_event, call_event_of, record_all};

/// The event a newly stored call event announces; `disconnect` settles the call (see [`settle`]).
fn progress(kind: &str) -> Option<EventType> {
    match kind {
        "callin" | "callout" => Some(EventType::CallStarted),
        "alerting" => Some(EventType::CallRinging),
        "answer" => Some(EventType::CallAnswered),
        _ => None,
    }
}

/// After a new call event of `session` was stored and its call re-derived: `call.started` for the
/// first of callin/callout, `call.ringing`, `call.answered`; none once the call has been announced
/// completed (a late event of a finished call is history, not news); `disconnect` settles the call.
pub async fn on_call_event(
    txn: &DatabaseTransaction,
    session: &str,
    kind: &str,
) -> Result<(), DbErr> {
    let sessions = [session.to_owned()];
    let Some(event_type) = progress(kind) else {
        return settle(txn, &sessions).await;
    };
    if event_type == EventType::CallStarted {
        let starts = CallEvents::find()
            .filter(call_events::Column::SessionId.eq(session))
            .filter(call_events::Column::EventType.is_in(["callin", "callout"]))
            .count(txn)
            .await?;
        if starts > 1 {
            return Ok(());
        }
    }
    let call = Calls::find()
        .filter(calls::Column::SessionId.eq(session))
        .filter(calls::Column::CompletedEventAt.is_null())
        .one(txn)
        .await?;
    if let Some(call) = call {
        call_event(txn, event_type, &call).await?;
    }
    Ok(())
}

/// `call.completed` for each of these calls that is settled (a disconnect or a CDR is stored) and
/// not yet announced, then `call.recording_ready` for each settled call whose recording was not yet
/// announced. Two conditional updates that return what they marked: the marker and the event are
/// written together, so a rolled-back transaction leaves both for the redelivery.
pub async fn settle(txn: &DatabaseTransaction, sessions: &[String]) -> Result<(), DbErr> {
    if sessions.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let completed = Calls::update_many()
        .col_expr(calls::Column::CompletedEventAt, Expr::value(now))
        .filter(calls::Column::SessionId.is_in(sessions.iter().cloned()))
        .filter(calls::Column::CompletedEventAt.is_null())
        .filter(
            Condition::any()
                .add(calls::Column::EndedAt.is_not_null())
                .add(calls::Column::CdrReceivedAt.is_not_null()),
        )
        .exec_with_returning(txn)
        .await?;
    let recorded = Calls::update_many()
        .col_expr(calls::Column::RecordingEventAt, Expr::value(now))
        .filter(calls::Column::SessionId.is_in(sessions.iter().cloned()))
        .filter(calls::Column::HasRecording.eq(true))
        .filter(calls::Column::RecordingEventAt.is_null())
        .filter(calls::Column::CompletedEventAt.is_not_null())
        .exec_with_returning(txn)
        .await?;
    let mut events: Vec<(EventType, calls::Model)> = completed
        .into_iter()
        .map(|call| (EventType::CallCompleted, call))
        .chain(
            recorded
                .into_iter()
                .map(|call| (EventType::CallRecordingReady, call)),
        )
        .collect();
    // Sequence rows in binding order, like the binding rows before them, so two batches never
    // deadlock; a call's completion before its recording (the sort is stable).
    events.sort_by(|(_, a), (_, b)| {
        (a.binding_id, &a.session_id).cmp(&(b.binding_id, &b.session_id))
    });
    let events = events
        .iter()
        .map(|(event_type, call)| call_event_of(*event_type, call))
        .collect::<Result<Vec<_>, _>>()?;
    record_all(txn, events).await?;
    Ok(())
}
