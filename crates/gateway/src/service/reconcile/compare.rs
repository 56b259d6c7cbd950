//! The pure half of reconciliation: given the local rows and what the platform reports, decide what
//! each difference means. No I/O, so every case is unit-tested below.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use pns_core::wire::BindingInfo;
use serde_json::{Value, json};

use crate::db::entity::bindings;
use crate::domain::BindingStatus;

#[derive(Debug)]
pub enum Action<'a> {
    /// A pending row the platform has: it becomes active with the platform's subscriptionId.
    Adopt {
        row: &'a bindings::Model,
        info: &'a BindingInfo,
    },
    /// A pending row the platform does not have, old enough that its bind is no longer in flight.
    FailPending { row: &'a bindings::Model },
    /// An active row the platform no longer has. `expired`: its own expiry had passed anyway.
    Missing {
        row: &'a bindings::Model,
        expired: bool,
    },
    /// An active row whose fields differ from the platform's: corrected from upstream.
    Correct {
        row: &'a bindings::Model,
        info: &'a BindingInfo,
        diffs: Vec<Diff>,
    },
    /// A platform binding the table does not know (or knows only as ended): reported, never unbound.
    Orphan {
        info: &'a BindingInfo,
        local_status: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub field: &'static str,
    pub local: Value,
    pub upstream: Value,
}

impl Diff {
    pub fn to_json(diffs: &[Diff]) -> Value {
        Value::Object(
            diffs
                .iter()
                .map(|d| {
                    (
                        d.field.to_owned(),
                        json!({"local": d.local, "upstream": d.upstream}),
                    )
                })
                .collect(),
        )
    }
}

/// `live`: pending/active rows last changed before the walk began, on the numbers that were queried
/// (or pending without an X). `recent`: rows changed since the walk began: they are not judged, and
/// an upstream binding that is theirs is no orphan. `ended`: status of ended rows by subscriptionId,
/// for upstream entries not matched to a live row. `upstream`: everything the platform reported on
/// the queried numbers.
pub fn plan<'a>(
    live: &'a [bindings::Model],
    recent: &[bindings::Model],
    ended: &HashMap<String, String>,
    upstream: &'a [BindingInfo],
    now: DateTime<Utc>,
    pending_grace: Duration,
) -> Vec<Action<'a>> {
    let by_sub: HashMap<&str, &BindingInfo> = upstream
        .iter()
        .map(|b| (b.subscription_id.as_str(), b))
        .collect();
    let mut matched: HashSet<&str> = HashSet::new();
    let mut actions = Vec::new();

    let is = |row: &bindings::Model, s: BindingStatus| row.status == s;
    for row in live.iter().filter(|r| is(r, BindingStatus::Active)) {
        let Some(sub) = row.subscription_id.as_deref() else {
            continue;
        };
        match by_sub.get(sub) {
            Some(info) => {
                matched.insert(sub);
                let diffs = diffs(row, info);
                if !diffs.is_empty() {
                    actions.push(Action::Correct { row, info, diffs });
                }
            }
            None => actions.push(Action::Missing {
                row,
                expired: row.expires_at.is_some_and(|at| at <= now),
            }),
        }
    }
    // A pending row with a subscriptionId is not expected; treat every pending row by its parties.
    for row in live.iter().filter(|r| is(r, BindingStatus::Pending)) {
        let found = upstream.iter().find(|b| {
            !matched.contains(b.subscription_id.as_str())
                && !ended.contains_key(&b.subscription_id)
                && b.caller_num == row.caller_num
                && b.callee_num == row.callee_num
                && row
                    .relation_num
                    .as_deref()
                    .is_none_or(|x| x == b.relation_num)
        });
        match found {
            Some(info) => {
                matched.insert(info.subscription_id.as_str());
                actions.push(Action::Adopt { row, info });
            }
            None if row.updated_at <= now - pending_grace => {
                actions.push(Action::FailPending { row })
            }
            None => {}
        }
    }
    for info in upstream {
        if matched.contains(info.subscription_id.as_str()) || recent.iter().any(|r| owns(r, info)) {
            continue;
        }
        let local_status = ended.get(&info.subscription_id).cloned();
        // Expired here, and the platform's own timer has not removed it yet: it is going away.
        if local_status.as_deref() == Some(BindingStatus::Expired.as_str()) {
            continue;
        }
        actions.push(Action::Orphan { info, local_status });
    }
    actions
}

/// The row is this upstream binding: by subscriptionId, or (not yet activated) by its parties on X.
fn owns(row: &bindings::Model, info: &BindingInfo) -> bool {
    match row.subscription_id.as_deref() {
        Some(sub) => sub == info.subscription_id,
        None => {
            row.caller_num == info.caller_num
                && row.callee_num == info.callee_num
                && row
                    .relation_num
                    .as_deref()
                    .is_none_or(|x| x == info.relation_num)
        }
    }
}

/// The fields in which the platform's binding differs from the row.
pub fn diffs(row: &bindings::Model, info: &BindingInfo) -> Vec<Diff> {
    let mut out = Vec::new();
    let mut text = |field, local: Option<&str>, upstream: &str| {
        if local != Some(upstream) {
            out.push(Diff {
                field,
                local: json!(local),
                upstream: json!(upstream),
            });
        }
    };
    text(
        "relationNum",
        row.relation_num.as_deref(),
        &info.relation_num,
    );
    text("callerNum", Some(&row.caller_num), &info.caller_num);
    text("calleeNum", Some(&row.callee_num), &info.callee_num);
    if let Some(d) = info.call_direction
        && i16::from(d) != row.call_direction
    {
        out.push(Diff {
            field: "callDirection",
            local: json!(row.call_direction),
            upstream: json!(d),
        });
    }
    if let Some(d) = info.duration
        && i64::from(d) != i64::from(row.duration)
    {
        out.push(Diff {
            field: "duration",
            local: json!(row.duration),
            upstream: json!(d),
        });
    }
    out
}

/// When the platform's binding expires: `subscribeTime + duration` (the bind's or the last modify's
/// time), or `fallback + duration` when the platform did not say when.
pub fn upstream_expiry(info: &BindingInfo, fallback: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let seconds = info.duration.filter(|d| *d > 0)?;
    let start = info
        .subscribe_time
        .as_deref()
        .and_then(pns_core::wire_time::parse_event_time)
        .unwrap_or(fallback);
    Some(start + Duration::seconds(i64::from(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "+8617000000001";
    const A: &str = "+8618600000001";
    const B: &str = "+8618600000002";

    fn row(status: BindingStatus, sub: Option<&str>, age_secs: i64) -> bindings::Model {
        let at = Utc::now() - Duration::seconds(age_secs);
        bindings::Model {
            subscription_id: sub.map(Into::into),
            caller_num: A.into(),
            callee_num: B.into(),
            ..bindings::Model::fixture(status, X, at)
        }
    }

    fn info(sub: &str, caller: &str, callee: &str) -> BindingInfo {
        BindingInfo {
            subscription_id: sub.into(),
            relation_num: X.into(),
            caller_num: caller.into(),
            callee_num: callee.into(),
            call_direction: Some(0),
            duration: Some(0),
            ..BindingInfo::default()
        }
    }

    fn run<'a>(live: &'a [bindings::Model], up: &'a [BindingInfo]) -> Vec<Action<'a>> {
        plan(
            live,
            &[],
            &HashMap::new(),
            up,
            Utc::now(),
            Duration::seconds(60),
        )
    }

    #[test]
    fn pending_found_upstream_is_adopted() {
        let live = [row(BindingStatus::Pending, None, 1)];
        let up = [info("s1", A, B)];
        assert!(
            matches!(run(&live, &up)[..], [Action::Adopt { info, .. }] if info.subscription_id == "s1")
        );
    }

    #[test]
    fn pending_missing_upstream_fails_only_after_the_grace() {
        let young = [row(BindingStatus::Pending, None, 1)];
        assert!(run(&young, &[]).is_empty());
        let old = [row(BindingStatus::Pending, None, 600)];
        assert!(matches!(run(&old, &[])[..], [Action::FailPending { .. }]));
    }

    #[test]
    fn active_missing_upstream_is_ended() {
        let live = [row(BindingStatus::Active, Some("s1"), 600)];
        assert!(matches!(
            run(&live, &[])[..],
            [Action::Missing { expired: false, .. }]
        ));
    }

    #[test]
    fn unknown_upstream_binding_is_an_orphan_but_expired_ones_are_not() {
        let up = [info("s9", A, B), info("s8", "+8618600000003", B)];
        let mut ended = HashMap::new();
        ended.insert("s8".to_owned(), "expired".to_owned());
        let actions = plan(&[], &[], &ended, &up, Utc::now(), Duration::seconds(60));
        assert!(
            matches!(&actions[..], [Action::Orphan { info, local_status: None }] if info.subscription_id == "s9")
        );
    }

    #[test]
    fn a_binding_made_during_the_walk_is_no_orphan() {
        let recent = [row(BindingStatus::Pending, None, 0)];
        let up = [info("s1", A, B)];
        let actions = plan(
            &[],
            &recent,
            &HashMap::new(),
            &up,
            Utc::now(),
            Duration::seconds(60),
        );
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn field_differences_are_listed() {
        let live = [row(BindingStatus::Active, Some("s1"), 600)];
        let mut up = info("s1", A, "+8618600000003");
        up.call_direction = Some(1);
        up.duration = Some(3600);
        let up = [up];
        let actions = run(&live, &up);
        let [Action::Correct { diffs, .. }] = &actions[..] else {
            panic!("{actions:?}")
        };
        let fields: Vec<_> = diffs.iter().map(|d| d.field).collect();
        assert_eq!(fields, ["calleeNum", "callDirection", "duration"]);
    }

    #[test]
    fn expiry_counts_from_subscribe_time() {
        let mut up = info("s1", A, B);
        up.duration = Some(60);
        up.subscribe_time = Some("2026-01-01 00:00:00".into());
        let at = upstream_expiry(&up, Utc::now()).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-01-01T00:01:00+00:00");
        up.duration = Some(0);
        assert_eq!(upstream_expiry(&up, Utc::now()), None);
    }
}
