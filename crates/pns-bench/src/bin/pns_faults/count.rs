//! After the load: clear the faults, let every queued CDR go out, reconcile, then count what the
//! simulator delivered and holds against what the gateway's tables hold.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::Value;

use crate::inject::Injected;
use crate::load::Tally;
use crate::setup::FaultStack;

#[derive(Debug, Default)]
pub struct Counts {
    pub injected: Injected,
    pub load: BTreeMap<String, u64>,
    pub cdrs_delivered: u64,
    pub cdrs_lost: u64,
    pub cdr_refused_attempts: u64,
    pub cdr_rows: u64,
    pub cdrs_missing: u64,
    pub cdr_duplicate_groups: u64,
    /// Rows whose icid the simulator never saw answered 2xx (stored, then the answer was not a 2xx).
    pub cdr_rows_not_delivered: u64,
    pub sim_pending_left: u64,
    pub upstream_bindings: u64,
    pub upstream_missing: u64,
    pub upstream_not_live: u64,
    pub orphans: u64,
    pub pending_rows: u64,
    pub rows_by_status: BTreeMap<String, u64>,
    pub active_not_upstream: u64,
    pub reconcile: Vec<Value>,
    /// Findings of every reconciliation (periodic ones during the load included), per category.
    pub findings: BTreeMap<String, u64>,
    pub reconcile_runs: u64,
    pub sample_missing: Vec<String>,
    pub events: crate::webhooks::EventCounts,
}

pub async fn settle_and_count(
    stack: &FaultStack,
    tally: Arc<Tally>,
    injected: Injected,
) -> anyhow::Result<Counts> {
    let client = &stack.client;
    client
        .delete(format!("{}/sim/faults", stack.sim_url))
        .send()
        .await?;
    let pending_left = flush_until_empty(stack).await;
    // Let any change still with the platform finish, so reconciliation judges settled rows only.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut reconcile = Vec::new();
    for _ in 0..2 {
        let resp = client
            .post(format!("{}/v1/admin/reconcile", stack.gateway_url))
            .bearer_auth(&stack.admin_token)
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.as_u16() == 201, "reconcile: HTTP {status} {body}");
        reconcile.push(json_summary(&body));
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    let ledger = stack.sim_json(false, "/sim/cdrs/delivered", None).await?;
    let upstream = stack.sim_json(false, "/sim/bindings", None).await?;
    let db = stack
        .db
        .connect(2)
        .await
        .context("connecting to the gateway's database")?;
    let mut c = Counts {
        injected,
        load: tally.snapshot(),
        sim_pending_left: pending_left,
        reconcile,
        ..Counts::default()
    };
    count_cdrs(&db, &ledger, &mut c).await?;
    count_bindings(&db, &upstream, &mut c).await?;
    c.events = crate::webhooks::count(&db, crate::setup::APP, &stack.receiver).await?;
    db.close().await?;
    Ok(c)
}

/// Flushes until a flush finds nothing queued twice in a row (bounded: 60 tries).
async fn flush_until_empty(stack: &FaultStack) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut quiet = 0;
    let mut last = u64::MAX;
    for _ in 0..60 {
        if Instant::now() > deadline {
            break;
        }
        match stack.sim_json(true, "/sim/cdrs/flush", None).await {
            Ok(v) => {
                last = v["delivered"].as_u64().unwrap_or(0);
                quiet = if last == 0 { quiet + 1 } else { 0 };
            }
            Err(e) => {
                eprintln!("pns-faults: flush: {e:#}");
                quiet = 0;
            }
        }
        if quiet >= 2 {
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    last
}

fn json_summary(run: &Value) -> Value {
    serde_json::json!({"status": run["status"], "counts": run["counts"], "categories": run["categories"]})
}

async fn strings(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<(String, String)>> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get_by_index::<String>(0)?,
                r.try_get_by_index::<String>(1)?,
            ))
        })
        .collect()
}

async fn count_cdrs(db: &DatabaseConnection, ledger: &Value, c: &mut Counts) -> anyhow::Result<()> {
    c.cdrs_delivered = ledger["delivered"].as_u64().unwrap_or(0);
    c.cdrs_lost = ledger["lost"].as_u64().unwrap_or(0);
    c.cdr_refused_attempts = ledger["failedAttempts"].as_u64().unwrap_or(0);
    let rows = strings(db, "SELECT icid, '' FROM cdrs").await?;
    c.cdr_rows = rows.len() as u64;
    let stored: HashSet<&str> = rows.iter().map(|(i, _)| i.as_str()).collect();
    c.cdr_duplicate_groups = (rows.len() - stored.len()) as u64;
    let groups = strings(
        db,
        "SELECT icid, CAST(count(*) AS TEXT) FROM cdrs GROUP BY icid HAVING count(*) > 1",
    )
    .await?;
    c.cdr_duplicate_groups = c.cdr_duplicate_groups.max(groups.len() as u64);
    let delivered: HashSet<&str> = ledger["deliveredIcids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for icid in &delivered {
        if !stored.contains(icid) {
            c.cdrs_missing += 1;
            if c.sample_missing.len() < 5 {
                c.sample_missing.push(format!("cdr {icid}"));
            }
        }
    }
    c.cdr_rows_not_delivered = stored.iter().filter(|i| !delivered.contains(*i)).count() as u64;
    Ok(())
}

async fn count_bindings(
    db: &DatabaseConnection,
    upstream: &Value,
    c: &mut Counts,
) -> anyhow::Result<()> {
    let rows = strings(
        db,
        "SELECT COALESCE(subscription_id, ''), status FROM bindings",
    )
    .await?;
    for (_, status) in &rows {
        *c.rows_by_status.entry(status.clone()).or_default() += 1;
    }
    c.pending_rows = c.rows_by_status.get("pending").copied().unwrap_or(0);
    let by_sid: BTreeMap<&str, &str> = rows
        .iter()
        .filter(|(s, _)| !s.is_empty())
        .map(|(s, st)| (s.as_str(), st.as_str()))
        .collect();
    let list = upstream["bindings"].as_array().cloned().unwrap_or_default();
    c.upstream_bindings = list.len() as u64;
    let mut upstream_sids = HashSet::new();
    for b in &list {
        let sid = b["subscriptionId"].as_str().unwrap_or_default();
        upstream_sids.insert(sid.to_owned());
        match by_sid.get(sid) {
            None => {
                c.upstream_missing += 1;
                if c.sample_missing.len() < 10 {
                    c.sample_missing.push(format!("binding {sid}"));
                }
            }
            Some(&("active" | "pending")) => {}
            Some(_) => c.upstream_not_live += 1,
        }
    }
    c.active_not_upstream = by_sid
        .iter()
        .filter(|(s, st)| **st == "active" && !upstream_sids.contains(**s))
        .count() as u64;
    for (category, n) in strings(
        db,
        "SELECT category, CAST(count(*) AS TEXT) FROM reconcile_findings GROUP BY category",
    )
    .await?
    {
        c.findings.insert(category, n.parse().unwrap_or(0));
    }
    c.reconcile_runs = strings(db, "SELECT CAST(id AS TEXT), status FROM reconcile_runs")
        .await?
        .len() as u64;
    c.orphans = strings(db, "SELECT subscription_id, '' FROM orphan_bindings")
        .await?
        .len() as u64;
    Ok(())
}
