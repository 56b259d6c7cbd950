//! Public health endpoints: `/healthz` says the process is alive, `/readyz` that it can serve.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Authenticator, JwksStatus};
use crate::service::ops::probe::{DatabaseProbe, UpstreamProbe};
use crate::state::{AppState, JobStatus};

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// `sandbox` (in-process simulator) or `production`.
    pub mode: &'static str,
    pub database: bool,
    pub migrations: bool,
    /// The platform answers a TCP connect (cached a few seconds); always true in sandbox mode.
    pub upstream: bool,
    /// Every registered background job beat within its promised interval (true when none run).
    pub jobs_alive: bool,
    pub jobs: Vec<JobStatus>,
    /// The identity provider's keys, when one is configured. `stale` (a refresh failed, cached keys
    /// in use) stays ready; `unavailable` (never fetched) is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<JwksStatus>,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The service can take traffic: database reachable, migrations applied, upstream reachable,
/// background jobs alive. The database's answer is at most a second old, the upstream's five.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
#[get("/readyz")]
pub async fn readyz(
    state: web::Data<AppState>,
    probe: web::Data<UpstreamProbe>,
    database_probe: web::Data<DatabaseProbe>,
    auth: web::Data<Authenticator>,
) -> HttpResponse {
    let health = database_probe.check(&state.db).await;
    let (database, migrations) = (health.reachable, health.migrations_applied);
    let upstream = probe.reachable().await;
    let jobs = state.jobs.snapshot();
    let jobs_alive = jobs.iter().all(|job| job.alive);
    let jwks = auth.jwks().map(|jwks| jwks.status());
    let keys_usable = jwks.as_ref().is_none_or(JwksStatus::is_usable);
    let ready = database && migrations && upstream && jobs_alive && keys_usable;
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        mode: if state.settings.is_sandbox() {
            "sandbox"
        } else {
            "production"
        },
        database,
        migrations,
        upstream,
        jobs_alive,
        jobs,
        jwks,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
