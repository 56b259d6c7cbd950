//! The AXB operations on the store: bind (with X selection), modify, unbind, query, expiry.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use super::Engine;
use super::state::{Binding, STATUS_NORMAL};
use super::validate::{BindCmd, ModifyCmd, QueryCmd, UnbindCmd};
use crate::error::Rejection;

type Result<T> = std::result::Result<T, Rejection>;

enum BindFail {
    Abnormal,
    Conflict,
    Full,
}

/// One page of a query.
pub(crate) struct Page {
    pub total: usize,
    pub items: Vec<Binding>,
}

impl Engine {
    pub(crate) fn bind(&self, cmd: &BindCmd) -> Result<Binding> {
        let now = Instant::now();
        if let Some(number) = &cmd.relation_num {
            // relationNum wins over areaCode.
            let x = self
                .store
                .x_of_number(number)
                .ok_or_else(Rejection::not_owned)?;
            return self.try_bind_on(x, cmd, now).map_err(|f| match f {
                BindFail::Abnormal => Rejection::number_abnormal(),
                BindFail::Conflict => Rejection::binding_exists(),
                BindFail::Full => Rejection::number_full(),
            });
        }
        let area = cmd.area_code.as_deref().unwrap_or_default();
        // Least-loaded first (so X fill evenly), the asked city before any other in loose mode.
        let mut candidates: Vec<(bool, usize, usize)> = self
            .store
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| cmd.loose || s.area_code == area)
            .map(|(i, s)| {
                let load = s.load.load(std::sync::atomic::Ordering::Relaxed);
                (s.area_code != area, load, i)
            })
            .collect();
        candidates.sort_unstable();
        for (_, _, x) in candidates {
            if let Ok(b) = self.try_bind_on(x, cmd, now) {
                return Ok(b);
            }
        }
        Err(Rejection::no_free_number())
    }

    fn try_bind_on(
        &self,
        x: usize,
        cmd: &BindCmd,
        now: Instant,
    ) -> std::result::Result<Binding, BindFail> {
        let mut lx = self.store.lock_x(x);
        if lx.st.status != STATUS_NORMAL {
            return Err(BindFail::Abnormal);
        }
        if lx.holder_of(&cmd.caller, None, now).is_some()
            || lx.holder_of(&cmd.callee, None, now).is_some()
        {
            return Err(BindFail::Conflict);
        }
        if lx.is_full() {
            lx.sweep(now);
            if lx.is_full() {
                return Err(BindFail::Full);
            }
        }
        let b = Binding {
            seq: self.store.next_seq(),
            subscription_id: uuid::Uuid::new_v4().to_string(),
            x,
            caller: cmd.caller.clone(),
            callee: cmd.callee.clone(),
            call_direction: cmd.call_direction,
            duration: cmd.duration,
            max_duration: cmd.max_duration,
            record_flag: cmd.record_flag,
            record_hint_tone: cmd.record_hint_tone.clone(),
            last_min_voice: cmd.last_min_voice.clone(),
            private_sms: cmd.private_sms,
            pre_voice: cmd.pre_voice.clone(),
            user_data: cmd.user_data.clone(),
            subscribe_time: Utc::now(),
            expires_at: expiry(now, cmd.duration),
        };
        lx.insert(b.clone());
        Ok(b)
    }

    pub(crate) fn modify(&self, cmd: &ModifyCmd) -> Result<()> {
        let now = Instant::now();
        let sid = cmd.subscription_id.as_str();
        let mut lx = self
            .store
            .lock_by_sid(sid, now)
            .ok_or_else(Rejection::not_found)?;
        let (old_caller, old_callee, old_max) = {
            let b = &lx.st.bindings[sid];
            (b.caller.clone(), b.callee.clone(), b.max_duration)
        };
        let caller = cmd.caller.clone().unwrap_or_else(|| old_caller.clone());
        let callee = cmd.callee.clone().unwrap_or_else(|| old_callee.clone());
        if caller == callee {
            return Err(Rejection::invalid(
                "calleeNum",
                "must differ from callerNum",
            ));
        }
        if cmd.last_min_voice.is_some() && cmd.max_duration.unwrap_or(old_max) == 0 {
            return Err(Rejection::invalid(
                "lastMinVoice",
                "only allowed with a non-zero maxDuration",
            ));
        }
        if lx.holder_of(&caller, Some(sid), now).is_some()
            || lx.holder_of(&callee, Some(sid), now).is_some()
        {
            return Err(Rejection::binding_exists());
        }
        lx.set_parties(sid, [&old_caller, &old_callee], [&caller, &callee]);
        let b = lx
            .st
            .bindings
            .get_mut(sid)
            .expect("present under the same lock");
        b.caller = caller;
        b.callee = callee;
        set(&mut b.call_direction, cmd.call_direction);
        set(&mut b.max_duration, cmd.max_duration);
        set(&mut b.record_flag, cmd.record_flag);
        if let Some(d) = cmd.duration {
            // A new duration counts from this modify: the timer restarts.
            b.duration = d;
            b.expires_at = expiry(now, d);
        }
        if cmd.last_min_voice.is_some() {
            b.last_min_voice.clone_from(&cmd.last_min_voice);
        }
        if cmd.private_sms.is_some() {
            b.private_sms = cmd.private_sms;
        }
        if cmd.pre_voice.is_some() {
            b.pre_voice.clone_from(&cmd.pre_voice);
        }
        if cmd.user_data.is_some() {
            b.user_data.clone_from(&cmd.user_data);
        }
        Ok(())
    }

    /// How many bindings went.
    pub(crate) fn unbind(&self, cmd: &UnbindCmd) -> Result<usize> {
        match cmd {
            UnbindCmd::BySubscription(sid) => {
                let mut lx = self
                    .store
                    .lock_by_sid(sid, Instant::now())
                    .ok_or_else(Rejection::not_found)?;
                lx.remove(sid);
                Ok(1)
            }
            UnbindCmd::ByRelation(number) => {
                let x = self
                    .store
                    .x_of_number(number)
                    .ok_or_else(Rejection::not_owned)?;
                Ok(self.store.lock_x(x).clear())
            }
        }
    }

    pub(crate) fn query(&self, cmd: &QueryCmd) -> Result<Page> {
        let now = Instant::now();
        if let Some(sid) = &cmd.subscription_id {
            // subscriptionId wins over relationNum.
            let lx = self
                .store
                .lock_by_sid(sid, now)
                .ok_or_else(Rejection::not_found)?;
            let b = lx.st.bindings[sid.as_str()].clone();
            return Ok(Page {
                total: 1,
                items: if cmd.page_index == 1 { vec![b] } else { vec![] },
            });
        }
        let number = cmd.relation_num.as_deref().unwrap_or_default();
        let x = self
            .store
            .x_of_number(number)
            .ok_or_else(Rejection::not_owned)?;
        let lx = self.store.lock_x(x);
        let mut matching: Vec<&Binding> = lx
            .st
            .bindings
            .values()
            .filter(|b| !b.expired(now))
            .filter(|b| cmd.caller.as_ref().is_none_or(|c| *c == b.caller))
            .filter(|b| cmd.callee.as_ref().is_none_or(|c| *c == b.callee))
            .collect();
        matching.sort_unstable_by_key(|b| b.seq);
        let start = (cmd.page_index - 1).saturating_mul(cmd.page_size);
        Ok(Page {
            total: matching.len(),
            items: matching
                .iter()
                .skip(start)
                .take(cmd.page_size)
                .map(|b| (*b).clone())
                .collect(),
        })
    }

    /// A live binding by subscriptionId (expired ones are removed on the way).
    pub(crate) fn binding(&self, sid: &str) -> Option<Binding> {
        let lx = self.store.lock_by_sid(sid, Instant::now())?;
        lx.st.bindings.get(sid).cloned()
    }

    /// The live binding holding `party` on X `number`, if any.
    pub(crate) fn binding_of_party(&self, number: &str, party: &str) -> Option<Binding> {
        let x = self.store.x_of_number(number)?;
        let mut lx = self.store.lock_x(x);
        let sid = lx.holder_of(party, None, Instant::now())?;
        lx.st.bindings.get(&sid).cloned()
    }

    pub(crate) fn expire(&self, sid: &str) -> bool {
        self.store
            .lock_by_sid(sid, Instant::now())
            .and_then(|mut lx| lx.remove(sid))
            .is_some()
    }

    /// The periodic expiry pass; lazy checks on access cover the time in between.
    pub(crate) fn sweep_expired(&self) -> usize {
        let now = Instant::now();
        (0..self.store.slots.len())
            .map(|x| self.store.lock_x(x).sweep(now))
            .sum()
    }

    pub(crate) fn all_bindings(&self) -> Vec<Binding> {
        let now = Instant::now();
        let mut all: Vec<Binding> = (0..self.store.slots.len())
            .flat_map(|x| {
                let lx = self.store.lock_x(x);
                lx.st
                    .bindings
                    .values()
                    .filter(|b| !b.expired(now))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_unstable_by_key(|b| b.seq);
        all
    }

    pub(crate) fn set_number_status(&self, number: &str, status: i64) -> bool {
        match self.store.x_of_number(number) {
            Some(x) => {
                self.store.lock_x(x).st.status = status;
                true
            }
            None => false,
        }
    }

    pub(crate) fn relation_num(&self, b: &Binding) -> &str {
        &self.store.slots[b.x].number
    }

    /// A binding as the query answer lists it (and the bind answer echoes it).
    pub(crate) fn binding_json(&self, b: &Binding) -> Value {
        let mut v = json!({
            "subscriptionId": b.subscription_id,
            "relationNum": self.relation_num(b),
            "callerNum": b.caller,
            "calleeNum": b.callee,
            "callDirection": b.call_direction,
            "duration": b.duration,
            "maxDuration": b.max_duration,
            "subscribeTime": pns_core::wire_time::format_event_time(b.subscribe_time),
            "recordFlag": if b.record_flag { "true" } else { "false" },
        });
        if let Some(p) = b.private_sms {
            v["privateSms"] = json!(if p { "true" } else { "false" });
        }
        if let Some(u) = &b.user_data {
            v["userData"] = json!(u);
        }
        if let Some(t) = &b.record_hint_tone {
            v["recordHintTone"] = json!(t);
        }
        if let Some(t) = &b.last_min_voice {
            v["lastMinVoice"] = json!(t);
        }
        if let Some(p) = &b.pre_voice {
            v["preVoice"] =
                json!({"callerHintTone": p.caller_hint_tone, "calleeHintTone": p.callee_hint_tone});
        }
        v
    }
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

fn expiry(now: Instant, duration: u32) -> Option<Instant> {
    (duration > 0).then(|| now + Duration::from_secs(duration.into()))
}
