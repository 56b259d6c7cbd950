//! Webhook delivery while CDRs flood in: one endpoint subscribed to `call.completed`, a real HTTP
//! receiver on loopback, and signed 50-record CDR batches posted as fast as the gateway takes them.
//! Each CDR settles a call, so each must reach the receiver once; the lag runs from the moment its
//! batch was sent to the callback endpoint to the moment the event arrived.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{Cpu, Outcome, errors_note};
use crate::bodies::{fee_batch, next_seq};
use crate::driver::{closed_loop, histogram};
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

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// Call session -> when its CDR batch was sent.
    sent: HashMap<String, Instant>,
    ids: HashSet<String>,
    repeats: u64,
    lag: Option<Histogram<u64>>,
    last: Option<Instant>,
}

#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Seen>>);

impl Respond for Receiver {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let now = Instant::now();
        let id = request
            .headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let session = serde_json::from_slice::<Value>(&request.body)
            .ok()
            .and_then(|e| e["data"]["sessionId"].as_str().map(str::to_owned));
        let mut seen = self.0.lock().expect("receiver lock");
        if !seen.ids.insert(id) {
            seen.repeats += 1;
            return ResponseTemplate::new(204);
        }
        if let Some(sent) = session.and_then(|s| seen.sent.get(&s).copied()) {
            let micros = u64::try_from((now - sent).as_micros()).unwrap_or(u64::MAX);
            seen.lag
                .get_or_insert_with(histogram)
                .saturating_record(micros.max(1));
        }
        seen.last = Some(now);
        ResponseTemplate::new(204)
    }
}

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let o = &ctx.opts;
    let mut pairs = Vec::with_capacity(o.concurrency);
    for _ in 0..o.concurrency.min(256) {
        pairs.push(stack.bound_pair().await?);
    }
    let pairs = Arc::new(pairs);
    let receiver = Receiver::default();
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(receiver.clone())
        .mount(&server)
        .await;
    let created = stack
        .client
        .post(format!("{}/v1/webhooks", stack.gateway_url))
        .bearer_auth(&stack.token)
        .json(&json!({"url": server.uri(), "events": ["call.completed"]}))
        .send()
        .await?;
    anyhow::ensure!(
        created.status() == 201,
        "creating the webhook endpoint: {} {}",
        created.status(),
        created.text().await.unwrap_or_default()
    );

    let flood = {
        let (stack, pairs, seen) = (stack.clone(), pairs.clone(), receiver.0.clone());
        move |worker: usize, _| {
            let (stack, pairs, seen) = (stack.clone(), pairs.clone(), seen.clone());
            async move {
                let own = std::slice::from_ref(&pairs[worker % pairs.len()]);
                let (records, body) = fee_batch(&format!("wh-{}", next_seq()), BATCH, own);
                let sent = Instant::now();
                {
                    let mut seen = seen.lock().expect("receiver lock");
                    for r in &records {
                        if let Some(s) = r["sessionId"].as_str() {
                            seen.sent.insert(s.to_owned(), sent);
                        }
                    }
                }
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
        let n = receiver.0.lock().expect("receiver lock").ids.len() as u64;
        if n >= acknowledged || Instant::now() > drained {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let seen = receiver.0.lock().expect("receiver lock");
    let span = seen.last.map_or(f.elapsed, |last| last - start);
    let cores = cpu.cores_since(stack, span);
    let lag = seen.lag.clone().unwrap_or_else(histogram);
    let quantile = |q: f64| lag.value_at_quantile(q) as f64 / 1000.0;
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
            seen.repeats.to_string(),
            cores,
        ]],
        checks: Vec::new(),
        notes,
    })
}
