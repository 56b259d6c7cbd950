//! Memory: the gateway's peak resident set (VmHWM) while many connections run bind+unbind cycles.

use std::sync::Arc;

use super::{Cpu, Outcome, errors_note, gateway_cycle};
use crate::driver::closed_loop;
use crate::procs::{proc_status_kb, reset_peak_rss};
use crate::report::{Check, ms, rate};
use crate::stack::{Ctx, Stack};

pub const HEADERS: [&str; 9] = [
    "backend",
    "connections",
    "cycles/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "RSS idle MB",
    "peak RSS MB",
    "CPU cores gw/sim/client",
];
pub const TARGET: &str = "gateway peak RSS <= 100 MB under 256 connections";

fn mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / 1_000_000.0
}

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let o = &ctx.opts;
    let pid = stack.gateway.pid();
    let idle = proc_status_kb(pid, "VmRSS").unwrap_or(0);
    // Start the peak from the idle process, so start-up (migrations) is not counted.
    let reset = reset_peak_rss(pid);
    let op = gateway_cycle(stack, o.numbers);
    let cpu = Cpu::now(stack);
    let m = closed_loop(o.memory_concurrency, o.duration, o.max_ops, op).await;
    let cpu = cpu.cores_since(stack, m.elapsed);
    let peak = proc_status_kb(pid, "VmHWM")
        .ok_or_else(|| anyhow::anyhow!("cannot read /proc/{pid}/status"))?;
    let peak_mb = mb(peak);
    let mut notes: Vec<String> = errors_note("cycles", stack.backend, &m)
        .into_iter()
        .collect();
    if !reset {
        notes.push(format!(
            "{}: could not reset VmHWM; the peak includes start-up",
            stack.backend.label()
        ));
    }
    Ok(Outcome {
        rows: vec![vec![
            stack.backend.label().to_owned(),
            o.memory_concurrency.to_string(),
            rate(m.per_sec()),
            ms(m.p50_ms()),
            ms(m.p99_ms()),
            m.errors.to_string(),
            format!("{:.1}", mb(idle)),
            format!("{peak_mb:.1}"),
            cpu,
        ]],
        checks: vec![Check {
            target: TARGET,
            backend: stack.backend,
            measured: format!("{peak_mb:.1} MB (VmHWM)"),
            met: Some(peak_mb <= 100.0),
        }],
        notes,
    })
}
