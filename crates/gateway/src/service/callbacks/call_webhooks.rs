//! The webhook events of calls, recorded in the callback's transaction after the call's row was
//! re-derived. Only callbacks that stored something new get here (a redelivery stores nothing), and
//! the once-per-call events are claimed by a marker on the row, so `call.completed` goes out once
//! whichever of the disconnect and the CDR settles the call, and however often either is redelivered.

use sea_orm::{DatabaseTransaction, DbErr};

use super::calls_table::Refreshed;
use crate::db::entity::calls;
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

/// After a new call event was stored and its call re-derived (`refreshed`): `call.started` for the
/// first of callin/callout, `call.ringing`, `call.answered`; none once the call has been announced
/// completed (a late event of a finished call is history, not news); then whatever the call has
/// just settled (see [`settle`]).
pub async fn on_call_event(
    txn: &DatabaseTransaction,
    refreshed: &Refreshed,
    kind: &str,
) -> Result<(), DbErr> {
    let call = &refreshed.call;
    let repeated_start = matches!(kind, "callin" | "callout") && refreshed.starts > 1;
    if let Some(event_type) = progress(kind)
        && !repeated_start
        && call.completed_event_at.is_none()
    {
        call_event(txn, event_type, call).await?;
    }
    settle(txn, std::slice::from_ref(refreshed)).await
}

/// `call.completed` for each of these calls settled just now, then `call.recording_ready` for each
/// whose recording is announced just now. The markers were written with the rows
/// ([`super::calls_table`]), in this transaction: a rolled-back one leaves both for the redelivery.
pub async fn settle(txn: &DatabaseTransaction, refreshed: &[Refreshed]) -> Result<(), DbErr> {
    let mut events: Vec<(EventType, &calls::Model)> = refreshed
        .iter()
        .filter(|r| r.completed_now)
        .map(|r| (EventType::CallCompleted, &r.call))
        .chain(
            refreshed
                .iter()
                .filter(|r| r.recording_now)
                .map(|r| (EventType::CallRecordingReady, &r.call)),
        )
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    // Sequence rows in binding order, like the binding rows before them, so two batches never
    // deadlock; a call's completion before its recording (the sort is stable).
    events.sort_by(|(_, a), (_, b)| {
        (a.binding_id, &a.session_id).cmp(&(b.binding_id, &b.session_id))
    });
    let events = events
        .iter()
        .map(|(event_type, call)| call_event_of(*event_type, call))
        .collect();
    record_all(txn, events).await?;
    Ok(())
}
