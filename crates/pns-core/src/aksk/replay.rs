//! Nonce replay protection. A signed request stays valid for the whole clock-skew window, so the only thing
//! stopping a captured callback from being replayed inside it is remembering its nonce until it expires.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

pub trait ReplayGuard: Send + Sync {
    /// True the first time a nonce is seen inside the window; false for a repeat, and false whenever the
    /// guard cannot vouch for it (created outside the window, or no room left to remember it).
    fn first_use(&self, nonce: &str, created: DateTime<Utc>, now: DateTime<Utc>) -> bool;
}

/// Process-local guard. Entries live until their `Created` leaves the window, after which the skew check
/// rejects a replay on its own. Memory is bounded by `max_entries`; when every slot holds a nonce that is
/// still inside the window it refuses new ones (fails closed) rather than forgetting one that could then
/// be replayed.
pub struct InMemoryReplayGuard {
    window: TimeDelta,
    max_entries: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    by_nonce: HashMap<Arc<str>, DateTime<Utc>>,
    // Ordered by `Created`, so expiring the oldest is a walk from the front.
    by_created: BTreeSet<(DateTime<Utc>, Arc<str>)>,
}

impl InMemoryReplayGuard {
    pub fn new(window: Duration, max_entries: usize) -> Self {
        Self {
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX),
            max_entries,
            state: Mutex::new(State::default()),
        }
    }

    /// Nonces currently remembered (for metrics and tests).
    pub fn len(&self) -> usize {
        self.lock().by_nonce.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the maps consistent (every mutation is a single
        // insert/remove pair), so keep going instead of turning every later request into a panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ReplayGuard for InMemoryReplayGuard {
    fn first_use(&self, nonce: &str, created: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let oldest_valid = now
            .checked_sub_signed(self.window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let newest_valid = now
            .checked_add_signed(self.window)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if created < oldest_valid || created > newest_valid {
            return false;
        }
        let mut state = self.lock();
        while let Some((first_created, _)) = state.by_created.first() {
            if *first_created >= oldest_valid {
                break;
            }
            if let Some((_, old)) = state.by_created.pop_first() {
                state.by_nonce.remove(&old);
            }
        }
        if state.by_nonce.contains_key(nonce) || state.by_nonce.len() >= self.max_entries {
            return false;
        }
        let key: Arc<str> = Arc::from(nonce);
        state.by_nonce.insert(Arc::clone(&key), created);
        state.by_created.insert((created, key));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + TimeDelta::seconds(secs)
    }

    #[test]
    fn second_use_is_refused() {
        let g = InMemoryReplayGuard::new(Duration::from_secs(300), 10);
        assert!(g.first_use("abc", t(0), t(0)));
        assert!(!g.first_use("abc", t(0), t(1)));
        assert!(
            !g.first_use("abc", t(5), t(5)),
            "same nonce with another Created is still a repeat"
        );
        assert!(g.first_use("abd", t(0), t(1)));
    }

    #[test]
    fn outside_the_window_is_refused_and_not_stored() {
        let g = InMemoryReplayGuard::new(Duration::from_secs(300), 10);
        assert!(!g.first_use("old", t(0), t(301)));
        assert!(!g.first_use("future", t(302), t(1)));
        assert!(g.is_empty());
    }

    #[test]
    fn expired_nonces_are_forgotten() {
        let g = InMemoryReplayGuard::new(Duration::from_secs(300), 10);
        assert!(g.first_use("a", t(0), t(0)));
        assert!(g.first_use("b", t(200), t(200)));
        assert!(g.first_use("c", t(400), t(400)));
        assert_eq!(g.len(), 2, "a (created t0) expired once now > t300");
    }

    #[test]
    fn a_future_created_is_remembered_until_it_leaves_the_window() {
        let g = InMemoryReplayGuard::new(Duration::from_secs(300), 10);
        assert!(g.first_use("fwd", t(300), t(0)));
        // Still inside the window at t(550): a replay must be caught.
        assert!(!g.first_use("fwd", t(300), t(550)));
    }

    #[test]
    fn full_of_live_nonces_fails_closed_then_recovers() {
        let g = InMemoryReplayGuard::new(Duration::from_secs(300), 2);
        assert!(g.first_use("a", t(0), t(0)));
        assert!(g.first_use("b", t(10), t(10)));
        assert!(
            !g.first_use("c", t(20), t(20)),
            "no room and nothing expired: refuse"
        );
        // Once "a" leaves the window its slot is evicted and a new nonce fits.
        assert!(g.first_use("c", t(301), t(301)));
        assert!(!g.first_use("a", t(0), t(301)));
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn zero_capacity_refuses_everything() {
        let g = InMemoryReplayGuard::new(Duration::from_secs(300), 0);
        assert!(!g.first_use("a", t(0), t(0)));
    }
}
