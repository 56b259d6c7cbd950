//! Per-operation costs of the write paths: a bind+unbind cycle, a CDR record (in 50-record
//! batches) and a call event, each a fixed count of operations at moderate concurrency, counted by
//! [`crate::costs::Probe`]. The figures do not depend on the machine's speed, only on the code.

use std::sync::Arc;

use super::{Outcome, bound_pairs, gateway_cycle, warmup};
use crate::bodies::{call_event, fee_batch, next_seq};
use crate::costs::{COLUMNS, PerOp, Probe};
use crate::driver::closed_loop;
use crate::stack::{Ctx, Stack};

pub fn headers() -> Vec<&'static str> {
    let mut h = vec!["operation", "backend", "ops"];
    h.extend(COLUMNS);
    h
}

const CONNECTIONS: usize = 16;
const CYCLES: u64 = 2_000;
const BATCHES: u64 = 100;
const BATCH: usize = 50;
const EVENTS: u64 = 2_000;
/// Long enough for every count above; the counts end each loop.
const AT_MOST: std::time::Duration = std::time::Duration::from_secs(120);

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let probe = Probe::new(stack).await?;
    let cycle = gateway_cycle(stack, ctx.opts.numbers);
    closed_loop(CONNECTIONS, warmup(ctx), 200, cycle.clone()).await;
    stack.db.analyze().await?;
    let before = probe.snapshot().await?;
    let cycles = closed_loop(CONNECTIONS, AT_MOST, CYCLES, cycle).await;
    let per_cycle = probe.since(before, cycles.ok).await?;

    let pairs = bound_pairs(stack, CONNECTIONS).await?;
    let fee = {
        let (stack, pairs) = (stack.clone(), pairs.clone());
        move |worker: usize, _| {
            let (stack, pairs) = (stack.clone(), pairs.clone());
            async move {
                let own = std::slice::from_ref(&pairs[worker % pairs.len()]);
                let (_, body) = fee_batch(&format!("cost-{}", next_seq()), BATCH, own);
                stack.post_callback(&body).await?;
                Ok(None)
            }
        }
    };
    let before = probe.snapshot().await?;
    let batches = closed_loop(CONNECTIONS, AT_MOST, BATCHES, fee).await;
    let per_cdr = probe.since(before, batches.ok * BATCH as u64).await?;

    let events = {
        let (stack, pairs) = (stack.clone(), pairs.clone());
        let run = next_seq();
        move |worker: usize, i: u64| {
            let (stack, pairs) = (stack.clone(), pairs.clone());
            async move {
                let session = format!("cost-{run}-{worker}-{}", i / 4);
                let b = &pairs[worker % pairs.len()];
                let body = call_event(&session, i as usize % 4, b);
                stack.post_callback(&body).await?;
                Ok(None)
            }
        }
    };
    let before = probe.snapshot().await?;
    let sent = closed_loop(CONNECTIONS, AT_MOST, EVENTS, events).await;
    let per_event = probe.since(before, sent.ok).await?;

    let label = stack.backend.label();
    let row = |what: &str, ops: u64, errors: u64, cost: PerOp| {
        let mut r = vec![what.to_owned(), label.to_owned(), ops.to_string()];
        if errors > 0 {
            r[2] = format!("{ops} ({errors} errors)");
        }
        r.extend(cost.cells());
        r
    };
    Ok(Outcome {
        rows: vec![
            row("bind+unbind cycle", cycles.ok, cycles.errors, per_cycle),
            row(
                "CDR record (50 per batch)",
                batches.ok * BATCH as u64,
                batches.errors,
                per_cdr,
            ),
            row("call event", sent.ok, sent.errors, per_event),
        ],
        checks: vec![],
        notes: vec![],
    })
}
