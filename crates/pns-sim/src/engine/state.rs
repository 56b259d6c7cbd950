//! Binding storage. Each X number has its own lock (the AXB invariant is per X, so binds on different X never
//! contend); a sharded map finds a subscriptionId's X in O(1). Lock order is always X, then index shard, and
//! no lock is ever held across an `.await`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::config::SimNumber;

const INDEX_SHARDS: usize = 64;

/// X-number status codes of the `numStatus` push; only 5 accepts new bindings.
pub(crate) const STATUS_NORMAL: i64 = 5;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PreVoice {
    pub caller_hint_tone: Option<String>,
    pub callee_hint_tone: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Binding {
    /// Creation order, so query pages are stable.
    pub seq: u64,
    pub subscription_id: String,
    pub x: usize,
    pub caller: String,
    pub callee: String,
    pub call_direction: u8,
    pub duration: u32,
    pub max_duration: u16,
    pub record_flag: bool,
    pub record_hint_tone: Option<String>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub pre_voice: Option<PreVoice>,
    pub user_data: Option<String>,
    pub subscribe_time: DateTime<Utc>,
    /// None = never expires (duration 0).
    pub expires_at: Option<Instant>,
}

impl Binding {
    pub fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

#[derive(Default)]
pub(crate) struct XState {
    pub status: i64,
    /// Real number -> the one subscriptionId it is in on this X (the AXB invariant).
    pub by_party: HashMap<String, String>,
    pub bindings: HashMap<String, Binding>,
}

pub(crate) struct XSlot {
    pub number: String,
    pub area_code: String,
    /// Mirror of `bindings.len()` so the least-loaded pick can scan without locking every X.
    pub load: AtomicUsize,
    state: Mutex<XState>,
}

pub(crate) struct Store {
    pub slots: Vec<XSlot>,
    by_number: HashMap<String, usize>,
    index: Box<[Mutex<HashMap<String, usize>>]>,
    hasher: RandomState,
    seq: AtomicU64,
    pub capacity: usize,
}

/// A locked X; removals go through it so the party map, the index and the load counter stay in step.
pub(crate) struct LockedX<'a> {
    store: &'a Store,
    pub x: usize,
    pub st: MutexGuard<'a, XState>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not wedge the simulator for every later test.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    pub fn new(numbers: &[SimNumber], capacity: usize) -> Self {
        let slots = numbers
            .iter()
            .map(|n| XSlot {
                number: n.number.clone(),
                area_code: n.area_code.clone(),
                load: AtomicUsize::new(0),
                state: Mutex::new(XState {
                    status: STATUS_NORMAL,
                    ..XState::default()
                }),
            })
            .collect::<Vec<_>>();
        let by_number = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.number.clone(), i))
            .collect();
        Self {
            slots,
            by_number,
            index: (0..INDEX_SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            seq: AtomicU64::new(0),
            capacity,
        }
    }

    pub fn x_of_number(&self, number: &str) -> Option<usize> {
        self.by_number.get(number).copied()
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    fn shard(&self, sid: &str) -> &Mutex<HashMap<String, usize>> {
        let h = self.hasher.hash_one(sid) as usize;
        &self.index[h % INDEX_SHARDS]
    }

    pub fn lock_x(&self, x: usize) -> LockedX<'_> {
        LockedX {
            store: self,
            x,
            st: lock(&self.slots[x].state),
        }
    }

    /// The X holding `sid`, locked, with the binding known to be present and not expired.
    pub fn lock_by_sid(&self, sid: &str, now: Instant) -> Option<LockedX<'_>> {
        let x = *lock(self.shard(sid)).get(sid)?;
        let mut locked = self.lock_x(x);
        let expired = locked.st.bindings.get(sid)?.expired(now);
        if expired {
            locked.remove(sid);
            return None;
        }
        Some(locked)
    }

    pub fn total(&self) -> usize {
        self.slots
            .iter()
            .map(|s| s.load.load(Ordering::Relaxed))
            .sum()
    }
}

impl LockedX<'_> {
    pub fn slot(&self) -> &XSlot {
        &self.store.slots[self.x]
    }

    pub fn is_full(&self) -> bool {
        self.st.bindings.len() >= self.store.capacity
    }

    /// The live binding `party` is in on this X, other than `except`; an expired holder is removed on the way.
    pub fn holder_of(&mut self, party: &str, except: Option<&str>, now: Instant) -> Option<String> {
        let sid = self.st.by_party.get(party)?.clone();
        if except == Some(sid.as_str()) {
            return None;
        }
        if self.st.bindings.get(&sid).is_none_or(|b| b.expired(now)) {
            self.remove(&sid);
            return None;
        }
        Some(sid)
    }

    pub fn insert(&mut self, b: Binding) {
        self.st
            .by_party
            .insert(b.caller.clone(), b.subscription_id.clone());
        self.st
            .by_party
            .insert(b.callee.clone(), b.subscription_id.clone());
        lock(self.store.shard(&b.subscription_id)).insert(b.subscription_id.clone(), self.x);
        self.st.bindings.insert(b.subscription_id.clone(), b);
        self.sync_load();
    }

    /// Moves a binding to new parties (modify); the caller checked the invariant first. Old entries go
    /// before new ones are added so a swap of A and B keeps both.
    pub fn set_parties(&mut self, sid: &str, old: [&str; 2], new: [&str; 2]) {
        for party in old {
            if self.st.by_party.get(party).is_some_and(|s| s == sid) {
                self.st.by_party.remove(party);
            }
        }
        for party in new {
            self.st.by_party.insert(party.to_owned(), sid.to_owned());
        }
    }

    pub fn remove(&mut self, sid: &str) -> Option<Binding> {
        let b = self.st.bindings.remove(sid)?;
        for party in [&b.caller, &b.callee] {
            if self.st.by_party.get(party).is_some_and(|s| s == sid) {
                self.st.by_party.remove(party);
            }
        }
        lock(self.store.shard(sid)).remove(sid);
        self.sync_load();
        Some(b)
    }

    pub fn clear(&mut self) -> usize {
        let sids: Vec<String> = self.st.bindings.keys().cloned().collect();
        for sid in &sids {
            self.remove(sid);
        }
        sids.len()
    }

    /// Drops every expired binding; returns how many went.
    pub fn sweep(&mut self, now: Instant) -> usize {
        let expired: Vec<String> = self
            .st
            .bindings
            .values()
            .filter(|b| b.expired(now))
            .map(|b| b.subscription_id.clone())
            .collect();
        for sid in &expired {
            self.remove(sid);
        }
        expired.len()
    }

    fn sync_load(&self) {
        self.slot()
            .load
            .store(self.st.bindings.len(), Ordering::Relaxed);
    }
}
