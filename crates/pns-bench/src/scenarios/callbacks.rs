//! Callback ingestion: signed 50-record CDR batches and single call events posted to
//! /callbacks/huawei, against the floor of inserting the same CDR rows into `cdrs` directly.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pns_core::wire_time::parse_event_time;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde_json::Value;

use super::{BoxedOp, Cpu, Op, Outcome, bound_pairs, count_rows, errors_note, warmup};
use crate::bodies::{BoundPair, call_event, fee_batch, fee_record, next_seq};
use crate::db::Backend;
use crate::driver::{Measured, closed_loop};
use crate::report::{Check, ms, rate};
use crate::stack::{Ctx, Stack};

pub const HEADERS: [&str; 9] = [
    "what",
    "backend",
    "per second",
    "p50 ms",
    "p99 ms",
    "requests ok",
    "errors",
    "vs raw insert",
    "CPU cores gw/sim/client",
];
pub const TARGET: &str = "CDR ingestion >= 0.5x the raw PostgreSQL rate (pgbench)";
const BATCH: usize = 50;

pub async fn run(ctx: &Ctx, stack: &Arc<Stack>) -> anyhow::Result<Outcome> {
    let o = &ctx.opts;
    // One live binding per connection, for the CDRs and call events to refer to.
    let pairs = bound_pairs(stack, o.concurrency).await?;
    let batches = o.max_ops / BATCH as u64;
    closed_loop(
        o.concurrency,
        warmup(ctx),
        batches,
        fee(stack, &pairs, false),
    )
    .await;
    let db = stack.db.connect(stack.backend.gateway_pool()).await?;
    let before = count_rows(&db, "cdrs").await?;
    let own = timed(
        stack,
        o.concurrency,
        o.duration,
        batches,
        fee(stack, &pairs, false),
    )
    .await;
    let persisted = count_rows(&db, "cdrs").await? - before;
    let shared = timed(
        stack,
        o.concurrency,
        o.duration,
        batches,
        fee(stack, &pairs, true),
    )
    .await;
    let events = timed(
        stack,
        o.concurrency,
        o.duration,
        o.max_ops,
        events(stack, &pairs),
    )
    .await;
    let raw = raw_insert(stack, &db, &pairs, o.duration * 3, own.0.ok.max(1)).await;
    db.close().await?;
    let pgbench = pgbench(ctx, stack, &pairs).await;
    Ok(outcome(
        stack,
        ctx,
        [own, shared, events, raw],
        persisted,
        pgbench,
    ))
}

/// Signed 50-record `fee` batches. `shared`: each batch spreads its records over all the bindings,
/// so concurrent batches touch the same binding rows; otherwise each connection's CDRs are for its
/// own binding.
fn fee(stack: &Arc<Stack>, pairs: &Arc<Vec<BoundPair>>, shared: bool) -> impl Op {
    let (stack, pairs) = (stack.clone(), pairs.clone());
    move |worker: usize, _| {
        let (stack, pairs) = (stack.clone(), pairs.clone());
        Box::pin(async move {
            let own = std::slice::from_ref(&pairs[worker % pairs.len()]);
            let targets = if shared { &pairs[..] } else { own };
            let (_, body) = fee_batch(&format!("bench-{}", next_seq()), BATCH, targets);
            stack.post_callback(&body).await?;
            Ok(None)
        }) as BoxedOp
    }
}

/// One signed call event per request, cycling callin/alerting/answer/disconnect per session.
fn events(stack: &Arc<Stack>, pairs: &Arc<Vec<BoundPair>>) -> impl Op {
    let (stack, pairs) = (stack.clone(), pairs.clone());
    let run = next_seq();
    move |worker: usize, i: u64| {
        let (stack, pairs) = (stack.clone(), pairs.clone());
        Box::pin(async move {
            let session = format!("bench-{run}-{worker}-{}", i / 4);
            let b = &pairs[worker % pairs.len()];
            stack
                .post_callback(&call_event(&session, i as usize % 4, b))
                .await?;
            Ok(None)
        }) as BoxedOp
    }
}

/// A measured closed loop with the CPU each process used.
async fn timed(
    stack: &Arc<Stack>,
    workers: usize,
    duration: std::time::Duration,
    max_ops: u64,
    op: impl Op,
) -> (Measured, String) {
    let cpu = Cpu::now(stack);
    let m = closed_loop(workers, duration, max_ops, op).await;
    let cores = cpu.cores_since(stack, m.elapsed);
    (m, cores)
}

/// The same rows, inserted by as many connections as the gateway's pool, 50 per transaction.
async fn raw_insert(
    stack: &Arc<Stack>,
    db: &DatabaseConnection,
    pairs: &Arc<Vec<BoundPair>>,
    duration: std::time::Duration,
    ops: u64,
) -> (Measured, String) {
    let raw = {
        let (db, pairs) = (db.clone(), pairs.clone());
        move |_, _| {
            let (db, pairs) = (db.clone(), pairs.clone());
            Box::pin(async move {
                let (records, _) = fee_batch(&format!("raw-{}", next_seq()), BATCH, &pairs);
                insert_cdrs(&db, &records)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(None)
            }) as BoxedOp
        }
    };
    let workers = stack.backend.gateway_pool() as usize;
    timed(stack, workers, duration, ops, raw).await
}

/// PostgreSQL's own client inserting the same rows: the strongest baseline, the one ratios use.
async fn pgbench(
    ctx: &Ctx,
    stack: &Arc<Stack>,
    pairs: &[BoundPair],
) -> Option<Result<crate::pgbench::Rate, String>> {
    if stack.backend != Backend::Postgres {
        return None;
    }
    let record = fee_record("template", &pairs[0]);
    let rate = crate::pgbench::cdr_inserts(
        &stack.db.url,
        ctx.dir.path(),
        &record,
        BATCH,
        stack.backend.gateway_pool(),
        ctx.opts.duration,
    )
    .await;
    Some(rate.map_err(|e| format!("{e:#}")))
}

fn outcome(
    stack: &Stack,
    ctx: &Ctx,
    [(f, f_cpu), (fs, fs_cpu), (e, e_cpu), (r, r_cpu)]: [(Measured, String); 4],
    persisted: u64,
    pgbench: Option<Result<crate::pgbench::Rate, String>>,
) -> Outcome {
    let per_sec = |m: &Measured| (m.ok * BATCH as u64) as f64 / m.elapsed.as_secs_f64().max(1e-9);
    let (records_per_sec, shared_per_sec, raw_per_sec) = (per_sec(&f), per_sec(&fs), per_sec(&r));
    let records = f.ok * BATCH as u64;
    let workers = stack.backend.gateway_pool();
    let baseline = match &pgbench {
        Some(Ok(rate)) => rate.rows_per_sec.max(raw_per_sec),
        _ => raw_per_sec,
    };
    let label = stack.backend.label();
    let row = |what: &str, per_sec: f64, m: &Measured, vs: String, cpu: String| {
        vec![
            what.to_owned(),
            label.to_owned(),
            rate(per_sec),
            ms(m.p50_ms()),
            ms(m.p99_ms()),
            m.ok.to_string(),
            m.errors.to_string(),
            vs,
            cpu,
        ]
    };
    let ratio = records_per_sec / baseline.max(1e-9);
    let mut notes: Vec<String> = [
        errors_note("CDR batches", stack.backend, &f),
        errors_note("CDR batches sharing bindings", stack.backend, &fs),
        errors_note("call events", stack.backend, &e),
        errors_note("raw inserts", stack.backend, &r),
    ]
    .into_iter()
    .flatten()
    .collect();
    notes.push(format!(
        "{label}: {records} CDR records acknowledged, {persisted} new rows in `cdrs` afterwards; raw insert: {} rows by {workers} connections (the gateway's pool) in {:.1} s.",
        r.ok * BATCH as u64,
        r.elapsed.as_secs_f64()
    ));
    let mut checks = Vec::new();
    if stack.backend == Backend::Postgres {
        checks.push(Check {
            target: TARGET,
            backend: stack.backend,
            measured: format!(
                "{ratio:.2}x ({} vs {} records/s)",
                rate(records_per_sec),
                rate(baseline)
            ),
            met: Some(ratio >= 0.5 && f.errors == 0),
        });
    }
    Outcome {
        rows: vec![
            row(
                "CDR records, own binding per connection",
                records_per_sec,
                &f,
                format!("{ratio:.2}x"),
                f_cpu,
            ),
            row(
                "CDR records, batches sharing bindings",
                shared_per_sec,
                &fs,
                format!("{:.2}x", shared_per_sec / baseline.max(1e-9)),
                fs_cpu,
            ),
            row("call events", e.per_sec(), &e, String::new(), e_cpu),
            row(
                "raw INSERT into cdrs (sea-orm, 50 rows per transaction)",
                raw_per_sec,
                &r,
                format!("{:.2}x", raw_per_sec / baseline.max(1e-9)),
                r_cpu,
            ),
        ]
        .into_iter()
        .chain(pgbench_row(label, pgbench.as_ref(), ctx.opts.duration))
        .collect(),
        checks,
        notes,
    }
}

/// The pgbench row: its rate, or why it is missing.
fn pgbench_row(
    label: &str,
    pgbench: Option<&Result<crate::pgbench::Rate, String>>,
    duration: std::time::Duration,
) -> Option<Vec<String>> {
    let cells = match pgbench? {
        Ok(r) => [
            rate(r.rows_per_sec),
            r.transactions.to_string(),
            "0".to_owned(),
            "1.00x".to_owned(),
        ],
        Err(e) => [
            "failed".to_owned(),
            "0".to_owned(),
            e.clone(),
            String::new(),
        ],
    };
    let clients = pgbench?.as_ref().map_or(0, |r| r.clients);
    let [per_sec, ok, errors, vs] = cells;
    Some(vec![
        format!("pgbench: 50-row INSERT into cdrs ({clients} clients, prepared)"),
        label.to_owned(),
        per_sec,
        String::new(),
        String::new(),
        ok,
        errors,
        vs,
        format!("({} s, client not counted)", duration.as_secs()),
    ])
}

/// One transaction holding one multi-row INSERT of the batch.
async fn insert_cdrs(db: &DatabaseConnection, records: &[Value]) -> Result<(), sea_orm::DbErr> {
    let columns = [
        "icid",
        "session_id",
        "subscription_id",
        "bind_num",
        "caller_num",
        "callee_num",
        "direction",
        "call_in_time",
        "fwd_answer_time",
        "call_end_time",
        "answered",
        "talk_seconds",
        "record_flag",
        "payload",
        "received_at",
    ];
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("cdrs"))
        .columns(columns.iter().map(|c| Alias::new(*c)));
    let now = Utc::now();
    for r in records {
        let s = |k: &str| r[k].as_str().map(str::to_owned);
        let t = |k: &str| r[k].as_str().and_then(parse_event_time);
        let talk = match (t("fwdAnswerTime"), t("callEndTime")) {
            (Some(a), Some(e)) => (e - a).num_seconds() as i32,
            _ => 0,
        };
        insert.values_panic([
            s("icid").into(),
            s("sessionId").into(),
            s("subscriptionId").into(),
            s("bindNum").into(),
            s("callerNum").into(),
            s("calleeNum").into(),
            r["direction"].as_i64().map(|d| d as i32).into(),
            t("callInTime").into(),
            t("fwdAnswerTime").into(),
            t("callEndTime").into(),
            t("fwdAnswerTime").is_some().into(),
            talk.into(),
            false.into(),
            r.clone().into(),
            Some::<DateTime<Utc>>(now).into(),
        ]);
    }
    let txn = db.begin().await?;
    txn.execute(&insert).await?;
    txn.commit().await
}
