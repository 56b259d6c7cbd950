//! CDR batches (`fee`, up to 50 records): every record unique by `icid`, the whole batch in the
//! caller's one transaction. Binding counters move only for records that were new.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::Utc;
use pns_core::callback::FeeRecord;
use pns_core::wire_time::parse_event_time;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    TryInsertResult,
};
use serde_json::Value;
use uuid::Uuid;

use super::{call_webhooks, calls_table, count_call, find_binding, lock_calls};
use crate::db::entity::bindings::{self, Entity as BindingRows};
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

/// The first identifier of a record too long to be a key (see [`super::MAX_KEY_BYTES`]).
fn overlong(r: &FeeRecord) -> Option<&'static str> {
    super::first_overlong([
        ("icid", Some(r.icid.as_str())),
        ("sessionId", r.session_id.as_deref()),
        ("subscriptionId", r.subscription_id.as_deref()),
        ("bindNum", r.bind_num.as_deref()),
        ("callerNum", r.caller_num.as_deref()),
        ("calleeNum", r.callee_num.as_deref()),
    ])
}

/// Splits a batch (parsed records and the same records as received) into what can be stored and the
/// received records that cannot, each with the field that is too long.
pub fn split_overlong(
    records: Vec<FeeRecord>,
    raw: Vec<Value>,
) -> (Vec<FeeRecord>, Vec<Value>, Vec<(Value, &'static str)>) {
    let mut raw = raw.into_iter();
    let (mut kept, mut kept_raw, mut overlong_records) = (Vec::new(), Vec::new(), Vec::new());
    for record in records {
        let received = raw.next().unwrap_or(Value::Null);
        match overlong(&record) {
            Some(field) => {
                let received = match received {
                    Value::Null => serde_json::to_value(&record).unwrap_or(Value::Null),
                    received => received,
                };
                overlong_records.push((received, field));
            }
            None => {
                kept.push(record);
                kept_raw.push(received);
            }
        }
    }
    (kept, kept_raw, overlong_records)
}

/// `records` are the parsed batch; `raw` the same records as received, kept whole so fields this
/// version does not know survive. A fixed handful of statements per batch, not per record: lock the
/// calls, look up their bindings, insert every new record, re-derive their calls, move the counters.
pub async fn store_batch(
    txn: &DatabaseTransaction,
    records: &[FeeRecord],
    mut raw: Vec<Value>,
) -> Result<Counts, DbErr> {
    if records.is_empty() {
        return Ok(Counts::default());
    }
    // The first copy of an icid wins; a second copy in the same batch is a duplicate like any other.
    let mut icids = HashSet::new();
    let unique: Vec<(usize, &FeeRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| icids.insert(r.icid.as_str()))
        .collect();
    let sessions: Vec<String> = unique.iter().map(|(_, r)| session_key(r)).collect();
    lock_calls(txn, &sessions).await?;
    let bindings = BatchBindings::load(txn, unique.iter().map(|(_, r)| *r)).await?;
    let now = Utc::now();
    let rows: Vec<cdrs::ActiveModel> = unique
        .iter()
        .zip(&sessions)
        .map(|(&(i, record), session)| {
            let payload = match raw.get_mut(i).map(Value::take) {
                Some(Value::Null) | None => serde_json::to_value(record).unwrap_or(Value::Null),
                Some(payload) => payload,
            };
            row(record, session, bindings.of(record), payload, now)
        })
        .collect();
    let stored = match Cdrs::insert_many(rows)
        .on_conflict_do_nothing_on([cdrs::Column::Icid])
        .exec_with_returning_many(txn)
        .await?
    {
        TryInsertResult::Inserted(stored) => stored,
        TryInsertResult::Empty | TryInsertResult::Conflicted => Vec::new(),
    };
    let inserted: HashSet<String> = stored.iter().map(|c| c.icid.clone()).collect();
    let mut new_sessions = Vec::with_capacity(inserted.len());
    let mut per_binding: BTreeMap<Uuid, Tally> = BTreeMap::new();
    for (&(_, record), session) in unique.iter().zip(&sessions) {
        if !inserted.contains(&record.icid) {
            continue;
        }
        new_sessions.push(session.clone());
        if let Some(binding) = bindings.of(record) {
            let tally = per_binding.entry(binding.id).or_default();
            tally.calls += 1;
            tally.talk_seconds += record.talk_seconds();
            let at = time(record.call_in_time.as_deref()).unwrap_or(now);
            tally.last_call_at = tally.last_call_at.max(Some(at));
        }
    }
    let known = calls_table::Known {
        cdrs: stored,
        bindings: bindings.all().cloned().collect(),
    };
    let refreshed = calls_table::refresh_calls(txn, &new_sessions, known).await?;
    // Binding rows last and in id order: two batches touching the same bindings queue instead of
    // deadlocking (record order differs between batches).
    for (binding_id, tally) in per_binding {
        if let Some(at) = tally.last_call_at {
            count_call(txn, binding_id, tally.calls, at, tally.talk_seconds).await?;
        }
    }
    // Events after the binding rows: their sequence rows are locked in the same order as a binding
    // write locks them (the binding's row, then its sequence).
    call_webhooks::settle(txn, &refreshed).await?;
    Ok(Counts {
        inserted: inserted.len(),
        duplicates: records.len() - inserted.len(),
    })
}

/// The bindings a batch's records belong to, looked up together: one query for every record that
/// names its subscriptionId, one look-up by (X, caller) for each record that does not.
struct BatchBindings {
    by_subscription: HashMap<String, bindings::Model>,
    by_x_and_caller: HashMap<(String, String), bindings::Model>,
}

impl BatchBindings {
    async fn load<'a>(
        txn: &DatabaseTransaction,
        records: impl Iterator<Item = &'a FeeRecord> + Clone,
    ) -> Result<Self, DbErr> {
        let subscriptions: BTreeSet<&str> =
            records.clone().filter_map(|r| subscription(r)).collect();
        let by_subscription = if subscriptions.is_empty() {
            HashMap::new()
        } else {
            BindingRows::find()
                .filter(bindings::Column::SubscriptionId.is_in(subscriptions))
                .all(txn)
                .await?
                .into_iter()
                .filter_map(|b| Some((b.subscription_id.clone()?, b)))
                .collect()
        };
        let mut by_x_and_caller = HashMap::new();
        for record in records.filter(|r| subscription(r).is_none()) {
            let (Some(x), Some(caller)) =
                (record.bind_num.as_deref(), record.caller_num.as_deref())
            else {
                continue;
            };
            let key = (x.to_owned(), caller.to_owned());
            if by_x_and_caller.contains_key(&key) {
                continue;
            }
            if let Some(binding) = find_binding(txn, None, Some((x, caller))).await? {
                by_x_and_caller.insert(key, binding);
            }
        }
        Ok(Self {
            by_subscription,
            by_x_and_caller,
        })
    }

    fn all(&self) -> impl Iterator<Item = &bindings::Model> {
        self.by_subscription
            .values()
            .chain(self.by_x_and_caller.values())
    }

    fn of(&self, record: &FeeRecord) -> Option<&bindings::Model> {
        match subscription(record) {
            Some(sid) => self.by_subscription.get(sid),
            None => {
                let x = record.bind_num.clone()?;
                let caller = record.caller_num.clone()?;
                self.by_x_and_caller.get(&(x, caller))
            }
        }
    }
}

fn subscription(record: &FeeRecord) -> Option<&str> {
    record
        .subscription_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
}

#[derive(Default)]
struct Tally {
    calls: i32,
    talk_seconds: i64,
    last_call_at: Option<chrono::DateTime<Utc>>,
}

fn time(raw: Option<&str>) -> Option<chrono::DateTime<Utc>> {
    raw.and_then(parse_event_time)
}

fn int(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

fn row(
    r: &FeeRecord,
    session: &str,
    binding: Option<&bindings::Model>,
    payload: Value,
    now: chrono::DateTime<Utc>,
) -> cdrs::ActiveModel {
    cdrs::ActiveModel {
        icid: Set(r.icid.clone()),
        session_id: Set(Some(session.to_owned())),
        subscription_id: Set(r.subscription_id.clone().filter(|s| !s.is_empty())),
        binding_id: Set(binding.map(|b| b.id)),
        app_id: Set(binding.map(|b| b.app_id.clone())),
        bind_num: Set(r.bind_num.clone()),
        caller_num: Set(r.caller_num.clone()),
        callee_num: Set(r.callee_num.clone()),
        direction: Set(int(r.direction)),
        call_in_time: Set(time(r.call_in_time.as_deref())),
        fwd_answer_time: Set(time(r.fwd_answer_time.as_deref())),
        call_end_time: Set(time(r.call_end_time.as_deref())),
        fail_time: Set(time(r.fail_time.as_deref())),
        answered: Set(r.answered()),
        talk_seconds: Set(i32::try_from(r.talk_seconds()).unwrap_or(i32::MAX)),
        fwd_unasw_rsn: Set(int(r.fwd_unasw_rsn)),
        ul_fail_reason: Set(int(r.ul_fail_reason)),
        sip_status_code: Set(int(r.sip_status_code)),
        record_flag: Set(r.record_flag == Some(1)),
        record_domain: Set(r.record_domain.clone().filter(|s| !s.is_empty())),
        record_bucket_name: Set(r.record_bucket_name.clone().filter(|s| !s.is_empty())),
        record_object_name: Set(r.record_object_name.clone().filter(|s| !s.is_empty())),
        payload: Set(payload),
        received_at: Set(now),
    }
}
