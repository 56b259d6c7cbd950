//! Webhook delivery while CDRs flood in: one endpoint subscribed to `call.completed`, a real HTTP
//! receiver on loopback, and signed 50-record CDR batches posted as fast as the gateway takes them.
//! Each CDR settles a call, so each must reach the receiver once; the lag runs from the moment its
//! batch was sent to the callback endpoint to the moment the event arrived.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Cpu, Outcome, bound_pairs, errors_note};
use crate::bodies::{fee_batch, next_seq};
use crate::driver::closed_loop;
use crate::receiver::WebhookReceiver;
use crate::report::{ms, rate};
use crate::stack::{Ctx, Stack};

pub const HEADERS: [&str; 8] = [
    "backend",
    "CDR records/s (flood)",
    "events delivered/s",
    "lag p50 ms",
    "lag p99 ms",
    "events delivered",
    "repeats (same webhook-id)",
    "CPU cores gw/sim/client",
];
const BATCH: usize = 50;
/// How long delivery may trail the flood before the run is reported as incomplete.
const DRAIN: Duration = Duration::from_secs(120);

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let o = &ctx.opts;
    let pairs = bound_pairs(stack, o.concurrency).await?;
    let receiver = WebhookReceiver::start().await;
    receiver
        .subscribe(
            &stack.client,
            &stack.gateway_url,
            &stack.token,
            &["call.completed"],
        )
        .await?;

    let flood = {
        let (stack, pairs, log) = (stack.clone(), pairs.clone(), receiver.sent_log());
        move |worker: usize, _| {
            let (stack, pairs, log) = (stack.clone(), pairs.clone(), log.clone());
            async move {
                let own = std::slice::from_ref(&pairs[worker % pairs.len()]);
                let (records, body) = fee_batch(&format!("wh-{}", next_seq()), BATCH, own);
                log.sent(
                    records.iter().filter_map(|r| r["sessionId"].as_str()),
                    Instant::now(),
                );
                stack.post_callback(&body).await?;
                Ok(None)
            }
        }
    };
    let batches = o.max_ops / BATCH as u64;
    let cpu = Cpu::now(stack);
    let start = Instant::now();
    let f = closed_loop(o.concurrency, o.duration, batches, flood).await;
    let acknowledged = f.ok * BATCH as u64;
    let drained = Instant::now() + DRAIN;
    let delivered = loop {
        let n = receiver.seen().distinct();
        if n >= acknowledged || Instant::now() > drained {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let seen = receiver.seen();
    let span = seen.last.map_or(f.elapsed, |last| last - start);
    let cores = cpu.cores_since(stack, span);
    let quantile = |q: f64| seen.lag.value_at_quantile(q) as f64 / 1000.0;
    let mut notes: Vec<String> = errors_note("CDR batches", stack.backend, &f)
        .into_iter()
        .collect();
    let label = stack.backend.label();
    notes.push(format!(
        "{label}: {acknowledged} CDR records acknowledged in {:.1} s; the last of {delivered} call.completed events arrived {:.1} s after the flood began.",
        f.elapsed.as_secs_f64(),
        span.as_secs_f64(),
    ));
    if delivered < acknowledged {
        notes.push(format!(
            "**{label}: {} events not delivered within {} s of the flood's end**",
            acknowledged - delivered,
            DRAIN.as_secs()
        ));
    }
    Ok(Outcome {
        rows: vec![vec![
            label.to_owned(),
            rate(acknowledged as f64 / f.elapsed.as_secs_f64().max(1e-9)),
            rate(delivered as f64 / span.as_secs_f64().max(1e-9)),
            ms(quantile(0.50)),
            ms(quantile(0.99)),
            delivered.to_string(),
            seen.repeats().to_string(),
            cores,
        ]],
        checks: Vec::new(),
        notes,
    })
}
