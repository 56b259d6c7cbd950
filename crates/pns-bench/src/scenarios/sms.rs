//! SMS Block decisions: the platform holds the text until the gateway answers where it goes, so
//! the answer's latency is what a user waits. Open loop at a fixed rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pns_core::SmsDecision;

use super::{Cpu, Outcome, errors_note, warmup};
use crate::bodies::sms_block;
use crate::driver::open_loop;
use crate::report::{Check, ms, rate};
use crate::stack::{Ctx, Stack};

pub const HEADERS: [&str; 11] = [
    "backend",
    "achieved /s",
    "ok",
    "errors",
    "shed",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "decisions",
    "CPU cores gw/sim/client",
];
pub const TARGET: &str = "SMS Block decision p99 <= 5 ms at 1,000 requests/s";
/// Requests allowed in flight before the schedule sheds instead of queueing without bound.
const MAX_IN_FLIGHT: usize = 512;

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let o = &ctx.opts;
    let pair = Arc::new(stack.bound_pair().await?);
    let (routed, discarded) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let op = |counting: bool| {
        let (stack, pair) = (stack.clone(), pair.clone());
        let (routed, discarded) = (routed.clone(), discarded.clone());
        move |_| {
            let (stack, pair) = (stack.clone(), pair.clone());
            let (routed, discarded) = (routed.clone(), discarded.clone());
            async move {
                let answer = stack.post_callback(&sms_block(&pair)).await?;
                let counter = match Stack::decision(&answer) {
                    Some(SmsDecision::Route { .. }) => routed,
                    Some(SmsDecision::Discard) => discarded,
                    None => return Err(format!("answer without a decision: {answer}")),
                };
                if counting {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(None)
            }
        }
    };
    open_loop(o.sms_rate, warmup(ctx), MAX_IN_FLIGHT, op(false)).await;
    let cpu = Cpu::now(stack);
    let m = open_loop(o.sms_rate, o.duration, MAX_IN_FLIGHT, op(true)).await;
    let cpu = cpu.cores_since(stack, m.elapsed);
    let p999 = m.latency.value_at_quantile(0.999) as f64 / 1000.0;
    let max = m.latency.max() as f64 / 1000.0;
    let p99 = m.p99_ms();
    let decisions = format!(
        "{} route, {} discard",
        routed.load(Ordering::Relaxed),
        discarded.load(Ordering::Relaxed)
    );
    let mut notes: Vec<String> = errors_note("SMS", stack.backend, &m).into_iter().collect();
    if m.shed > 0 {
        notes.push(format!(
            "{}: {} scheduled requests shed ({MAX_IN_FLIGHT} already in flight)",
            stack.backend.label(),
            m.shed
        ));
    }
    Ok(Outcome {
        rows: vec![vec![
            stack.backend.label().to_owned(),
            rate(m.per_sec()),
            m.ok.to_string(),
            m.errors.to_string(),
            m.shed.to_string(),
            ms(m.p50_ms()),
            ms(p99),
            ms(p999),
            ms(max),
            decisions,
            cpu,
        ]],
        checks: vec![Check {
            target: TARGET,
            backend: stack.backend,
            measured: format!("p99 {} ms", ms(p99)),
            met: Some(p99 <= 5.0 && m.errors == 0 && m.shed == 0),
        }],
        notes,
    })
}
