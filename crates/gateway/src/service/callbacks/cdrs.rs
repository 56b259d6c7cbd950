//! CDR batches (`fee`, up to 50 records): every record unique by `icid`, the whole batch in the
//! caller's one transaction. Binding counters move only for records that were new.

use std::collections::BTreeMap;

use chrono::Utc;
use pns_core::callback::FeeRecord;
use pns_core::wire_time::parse_event_time;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait};
use serde_json::Value;

use super::{count_call, derive, find_binding, lock_call, was_inserted};
use crate::db::entity::cdrs::{self, Entity as Cdrs};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub inserted: usize,
    pub duplicates: usize,
}

/// The call a record belongs to; a record without a sessionId is a call of its own.
fn session_key(record: &FeeRecord) -> String {
    record
        .session_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("icid:{}", record.icid))
}

/// `records` are the parsed batch; `raw` the same records as received, kept whole so fields this
/// version does not know survive.
pub async fn store_batch(
    txn: &DatabaseTransaction,
    records: &[FeeRecord],
    raw: &[Value],
) -> Result<Counts, DbErr> {
    // Locks in a fixed order, so two overlapping batches cannot deadlock each other.
    let mut sessions: Vec<String> = records.iter().map(session_key).collect();
    sessions.sort();
    sessions.dedup();
    for session in &sessions {
        lock_call(txn, session).await?;
    }
    let mut counts = Counts::default();
    let mut per_binding = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        let payload = raw
            .get(i)
            .cloned()
            .unwrap_or_else(|| serde_json::to_value(record).unwrap_or(Value::Null));
        match store_one(txn, record, payload).await? {
            Stored::Duplicate => counts.duplicates += 1,
            Stored::New(call) => {
                counts.inserted += 1;
                if let Some((binding_id, at, talk)) = call {
                    let tally: &mut Tally = per_binding.entry(binding_id).or_default();
                    tally.calls += 1;
                    tally.talk_seconds += talk;
                    tally.last_call_at = tally.last_call_at.max(Some(at));
                }
            }
        }
    }
    // Binding rows last and in id order: two batches touching the same bindings queue instead of
    // deadlocking (record order differs between batches).
    for (binding_id, tally) in per_binding {
        if let Some(at) = tally.last_call_at {
            count_call(txn, binding_id, tally.calls, at, tally.talk_seconds).await?;
        }
    }
    Ok(counts)
}

#[derive(Default)]
struct Tally {
    calls: i32,
    talk_seconds: i64,
    last_call_at: Option<chrono::DateTime<Utc>>,
}

enum Stored {
    Duplicate,
    /// A new record, with the binding it counts for: (id, call time, talk seconds).
    New(Option<(uuid::Uuid, chrono::DateTime<Utc>, i64)>),
}

fn time(raw: Option<&str>) -> Option<chrono::DateTime<Utc>> {
    raw.and_then(parse_event_time)
}

fn int(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

async fn store_one(
    txn: &DatabaseTransaction,
    r: &FeeRecord,
    payload: Value,
) -> Result<Stored, DbErr> {
    let x_and_caller = r.bind_num.as_deref().zip(r.caller_num.as_deref());
    let binding = find_binding(txn, r.subscription_id.as_deref(), x_and_caller).await?;
    let talk_seconds = r.talk_seconds();
    let call_in_time = time(r.call_in_time.as_deref());
    let now = Utc::now();
    let session = session_key(r);
    let row = cdrs::ActiveModel {
        icid: Set(r.icid.clone()),
        session_id: Set(Some(session.clone())),
        subscription_id: Set(r.subscription_id.clone().filter(|s| !s.is_empty())),
        binding_id: Set(binding.as_ref().map(|b| b.id)),
        app_id: Set(binding.as_ref().map(|b| b.app_id.clone())),
        bind_num: Set(r.bind_num.clone()),
        caller_num: Set(r.caller_num.clone()),
        callee_num: Set(r.callee_num.clone()),
        direction: Set(int(r.direction)),
        call_in_time: Set(call_in_time),
        fwd_answer_time: Set(time(r.fwd_answer_time.as_deref())),
        call_end_time: Set(time(r.call_end_time.as_deref())),
        fail_time: Set(time(r.fail_time.as_deref())),
        answered: Set(r.answered()),
        talk_seconds: Set(i32::try_from(talk_seconds).unwrap_or(i32::MAX)),
        fwd_unasw_rsn: Set(int(r.fwd_unasw_rsn)),
        ul_fail_reason: Set(int(r.ul_fail_reason)),
        sip_status_code: Set(int(r.sip_status_code)),
        record_flag: Set(r.record_flag == Some(1)),
        record_domain: Set(r.record_domain.clone().filter(|s| !s.is_empty())),
        record_bucket_name: Set(r.record_bucket_name.clone().filter(|s| !s.is_empty())),
        record_object_name: Set(r.record_object_name.clone().filter(|s| !s.is_empty())),
        payload: Set(payload),
        received_at: Set(now),
    };
    let result = Cdrs::insert(row)
        .on_conflict_do_nothing_on([cdrs::Column::Icid])
        .exec_without_returning(txn)
        .await?;
    if !was_inserted(result) {
        return Ok(Stored::Duplicate);
    }
    derive::refresh_call(txn, &session).await?;
    Ok(Stored::New(binding.map(|b| {
        (b.id, call_in_time.unwrap_or(now), talk_seconds)
    })))
}
