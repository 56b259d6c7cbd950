//! Load generation: a closed loop (N workers, each sending its next request when the last one
//! answered) and an open loop (requests started on a fixed schedule whatever the answers do).
//! Every loop stops at a deadline and at an operation count, whichever comes first.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

/// Latencies in microseconds, 1 µs to 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    h.saturating_record(micros.max(1));
}

/// What one measurement produced.
#[derive(Debug)]
pub struct Measured {
    pub ok: u64,
    pub errors: u64,
    /// Open loop only: scheduled requests not sent because too many were already in flight.
    pub shed: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
    /// The first few distinct error messages.
    pub sample_errors: Vec<String>,
}

impl Measured {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn p50_ms(&self) -> f64 {
        self.latency.value_at_quantile(0.50) as f64 / 1000.0
    }

    pub fn p99_ms(&self) -> f64 {
        self.latency.value_at_quantile(0.99) as f64 / 1000.0
    }

    fn add_error(&mut self, e: String) {
        self.errors += 1;
        if self.sample_errors.len() < 3 && !self.sample_errors.contains(&e) {
            self.sample_errors.push(e);
        }
    }
}

/// What an operation reports: `Ok(None)` records its whole duration, `Ok(Some(d))` records `d`
/// (when only part of the operation is being measured).
pub type OpResult = Result<Option<Duration>, String>;

/// `workers` tasks, each running `op(worker, iteration)` back to back until `duration` has passed
/// or `max_ops` operations have started in total.
pub async fn closed_loop<F, Fut>(
    workers: usize,
    duration: Duration,
    max_ops: u64,
    op: F,
) -> Measured
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = OpResult> + Send + 'static,
{
    let op = Arc::new(op);
    let started = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(workers);
    for worker in 0..workers {
        let (op, started) = (op.clone(), started.clone());
        tasks.push(tokio::spawn(async move {
            let mut m = empty();
            let mut iteration = 0;
            while Instant::now() < deadline && started.fetch_add(1, Ordering::Relaxed) < max_ops {
                let t0 = Instant::now();
                match op(worker, iteration).await {
                    Ok(part) => {
                        m.ok += 1;
                        record(&mut m.latency, part.unwrap_or_else(|| t0.elapsed()));
                    }
                    Err(e) => m.add_error(e),
                }
                iteration += 1;
            }
            m
        }));
    }
    let mut total = empty();
    for task in tasks {
        match task.await {
            Ok(m) => merge(&mut total, m),
            Err(e) => total.add_error(format!("worker panicked: {e}")),
        }
    }
    total.elapsed = start.elapsed();
    total
}

/// Starts `op(i)` every `1/rate` seconds for `duration`. Latency runs from the scheduled start, so a
/// stalled server shows up in the percentiles instead of silently slowing the schedule.
pub async fn open_loop<F, Fut>(
    rate: u32,
    duration: Duration,
    max_in_flight: usize,
    op: F,
) -> Measured
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = OpResult> + Send + 'static,
{
    let period = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let total_ops = (duration.as_secs_f64() * f64::from(rate)).ceil() as u64;
    let op = Arc::new(op);
    let slots = Arc::new(Semaphore::new(max_in_flight));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Result<Duration, String>>();
    let start = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval_at(start, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut shed = 0;
    for i in 0..total_ops {
        let scheduled = ticker.tick().await;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            shed += 1;
            continue;
        };
        let (op, tx) = (op.clone(), tx.clone());
        tokio::spawn(async move {
            let result = op(i).await.map(|_| scheduled.elapsed());
            drop(permit);
            let _ = tx.send(result);
        });
    }
    drop(tx);
    let mut total = empty();
    while let Some(result) = rx.recv().await {
        match result {
            Ok(d) => {
                total.ok += 1;
                record(&mut total.latency, d);
            }
            Err(e) => total.add_error(e),
        }
    }
    total.shed = shed;
    total.elapsed = start.elapsed();
    total
}

fn empty() -> Measured {
    Measured {
        ok: 0,
        errors: 0,
        shed: 0,
        elapsed: Duration::ZERO,
        latency: histogram(),
        sample_errors: Vec::new(),
    }
}

fn merge(total: &mut Measured, m: Measured) {
    total.ok += m.ok;
    total.shed += m.shed;
    let _ = total.latency.add(&m.latency);
    total.errors += m.errors;
    for e in m.sample_errors {
        if total.sample_errors.len() < 3 && !total.sample_errors.contains(&e) {
            total.sample_errors.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closed_loop_stops_at_the_operation_cap() {
        let m = closed_loop(4, Duration::from_secs(5), 100, |_, _| async { Ok(None) }).await;
        assert_eq!(m.ok, 100);
        assert_eq!(m.errors, 0);
        assert!(m.elapsed < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn closed_loop_counts_errors_and_keeps_samples() {
        let m = closed_loop(2, Duration::from_secs(5), 10, |_, i| async move {
            if i % 2 == 0 {
                Ok(Some(Duration::from_millis(3)))
            } else {
                Err("boom".to_owned())
            }
        })
        .await;
        assert_eq!(m.ok + m.errors, 10);
        assert_eq!(m.sample_errors, vec!["boom".to_owned()]);
        assert!((m.p50_ms() - 3.0).abs() < 0.1);
    }

    #[tokio::test]
    async fn open_loop_sends_rate_times_duration() {
        let m = open_loop(200, Duration::from_millis(250), 16, |_| async { Ok(None) }).await;
        assert_eq!(m.ok + m.shed, 50);
        assert!(m.elapsed >= Duration::from_millis(200));
    }
}
