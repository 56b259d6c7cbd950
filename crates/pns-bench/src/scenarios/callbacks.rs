//! Callback ingestion: signed 50-record CDR batches and single call events posted to
//! /callbacks/huawei, against the floor of inserting the same CDR rows into `cdrs` directly.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pns_core::wire_time::parse_event_time;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde_json::Value;

use super::{Cpu, Outcome, bound_pairs, count_rows, errors_note, warmup};
use crate::bodies::{call_event, fee_batch, fee_record, next_seq};
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

    // `shared`: each batch spreads its records over all the bindings, so concurrent batches touch
    // the same binding rows; otherwise each connection's CDRs are for its own binding.
    let fee = |shared: bool| {
        let (stack, pairs) = (stack.clone(), pairs.clone());
        move |worker: usize, _| {
            let (stack, pairs) = (stack.clone(), pairs.clone());
            async move {
                let own = std::slice::from_ref(&pairs[worker % pairs.len()]);
                let targets = if shared { &pairs[..] } else { own };
                let (_, body) = fee_batch(&format!("bench-{}", next_seq()), BATCH, targets);
                stack.post_callback(&body).await?;
                Ok(None)
            }
        }
    };
    let batches = o.max_ops / BATCH as u64;
    closed_loop(o.concurrency, warmup(ctx), batches, fee(false)).await;
    let db = stack.db.connect(stack.backend.gateway_pool()).await?;
    let before = count_rows(&db, "cdrs").await?;
    let cpu = Cpu::now(stack);
    let f = closed_loop(o.concurrency, o.duration, batches, fee(false)).await;
    let f_cpu = cpu.cores_since(stack, f.elapsed);
    let persisted = count_rows(&db, "cdrs").await? - before;
    let records = f.ok * BATCH as u64;
    let records_per_sec = records as f64 / f.elapsed.as_secs_f64().max(1e-9);
    let cpu = Cpu::now(stack);
    let fs = closed_loop(o.concurrency, o.duration, batches, fee(true)).await;
    let fs_cpu = cpu.cores_since(stack, fs.elapsed);
    let shared_per_sec = (fs.ok * BATCH as u64) as f64 / fs.elapsed.as_secs_f64().max(1e-9);

    let events = {
        let (stack, pairs) = (stack.clone(), pairs.clone());
        let run = next_seq();
        move |worker: usize, i: u64| {
            let (stack, pairs) = (stack.clone(), pairs.clone());
            async move {
                let session = format!("bench-{run}-{worker}-{}", i / 4);
                let b = &pairs[worker % pairs.len()];
                stack
                    .post_callback(&call_event(&session, i as usize % 4, b))
                    .await?;
                Ok(None)
            }
        }
    };
    let cpu = Cpu::now(stack);
    let e = closed_loop(o.concurrency, o.duration, o.max_ops, events).await;
    let e_cpu = cpu.cores_since(stack, e.elapsed);

    // The same rows, inserted by as many connections as the gateway's pool, 50 per transaction.
    let workers = stack.backend.gateway_pool() as usize;
    let raw = {
        let (db, pairs) = (db.clone(), pairs.clone());
        move |_, _| {
            let (db, pairs) = (db.clone(), pairs.clone());
            async move {
                let (records, _) = fee_batch(&format!("raw-{}", next_seq()), BATCH, &pairs);
                insert_cdrs(&db, &records)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(None)
            }
        }
    };
    let raw_ops = f.ok.max(1);
    let cpu = Cpu::now(stack);
    let r = closed_loop(workers, o.duration * 3, raw_ops, raw).await;
    let r_cpu = cpu.cores_since(stack, r.elapsed);
    let raw_per_sec = (r.ok * BATCH as u64) as f64 / r.elapsed.as_secs_f64().max(1e-9);
    db.close().await?;
    // PostgreSQL's own client inserting the same rows: the strongest baseline, the one ratios use.
    let pgbench = match stack.backend {
        Backend::Postgres => {
            let record = fee_record("template", &pairs[0]);
            let rate = crate::pgbench::cdr_inserts(
                &stack.db.url,
                ctx.dir.path(),
                &record,
                BATCH,
                stack.backend.gateway_pool(),
                o.duration,
            )
            .await;
            Some(rate.map_err(|e| format!("{e:#}")))
        }
        Backend::Sqlite => None,
    };
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
    Ok(Outcome {
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
        .chain(pgbench_row(label, pgbench.as_ref(), o.duration))
        .collect(),
        checks,
        notes,
    })
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
