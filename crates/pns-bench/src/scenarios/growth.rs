//! Growth: bind latency with a small table, then with a large one (filled straight through SQL), so
//! an index the bind path misses shows up as a latency ratio.

use std::sync::Arc;
use std::time::Instant;

use super::fill::fill;
use super::{Outcome, count_rows, errors_note, warmup};
use crate::bodies::pair;
use crate::db::Backend;
use crate::driver::{Measured, closed_loop};
use crate::report::{Check, ms, rate};
use crate::stack::{Ctx, Stack};

pub const HEADERS: [&str; 9] = [
    "backend",
    "bindings before",
    "bindings after",
    "binds/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "p50 vs small",
    "fill s",
];
pub const TARGET: &str = "bind p50 with the large table <= 1.3x the small one";

pub fn large_rows(ctx: &Ctx, backend: Backend) -> u64 {
    ctx.opts.growth_rows.unwrap_or(match backend {
        Backend::Postgres => 1_000_000,
        Backend::Sqlite => 200_000,
    })
}

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let o = &ctx.opts;
    let backend = stack.backend;
    let (base, large) = (o.growth_base, large_rows(ctx, backend).max(o.growth_base));
    let db = stack.db.connect(2).await?;
    // Only the bind is timed; the unbind after it keeps the number of live bindings steady.
    let op = || {
        let (stack, numbers) = (stack.clone(), o.numbers);
        move |_, _| {
            let stack = stack.clone();
            async move {
                let (a, b, x) = pair(numbers);
                let t0 = Instant::now();
                let (id, _) = stack.gateway_bind(&a, &b, &x).await?;
                let took = t0.elapsed();
                stack.gateway_unbind(&id).await?;
                Ok(Some(took))
            }
        }
    };

    let t = Instant::now();
    fill(&db, backend, 1, base).await?;
    let small_fill = t.elapsed();
    let small_before = count_rows(&db, "bindings").await?;
    closed_loop(o.growth_concurrency, warmup(ctx), o.max_ops, op()).await;
    let small = closed_loop(o.growth_concurrency, o.duration, o.max_ops, op()).await;
    let small_after = count_rows(&db, "bindings").await?;

    let t = Instant::now();
    fill(&db, backend, base + 1, large).await?;
    let large_fill = t.elapsed();
    let large_before = count_rows(&db, "bindings").await?;
    closed_loop(o.growth_concurrency, warmup(ctx), o.max_ops, op()).await;
    let big = closed_loop(o.growth_concurrency, o.duration, o.max_ops, op()).await;
    let large_after = count_rows(&db, "bindings").await?;
    db.close().await?;

    let ratio = big.p50_ms() / small.p50_ms().max(1e-9);
    let row = |before: u64, after: u64, m: &Measured, vs: String, fill: std::time::Duration| {
        vec![
            backend.label().to_owned(),
            before.to_string(),
            after.to_string(),
            rate(m.per_sec()),
            ms(m.p50_ms()),
            ms(m.p99_ms()),
            m.errors.to_string(),
            vs,
            format!("{:.1}", fill.as_secs_f64()),
        ]
    };
    let mut notes: Vec<String> = [
        errors_note("small table", backend, &small),
        errors_note("large table", backend, &big),
    ]
    .into_iter()
    .flatten()
    .collect();
    notes.push(format!(
        "{}: large table = {large} pre-filled rows{}.",
        backend.label(),
        match (backend, o.growth_rows) {
            (Backend::Sqlite, None) =>
                " (SQLite default 200,000; PostgreSQL gets 1,000,000; --growth-rows to change)",
            _ => "",
        }
    ));
    Ok(Outcome {
        rows: vec![
            row(
                small_before,
                small_after,
                &small,
                "1.00x".into(),
                small_fill,
            ),
            row(
                large_before,
                large_after,
                &big,
                format!("{ratio:.2}x"),
                large_fill,
            ),
        ],
        checks: vec![Check {
            target: TARGET,
            backend,
            measured: format!(
                "{ratio:.2}x ({} ms at {large_before} rows vs {} ms at {small_before})",
                ms(big.p50_ms()),
                ms(small.p50_ms())
            ),
            met: Some(ratio <= 1.3),
        }],
        notes,
    })
}
