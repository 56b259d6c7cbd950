//! Faults during the load: one burst every two seconds, round-robin over the kinds, and one PostgreSQL
//! restart at 40% of the run while calls keep pushing events and CDRs at the gateway.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::load::Tally;
use crate::setup::FaultStack;

const BURST_EVERY: Duration = Duration::from_secs(2);

/// What was injected: faults per kind (requests affected) and PostgreSQL restarts.
#[derive(Debug, Default, Clone)]
pub struct Injected {
    pub faults: BTreeMap<&'static str, u64>,
    pub pg_restarts: u32,
    pub pg_restart_note: String,
}

fn bursts() -> [(&'static str, Value); 5] {
    [
        (
            "latency 300 ms",
            json!({"kind": "latency", "millis": 300, "times": 20}),
        ),
        (
            "latency 1500 ms (> upstream timeout)",
            json!({"kind": "latency", "millis": 1_500, "times": 4}),
        ),
        (
            "resultcode 1010001, HTTP 500",
            json!({"kind": "resultCode", "code": "1010001", "httpStatus": 500, "times": 5}),
        ),
        (
            "resultcode 1010010 (flow control)",
            json!({"kind": "resultCode", "code": "1010010", "httpStatus": 0, "times": 10}),
        ),
        (
            "applyThenDrop",
            json!({"kind": "applyThenDrop", "times": 3}),
        ),
    ]
}

pub async fn run(
    stack: Arc<FaultStack>,
    duration: Duration,
    restart_pg: bool,
    tally: Arc<Tally>,
) -> anyhow::Result<Injected> {
    let start = Instant::now();
    let restart_at = start + duration.mul_f64(0.4);
    let mut restarted = !restart_pg;
    let mut injected = Injected::default();
    let kinds = bursts();
    let mut i = 0;
    // Leave the last fifth of the run without new faults, so the tail of the load settles normally.
    while start.elapsed() < duration.mul_f64(0.8) {
        let (name, fault) = &kinds[i % kinds.len()];
        i += 1;
        match stack.sim_json(true, "/sim/faults", Some(fault)).await {
            Ok(_) => {
                *injected.faults.entry(name).or_default() += fault["times"].as_u64().unwrap_or(0)
            }
            Err(e) => eprintln!("pns-faults: injecting {name} failed: {e:#}"),
        }
        if !restarted && Instant::now() >= restart_at {
            restarted = true;
            let note = restart_postgres(&tally, start + duration.mul_f64(0.8)).await;
            if note.starts_with("restarted") {
                injected.pg_restarts += 1;
            }
            injected.pg_restart_note = note;
        }
        tokio::time::sleep(BURST_EVERY).await;
    }
    Ok(injected)
}

/// Other agents' test or benchmark runs against PostgreSQL, by pid and command line (ours excluded).
pub fn others_using_postgres() -> Vec<String> {
    let me = std::process::id().to_string();
    let out = std::process::Command::new("pgrep")
        .args(["-af", "pns-bench|nextest|cargo test"])
        .output();
    let Ok(out) = out else { return Vec::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            let pid = l.split_whitespace().next().unwrap_or("");
            pid != me && !l.contains("pns-faults") && !l.contains("pgrep")
        })
        .map(str::to_owned)
        .collect()
}

/// Restarts the local cluster, only when nobody else is testing against it and only while the load
/// still runs (a restart after it would prove nothing).
async fn restart_postgres(tally: &Tally, until: Instant) -> String {
    loop {
        let others = others_using_postgres();
        if others.is_empty() {
            break;
        }
        if Instant::now() > until {
            return format!(
                "skipped: other runs kept using PostgreSQL ({})",
                others.join("; ")
            );
        }
        eprintln!(
            "pns-faults: waiting to restart PostgreSQL; busy: {}",
            others.join("; ")
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let calls_before = tally.get("calls played");
    let t0 = Instant::now();
    let status = tokio::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", "15", "main", "restart"])
        .status()
        .await;
    let took = t0.elapsed();
    match status {
        Ok(s) if s.success() => {
            let note = format!(
                "restarted (`pg_ctlcluster 15 main restart`, {:.1} s, {} calls played before it)",
                took.as_secs_f64(),
                calls_before
            );
            eprintln!("pns-faults: PostgreSQL {note}");
            note
        }
        Ok(s) => format!("restart failed: {s}"),
        Err(e) => format!("restart failed: {e}"),
    }
}
