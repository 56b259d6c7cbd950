//! bind+unbind cycles through the gateway, and the same cycles signed straight to pns-sim with the
//! same client and concurrency: the gateway's cost over the platform call it wraps.

use std::sync::Arc;

use sea_orm::ConnectionTrait;

use super::{Cpu, Outcome, errors_note, gateway_cycle, warmup};
use crate::bodies::pair;
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
pub const TARGET: &str = "gateway bind+unbind throughput >= 0.5x direct";
/// Database round trips the gateway makes per bind+unbind cycle with an explicit X (counted with
/// pg_stat_statements: 9 statements, 2 BEGIN/COMMIT pairs).
const ROUND_TRIPS_PER_CYCLE: f64 = 13.0;

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let o = &ctx.opts;
    let direct = |stack: Arc<Stack>, numbers: usize| {
        move |_, _| {
            let stack = stack.clone();
            async move {
                let (a, b, x) = pair(numbers);
                let sub = stack.direct_bind(&a, &b, &x).await?;
                stack.direct_unbind(&sub).await?;
                Ok(None)
            }
        }
    };
    closed_loop(
        o.concurrency,
        warmup(ctx),
        o.max_ops,
        direct(stack.clone(), o.numbers),
    )
    .await;
    let cpu = Cpu::now(stack);
    let d = closed_loop(
        o.concurrency,
        o.duration,
        o.max_ops,
        direct(stack.clone(), o.numbers),
    )
    .await;
    let d_cpu = cpu.cores_since(stack, d.elapsed);
    closed_loop(
        o.concurrency,
        warmup(ctx),
        o.max_ops,
        gateway_cycle(stack, o.numbers),
    )
    .await;
    let cpu = Cpu::now(stack);
    let g = closed_loop(
        o.concurrency,
        o.duration,
        o.max_ops,
        gateway_cycle(stack, o.numbers),
    )
    .await;
    let g_cpu = cpu.cores_since(stack, g.elapsed);

    // What the database alone allows: empty round trips over as many connections as the gateway's
    // pool, divided by the round trips one cycle costs the gateway.
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
    let p = closed_loop(workers, o.duration, o.max_ops, ping).await;
    let p_cpu = cpu.cores_since(stack, p.elapsed);
    db.close().await?;
    let ceiling = p.per_sec() / ROUND_TRIPS_PER_CYCLE;

    let label = stack.backend.label();
    let ratio = g.per_sec() / d.per_sec().max(1e-9);
    let row = |path: &str, m: &Measured, vs: String, cpu: String| {
        vec![
            path.to_owned(),
            label.to_owned(),
            rate(m.per_sec()),
            ms(m.p50_ms()),
            ms(m.p99_ms()),
            m.ok.to_string(),
            m.errors.to_string(),
            vs,
            cpu,
        ]
    };
    let mut notes: Vec<String> = [
        errors_note("direct", stack.backend, &d),
        errors_note("gateway", stack.backend, &g),
    ]
    .into_iter()
    .flatten()
    .collect();
    notes.push(format!(
        "{label}: database ceiling = {} empty round trips/s (SELECT 1, {workers} connections, the gateway's pool size) / {ROUND_TRIPS_PER_CYCLE} round trips per cycle; no HTTP, no platform call, nothing written, so no gateway can beat it on this machine.",
        rate(p.per_sec()),
    ));
    Ok(Outcome {
        rows: vec![
            row("direct pns-sim", &d, "1.00x".into(), d_cpu),
            row("gateway", &g, format!("{ratio:.2}x"), g_cpu),
            vec![
                format!("database ceiling (SELECT 1 / {ROUND_TRIPS_PER_CYCLE})"),
                label.to_owned(),
                rate(ceiling),
                ms(p.p50_ms()),
                ms(p.p99_ms()),
                p.ok.to_string(),
                p.errors.to_string(),
                format!("{:.2}x", ceiling / d.per_sec().max(1e-9)),
                p_cpu,
            ],
        ],
        checks: vec![Check {
            target: TARGET,
            backend: stack.backend,
            measured: format!(
                "{ratio:.2}x ({} vs {} cycles/s{})",
                rate(g.per_sec()),
                rate(d.per_sec()),
                if g.errors > 0 {
                    format!(", {} gateway errors", g.errors)
                } else {
                    String::new()
                }
            ),
            met: Some(ratio >= 0.5),
        }],
        notes,
    })
}
