//! Bind throughput of the simulator: N concurrent keep-alive clients doing signed bind + unbind cycles.
//!
//! `cargo run --release -p pns-sim --example bench_bind` (in-process simulator), or against a running one:
//! `PNS_SIM_URL=http://127.0.0.1:9090 PNS_SIM_APP_KEY=.. PNS_SIM_APP_SECRET=.. cargo run --release ...`
//! (its numbers must be +8617000000000 upward). BENCH_SECS (default 10), BENCH_CONCURRENCY (default 64).

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pns_core::Credentials;
use pns_core::wire::BIND_PATH;
use pns_sim::{RunningSim, SimConfig, SimNumber};
use serde_json::{Value, json};

const X_COUNT: usize = 64;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn x_number(i: usize) -> String {
    format!("+86170{:08}", i)
}

/// The simulator under test; `_sim` keeps an in-process one running until the benchmark is done.
struct Target {
    base: String,
    creds: Credentials,
    _sim: Option<RunningSim>,
}

/// What the clients measured: one latency per bind tried, and the binds or unbinds that failed.
struct Measured {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed_secs: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: u64 = env_or("BENCH_SECS", 10);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 64);
    let target = target().await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("{}{BIND_PATH}", target.base);
    let measured = measure(&client, &url, &target.creds, concurrency, secs).await?;
    print_summary(measured, concurrency);
    Ok(())
}

/// The running simulator named by PNS_SIM_URL, or else a fresh one in this process.
async fn target() -> anyhow::Result<Target> {
    Ok(match std::env::var("PNS_SIM_URL") {
        Ok(url) => {
            let key = std::env::var("PNS_SIM_APP_KEY")?;
            let secret = std::env::var("PNS_SIM_APP_SECRET")?;
            Target {
                base: url,
                creds: Credentials::new(key, secret),
                _sim: None,
            }
        }
        Err(_) => {
            let numbers = (0..X_COUNT)
                .map(|i| SimNumber::new(x_number(i), "0755"))
                .collect();
            let sim = pns_sim::start(
                SimConfig::new("bench-key", "bench-secret", numbers),
                TcpListener::bind("127.0.0.1:0")?,
            )
            .await?;
            Target {
                base: sim.base_url(),
                creds: Credentials::new("bench-key", "bench-secret"),
                _sim: Some(sim),
            }
        }
    })
}

/// Runs `concurrency` clients for `secs` seconds and gathers what each measured.
async fn measure(
    client: &reqwest::Client,
    url: &str,
    creds: &Credentials,
    concurrency: usize,
    secs: u64,
) -> anyhow::Result<Measured> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            tokio::spawn(bind_unbind_cycles(
                task,
                client.clone(),
                url.to_owned(),
                creds.clone(),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors += e;
    }
    Ok(Measured {
        latencies,
        errors,
        elapsed_secs: started.elapsed().as_secs_f64(),
    })
}

/// One client: binds a fresh pair on its X and unbinds it, until told to stop. Returns the bind
/// latencies and the number of failed binds or unbinds.
async fn bind_unbind_cycles(
    task: usize,
    client: reqwest::Client,
    url: String,
    creds: Credentials,
    stop: Arc<AtomicBool>,
) -> (Vec<Duration>, u64) {
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    let x = x_number(task % X_COUNT);
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // Fresh parties per cycle (13/15 + task + counter), so the AXB invariant never trips.
        let a = format!("+8613{task:02}{:07}", i % 10_000_000);
        let b = format!("+8615{task:02}{:07}", i % 10_000_000);
        i += 1;
        let (latency, body) = timed_bind(&client, &url, &creds, &x, &a, &b).await;
        latencies.push(latency);
        let Some(sid) = body.as_ref().and_then(|b| b["subscriptionId"].as_str()) else {
            errors += 1;
            continue;
        };
        if !unbind(&client, &url, &creds, sid).await {
            errors += 1;
        }
    }
    (latencies, errors)
}

/// How long the bind took (signing excluded) and its answer body, None when the request failed or
/// the body was not JSON.
async fn timed_bind(
    client: &reqwest::Client,
    url: &str,
    creds: &Credentials,
    x: &str,
    a: &str,
    b: &str,
) -> (Duration, Option<Value>) {
    let h = creds.sign_now();
    let t0 = Instant::now();
    let resp = client
        .post(url)
        .header("Authorization", h.authorization)
        .header("X-AKSK", h.x_aksk)
        .json(&json!({"relationNum": x, "callerNum": a, "calleeNum": b}))
        .send()
        .await;
    let body: Option<Value> = match resp {
        Ok(r) => r.json().await.ok(),
        Err(_) => None,
    };
    (t0.elapsed(), body)
}

/// Whether the unbind was answered with a 2xx.
async fn unbind(client: &reqwest::Client, url: &str, creds: &Credentials, sid: &str) -> bool {
    let h = creds.sign_now();
    client
        .delete(format!("{url}?subscriptionId={sid}"))
        .header("Authorization", h.authorization)
        .header("X-AKSK", h.x_aksk)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

fn print_summary(measured: Measured, concurrency: usize) {
    let Measured {
        latencies: mut all,
        errors,
        elapsed_secs: elapsed,
    } = measured;
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "binds: {} in {elapsed:.1}s = {:.0} binds/s (each followed by an unbind: {:.0} requests/s), \
         concurrency {concurrency}, errors {errors}",
        all.len(),
        all.len() as f64 / elapsed,
        2.0 * all.len() as f64 / elapsed,
    );
    println!(
        "bind latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3
    );
}
