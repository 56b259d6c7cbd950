//! `/v1/admin/reconcile` and `/v1/admin/orphans`: drift reports and orphan bindings (admin scope).
//! Every list is a bounded cursor page.

pub mod dto;

use actix_web::{HttpResponse, get, post, web};
use uuid::Uuid;

use self::dto::{FindingList, OrphanList, ReconcileRunList, ReconcileRunOut};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ErrorBody};
use crate::routes::page::PageQuery;
use crate::service::page::PageRequest;
use crate::service::reconcile::{self, Trigger, history};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(start_reconcile)
        .service(list_reconcile_runs)
        .service(get_reconcile_run)
        .service(list_findings)
        .service(list_orphans);
}

/// A run with its counts per category and the first page of its findings.
async fn detailed(state: &AppState, id: Uuid) -> Result<ReconcileRunOut, ApiError> {
    let (run, categories) = history::run(&state.db, id).await?;
    let first = history::findings(&state.db, id, &PageRequest::new(None, None)?).await?;
    let mut out = ReconcileRunOut::from(run);
    out.categories = Some(categories);
    out.findings = Some(first.items.into_iter().map(Into::into).collect());
    out.findings_next_cursor = first.next_cursor;
    Ok(out)
}

/// Reconcile now: walk the platform's bindings on every X in use, correct the table, and answer the
/// drift report of this run.
#[utoipa::path(
    post, path = "/v1/admin/reconcile", tag = "admin",
    responses(
        (status = 201, body = ReconcileRunOut),
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
    params(PageQuery),
    responses((status = 200, body = ReconcileRunList), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/admin/reconcile")]
pub async fn list_reconcile_runs(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<PageQuery>,
) -> Result<web::Json<ReconcileRunList>, ApiError> {
    principal.require(Scope::Admin)?;
    let runs = history::runs(&state.db, &params.request()?).await?;
    Ok(web::Json(ReconcileRunList {
        items: runs.items.into_iter().map(Into::into).collect(),
        next_cursor: runs.next_cursor,
    }))
}

/// One drift report: counts per category and the first page of its findings.
#[utoipa::path(
    get, path = "/v1/admin/reconcile/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Run id")),
    responses((status = 200, body = ReconcileRunOut), (status = 404, body = ErrorBody)),
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

/// A drift report's findings, in the order the run found them.
#[utoipa::path(
    get, path = "/v1/admin/reconcile/{id}/findings", tag = "admin",
    params(("id" = Uuid, Path, description = "Run id"), PageQuery),
    responses((status = 200, body = FindingList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/admin/reconcile/{id}/findings")]
pub async fn list_findings(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    params: web::Query<PageQuery>,
) -> Result<web::Json<FindingList>, ApiError> {
    principal.require(Scope::Admin)?;
    let found = history::findings(&state.db, id.into_inner(), &params.request()?).await?;
    Ok(web::Json(FindingList {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// Platform bindings on our numbers that this gateway has no live row for, as of the last run that
/// checked their X, oldest sighting first. Never unbound automatically.
#[utoipa::path(
    get, path = "/v1/admin/orphans", tag = "admin",
    params(PageQuery),
    responses((status = 200, body = OrphanList), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/admin/orphans")]
pub async fn list_orphans(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<PageQuery>,
) -> Result<web::Json<OrphanList>, ApiError> {
    principal.require(Scope::Admin)?;
    let found = history::orphans(&state.db, &params.request()?).await?;
    Ok(web::Json(OrphanList {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}
