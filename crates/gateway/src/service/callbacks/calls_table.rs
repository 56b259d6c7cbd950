//! Writing `calls` rows: each call's row is re-derived ([`super::derive`]) from everything stored
//! about it and upserted, in a fixed number of statements however many calls a batch touches.
//!
//! The once-per-call markers (`completed_event_at`, `recording_event_at`) are decided here too, from
//! the row as it was: the caller holds the calls' locks, so nobody else can set them meanwhile, and
//! the row is written once with them instead of inserted and then updated again.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::derive::{Derived, derive};
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::call_events::{self, Entity as CallEvents};
use crate::db::entity::calls::{self, Entity as Calls};
use crate::db::entity::cdrs::{self, Entity as Cdrs};

/// Rows the caller already holds (CDRs it has just stored, bindings it has looked up): not read back.
#[derive(Default)]
pub struct Known {
    pub cdrs: Vec<cdrs::Model>,
    pub bindings: Vec<bindings::Model>,
}

/// A call's row as written, and the once-per-call events it has just earned.
pub struct Refreshed {
    pub call: calls::Model,
    /// Settled now (its disconnect or CDR stored), not announced before: `call.completed` is due.
    pub completed_now: bool,
    /// Settled with a recording not announced before: `call.recording_ready` is due.
    pub recording_now: bool,
    /// Its callin/callout events stored so far.
    pub starts: usize,
}

/// Re-derives the rows of these calls from what is stored now and writes them (insert or update), in
/// a fixed number of statements however many calls there are; returns them as written, in session
/// order. Caller holds [`super::lock_calls`] for every session.
pub async fn refresh_calls(
    txn: &DatabaseTransaction,
    sessions: &[String],
    known: Known,
) -> Result<Vec<Refreshed>, DbErr> {
    let mut sessions = sessions.to_vec();
    sessions.sort_unstable();
    sessions.dedup();
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let events = events_by_session(txn, &sessions).await?;
    let cdrs = cdrs_by_session(txn, &sessions, known.cdrs).await?;
    let mut existing = calls_by_session(txn, &sessions).await?;
    let derived: Vec<(String, Derived)> = sessions
        .into_iter()
        .map(|session| {
            let d = derive(
                events.get(&session).map_or(&[][..], Vec::as_slice),
                cdrs.get(&session),
            );
            (session, d)
        })
        .collect();
    let ids = derived.iter().filter_map(|(_, d)| d.binding_id);
    let bindings = bindings_by_id(txn, ids, known.bindings).await?;
    let now = Utc::now();
    let refreshed: Vec<Refreshed> = derived
        .into_iter()
        .map(|(session, d)| {
            let session_events = events.get(&session).map_or(&[][..], Vec::as_slice);
            let from = Sources {
                events: session_events,
                cdr: cdrs.get(&session),
                binding: d.binding_id.and_then(|id| bindings.get(&id)),
                before: existing.remove(&session),
            };
            call_row(session, d, from, now)
        })
        .collect();
    upsert_calls(txn, refreshed.iter().map(|r| r.call.clone())).await?;
    Ok(refreshed)
}

async fn calls_by_session(
    txn: &DatabaseTransaction,
    sessions: &[String],
) -> Result<HashMap<String, calls::Model>, DbErr> {
    Ok(Calls::find()
        .filter(calls::Column::SessionId.is_in(sessions.iter().cloned()))
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.session_id.clone(), c))
        .collect())
}

async fn events_by_session(
    txn: &DatabaseTransaction,
    sessions: &[String],
) -> Result<HashMap<String, Vec<call_events::Model>>, DbErr> {
    let mut events: HashMap<String, Vec<call_events::Model>> = HashMap::new();
    for event in CallEvents::find()
        .filter(call_events::Column::SessionId.is_in(sessions.iter().cloned()))
        .all(txn)
        .await?
    {
        events
            .entry(event.session_id.clone())
            .or_default()
            .push(event);
    }
    Ok(events)
}

/// The CDR of each session: the ones the caller holds, the rest read.
async fn cdrs_by_session(
    txn: &DatabaseTransaction,
    sessions: &[String],
    known: Vec<cdrs::Model>,
) -> Result<HashMap<String, cdrs::Model>, DbErr> {
    let mut cdrs: HashMap<String, cdrs::Model> = known
        .into_iter()
        .filter_map(|cdr| Some((cdr.session_id.clone()?, cdr)))
        .collect();
    let unknown: Vec<&String> = sessions.iter().filter(|s| !cdrs.contains_key(*s)).collect();
    if !unknown.is_empty() {
        for cdr in Cdrs::find()
            .filter(cdrs::Column::SessionId.is_in(unknown.into_iter().cloned()))
            .all(txn)
            .await?
        {
            if let Some(session) = cdr.session_id.clone() {
                cdrs.entry(session).or_insert(cdr);
            }
        }
    }
    Ok(cdrs)
}

/// These bindings by id: the ones the caller holds, the rest read.
async fn bindings_by_id(
    txn: &DatabaseTransaction,
    ids: impl Iterator<Item = Uuid>,
    known: Vec<bindings::Model>,
) -> Result<HashMap<Uuid, bindings::Model>, DbErr> {
    let mut bindings: HashMap<Uuid, bindings::Model> =
        known.into_iter().map(|b| (b.id, b)).collect();
    let missing: BTreeSet<Uuid> = ids.filter(|id| !bindings.contains_key(id)).collect();
    if !missing.is_empty() {
        for b in Bindings::find()
            .filter(bindings::Column::Id.is_in(missing))
            .all(txn)
            .await?
        {
            bindings.insert(b.id, b);
        }
    }
    Ok(bindings)
}

/// Inserts or rewrites the `calls` rows, in one statement.
async fn upsert_calls(
    txn: &DatabaseTransaction,
    rows: impl IntoIterator<Item = calls::Model>,
) -> Result<(), DbErr> {
    use calls::Column as C;
    let rows = rows
        .into_iter()
        .map(|row| calls::ActiveModel::from(row).reset_all());
    Calls::insert_many(rows)
        .on_conflict(
            OnConflict::column(C::SessionId)
                .update_columns([
                    C::AppId,
                    C::BindingId,
                    C::SubscriptionId,
                    C::RelationNum,
                    C::Caller,
                    C::Called,
                    C::Direction,
                    C::StartedAt,
                    C::AlertedAt,
                    C::AnsweredAt,
                    C::EndedAt,
                    C::TalkSeconds,
                    C::Outcome,
                    C::StateCode,
                    C::StateDesc,
                    C::Icid,
                    C::HasRecording,
                    C::RecordDomain,
                    C::RecordObjectName,
                    C::CdrReceivedAt,
                    C::CompletedEventAt,
                    C::RecordingEventAt,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// What a call's row is derived from, and the row as it was (None: a new call).
struct Sources<'a> {
    events: &'a [call_events::Model],
    cdr: Option<&'a cdrs::Model>,
    binding: Option<&'a bindings::Model>,
    before: Option<calls::Model>,
}

/// The `calls` row of one session, from its derivation and what it was derived from. An existing
/// row keeps its id, creation time and markers.
fn call_row(session_id: String, d: Derived, from: Sources<'_>, now: DateTime<Utc>) -> Refreshed {
    let Sources {
        events,
        cdr,
        binding,
        before,
    } = from;
    let direction = binding.and_then(|b| direction(b, d.caller.as_deref()));
    let relation_num = cdr
        .and_then(|c| c.bind_num.clone())
        .or_else(|| binding.and_then(|b| b.relation_num.clone()))
        .or_else(|| {
            events
                .iter()
                .find(|e| e.event_type == "callin")
                .and_then(|e| e.called.clone())
        });
    let recording = cdr.is_some_and(has_recording);
    let settled = d.ended_at.is_some() || cdr.is_some();
    let (completed_before, recording_before) = before.as_ref().map_or((None, None), |c| {
        (c.completed_event_at, c.recording_event_at)
    });
    let completed_event_at = completed_before.or(settled.then_some(now));
    let recording_event_at =
        recording_before.or((recording && completed_event_at.is_some()).then_some(now));
    let starts = events
        .iter()
        .filter(|e| e.event_type == "callin" || e.event_type == "callout")
        .count();
    let call = calls::Model {
        id: before.as_ref().map_or_else(Uuid::new_v4, |c| c.id),
        session_id,
        app_id: binding.map(|b| b.app_id.clone()),
        binding_id: d.binding_id,
        subscription_id: d.subscription_id,
        relation_num,
        caller: d.caller,
        called: d.called,
        direction: direction.map(str::to_owned),
        started_at: d.started_at.or(Some(now)),
        alerted_at: d.alerted_at,
        answered_at: d.answered_at,
        ended_at: d.ended_at,
        talk_seconds: d.talk_seconds,
        outcome: Some(d.outcome),
        state_code: d.state_code,
        state_desc: d.state_desc,
        icid: cdr.map(|c| c.icid.clone()),
        has_recording: recording,
        record_domain: cdr.and_then(|c| c.record_domain.clone()),
        record_object_name: cdr.and_then(|c| c.record_object_name.clone()),
        cdr_received_at: cdr.map(|c| c.received_at),
        completed_event_at,
        recording_event_at,
        created_at: before.as_ref().map_or(now, |c| c.created_at),
        updated_at: now,
    };
    Refreshed {
        call,
        completed_now: completed_before.is_none() && completed_event_at.is_some(),
        recording_now: recording_before.is_none() && recording_event_at.is_some(),
        starts,
    }
}

fn has_recording(c: &cdrs::Model) -> bool {
    c.record_flag
        && c.record_domain.as_deref().is_some_and(|d| !d.is_empty())
        && c.record_object_name
            .as_deref()
            .is_some_and(|n| !n.is_empty())
}

/// `a_to_b` when A (callerNum of the binding) dialled X, `b_to_a` when B did.
fn direction(binding: &bindings::Model, caller: Option<&str>) -> Option<&'static str> {
    match caller? {
        c if c == binding.caller_num => Some("a_to_b"),
        c if c == binding.callee_num => Some("b_to_a"),
        _ => None,
    }
}
