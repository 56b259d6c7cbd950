//! The strongest raw baseline this machine allows for CDR ingestion: PostgreSQL's own pgbench
//! inserting the same rows (50-row `INSERT ... SELECT generate_series`, prepared, one transaction
//! each) into the gateway's `cdrs` table, with the same unique icid. No Rust client, no HTTP, no
//! JSON parsing: the rate the database itself takes.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// What pgbench achieved.
pub struct Rate {
    pub rows_per_sec: f64,
    pub transactions: u64,
    pub clients: u32,
}

/// Runs pgbench for `duration` with `clients` connections against `db_url`; each transaction inserts
/// `rows` copies of `record` (its payload and fields) under fresh icids.
pub async fn cdr_inserts(
    db_url: &str,
    dir: &Path,
    record: &Value,
    rows: usize,
    clients: u32,
    duration: Duration,
) -> anyhow::Result<Rate> {
    let script = dir.join("pgbench-cdrs.sql");
    std::fs::write(&script, script_text(record, rows)).context("writing the pgbench script")?;
    let output = tokio::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg("-c")
        .arg(clients.to_string())
        .arg("-T")
        .arg(duration.as_secs().max(1).to_string())
        .arg("-f")
        .arg(&script)
        .arg(db_url)
        .output()
        .await
        .context("running pgbench (Debian: apt-get install postgresql-client)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let tps = field("tps = ").context("no tps in pgbench's output")?;
    let transactions = field("number of transactions actually processed: ").unwrap_or(0.0);
    Ok(Rate {
        rows_per_sec: tps * rows as f64,
        transactions: transactions as u64,
        clients,
    })
}

/// The transaction: `rows` rows shaped like the gateway's (the record's numbers and times, its JSON
/// as payload), icids unique by client, a random 63-bit number and the row's position.
fn script_text(record: &Value, rows: usize) -> String {
    let text = |k: &str| quote(record[k].as_str().unwrap_or_default());
    let payload = quote(&record.to_string());
    format!(
        "\\set n random(1, 9000000000000000000)\n\
         INSERT INTO cdrs (icid, session_id, subscription_id, bind_num, caller_num, callee_num, \
         direction, call_in_time, fwd_answer_time, call_end_time, answered, talk_seconds, record_flag, \
         payload, received_at) \
         SELECT 'pgb-' || :client_id || '-' || :n || '-' || g, 's-' || :n || '-' || g, {sub}, {x}, \
         {caller}, {callee}, 0, now() - interval '47 seconds', now() - interval '42 seconds', now(), \
         true, 42, false, {payload}::jsonb, now() FROM generate_series(1, {rows}) AS g;\n",
        sub = text("subscriptionId"),
        x = text("bindNum"),
        caller = text("callerNum"),
        callee = text("calleeNum"),
    )
}

/// A SQL string literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_quotes_what_it_embeds() {
        let record = serde_json::json!({"subscriptionId": "o'brien", "bindNum": "+8617"});
        let script = script_text(&record, 50);
        assert!(script.contains("'o''brien'"));
        assert!(script.contains("generate_series(1, 50)"));
        assert!(script.contains("\"subscriptionId\":\"o''brien\""));
    }
}
