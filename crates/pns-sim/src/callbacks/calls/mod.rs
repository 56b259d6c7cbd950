//! A simulated call through X: the call events in order, then a CDR on the fee queue.
//!
//! Time is virtual: the call is laid out so that it ends now, and its billed seconds (callEndTime -
//! fwdAnswerTime) are exactly `talk_seconds`, without the test waiting for them.

use chrono::Utc;
use pns_core::wire_time::format_event_time;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod wire;

use wire::{Times, event_body, event_sequence, new_icid, new_recording, new_session_id};

use crate::engine::Engine;
use crate::engine::state::Binding;
use crate::error::SimError;

/// Which real party dials X.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Party {
    Caller,
    Callee,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallOutcome {
    Answered,
    NoAnswer,
    Busy,
    Rejected,
    PoweredOff,
}

/// A call on a binding. Control API form: `{"subscriptionId":"..","from":"caller","outcome":"answered",
/// "talkSeconds":30,"record":true}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallScript {
    pub subscription_id: String,
    pub from: Party,
    pub outcome: CallOutcome,
    #[serde(default)]
    pub talk_seconds: u32,
    /// Recorded (only an answered call has a recording).
    #[serde(default)]
    pub record: bool,
}

/// How one call event's push went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDelivery {
    pub event_type: String,
    pub http_status: Option<u16>,
    pub attempts: u32,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallReport {
    pub session_id: String,
    pub icid: String,
    /// Empty when there was no binding (stateCode 8014).
    pub subscription_id: String,
    pub state_code: i64,
    pub events: Vec<EventDelivery>,
    pub record_domain: Option<String>,
    pub record_object_name: Option<String>,
}

/// Sim-side names of where recordings live; the record URL API answers for them.
pub(crate) const RECORD_DOMAIN: &str = "record.pns-sim.invalid";
const RECORD_BUCKET: &str = "sp-pns-sim";
const HOST_NAME: &str = "callenabler.pns-sim.invalid";
/// Calls into X are direction 1 ("呼入", relative to the virtual number), as in Huawei's CDR sample.
const DIRECTION_INTO_X: i64 = 1;
const RING_SECONDS: i64 = 5;
const NO_ANSWER_RING_SECONDS: i64 = 30;

/// What happened, before it is rendered as events and a CDR.
struct Plan<'a> {
    caller: &'a str,
    x: &'a str,
    /// The real party the call is forwarded to (None when refused before forwarding).
    forwarded_to: Option<&'a str>,
    alerted: bool,
    answered: bool,
    state_code: i64,
    talk_seconds: i64,
    /// (Q.850 cause of the forwarded leg, SIP status of the failure).
    failure: (i64, i64),
    record: bool,
    binding: Option<&'a Binding>,
}

impl Plan<'_> {
    /// Empty when there is no binding, as the platform sends it.
    fn subscription_id(&self) -> String {
        self.binding
            .map(|b| b.subscription_id.clone())
            .unwrap_or_default()
    }
}

fn state_desc(code: i64) -> &'static str {
    match code {
        0 => "The user releases the call.",
        7503 => "The callee rejects the call.",
        8014 => "No binding relationship for this call.",
        8016 => "The call direction is not allowed.",
        8101 => "The callee does not answer.",
        8102 => "The callee is busy.",
        8104 => "The callee is powered off.",
        _ => "The call ends.",
    }
}

fn direction_allowed(call_direction: u8, from: Party) -> bool {
    matches!(
        (call_direction, from),
        (0, _) | (1, Party::Caller) | (2, Party::Callee)
    )
}

impl Engine {
    pub(crate) async fn play_call(&self, script: &CallScript) -> Result<CallReport, SimError> {
        let url = self.callbacks.url().ok_or(SimError::NoCallbackUrl)?;
        let b = self
            .binding(&script.subscription_id)
            .ok_or_else(|| SimError::UnknownSubscription(script.subscription_id.clone()))?;
        let (caller, dest) = match script.from {
            Party::Caller => (&b.caller, &b.callee),
            Party::Callee => (&b.callee, &b.caller),
        };
        let x = self.relation_num(&b).to_owned();
        let allowed = direction_allowed(b.call_direction, script.from);
        let outcome = script.outcome;
        let answered = allowed && outcome == CallOutcome::Answered;
        let plan = Plan {
            caller,
            x: &x,
            forwarded_to: allowed.then_some(dest.as_str()),
            alerted: allowed
                && matches!(
                    outcome,
                    CallOutcome::Answered | CallOutcome::NoAnswer | CallOutcome::Rejected
                ),
            answered,
            state_code: match (allowed, outcome) {
                (false, _) => 8016,
                (true, CallOutcome::Answered) => 0,
                (true, CallOutcome::NoAnswer) => 8101,
                (true, CallOutcome::Busy) => 8102,
                (true, CallOutcome::Rejected) => 7503,
                (true, CallOutcome::PoweredOff) => 8104,
            },
            talk_seconds: if answered {
                script.talk_seconds.into()
            } else {
                0
            },
            failure: match (allowed, outcome) {
                (false, _) | (true, CallOutcome::Answered) => (0, 0),
                (true, CallOutcome::NoAnswer) => (19, 480),
                (true, CallOutcome::Busy) => (17, 486),
                (true, CallOutcome::Rejected) => (21, 603),
                (true, CallOutcome::PoweredOff) => (20, 480),
            },
            record: answered && script.record,
            binding: Some(&b),
        };
        Ok(self.run_call(&url, &plan).await)
    }

    /// A call to X from a number with no binding on it: refused with 8014 and an empty subscriptionId.
    pub(crate) async fn play_unbound_call(
        &self,
        relation_num: &str,
        caller: &str,
    ) -> Result<CallReport, SimError> {
        let url = self.callbacks.url().ok_or(SimError::NoCallbackUrl)?;
        if self.store.x_of_number(relation_num).is_none() {
            return Err(SimError::InvalidScript(
                "relationNum is not a number of this app".into(),
            ));
        }
        if self.binding_of_party(relation_num, caller).is_some() {
            return Err(SimError::InvalidScript(
                "the caller has a binding on this X; play_call it instead".into(),
            ));
        }
        let plan = Plan {
            caller,
            x: relation_num,
            forwarded_to: None,
            alerted: false,
            answered: false,
            state_code: 8014,
            talk_seconds: 0,
            failure: (0, 0),
            record: false,
            binding: None,
        };
        Ok(self.run_call(&url, &plan).await)
    }

    /// Plays a plan out as a call that ends now: its events pushed in order, then its CDR queued.
    async fn run_call(&self, url: &str, plan: &Plan<'_>) -> CallReport {
        let times = Times::ending_at(Utc::now(), plan);
        let session_id = new_session_id(times.start);
        let sid = plan.subscription_id();
        let events = self
            .push_call_events(url, plan, &times, &session_id, &sid)
            .await;

        let icid = new_icid();
        let recording = plan.record.then(new_recording);
        let cdr = self.cdr(plan, &icid, &session_id, &sid, &times, recording.as_ref());
        if let Some((domain, object)) = &recording {
            self.callbacks.add_recording(domain, object);
        }
        self.queue_cdr(cdr);
        CallReport {
            session_id,
            icid,
            subscription_id: sid,
            state_code: plan.state_code,
            events,
            record_domain: recording.as_ref().map(|r| r.0.clone()),
            record_object_name: recording.map(|r| r.1),
        }
    }

    /// Pushes each of the call's events in order, each retried on the platform's schedule.
    async fn push_call_events(
        &self,
        url: &str,
        plan: &Plan<'_>,
        times: &Times,
        session_id: &str,
        sid: &str,
    ) -> Vec<EventDelivery> {
        let events = event_sequence(plan, times);
        let mut deliveries = Vec::with_capacity(events.len());
        for (event_type, at, called) in events {
            let body = event_body(plan, event_type, at, called, session_id, sid);
            let d = self.push(url, &body, true).await;
            deliveries.push(EventDelivery {
                event_type: event_type.to_owned(),
                http_status: d.outcome.as_ref().ok().map(|(s, _)| *s),
                attempts: d.attempts,
                error: d.outcome.err(),
            });
        }
        deliveries
    }

    fn cdr(
        &self,
        plan: &Plan<'_>,
        icid: &str,
        session_id: &str,
        sid: &str,
        t: &Times,
        recording: Option<&(String, String)>,
    ) -> Value {
        let mut r = json!({
            "direction": DIRECTION_INTO_X,
            "spId": "pns-sim",
            "appKey": self.app_key,
            "icid": icid,
            "bindNum": plan.x,
            "sessionId": session_id,
            "subscriptionId": sid,
            "callerNum": plan.caller,
            "calleeNum": plan.x,
            "fwdDisplayNum": plan.x,
            "callInTime": format_event_time(t.start),
            "callEndTime": format_event_time(t.end),
            "fwdUnaswRsn": plan.failure.0,
            "ulFailReason": if plan.answered { 0 } else { plan.state_code },
            "sipStatusCode": plan.failure.1,
            "callOutUnaswRsn": plan.failure.0,
            "recordFlag": i64::from(recording.is_some()),
            "ttsPlayTimes": 0,
            "ttsTransDuration": 0,
            "mptyId": session_id,
            "serviceType": "004",
            "hostName": HOST_NAME,
        });
        if let Some(dest) = plan.forwarded_to {
            r["fwdDstNum"] = json!(dest);
            r["fwdStartTime"] = json!(format_event_time(t.start));
        }
        if plan.alerted {
            r["fwdAlertingTime"] = json!(format_event_time(t.alert_at));
        }
        if plan.answered {
            // The one field that says the call connected.
            r["fwdAnswerTime"] = json!(format_event_time(t.answer_at));
        } else {
            r["failTime"] = json!(format_event_time(t.end));
        }
        if let Some((domain, object)) = recording {
            r["recordStartTime"] = json!(format_event_time(t.answer_at));
            r["recordDomain"] = json!(domain);
            r["recordBucketName"] = json!(RECORD_BUCKET);
            r["recordObjectName"] = json!(object);
        }
        if let Some(u) = plan.binding.and_then(|b| b.user_data.as_ref()) {
            r["userData"] = json!(u);
        }
        r
    }
}
