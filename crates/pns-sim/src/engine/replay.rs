//! The simulator's nonce memory. pns-core's `InMemoryReplayGuard` fails closed when full, which is right
//! for the gateway but would turn a long benchmark into 403s once the window holds more nonces than it can
//! remember (30k requests/s x 300 s). Here the oldest nonce is forgotten instead, and the memory is sharded
//! so concurrent requests do not queue on one lock.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pns_core::ReplayGuard;

use super::state::lock;

const SHARDS: usize = 32;

#[derive(Default)]
struct Shard {
    seen: HashSet<Box<str>>,
    /// Insertion order, to expire (and, when full, forget) the oldest first.
    order: VecDeque<(DateTime<Utc>, Box<str>)>,
}

pub(crate) struct ShardedReplayGuard {
    window: TimeDelta,
    per_shard: usize,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
}

impl ShardedReplayGuard {
    pub fn new(window: Duration, max_entries: usize) -> Self {
        Self {
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX),
            per_shard: (max_entries / SHARDS).max(1),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl ReplayGuard for ShardedReplayGuard {
    fn first_use(&self, nonce: &str, created: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        if (now - created).abs() > self.window {
            return false;
        }
        let shard = &self.shards[self.hasher.hash_one(nonce) as usize % SHARDS];
        let mut s = lock(shard);
        let oldest_valid = now - self.window;
        while s.order.front().is_some_and(|(t, _)| *t < oldest_valid) {
            forget_oldest(&mut s);
        }
        if s.seen.contains(nonce) {
            return false;
        }
        while s.order.len() >= self.per_shard {
            forget_oldest(&mut s);
        }
        s.seen.insert(nonce.into());
        s.order.push_back((created, nonce.into()));
        true
    }
}

fn forget_oldest(s: &mut Shard) {
    if let Some((_, old)) = s.order.pop_front() {
        s.seen.remove(&old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_refused_and_the_oldest_is_forgotten_when_full() {
        let guard = ShardedReplayGuard::new(Duration::from_secs(300), SHARDS);
        let now = Utc::now();
        assert!(guard.first_use("n1", now, now));
        assert!(!guard.first_use("n1", now, now));
        assert!(!guard.first_use("n2", now - TimeDelta::seconds(301), now));
        // One entry per shard: enough new nonces push n1 out rather than refusing them.
        for i in 0..10 * SHARDS {
            assert!(guard.first_use(&format!("x{i}"), now, now));
        }
        assert!(guard.first_use("n1", now, now));
    }

    #[test]
    fn a_nonce_is_forgotten_once_its_window_has_passed() {
        let guard = ShardedReplayGuard::new(Duration::from_secs(1), 1000);
        let then = Utc::now();
        assert!(guard.first_use("n1", then, then));
        let later = then + TimeDelta::seconds(5);
        // A replay of the old header is refused by the skew check; the nonce itself is free again.
        assert!(!guard.first_use("n1", then, later));
        assert!(guard.first_use("n1", later, later));
    }
}
