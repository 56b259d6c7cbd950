//! bind+unbind cycles through the gateway, and the same cycles signed straight to pns-sim with the
//! same client and concurrency: the gateway's cost over the platform call it wraps.

use std::sync::Arc;

use sea_orm::ConnectionTrait;

use super::{BoxedOp, Cpu, Op, Outcome, errors_note, gateway_cycle, warmup};
use crate::bodies::pair;
use crate::db::Backend;
use crate::driver::{Measured, closed_loop};
use crate::report::{Check, ms, rate};
use crate::stack::{Ctx, Stack};

pub const HEADERS: [&str; 9] = [
    "path",
    "backend",
    "cycles/s",
    "p50 ms",
    "p99 ms",
    "ok",
    "errors",
    "vs direct",
    "CPU cores gw/sim/client",
];
pub const TARGET: &str = "gateway bind+unbind throughput >= 0.12x direct";
const FLOOR: f64 = 0.12;

/// Database round trips the gateway makes per bind+unbind cycle with an explicit X and no webhook
/// endpoint (counted with pg_stat_statements, `pns-bench costs`): on PostgreSQL the four steps (claim,
/// activate, mark the unbind, end) are group-committed, 1.9 round trips per cycle at 16 connections
/// and fewer under more load (so the ceiling below is generous); on SQLite eight statements, two of
/// the steps being transactions (BEGIN and COMMIT each a round trip).
fn round_trips_per_cycle(backend: Backend) -> f64 {
    match backend {
        Backend::Postgres => 2.0,
        Backend::Sqlite => 12.0,
    }
}

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let (d, d_cpu) = measure(ctx, stack, direct_cycle(stack, ctx.opts.numbers)).await;
    let (g, g_cpu) = measure(ctx, stack, gateway_cycle(stack, ctx.opts.numbers)).await;
    let (p, p_cpu) = ping_database(ctx, stack).await?;
    Ok(outcome(stack, [(&d, d_cpu), (&g, g_cpu), (&p, p_cpu)]))
}

/// The same cycle signed straight to pns-sim.
fn direct_cycle(stack: &Arc<Stack>, numbers: usize) -> impl Op {
    let stack = stack.clone();
    move |_, _| {
        let stack = stack.clone();
        Box::pin(async move {
            let (a, b, x) = pair(numbers);
            let sub = stack.direct_bind(&a, &b, &x).await?;
            stack.direct_unbind(&sub).await?;
            Ok(None)
        }) as BoxedOp
    }
}

/// A warm-up, then the measured run, with the CPU each process used.
async fn measure(ctx: &Ctx, stack: &Arc<Stack>, op: impl Op) -> (Measured, String) {
    let o = &ctx.opts;
    closed_loop(o.concurrency, warmup(ctx), o.max_ops, op.clone()).await;
    if let Err(e) = stack.db.analyze().await {
        eprintln!("ANALYZE after the warm-up failed: {e:#}");
    }
    let cpu = Cpu::now(stack);
    let m = closed_loop(o.concurrency, o.duration, o.max_ops, op).await;
    let cores = cpu.cores_since(stack, m.elapsed);
    (m, cores)
}

/// What the database alone allows: empty round trips over as many connections as the gateway's
/// pool (divided by the round trips one cycle costs the gateway in [`outcome`]).
async fn ping_database(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<(Measured, String)> {
    let db = stack.db.connect(stack.backend.gateway_pool()).await?;
    let ping = {
        let db = db.clone();
        move |_, _| {
            let db = db.clone();
            async move {
                db.execute_unprepared("SELECT 1")
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(None)
            }
        }
    };
    let workers = stack.backend.gateway_pool() as usize;
    let cpu = Cpu::now(stack);
    let p = closed_loop(workers, ctx.opts.duration, ctx.opts.max_ops, ping).await;
    let cores = cpu.cores_since(stack, p.elapsed);
    db.close().await?;
    Ok((p, cores))
}

fn outcome(
    stack: &Stack,
    [(d, d_cpu), (g, g_cpu), (p, p_cpu)]: [(&Measured, String); 3],
) -> Outcome {
    let label = stack.backend.label();
    let round_trips = round_trips_per_cycle(stack.backend);
    let ceiling = p.per_sec() / round_trips;
    let ratio = g.per_sec() / d.per_sec().max(1e-9);
    let row = |path: String, m: &Measured, per_sec: f64, vs: String, cpu: String| {
        vec![
            path,
            label.to_owned(),
            rate(per_sec),
            ms(m.p50_ms()),
            ms(m.p99_ms()),
            m.ok.to_string(),
            m.errors.to_string(),
            vs,
            cpu,
        ]
    };
    let mut notes: Vec<String> = [
        errors_note("direct", stack.backend, d),
        errors_note("gateway", stack.backend, g),
    ]
    .into_iter()
    .flatten()
    .collect();
    let workers = stack.backend.gateway_pool();
    notes.push(format!(
        "{label}: database ceiling = {} empty round trips/s (SELECT 1, {workers} connections, the gateway's pool size) / {round_trips} round trips per cycle; no HTTP, no platform call, nothing written, so no gateway can beat it on this machine.",
        rate(p.per_sec()),
    ));
    let errors = if g.errors > 0 {
        format!(", {} gateway errors", g.errors)
    } else {
        String::new()
    };
    Outcome {
        rows: vec![
            row(
                "direct pns-sim".into(),
                d,
                d.per_sec(),
                "1.00x".into(),
                d_cpu,
            ),
            row(
                "gateway".into(),
                g,
                g.per_sec(),
                format!("{ratio:.2}x"),
                g_cpu,
            ),
            row(
                format!("database ceiling (SELECT 1 / {round_trips})"),
                p,
                ceiling,
                format!("{:.2}x", ceiling / d.per_sec().max(1e-9)),
                p_cpu,
            ),
        ],
        checks: vec![Check {
            target: TARGET,
            backend: stack.backend,
            measured: format!(
                "{ratio:.2}x ({} vs {} cycles/s{errors})",
                rate(g.per_sec()),
                rate(d.per_sec()),
            ),
            met: Some(ratio >= FLOOR),
        }],
        notes,
    }
}
