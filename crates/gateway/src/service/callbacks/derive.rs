//! A call's row in `calls`, derived from everything stored about it (all its events and its CDR) rather
//! than patched event by event: delivery order then cannot matter, so a late `alerting` after the
//! `disconnect` changes nothing and a CDR before its events gives the same row as after.

use chrono::{DateTime, Utc};
use pns_core::callback::state_code_meaning;
use pns_core::wire_time::parse_event_time;
use uuid::Uuid;

use crate::db::entity::{call_events, cdrs};
use crate::domain::CallOutcome;

/// Everything known about one call, derived. Pure, so the rules are unit-tested without a database.
#[derive(Debug, Default, PartialEq)]
pub struct Derived {
    pub binding_id: Option<Uuid>,
    pub subscription_id: Option<String>,
    pub caller: Option<String>,
    pub called: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub alerted_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub talk_seconds: Option<i32>,
    pub outcome: String,
    pub state_code: Option<i32>,
    pub state_desc: Option<String>,
}

fn earliest(events: &[call_events::Model], kinds: &[&str]) -> Option<DateTime<Utc>> {
    events
        .iter()
        .filter(|e| kinds.contains(&e.event_type.as_str()))
        .filter_map(|e| e.occurred_at)
        .min()
}

pub fn derive(events: &[call_events::Model], cdr: Option<&cdrs::Model>) -> Derived {
    let disconnect = events
        .iter()
        .filter(|e| e.event_type == "disconnect")
        .min_by_key(|e| e.occurred_at);
    let started = earliest(events, &["callin", "callout"]);
    let answered_event = earliest(events, &["answer"]);
    let (answered_at, ended_at) = match cdr {
        // The CDR is the record of what was billed: it wins over the events.
        Some(c) => (
            c.fwd_answer_time,
            c.call_end_time
                .or(c.fail_time)
                .or(disconnect.and_then(|d| d.occurred_at)),
        ),
        None => (answered_event, disconnect.and_then(|d| d.occurred_at)),
    };
    let talk_seconds = match (cdr, answered_at, ended_at) {
        (Some(c), _, _) => Some(c.talk_seconds),
        (None, Some(a), Some(e)) => Some(i32::try_from((e - a).num_seconds().max(0)).unwrap_or(0)),
        (None, None, Some(_)) => Some(0),
        _ => None,
    };
    let state_code = disconnect.and_then(|d| d.state_code);
    let outcome = match (cdr, state_code) {
        (Some(c), _) if c.answered => CallOutcome::Answered,
        (_, Some(code)) => CallOutcome::of_state_code(i64::from(code)),
        (Some(c), None) => CallOutcome::of_q850(c.fwd_unasw_rsn),
        (None, None) => CallOutcome::InProgress,
    };
    // The real destination: the CDR's forwarded number, else the `called` of a post-callin event.
    // On callin `called` is X itself, and a call refused before forwarding keeps X there too.
    let x = events
        .iter()
        .find(|e| e.event_type == "callin")
        .and_then(|e| e.called.as_deref());
    let forwarded = events
        .iter()
        .filter(|e| e.event_type != "callin" && e.event_type != "callout")
        .filter_map(|e| e.called.clone())
        .find(|called| Some(called.as_str()) != x);
    let first_event = events.iter().min_by_key(|e| e.occurred_at);
    Derived {
        binding_id: events
            .iter()
            .find_map(|e| e.binding_id)
            .or(cdr.and_then(|c| c.binding_id)),
        subscription_id: events
            .iter()
            .find_map(|e| e.subscription_id.clone())
            .or(cdr.and_then(|c| c.subscription_id.clone()))
            .filter(|s| !s.is_empty()),
        caller: first_event
            .and_then(|e| e.caller.clone())
            .or(cdr.and_then(|c| c.caller_num.clone())),
        called: cdr
            .and_then(|c| c.payload.get("fwdDstNum"))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or(forwarded),
        started_at: started
            .or(cdr.and_then(|c| c.call_in_time))
            .or(first_event.and_then(|e| e.occurred_at)),
        alerted_at: earliest(events, &["alerting"]).or(cdr
            .and_then(|c| c.payload.get("fwdAlertingTime"))
            .and_then(|v| v.as_str())
            .and_then(parse_event_time)),
        answered_at,
        ended_at,
        talk_seconds,
        outcome: outcome.as_str().to_owned(),
        state_code,
        state_desc: state_code.map(|code| state_code_meaning(i64::from(code)).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, at: &str, state_code: Option<i32>) -> call_events::Model {
        call_events::Model {
            id: Uuid::new_v4(),
            session_id: "s".into(),
            event_type: kind.into(),
            event_time: at.into(),
            occurred_at: parse_event_time(at),
            subscription_id: Some("sub".into()),
            binding_id: None,
            caller: Some("+8613800000001".into()),
            called: Some(
                if kind == "callin" {
                    "+8617000000001"
                } else {
                    "+8613800000002"
                }
                .into(),
            ),
            state_code,
            state_desc: None,
            payload: json!({}),
            received_at: Utc::now(),
        }
    }

    #[test]
    fn event_order_does_not_matter() {
        let callin = event("callin", "2026-01-01 10:00:00", None);
        let alerting = event("alerting", "2026-01-01 10:00:02", None);
        let answer = event("answer", "2026-01-01 10:00:05", None);
        let disconnect = event("disconnect", "2026-01-01 10:01:05", Some(0));
        let in_order = derive(
            &[
                callin.clone(),
                alerting.clone(),
                answer.clone(),
                disconnect.clone(),
            ],
            None,
        );
        let shuffled = derive(&[disconnect, answer, callin, alerting], None);
        assert_eq!(in_order, shuffled);
        assert_eq!(in_order.outcome, "answered");
        assert_eq!(in_order.talk_seconds, Some(60));
        assert_eq!(in_order.called.as_deref(), Some("+8613800000002"));
        assert_eq!(in_order.state_desc.as_deref(), Some("answered and hung up"));
    }

    #[test]
    fn outcomes_follow_the_state_code() {
        for (code, outcome) in [
            (8101, "no_answer"),
            (8102, "busy"),
            (7503, "rejected"),
            (8104, "powered_off"),
            (8014, "no_binding"),
            (8016, "direction_not_allowed"),
            (8010, "answered"),
        ] {
            let d = derive(
                &[event("disconnect", "2026-01-01 10:00:00", Some(code))],
                None,
            );
            assert_eq!(d.outcome, outcome, "state code {code}");
        }
        let mut refused = event("disconnect", "2026-01-01 10:00:01", Some(8016));
        refused.called = Some("+8617000000001".into());
        let d = derive(
            &[event("callin", "2026-01-01 10:00:00", None), refused],
            None,
        );
        assert_eq!(d.called, None, "X is not the destination");
        let ongoing = derive(&[event("callin", "2026-01-01 10:00:00", None)], None);
        assert_eq!(ongoing.outcome, "in_progress");
    }
}
