//! `/v1/admin/...`: reconciliation runs (drift reports) and orphan bindings (admin scope).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Scope};
use crate::db::entity::{orphan_bindings, reconcile_findings, reconcile_runs};
use crate::error::{ApiError, ErrorBody};
use crate::service::page::PageRequest;
use crate::service::reconcile::{self, Trigger, report};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(start_reconcile)
        .service(list_reconcile_runs)
        .service(get_reconcile_run)
        .service(list_orphans);
}

/// Tallies of one run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    /// Pending rows the platform had: now active.
    pub adopted: i32,
    /// Pending rows the platform did not have: now failed.
    pub failed_pending: i32,
    /// Active rows the platform no longer had: ended with reason `missing_upstream`.
    pub missing_upstream: i32,
    /// Platform bindings this gateway does not know.
    pub orphans: i32,
    /// Rows whose fields were corrected from the platform.
    pub corrected: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingOut {
    /// adopted | failed_pending | missing_upstream | expired | orphan | corrected |
    /// correction_conflict | query_failed
    pub category: String,
    pub binding_id: Option<Uuid>,
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    /// Category-specific: the corrected fields (`{field: {local, upstream}}`), an orphan's numbers, ...
    pub detail: serde_json::Value,
}

/// A drift report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileRunOut {
    pub id: Uuid,
    /// scheduled | manual
    pub trigger: String,
    /// running | done | failed
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub numbers_checked: i32,
    pub counts: RunCounts,
    /// Why the run failed, or what it could not check.
    pub error: Option<String>,
    /// Findings per category (single-run view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<BTreeMap<String, u64>>,
    /// Single-run view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingOut>>,
}

impl From<reconcile_runs::Model> for ReconcileRunOut {
    fn from(m: reconcile_runs::Model) -> Self {
        Self {
            id: m.id,
            trigger: m.trigger,
            status: m.status,
            started_at: m.started_at,
            finished_at: m.finished_at,
            numbers_checked: m.numbers_checked,
            counts: RunCounts {
                adopted: m.adopted,
                failed_pending: m.failed_pending,
                missing_upstream: m.missing_upstream,
                orphans: m.orphans,
                corrected: m.corrected,
            },
            error: m.error,
            categories: None,
            findings: None,
        }
    }
}

impl From<reconcile_findings::Model> for FindingOut {
    fn from(m: reconcile_findings::Model) -> Self {
        Self {
            category: m.category,
            binding_id: m.binding_id,
            subscription_id: m.subscription_id,
            relation_num: m.relation_num,
            detail: m.detail,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileRunList {
    pub items: Vec<ReconcileRunOut>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunListParams {
    /// 1..=200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanOut {
    pub subscription_id: String,
    pub relation_num: String,
    pub caller_num: String,
    pub callee_num: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub last_run_id: Option<Uuid>,
}

impl From<orphan_bindings::Model> for OrphanOut {
    fn from(m: orphan_bindings::Model) -> Self {
        Self {
            subscription_id: m.subscription_id,
            relation_num: m.relation_num,
            caller_num: m.caller_num,
            callee_num: m.callee_num,
            first_seen_at: m.first_seen_at,
            last_seen_at: m.last_seen_at,
            last_run_id: m.last_run_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanList {
    pub items: Vec<OrphanOut>,
}

async fn detailed(state: &AppState, id: Uuid) -> Result<ReconcileRunOut, ApiError> {
    let (run, findings, categories) = report::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("reconcile run"))?;
    let mut out = ReconcileRunOut::from(run);
    out.categories = Some(categories);
    out.findings = Some(findings.into_iter().map(Into::into).collect());
    Ok(out)
}

/// Reconcile now: walk the platform's bindings on every X in use, correct the table, and answer the
/// drift report of this run.
#[utoipa::path(
    post, path = "/v1/admin/reconcile", tag = "admin",
    responses(
        (status = 201, body = ReconcileRunOut),
        (status = 401, body = ErrorBody), (status = 403, description = "Missing admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/admin/reconcile")]
pub async fn start_reconcile(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Admin)?;
    let run = reconcile::run(&state, Trigger::Manual).await?;
    Ok(HttpResponse::Created().json(detailed(&state, run.id).await?))
}

/// Drift reports, newest first.
#[utoipa::path(
    get, path = "/v1/admin/reconcile", tag = "admin",
    params(RunListParams),
    responses((status = 200, body = ReconcileRunList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/admin/reconcile")]
pub async fn list_reconcile_runs(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<RunListParams>,
) -> Result<web::Json<ReconcileRunList>, ApiError> {
    principal.require(Scope::Admin)?;
    let page = PageRequest::new(params.limit, None)?;
    let runs = report::list(&state.db, page.limit).await?;
    Ok(web::Json(ReconcileRunList {
        items: runs.into_iter().map(Into::into).collect(),
    }))
}

/// One drift report with its findings and counts per category.
#[utoipa::path(
    get, path = "/v1/admin/reconcile/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Run id")),
    responses((status = 200, body = ReconcileRunOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/admin/reconcile/{id}")]
pub async fn get_reconcile_run(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<ReconcileRunOut>, ApiError> {
    principal.require(Scope::Admin)?;
    Ok(web::Json(detailed(&state, id.into_inner()).await?))
}

/// Platform bindings on our numbers that this gateway has no live row for, as of the last run that
/// checked their X. Never unbound automatically.
#[utoipa::path(
    get, path = "/v1/admin/orphans", tag = "admin",
    responses((status = 200, body = OrphanList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/admin/orphans")]
pub async fn list_orphans(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<OrphanList>, ApiError> {
    principal.require(Scope::Admin)?;
    let rows = report::orphans(&state.db).await?;
    Ok(web::Json(OrphanList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}
