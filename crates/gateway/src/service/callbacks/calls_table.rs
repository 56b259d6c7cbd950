//! Writing `calls` rows: each call's row is re-derived ([`super::derive`]) from everything stored
//! about it and upserted, in a fixed number of statements however many calls a batch touches.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter,
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

/// Re-derives the rows of these calls from what is stored now and writes them (insert or update), in
/// a fixed number of statements however many calls there are. Caller holds [`super::lock_calls`] for
/// every session.
pub async fn refresh_calls(
    txn: &DatabaseTransaction,
    sessions: &[String],
    known: Known,
) -> Result<(), DbErr> {
    let mut sessions = sessions.to_vec();
    sessions.sort_unstable();
    sessions.dedup();
    if sessions.is_empty() {
        return Ok(());
    }
    let events = events_by_session(txn, &sessions).await?;
    let cdrs = cdrs_by_session(txn, &sessions, known.cdrs).await?;
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
    let rows = derived.into_iter().map(|(session, d)| {
        let session_events = events.get(&session).map_or(&[][..], Vec::as_slice);
        let cdr = cdrs.get(&session);
        let binding = d.binding_id.and_then(|id| bindings.get(&id));
        call_row(session, d, session_events, cdr, binding, now)
    });
    upsert_calls(txn, rows).await
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
    rows: impl IntoIterator<Item = calls::ActiveModel>,
) -> Result<(), DbErr> {
    use calls::Column as C;
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
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The `calls` row of one session, from its derivation and what it was derived from.
fn call_row(
    session_id: String,
    d: Derived,
    events: &[call_events::Model],
    cdr: Option<&cdrs::Model>,
    binding: Option<&bindings::Model>,
    now: DateTime<Utc>,
) -> calls::ActiveModel {
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
    calls::ActiveModel {
        id: Set(Uuid::new_v4()),
        session_id: Set(session_id),
        app_id: Set(binding.map(|b| b.app_id.clone())),
        binding_id: Set(d.binding_id),
        subscription_id: Set(d.subscription_id),
        relation_num: Set(relation_num),
        caller: Set(d.caller),
        called: Set(d.called),
        direction: Set(direction.map(str::to_owned)),
        started_at: Set(d.started_at.or(Some(now))),
        alerted_at: Set(d.alerted_at),
        answered_at: Set(d.answered_at),
        ended_at: Set(d.ended_at),
        talk_seconds: Set(d.talk_seconds),
        outcome: Set(Some(d.outcome)),
        state_code: Set(d.state_code),
        state_desc: Set(d.state_desc),
        icid: Set(cdr.map(|c| c.icid.clone())),
        has_recording: Set(cdr.is_some_and(has_recording)),
        record_domain: Set(cdr.and_then(|c| c.record_domain.clone())),
        record_object_name: Set(cdr.and_then(|c| c.record_object_name.clone())),
        cdr_received_at: Set(cdr.map(|c| c.received_at)),
        // Set by `events` only, once; the upsert never touches them.
        completed_event_at: NotSet,
        recording_event_at: NotSet,
        created_at: Set(now),
        updated_at: Set(now),
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
