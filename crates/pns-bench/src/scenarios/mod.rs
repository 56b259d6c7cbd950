//! The six scenarios. Each starts its own stack (fresh database, fresh processes) per backend, so no
//! scenario inherits another's rows or memory.

mod bind;
mod callbacks;
mod costs;
mod fill;
mod growth;
mod memory;
mod sms;
mod webhooks;

use std::sync::Arc;

use crate::db::Backend;
use crate::report::{Check, Section};
use crate::stack::{Ctx, Stack};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Bind,
    Callbacks,
    Sms,
    Growth,
    Memory,
    Webhooks,
    Costs,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Self::Bind,
        Self::Callbacks,
        Self::Sms,
        Self::Memory,
        Self::Growth,
        Self::Webhooks,
        Self::Costs,
    ];

    fn title(self, ctx: &Ctx) -> String {
        let o = &ctx.opts;
        let secs = o.duration.as_secs_f64();
        match self {
            Self::Bind => format!(
                "1. bind+unbind cycles: gateway vs direct pns-sim ({} keep-alive connections, {secs} s each)",
                o.concurrency
            ),
            Self::Callbacks => format!(
                "2. callback ingestion ({} connections, {secs} s each)",
                o.concurrency
            ),
            Self::Sms => format!(
                "3. SMS Block decisions (open loop, {} requests/s for {secs} s)",
                o.sms_rate
            ),
            Self::Growth => format!(
                "4. growth: bind latency vs table size ({} connections, {secs} s each)",
                o.growth_concurrency
            ),
            Self::Memory => format!(
                "5. memory: gateway peak RSS ({} connections of bind+unbind cycles, {secs} s)",
                o.memory_concurrency
            ),
            Self::Webhooks => format!(
                "6. webhooks: call.completed delivered while CDRs flood in ({} connections, {secs} s)",
                o.concurrency
            ),
            Self::Costs => "7. per-operation costs (counted, not timed)".to_owned(),
        }
    }

    fn headers(self) -> Vec<&'static str> {
        match self {
            Self::Bind => bind::HEADERS.to_vec(),
            Self::Callbacks => callbacks::HEADERS.to_vec(),
            Self::Sms => sms::HEADERS.to_vec(),
            Self::Growth => growth::HEADERS.to_vec(),
            Self::Memory => memory::HEADERS.to_vec(),
            Self::Webhooks => webhooks::HEADERS.to_vec(),
            Self::Costs => costs::headers(),
        }
    }

    /// What the rows mean, printed under the table.
    fn explain(self, ctx: &Ctx) -> Vec<String> {
        let o = &ctx.opts;
        let text = match self {
            Self::Bind => format!(
                "cycle = POST /v1/bindings (explicit relationNum over {} X numbers, fresh A/B each time) + DELETE /v1/bindings/{{id}}; direct = the same cycle signed straight to pns-sim ({}), same client, same connections. Each backend's stack has its own pns-sim, so direct is measured per run.",
                o.numbers,
                pns_core::wire::BIND_PATH
            ),
            Self::Callbacks => "signed `fee` batches of 50 CDRs to POST /callbacks/huawei. own binding: each connection's CDRs belong to its own live binding; sharing bindings: every batch spreads its records over all of them (concurrent deliveries for the same bindings). call events: one signed callin/alerting/answer/disconnect per request. raw INSERT: as many rows as the first row acknowledged, inserted into `cdrs` by as many connections as the gateway's pool, one 50-row INSERT per transaction. pgbench (PostgreSQL): the same rows (same unique icid, same JSONB payload) inserted by PostgreSQL's own client, prepared, one 50-row `INSERT ... SELECT generate_series` per transaction, as many clients as the gateway's pool: the baseline the ratios use (the better of the two raw rows).".to_owned(),
            Self::Sms => format!(
                "a signed Block-mode SMS notification for one bound pair every {:.1} ms; latency counted from the scheduled send time (no coordinated omission); a request is shed instead of sent when 512 are already in flight.",
                1000.0 / f64::from(o.sms_rate.max(1))
            ),
            Self::Growth => format!(
                "the table is filled straight through SQL (PostgreSQL: INSERT ... SELECT generate_series in 100k chunks; SQLite: recursive-CTE INSERT in 50k-row transactions), one row in four active with its binding_parties rows, then ANALYZE. Timed: the bind alone, each followed by an untimed unbind; fresh A/B over {} X numbers.",
                o.numbers
            ),
            Self::Memory => "VmHWM of the gateway process from /proc/<pid>/status, reset to the idle RSS (clear_refs) just before the load.".to_owned(),
            Self::Webhooks => "one endpoint (`call.completed`) on a wiremock receiver on loopback answering 204; signed 50-record CDR batches (each record its own call, each connection's calls on its own binding) posted closed-loop; every CDR settles a call, so each record must produce one event. Lag: from sending the batch to the event's arrival at the receiver (the dispatcher polls every PNS_WEBHOOK_POLL_INTERVAL_MS, default 500 ms, when idle). Delivered/s: events over the time from the flood's start to the last arrival. Repeats: the same webhook-id arriving again (at-least-once).".to_owned(),
            Self::Costs => "2,000 bind+unbind cycles (explicit X), 100 signed 50-record `fee` batches (each connection's CDRs for its own binding) and 2,000 call events, 16 connections. statements: the gateway's `pns_db_statements_total` (BEGIN/COMMIT not included); commits and rows written (inserted + updated + deleted): `pg_stat_database`; WAL bytes: `pg_current_wal_lsn()` difference; PostgreSQL CPU: user+system time of every `postgres` process (/proc); gateway CPU: its process. Per operation; on SQLite only the gateway's own figures.".to_owned(),
        };
        vec![text]
    }

    /// The targets this scenario measures, for a NOT MEASURED line when it fails.
    fn targets(self, backend: Backend) -> Vec<&'static str> {
        match self {
            Self::Bind => vec![bind::TARGET],
            Self::Callbacks if backend == Backend::Postgres => vec![callbacks::TARGET],
            Self::Callbacks => vec![],
            Self::Sms => vec![sms::TARGET],
            Self::Growth => vec![growth::TARGET],
            Self::Memory => vec![memory::TARGET],
            Self::Webhooks => vec![],
            Self::Costs => vec![],
        }
    }

    async fn run_on(self, ctx: &Ctx, backend: Backend) -> anyhow::Result<Outcome> {
        let connections = match self {
            Self::Memory => ctx.opts.memory_concurrency,
            Self::Sms => 512,
            _ => ctx.opts.concurrency,
        };
        let stack = Arc::new(Stack::start(ctx, backend, connections).await?);
        let result = match self {
            Self::Bind => bind::run(ctx, &stack).await,
            Self::Callbacks => callbacks::run(ctx, &stack).await,
            Self::Sms => sms::run(ctx, &stack).await,
            Self::Growth => growth::run(ctx, &stack).await,
            Self::Memory => memory::run(ctx, &stack).await,
            Self::Webhooks => webhooks::run(ctx, &stack).await,
            Self::Costs => costs::run(ctx, &stack).await,
        };
        print_log_tails(&stack, if result.is_err() { 15 } else { 3 });
        match Arc::try_unwrap(stack) {
            Ok(stack) => stack.stop().await,
            Err(_) => eprintln!("pns-bench: stack still shared; its processes are killed on exit"),
        }
        result
    }
}

/// What one scenario produced on one backend.
#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<Vec<String>>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
}

/// Runs each scenario on each backend, printing every table as soon as it is complete.
pub async fn run(
    ctx: &Ctx,
    scenarios: &[Scenario],
    backends: &[Backend],
) -> (Vec<Section>, Vec<Check>) {
    let (mut sections, mut checks) = (Vec::new(), Vec::new());
    for &scenario in scenarios {
        let mut section = Section {
            title: scenario.title(ctx),
            notes: scenario.explain(ctx),
            headers: scenario.headers(),
            rows: Vec::new(),
        };
        for &backend in backends {
            eprintln!("pns-bench: {:?} on {} ...", scenario, backend.label());
            match scenario.run_on(ctx, backend).await {
                Ok(outcome) => {
                    section.rows.extend(outcome.rows);
                    checks.extend(outcome.checks);
                    section.notes.extend(outcome.notes);
                }
                Err(e) => {
                    eprintln!(
                        "pns-bench: {:?} on {} failed: {e:#}",
                        scenario,
                        backend.label()
                    );
                    section
                        .notes
                        .push(format!("**{} run failed**: {e:#}", backend.label()));
                    checks.extend(scenario.targets(backend).into_iter().map(|target| Check {
                        target,
                        backend,
                        measured: "failed".into(),
                        met: None,
                    }));
                }
            }
        }
        println!("### {}\n", section.title);
        print!("{}", crate::report::table(&section.headers, &section.rows));
        for note in &section.notes {
            println!("- {note}");
        }
        println!();
        sections.push(section);
    }
    (sections, checks)
}

pub(crate) async fn count_rows(
    db: &sea_orm::DatabaseConnection,
    table: &str,
) -> anyhow::Result<u64> {
    use sea_orm::ConnectionTrait;
    let stmt = sea_orm::Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table}"),
    );
    let row = db.query_one_raw(stmt).await?;
    let n: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
    Ok(n.max(0) as u64)
}

/// The children log at warn level, so anything in their logs is worth a look.
fn print_log_tails(stack: &Stack, lines: usize) {
    for log in [stack.gateway.log(), stack.sim.log()] {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let tail = &all[all.len().saturating_sub(lines)..];
        if !tail.is_empty() {
            eprintln!(
                "--- last lines of {} ---\n{}",
                log.display(),
                tail.join("\n")
            );
        }
    }
}

/// CPU seconds used so far by the gateway, pns-sim and this load generator.
pub(crate) struct Cpu([Option<f64>; 3]);

impl Cpu {
    pub(crate) fn now(stack: &Stack) -> Self {
        use crate::procs::cpu_seconds;
        Self([
            cpu_seconds(stack.gateway.pid()),
            cpu_seconds(stack.sim.pid()),
            cpu_seconds(std::process::id()),
        ])
    }

    /// Cores busy since `self` over `elapsed`, as `gateway/sim/client`.
    pub(crate) fn cores_since(&self, stack: &Stack, elapsed: std::time::Duration) -> String {
        let later = Self::now(stack);
        let secs = elapsed.as_secs_f64().max(1e-9);
        let cores: Vec<String> = self
            .0
            .iter()
            .zip(later.0)
            .map(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => format!("{:.2}", (b - a) / secs),
                _ => "?".into(),
            })
            .collect();
        cores.join("/")
    }
}

/// `n` live bindings (at most 256) for callbacks to refer to, one per connection.
pub(crate) async fn bound_pairs(
    stack: &Stack,
    n: usize,
) -> anyhow::Result<Arc<Vec<crate::bodies::BoundPair>>> {
    let mut pairs = Vec::with_capacity(n.min(256));
    for _ in 0..n.min(256) {
        pairs.push(stack.bound_pair().await?);
    }
    Ok(Arc::new(pairs))
}

/// A bind+unbind cycle through the gateway on a fresh pair over `numbers` X numbers, as an
/// operation for [`crate::driver::closed_loop`].
/// One operation of a load loop, boxed so closures of different scenarios share a type.
pub(crate) type BoxedOp = std::pin::Pin<Box<dyn Future<Output = crate::driver::OpResult> + Send>>;

/// An operation a load loop can run from many workers.
pub(crate) trait Op: Fn(usize, u64) -> BoxedOp + Clone + Send + Sync + 'static {}
impl<T: Fn(usize, u64) -> BoxedOp + Clone + Send + Sync + 'static> Op for T {}

pub(crate) fn gateway_cycle(stack: &Arc<Stack>, numbers: usize) -> impl Op {
    let stack = stack.clone();
    move |_, _| {
        let stack = stack.clone();
        Box::pin(async move {
            let (a, b, x) = crate::bodies::pair(numbers);
            let (id, _) = stack.gateway_bind(&a, &b, &x).await?;
            stack.gateway_unbind(&id).await?;
            Ok(None)
        }) as BoxedOp
    }
}

/// Short warm-up before a measurement: connections opened, caches and pools filled.
fn warmup(ctx: &Ctx) -> std::time::Duration {
    (ctx.opts.duration / 5).min(std::time::Duration::from_secs(2))
}

fn errors_note(what: &str, backend: Backend, m: &crate::driver::Measured) -> Option<String> {
    (m.errors > 0).then(|| {
        format!(
            "{} {what}: {} errors, e.g. {}",
            backend.label(),
            m.errors,
            m.sample_errors.join(" / ")
        )
    })
}
