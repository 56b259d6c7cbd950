//! Prometheus metrics through the `metrics` facade. The recorder is process-wide (installed once, at
//! the first `Application::build`); pns-upstream's `pns_upstream_*` series land in it too.
//!
//! Other modules record through the helpers below, so names and labels stay in one place.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::service::ops::stats::{PoolUsage, Stats};

/// Latency buckets in seconds: from a fast SQLite read to the upstream timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process. `None` when another recorder was installed
/// first (an embedding program's); metrics then go there and `/metrics` answers 404.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("pns_group_commit_batch_size".into()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// The text exposition of every series.
pub fn render() -> Option<String> {
    let handle = HANDLE.get()?.as_ref()?;
    handle.run_upkeep();
    Some(handle.render())
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "pns_http_requests_total",
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        "pns_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method and route template"
    );
    describe_counter!(
        "pns_db_statements_total",
        "SQL statements sent to the database, by outcome (ok, error); BEGIN/COMMIT not counted"
    );
    describe_histogram!(
        "pns_group_commit_batch_size",
        "Requests written together by one group-commit batch, by kind"
    );
    describe_counter!(
        "pns_callbacks_total",
        "Platform callbacks by kind and outcome (stored, duplicate, refused)"
    );
    describe_counter!(
        "pns_callback_refusals_total",
        "Callbacks refused before reading the body, by the check that failed"
    );
    describe_counter!(
        "pns_job_runs_total",
        "Background job runs by job and outcome"
    );
    describe_histogram!(
        "pns_job_run_duration_seconds",
        Unit::Seconds,
        "Background job run time by job"
    );
    describe_counter!(
        "pns_drift_found_total",
        "Reconciliation drift found, by category"
    );
    describe_counter!(
        "pns_retention_purged_rows_total",
        "Rows deleted by the retention job, by table"
    );
    describe_counter!(
        "pns_pool_numbers_marked_unusable_total",
        "Pool numbers taken out of allocation because the platform refused them as not this app's"
    );
    describe_counter!(
        "pns_rate_limited_total",
        "API requests refused by the rate limiter"
    );
    describe_counter!(
        "pns_jwks_refresh_total",
        "Fetches of the identity provider's JWKS by outcome (ok, error)"
    );
    describe_gauge!(
        "pns_jwks_up",
        "1 when the last JWKS fetch succeeded, 0 while the cached keys are stale"
    );
    describe_gauge!("pns_jwks_keys", "Usable keys in the cached JWKS");
    describe_gauge!(
        "pns_jwks_last_success_timestamp_seconds",
        "Unix time of the last successful JWKS fetch"
    );
    describe_gauge!("pns_bindings", "Bindings by status (refreshed at scrape)");
    describe_counter!(
        "pns_webhook_deliveries_total",
        "Webhook attempts by outcome (delivered, retrying, failed)"
    );
    describe_histogram!(
        "pns_webhook_attempt_duration_seconds",
        Unit::Seconds,
        "Time a webhook receiver took to answer"
    );
    describe_gauge!(
        "pns_webhook_backlog",
        "Webhook events and deliveries waiting to be sent (refreshed at scrape)"
    );
    describe_gauge!(
        "pns_webhook_backlog_oldest_seconds",
        "Age of the oldest waiting webhook event (refreshed at scrape)"
    );
    describe_gauge!(
        "pns_pool_bindings",
        "Open bindings (pending or active) per X number and area (refreshed at scrape)"
    );
    describe_gauge!(
        "pns_pool_capacity",
        "Binding capacity per X number and area (refreshed at scrape)"
    );
    describe_gauge!(
        "pns_pool_area_bindings",
        "Open bindings per area (refreshed at scrape)"
    );
    describe_gauge!(
        "pns_pool_area_capacity",
        "Binding capacity per area (refreshed at scrape)"
    );
}

/// A platform callback reached the gateway. `kind`: `call_event`, `fee`, `sms`, `num_status`...;
/// `outcome`: `stored`, `duplicate` or `refused`.
pub fn callback_received(kind: &'static str, outcome: &'static str) {
    metrics::counter!("pns_callbacks_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// A callback was refused before its body was read; `reason` is which check failed (the caller is
/// only ever told 401).
pub fn callback_refused(reason: &'static str) {
    metrics::counter!("pns_callback_refusals_total", "reason" => reason).increment(1);
}

/// A background job finished one run. `outcome`: `ok`, `error` or `skipped` (lease held elsewhere).
pub fn job_run(job: &'static str, outcome: &'static str, took: Duration) {
    metrics::counter!("pns_job_runs_total", "job" => job, "outcome" => outcome).increment(1);
    metrics::histogram!("pns_job_run_duration_seconds", "job" => job).record(took.as_secs_f64());
}

/// Reconciliation found `n` differences of one `category` (e.g. `orphan_upstream`, `missing_upstream`).
pub fn drift_found(category: &'static str, n: u64) {
    metrics::counter!("pns_drift_found_total", "category" => category).increment(n);
}

/// One SQL statement ran (sea-orm's metric hook). Statements per request are what every instance
/// spends of the one shared PostgreSQL, so they are counted where they are sent.
pub fn db_statement(failed: bool) {
    let outcome = if failed { "error" } else { "ok" };
    metrics::counter!("pns_db_statements_total", "outcome" => outcome).increment(1);
}

/// A group-commit batch of `kind` wrote `size` requests together.
pub fn group_commit_batch(kind: &'static str, size: usize) {
    metrics::histogram!("pns_group_commit_batch_size", "kind" => kind).record(size as f64);
}

/// The retention job deleted `rows` old rows of `table`.
pub fn purged(table: &'static str, rows: u64) {
    metrics::counter!("pns_retention_purged_rows_total", "table" => table).increment(rows);
}

/// The platform refused a pool number as not this app's; the pool stops offering it.
pub fn number_marked_unusable() {
    metrics::counter!("pns_pool_numbers_marked_unusable_total").increment(1);
}

/// One webhook attempt finished. `outcome`: `delivered`, `retrying` (another attempt is scheduled)
/// or `failed` (no attempt left, or the endpoint answered 410).
pub fn webhook_attempt(outcome: &'static str, latency_ms: i32) {
    metrics::counter!("pns_webhook_deliveries_total", "outcome" => outcome).increment(1);
    metrics::histogram!("pns_webhook_attempt_duration_seconds")
        .record(f64::from(latency_ms.max(0)) / 1000.0);
}

/// Events waiting to be delivered and the age of the oldest (refreshed at scrape).
pub fn webhook_backlog(waiting: u64, oldest_age_seconds: f64) {
    metrics::gauge!("pns_webhook_backlog").set(waiting as f64);
    metrics::gauge!("pns_webhook_backlog_oldest_seconds").set(oldest_age_seconds);
}

/// One fetch of the identity provider's JWKS: `Some(usable keys)` on success, `None` on failure.
pub(crate) fn jwks_fetched(keys: Option<usize>) {
    let outcome = if keys.is_some() { "ok" } else { "error" };
    metrics::counter!("pns_jwks_refresh_total", "outcome" => outcome).increment(1);
    metrics::gauge!("pns_jwks_up").set(if keys.is_some() { 1.0 } else { 0.0 });
    if let Some(n) = keys {
        metrics::gauge!("pns_jwks_keys").set(n as f64);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        metrics::gauge!("pns_jwks_last_success_timestamp_seconds").set(now.as_secs_f64());
    }
}

pub(crate) fn rate_limited() {
    metrics::counter!("pns_rate_limited_total").increment(1);
}

/// Scrape-time gauges, set from cheap COUNT queries just before rendering. A series seen before but
/// absent now (an X removed from the pool) is set to 0 rather than left at its last value.
pub(crate) fn set_scrape_gauges(stats: &Stats) {
    /// Pool series reported so far: (X, area) pairs and areas.
    type Seen = (BTreeSet<(String, String)>, BTreeSet<String>);
    static SEEN: Mutex<Seen> = Mutex::new((BTreeSet::new(), BTreeSet::new()));
    for (status, n) in &stats.bindings_by_status {
        metrics::gauge!("pns_bindings", "status" => status.clone()).set(*n as f64);
    }
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (numbers, areas) = &mut *seen;
    let zero = PoolUsage::default();
    numbers.extend(stats.per_number.keys().cloned());
    areas.extend(stats.per_area.keys().cloned());
    for key in numbers.iter() {
        let usage = stats.per_number.get(key).unwrap_or(&zero);
        let labels = [("x", key.0.clone()), ("area", key.1.clone())];
        metrics::gauge!("pns_pool_bindings", &labels).set(usage.open as f64);
        metrics::gauge!("pns_pool_capacity", &labels).set(usage.capacity as f64);
    }
    for area in areas.iter() {
        let usage = stats.per_area.get(area).unwrap_or(&zero);
        let labels = [("area", area.clone())];
        metrics::gauge!("pns_pool_area_bindings", &labels).set(usage.open as f64);
        metrics::gauge!("pns_pool_area_capacity", &labels).set(usage.capacity as f64);
    }
}

/// Counts and times every request by its route template (never the raw path: bounded labels).
pub async fn http_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = std::time::Instant::now();
    // Standard methods only: a client must not mint label values.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    metrics::counter!(
        "pns_http_requests_total",
        "method" => method,
        "route" => route.clone(),
        "status" => status.as_str().to_owned()
    )
    .increment(1);
    metrics::histogram!("pns_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    result
}
