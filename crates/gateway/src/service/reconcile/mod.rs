//! Reconciliation: walk the platform's bindings on every X in use and make the table agree.
//!
//! - pending rows: the platform has it -> `active` (adopted); it does not -> `failed`;
//! - active rows the platform no longer has -> ended (`missing_upstream`), once a query by their own
//!   subscriptionId confirms it (a paged walk can miss live bindings; no answer = not judged);
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
mod confirm;
pub mod history;
pub mod report;

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use pns_core::result_code::ResultCode;
use pns_core::wire::BindingInfo;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use self::compare::{Action, Diff};
use self::confirm::{Confirmer, Verdict};
use self::report::{Finding, Tally};
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::reconcile_runs;
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
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

/// The numbers to ask about: the pool (but numbers the platform refused as not ours), and every X a
/// live local binding uses.
async fn numbers_in_use(state: &AppState) -> Result<BTreeSet<String>, DbErr> {
    let mut xs: BTreeSet<String> = XNumbers::find()
        .filter(x_numbers::Column::UnusableSince.is_null())
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
    let walked = query_platform(state, &mut tally, findings).await?;
    tally.numbers_checked = walked.checked.len();

    let settled = started - in_flight_window(state);
    let live = judged_rows(
        state,
        started,
        settled,
        &walked.checked,
        tally.query_failures,
    )
    .await?;
    let recent = Bindings::find()
        .filter(bindings::Column::UpdatedAt.gte(settled))
        .all(&state.db)
        .await?;
    let ended = ended_statuses(state, &walked.upstream).await?;

    let grace = chrono::Duration::from_std(state.settings.reconcile_pending_grace)
        .unwrap_or_else(|_| chrono::Duration::seconds(60));
    let mut applier = Applier {
        db: &state.db,
        confirm: Confirmer::new(state.upstream.as_ref()),
        tally,
        findings,
        orphans: Vec::new(),
    };
    for action in compare::plan(&live, &recent, &ended, &walked.upstream, Utc::now(), grace) {
        match action {
            Action::Adopt { row, info } => applier.adopt(row, info).await?,
            Action::FailPending { row } => applier.fail_pending(row).await?,
            Action::Missing { row, expired } => applier.missing(row, expired).await?,
            Action::Correct { row, info, diffs } => applier.correct(row, info, diffs).await?,
            Action::Orphan { info, local_status } => applier.orphan(info, local_status),
        }
    }
    apply::record_orphans(&state.db, run_id, &applier.orphans, &walked.checked).await?;
    apply::repair_in_use(&state.db).await?;
    Ok(applier.tally)
}

/// What the platform reported: its bindings on every X that answered, and which X those are.
struct Walked {
    upstream: Vec<BindingInfo>,
    checked: Vec<String>,
}

/// Asks the platform for the bindings on every X in use. An X whose query fails is reported and its
/// rows are left alone; flow control stops the walk (the rest wait for the next run).
async fn query_platform(
    state: &AppState,
    tally: &mut Tally,
    findings: &mut Vec<Finding>,
) -> Result<Walked, DbErr> {
    let mut walked = Walked {
        upstream: Vec::new(),
        checked: Vec::new(),
    };
    for x in numbers_in_use(state).await? {
        match pns_upstream::query_all_on_x(state.upstream.as_ref(), &x).await {
            Ok(list) => {
                walked.upstream.extend(list);
                walked.checked.push(x);
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
                if throttled {
                    break;
                }
            }
        }
    }
    Ok(walked)
}

/// The live rows this run may judge: pending ones older than the walk, active ones still for longer
/// than a change in flight can take, on an X that answered.
async fn judged_rows(
    state: &AppState,
    started: chrono::DateTime<Utc>,
    settled: chrono::DateTime<Utc>,
    checked: &[String],
    query_failures: usize,
) -> Result<Vec<bindings::Model>, DbErr> {
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
    Ok(if query_failures > 0 {
        live.into_iter()
            .filter(|r| r.relation_num.is_some())
            .collect()
    } else {
        live
    })
}

/// The status of ended rows the platform still reports, by subscriptionId.
async fn ended_statuses(
    state: &AppState,
    upstream: &[BindingInfo],
) -> Result<HashMap<String, String>, DbErr> {
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
    Ok(ended)
}

/// Carries out the plan's actions, each conditional on the row's version, tallying and reporting
/// what actually changed. Nothing is ended on the walk's word alone: see [`confirm`].
struct Applier<'a> {
    db: &'a DatabaseConnection,
    confirm: Confirmer<'a>,
    tally: Tally,
    findings: &'a mut Vec<Finding>,
    /// Platform bindings the table does not know, recorded for admins after the walk.
    orphans: Vec<&'a BindingInfo>,
}

impl<'a> Applier<'a> {
    fn orphan(&mut self, info: &'a BindingInfo, local_status: Option<String>) {
        self.tally.orphans += 1;
        self.orphans.push(info);
        self.findings.push(Finding {
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

    async fn adopt(&mut self, row: &bindings::Model, info: &BindingInfo) -> Result<(), DbErr> {
        if apply::adopt(self.db, row, info).await? {
            self.tally.adopted += 1;
            self.findings.push(Finding::on_row(
                "adopted",
                row,
                Some(&info.subscription_id),
                serde_json::json!({}),
            ));
        }
        Ok(())
    }

    async fn fail_pending(&mut self, row: &bindings::Model) -> Result<(), DbErr> {
        match self.confirm.pending(row).await {
            Verdict::Gone => {}
            // Adopted on a later run, by the usual match on its parties, once the walk sees it.
            Verdict::Present(_) => return Ok(()),
            Verdict::Unknown(error) => {
                self.unconfirmed(row, error);
                return Ok(());
            }
        }
        if apply::fail_pending(self.db, row).await? {
            self.tally.failed_pending += 1;
            self.findings.push(Finding::on_row(
                "failed_pending",
                row,
                None,
                serde_json::json!({}),
            ));
        }
        Ok(())
    }

    async fn missing(&mut self, row: &bindings::Model, expired: bool) -> Result<(), DbErr> {
        match self.confirm.active(row).await {
            Verdict::Gone => {}
            Verdict::Present(info) => {
                tracing::info!(binding_id = %row.id, "reconcile: the walk missed a live binding; its own query found it");
                let diffs = compare::diffs(row, &info);
                if !diffs.is_empty() {
                    self.correct(row, &info, diffs).await?;
                }
                return Ok(());
            }
            Verdict::Unknown(error) => {
                self.unconfirmed(row, error);
                return Ok(());
            }
        }
        if apply::missing(self.db, row, expired).await? {
            let category = if expired {
                self.tally.expired += 1;
                "expired"
            } else {
                self.tally.missing_upstream += 1;
                "missing_upstream"
            };
            self.findings.push(Finding::on_row(
                category,
                row,
                row.subscription_id.as_deref(),
                serde_json::json!({}),
            ));
        }
        Ok(())
    }

    async fn correct(
        &mut self,
        row: &bindings::Model,
        info: &BindingInfo,
        diffs: Vec<Diff>,
    ) -> Result<(), DbErr> {
        let mut detail = Diff::to_json(&diffs);
        let category = match apply::correct(self.db, row, info, &diffs).await? {
            apply::Corrected::Yes => {
                self.tally.corrected += 1;
                "corrected"
            }
            apply::Corrected::Conflict(party) => {
                self.tally.conflicts += 1;
                detail["conflict"] =
                    serde_json::json!(format!("{party} is bound on that X by another binding"));
                "correction_conflict"
            }
            apply::Corrected::Stale => return Ok(()),
        };
        self.findings.push(Finding::on_row(
            category,
            row,
            row.subscription_id.as_deref(),
            detail,
        ));
        Ok(())
    }

    /// The walk did not see the row and the platform could not say: left as it is until a run that can.
    fn unconfirmed(&mut self, row: &bindings::Model, error: String) {
        tracing::warn!(binding_id = %row.id, error = %error, "reconcile: could not confirm a binding the walk missed; not judged this run");
        self.tally.unconfirmed += 1;
        self.findings.push(Finding::on_row(
            "unconfirmed",
            row,
            row.subscription_id.as_deref(),
            serde_json::json!({"error": error}),
        ));
    }
}
