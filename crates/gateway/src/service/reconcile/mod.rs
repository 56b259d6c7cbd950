//! Reconciliation: walk the platform's bindings on every X in use and make the table agree.
//!
//! - pending rows: the platform has it -> `active` (adopted); it does not -> `failed`;
//! - active rows the platform no longer has -> ended (`missing_upstream`);
//! - platform bindings the table does not know -> `orphan_bindings`, for admins (never unbound here);
//! - field differences -> corrected from the platform.
//!
//! Only rows last changed before the walk began are judged, so a binding created or changed while the
//! platform was being queried is never mistaken for drift. An active row is judged only once it has
//! been still for longer than one upstream call can take: an unbind or modify touches the row before
//! calling the platform, so one in flight is never taken for drift. Every correction is conditional
//! on the row's version. Each run is stored with its findings as a drift report.

mod apply;
pub mod compare;
pub mod report;

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use pns_core::result_code::ResultCode;
use pns_core::wire::BindingInfo;
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QuerySelect};

use self::compare::{Action, Diff};
use self::report::{Finding, Tally};
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::reconcile_runs;
use crate::db::entity::x_numbers::Entity as XNumbers;
use crate::domain::BindingStatus;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Scheduled,
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Manual => "manual",
        }
    }
}

/// One full run, recorded as a drift report; returns the finished run.
pub async fn run(state: &AppState, trigger: Trigger) -> Result<reconcile_runs::Model, DbErr> {
    let run = report::start(&state.db, trigger).await?;
    let mut findings = Vec::new();
    let outcome = walk(state, run.id, &mut findings).await;
    report::finish(&state.db, run, outcome, findings).await
}

/// The numbers to ask about: the whole pool, and every X a live local binding uses.
async fn numbers_in_use(state: &AppState) -> Result<BTreeSet<String>, DbErr> {
    let mut xs: BTreeSet<String> = XNumbers::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|x| x.number)
        .collect();
    let live: Vec<Option<String>> = Bindings::find()
        .select_only()
        .column(bindings::Column::RelationNum)
        .distinct()
        .filter(bindings::Column::Status.is_in(BindingStatus::LIVE))
        .into_tuple()
        .all(&state.db)
        .await?;
    xs.extend(live.into_iter().flatten());
    Ok(xs)
}

/// How long after its last change an active row may still have a change in flight.
fn in_flight_window(state: &AppState) -> chrono::Duration {
    chrono::Duration::from_std(state.settings.upstream_call_budget())
        .unwrap_or_else(|_| chrono::Duration::seconds(60))
}

async fn walk(
    state: &AppState,
    run_id: uuid::Uuid,
    findings: &mut Vec<Finding>,
) -> Result<Tally, DbErr> {
    let started = Utc::now();
    let mut tally = Tally::default();
    let mut upstream: Vec<BindingInfo> = Vec::new();
    let mut checked: Vec<String> = Vec::new();
    for x in numbers_in_use(state).await? {
        match pns_upstream::query_all_on_x(state.upstream.as_ref(), &x).await {
            Ok(list) => {
                upstream.extend(list);
                checked.push(x);
            }
            Err(e) => {
                tracing::warn!(x = %pns_core::phone::mask(&x), error = %e, "reconcile: querying an X failed; its bindings are left alone this run");
                tally.query_failures += 1;
                let throttled = matches!(e.result_code(), Some(ResultCode::FlowControl));
                findings.push(Finding::on_x(
                    "query_failed",
                    &x,
                    serde_json::json!({"error": e.to_string()}),
                ));
                // The platform asks us to back off: the other numbers wait for the next run.
                if throttled {
                    break;
                }
            }
        }
    }
    tally.numbers_checked = checked.len();

    let settled = started - in_flight_window(state);
    let live = Bindings::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(bindings::Column::Status.eq(BindingStatus::Pending))
                        .add(bindings::Column::UpdatedAt.lt(started)),
                )
                .add(
                    Condition::all()
                        .add(bindings::Column::Status.eq(BindingStatus::Active))
                        .add(bindings::Column::UpdatedAt.lt(settled)),
                ),
        )
        .filter(
            Condition::any()
                .add(bindings::Column::RelationNum.is_in(checked.iter().cloned()))
                .add(bindings::Column::RelationNum.is_null()),
        )
        .all(&state.db)
        .await?;
    // A pending row without an X may be on a number that could not be queried: not judged then.
    let live: Vec<_> = if tally.query_failures > 0 {
        live.into_iter()
            .filter(|r| r.relation_num.is_some())
            .collect()
    } else {
        live
    };
    let recent = Bindings::find()
        .filter(bindings::Column::UpdatedAt.gte(settled))
        .all(&state.db)
        .await?;
    let subs: Vec<String> = upstream.iter().map(|b| b.subscription_id.clone()).collect();
    let mut ended: HashMap<String, String> = HashMap::new();
    for chunk in subs.chunks(500) {
        let rows = Bindings::find()
            .filter(bindings::Column::SubscriptionId.is_in(chunk.iter().cloned()))
            .filter(bindings::Column::Status.is_not_in(BindingStatus::LIVE))
            .all(&state.db)
            .await?;
        for row in rows {
            if let Some(sub) = row.subscription_id {
                ended.insert(sub, row.status.as_str().to_owned());
            }
        }
    }

    let grace = chrono::Duration::from_std(state.settings.reconcile_pending_grace)
        .unwrap_or_else(|_| chrono::Duration::seconds(60));
    let mut seen_orphans = Vec::new();
    for action in compare::plan(&live, &recent, &ended, &upstream, Utc::now(), grace) {
        match action {
            Action::Adopt { row, info } => {
                if apply::adopt(&state.db, row, info).await? {
                    tally.adopted += 1;
                    findings.push(Finding::on_row(
                        "adopted",
                        row,
                        Some(&info.subscription_id),
                        serde_json::json!({}),
                    ));
                }
            }
            Action::FailPending { row } => {
                if apply::fail_pending(&state.db, row).await? {
                    tally.failed_pending += 1;
                    findings.push(Finding::on_row(
                        "failed_pending",
                        row,
                        None,
                        serde_json::json!({}),
                    ));
                }
            }
            Action::Missing { row, expired } => {
                if apply::missing(&state.db, row, expired).await? {
                    let category = if expired {
                        tally.expired += 1;
                        "expired"
                    } else {
                        tally.missing_upstream += 1;
                        "missing_upstream"
                    };
                    findings.push(Finding::on_row(
                        category,
                        row,
                        row.subscription_id.as_deref(),
                        serde_json::json!({}),
                    ));
                }
            }
            Action::Correct { row, info, diffs } => {
                match apply::correct(&state.db, row, info, &diffs).await? {
                    apply::Corrected::Yes => {
                        tally.corrected += 1;
                        findings.push(Finding::on_row(
                            "corrected",
                            row,
                            row.subscription_id.as_deref(),
                            Diff::to_json(&diffs),
                        ));
                    }
                    apply::Corrected::Conflict(party) => {
                        tally.conflicts += 1;
                        let mut detail = Diff::to_json(&diffs);
                        let party = pns_core::phone::mask(&party);
                        detail["conflict"] = serde_json::json!(format!(
                            "{party} is bound on that X by another binding"
                        ));
                        findings.push(Finding::on_row(
                            "correction_conflict",
                            row,
                            row.subscription_id.as_deref(),
                            detail,
                        ));
                    }
                    apply::Corrected::Stale => {}
                }
            }
            Action::Orphan { info, local_status } => {
                tally.orphans += 1;
                seen_orphans.push(info);
                findings.push(Finding {
                    category: "orphan",
                    binding_id: None,
                    subscription_id: Some(info.subscription_id.clone()),
                    relation_num: Some(info.relation_num.clone()),
                    detail: serde_json::json!({
                        "callerNum": info.caller_num,
                        "calleeNum": info.callee_num,
                        "localStatus": local_status,
                    }),
                });
            }
        }
    }
    apply::record_orphans(&state.db, run_id, &seen_orphans, &checked).await?;
    apply::repair_in_use(&state.db).await?;
    Ok(tally)
}
