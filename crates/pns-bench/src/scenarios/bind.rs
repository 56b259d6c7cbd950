//! bind+unbind cycles through the gateway, and the same cycles signed straight to pns-sim with the
//! same client and concurrency: the gateway's cost over the platform call it wraps.

use std::sync::Arc;

use super::{Cpu, Outcome, errors_note, warmup};
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
    let through_gateway = |stack: Arc<Stack>, numbers: usize| {
        move |_, _| {
            let stack = stack.clone();
            async move {
                let (a, b, x) = pair(numbers);
                let (id, _) = stack.gateway_bind(&a, &b, &x).await?;
                stack.gateway_unbind(&id).await?;
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
        through_gateway(stack.clone(), o.numbers),
    )
    .await;
    let cpu = Cpu::now(stack);
    let g = closed_loop(
        o.concurrency,
        o.duration,
        o.max_ops,
        through_gateway(stack.clone(), o.numbers),
    )
    .await;
    let g_cpu = cpu.cores_since(stack, g.elapsed);

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
    let notes: Vec<String> = [
        errors_note("direct", stack.backend, &d),
        errors_note("gateway", stack.backend, &g),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(Outcome {
        rows: vec![
            row("direct pns-sim", &d, "1.00x".into(), d_cpu),
            row("gateway", &g, format!("{ratio:.2}x"), g_cpu),
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
