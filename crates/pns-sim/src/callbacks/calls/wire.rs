//! How a simulated call looks on the wire: its ids, the events in order with their bodies, and the
//! virtual times they carry.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use pns_core::wire_time::format_event_time;
use serde_json::{Value, json};

use super::*;

pub(super) fn new_session_id(start: DateTime<Utc>) -> String {
    format!(
        "1200_{}_{}_{}@{HOST_NAME}",
        rand::random::<u16>(),
        rand::random::<u32>(),
        start.format("%Y%m%d%H%M%S")
    )
}

pub(super) fn new_icid() -> String {
    format!(
        "{}.{}.{}.1",
        uuid::Uuid::new_v4().simple(),
        rand::random::<u32>(),
        rand::random::<u32>()
    )
}

/// (recordDomain, recordObjectName) of a fresh recording.
pub(super) fn new_recording() -> (String, String) {
    (
        RECORD_DOMAIN.to_owned(),
        format!("{}.wav", uuid::Uuid::new_v4().simple()),
    )
}

/// The call events in the order the platform sends them, each with its time and called number.
pub(super) fn event_sequence<'a>(
    plan: &Plan<'a>,
    t: &Times,
) -> Vec<(&'static str, DateTime<Utc>, &'a str)> {
    let called = plan.forwarded_to.unwrap_or(plan.x);
    let mut events = vec![("callin", t.start, plan.x)];
    if plan.alerted {
        events.push(("alerting", t.alert_at, called));
    }
    if plan.answered {
        events.push(("answer", t.answer_at, called));
    }
    events.push(("disconnect", t.end, called));
    events
}

pub(super) fn event_body(
    plan: &Plan<'_>,
    event_type: &str,
    at: DateTime<Utc>,
    called: &str,
    session_id: &str,
    sid: &str,
) -> Value {
    let mut info = json!({
        "sessionId": session_id,
        "timestamp": format_event_time(at),
        "caller": plan.caller,
        "called": called,
        "subscriptionId": sid,
    });
    if event_type == "callin"
        && let Some(u) = plan.binding.and_then(|b| b.user_data.as_ref())
    {
        info["userData"] = json!(u);
    }
    if event_type == "disconnect" {
        info["stateCode"] = json!(plan.state_code);
        info["stateDesc"] = json!(state_desc(plan.state_code));
    }
    json!({"eventType": event_type, "statusInfo": info})
}

pub(super) struct Times {
    pub(super) start: DateTime<Utc>,
    pub(super) alert_at: DateTime<Utc>,
    pub(super) answer_at: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
}

impl Times {
    /// Lays the call out backwards from `end`, so its billed seconds are exactly the plan's talk time.
    pub(super) fn ending_at(end: DateTime<Utc>, plan: &Plan<'_>) -> Self {
        let secs = ChronoDuration::seconds;
        let ring = if plan.answered || !plan.alerted {
            RING_SECONDS
        } else {
            NO_ANSWER_RING_SECONDS
        };
        let answer_at = end - secs(plan.talk_seconds);
        let alert_at = if plan.answered {
            answer_at - secs(ring)
        } else {
            end - secs(ring)
        };
        let start = if plan.alerted {
            alert_at - secs(1)
        } else {
            end - secs(1)
        };
        Self {
            start,
            alert_at,
            answer_at,
            end,
        }
    }
}
