//! The load: workers bind a fresh A/B pair on an X through the gateway, play calls on it through the
//! simulator (signed call events to the gateway, a CDR queued for the next batch), and unbind a third.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pns_bench::bodies::{party, x_number};
use serde_json::{Value, json};

use crate::Opts;
use crate::setup::FaultStack;

/// Named counters, shared by the workers and the injector.
#[derive(Default)]
pub struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    pub fn add(&self, key: impl Into<String>, n: u64) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.into())
            .or_default() += n;
    }

    pub fn get(&self, key: &str) -> u64 {
        self.snapshot().get(key).copied().unwrap_or(0)
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub async fn run(stack: Arc<FaultStack>, opts: &Opts, duration: Duration, tally: Arc<Tally>) {
    let deadline = Instant::now() + duration;
    let started = Arc::new(AtomicU64::new(0));
    let max = opts.max_cycles;
    let tasks: Vec<_> = (0..opts.workers)
        .map(|_| {
            let (stack, tally, started) = (stack.clone(), tally.clone(), started.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let n = started.fetch_add(1, Ordering::Relaxed);
                    if n >= max {
                        break;
                    }
                    cycle(&stack, &tally, n + 1).await;
                }
            })
        })
        .collect();
    for t in tasks {
        if t.await.is_err() {
            tally.add("worker panicked", 1);
        }
    }
}

/// A gateway answer's status, or "connection error".
fn class(status: Option<u16>) -> String {
    status.map_or_else(|| "connection error".into(), |s| s.to_string())
}

async fn cycle(stack: &FaultStack, tally: &Tally, n: u64) {
    let x = x_number((n % stack.numbers as u64) as usize);
    let (a, b) = (party(138, n), party(139, n));
    let body = json!({"callerNum": a, "calleeNum": b, "relationNum": x, "privateSms": true});
    let resp = stack
        .client
        .post(format!("{}/v1/bindings", stack.gateway_url))
        .bearer_auth(&stack.token)
        .json(&body)
        .send()
        .await;
    let (status, answer) = match resp {
        Ok(r) => {
            let s = r.status().as_u16();
            (Some(s), r.json::<Value>().await.unwrap_or(Value::Null))
        }
        Err(_) => (None, Value::Null),
    };
    tally.add(format!("bind {}", class(status)), 1);
    if status != Some(201) {
        if let Some(code) = answer["code"].as_str() {
            tally.add(format!("bind error {code}"), 1);
        }
        return;
    }
    let (Some(id), Some(sid)) = (answer["id"].as_str(), answer["subscriptionId"].as_str()) else {
        tally.add("bind 201 without subscriptionId", 1);
        return;
    };
    for (i, outcome) in ["answered", "noAnswer"].iter().enumerate() {
        if i == 1 && n.is_multiple_of(2) {
            break;
        }
        play_call(stack, tally, sid, outcome).await;
    }
    if n.is_multiple_of(3) {
        let resp = stack
            .client
            .delete(format!("{}/v1/bindings/{id}", stack.gateway_url))
            .bearer_auth(&stack.token)
            .send()
            .await;
        tally.add(
            format!("unbind {}", class(resp.ok().map(|r| r.status().as_u16()))),
            1,
        );
    }
}

async fn play_call(stack: &FaultStack, tally: &Tally, sid: &str, outcome: &str) {
    let script =
        json!({"subscriptionId": sid, "from": "caller", "outcome": outcome, "talkSeconds": 30});
    match stack.sim_json(true, "/sim/calls", Some(&script)).await {
        Ok(report) => {
            tally.add("calls played", 1);
            for e in report["events"].as_array().into_iter().flatten() {
                let attempts = e["attempts"].as_u64().unwrap_or(1);
                tally.add("call events", 1);
                if e["httpStatus"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s))
                {
                    tally.add("call event refused attempts", attempts.saturating_sub(1));
                } else {
                    tally.add("call events lost", 1);
                    tally.add("call event refused attempts", attempts);
                }
            }
        }
        Err(e) => {
            tally.add("calls failed", 1);
            if tally.get("calls failed") <= 3 {
                eprintln!("pns-faults: call failed: {e:#}");
            }
        }
    }
}
