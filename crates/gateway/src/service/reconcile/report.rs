//! Drift reports: one `reconcile_runs` row per run with its tallies, and its findings.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    UpdateMany,
};
use serde_json::Value;
use uuid::Uuid;

use super::Trigger;
use crate::db::entity::bindings;
use crate::db::entity::reconcile_findings::{self, Entity as Findings};
use crate::db::entity::reconcile_runs::{self, Entity as Runs};

#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub numbers_checked: usize,
    pub adopted: usize,
    pub failed_pending: usize,
    pub missing_upstream: usize,
    pub expired: usize,
    pub orphans: usize,
    pub corrected: usize,
    pub conflicts: usize,
    pub query_failures: usize,
    /// Rows the walk missed whose own query got no answer: left alone this run.
    pub unconfirmed: usize,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub category: &'static str,
    pub binding_id: Option<Uuid>,
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    pub detail: Value,
}

impl Finding {
    pub fn on_row(
        category: &'static str,
        row: &bindings::Model,
        subscription_id: Option<&str>,
        detail: Value,
    ) -> Self {
        Self {
            category,
            binding_id: Some(row.id),
            subscription_id: subscription_id.map(Into::into),
            relation_num: row.relation_num.clone(),
            detail,
        }
    }
    pub fn on_x(category: &'static str, x: &str, detail: Value) -> Self {
        Self {
            category,
            binding_id: None,
            subscription_id: None,
            relation_num: Some(x.to_owned()),
            detail,
        }
    }
}

pub async fn start(
    db: &DatabaseConnection,
    trigger: Trigger,
) -> Result<reconcile_runs::Model, DbErr> {
    reconcile_runs::ActiveModel {
        id: Set(Uuid::now_v7()),
        trigger: Set(trigger.as_str().to_owned()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        status: Set("running".to_owned()),
        numbers_checked: Set(0),
        adopted: Set(0),
        failed_pending: Set(0),
        missing_upstream: Set(0),
        orphans: Set(0),
        corrected: Set(0),
        error: Set(None),
    }
    .insert(db)
    .await
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Stores the findings and the run's outcome (its tallies, or why it failed); returns the run as stored.
pub async fn finish(
    db: &DatabaseConnection,
    run: reconcile_runs::Model,
    outcome: Result<Tally, DbErr>,
    findings: Vec<Finding>,
) -> Result<reconcile_runs::Model, DbErr> {
    let now = Utc::now();
    store_findings(db, run.id, &findings, now).await?;
    let update = Runs::update_many().col_expr(reconcile_runs::Column::FinishedAt, Expr::value(now));
    let update = match &outcome {
        Ok(t) => t.set_on(update),
        Err(e) => {
            tracing::error!(run_id = %run.id, error = %e, "reconcile run failed");
            update
                .col_expr(reconcile_runs::Column::Status, Expr::value("failed"))
                .col_expr(reconcile_runs::Column::Error, Expr::value(e.to_string()))
        }
    };
    update
        .filter(reconcile_runs::Column::Id.eq(run.id))
        .exec(db)
        .await?;
    if let Ok(t) = &outcome {
        tracing::info!(
            run_id = %run.id,
            checked = t.numbers_checked,
            adopted = t.adopted,
            failed_pending = t.failed_pending,
            missing_upstream = t.missing_upstream,
            orphans = t.orphans,
            corrected = t.corrected,
            "reconcile run done"
        );
    }
    Runs::find_by_id(run.id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(run.id.to_string()))
}

/// Counts the findings per category (metrics) and inserts them, 200 rows a statement.
async fn store_findings(
    db: &DatabaseConnection,
    run_id: Uuid,
    findings: &[Finding],
    now: chrono::DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut by_category = std::collections::BTreeMap::<&'static str, u64>::new();
    for finding in findings {
        *by_category.entry(finding.category).or_default() += 1;
    }
    for (category, n) in by_category {
        crate::telemetry::metrics::drift_found(category, n);
    }
    for chunk in findings.chunks(200) {
        let rows = chunk.iter().map(|f| reconcile_findings::ActiveModel {
            id: Set(Uuid::now_v7()),
            run_id: Set(run_id),
            category: Set(f.category.to_owned()),
            binding_id: Set(f.binding_id),
            subscription_id: Set(f.subscription_id.clone()),
            relation_num: Set(f.relation_num.clone()),
            detail: Set(f.detail.clone()),
            created_at: Set(now),
        });
        Findings::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

impl Tally {
    /// What an admin should know about a finished run that did not judge everything.
    fn note(&self) -> Option<String> {
        let mut notes = Vec::new();
        if self.query_failures > 0 {
            notes.push(format!(
                "{} number(s) could not be queried; their bindings were left alone",
                self.query_failures
            ));
        }
        if self.unconfirmed > 0 {
            notes.push(format!(
                "{} binding(s) missing from the walk could not be confirmed gone; left alone",
                self.unconfirmed
            ));
        }
        (!notes.is_empty()).then(|| notes.join("; "))
    }

    /// The run's row as done, with these tallies.
    fn set_on(&self, update: UpdateMany<Runs>) -> UpdateMany<Runs> {
        use reconcile_runs::Column as C;
        update
            .col_expr(C::Status, Expr::value("done"))
            .col_expr(C::NumbersChecked, Expr::value(count(self.numbers_checked)))
            .col_expr(C::Adopted, Expr::value(count(self.adopted)))
            .col_expr(C::FailedPending, Expr::value(count(self.failed_pending)))
            .col_expr(
                C::MissingUpstream,
                Expr::value(count(self.missing_upstream)),
            )
            .col_expr(C::Orphans, Expr::value(count(self.orphans)))
            .col_expr(C::Corrected, Expr::value(count(self.corrected)))
            .col_expr(C::Error, Expr::value(self.note()))
    }
}
