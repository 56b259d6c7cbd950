//! The "Faults under load" section of BENCHMARKS.md, between its own markers so `pns-bench all`
//! (which rewrites its own) leaves it alone.

use std::path::Path;

use chrono::{DateTime, Utc};
use pns_bench::report::{Machine, table};

use crate::Opts;
use crate::count::Counts;
use crate::setup::{RETRY_DELAYS_MS, UPSTREAM_TIMEOUT_MS};

const BEGIN: &str = "<!-- pns-faults:begin (replaced by `pns-faults`) -->";
const END: &str = "<!-- pns-faults:end -->";

fn row(what: &str, n: u64, expect: &str) -> Vec<String> {
    vec![what.to_owned(), n.to_string(), expect.to_owned()]
}

/// The whole section: the run and its setup, one `###` section per thing counted, then the verdict.
pub fn markdown(
    opts: &Opts,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    c: &Counts,
) -> String {
    let mut out = String::from("## Faults under load\n\n");
    out += &run_and_command(&Machine::detect(), opts, started, finished);
    out += &setup(opts, c);
    out += &[
        injected(c),
        what_clients_saw(c),
        cdrs(c),
        bindings(c),
        webhook_events(c),
    ]
    .join("\n");
    out += &verdict(c);
    out
}

fn run_and_command(
    m: &Machine,
    opts: &Opts,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> String {
    format!(
        "Machine: {} × {}, {}, Linux {}. Run {} → {} UTC.\n\nCommand: `cargo run --release -p pns-bench --bin pns-faults{}`\n\n",
        m.nproc,
        m.model,
        m.memory,
        m.kernel,
        started.format("%Y-%m-%d %H:%M:%S"),
        finished.format("%H:%M:%S"),
        non_default_args(opts)
    )
}

/// The command-line arguments that reproduce the run; none when it used the defaults.
fn non_default_args(opts: &Opts) -> String {
    if opts.duration_secs == 60 && opts.workers == 16 {
        String::new()
    } else {
        format!(
            " -- --duration-secs {} --workers {}",
            opts.duration_secs, opts.workers
        )
    }
}

fn setup(opts: &Opts, c: &Counts) -> String {
    format!(
        "Setup: pns-sim ({} X numbers) pushing callbacks to the release gateway on a fresh PostgreSQL 15 database; gateway with PNS_UPSTREAM_TIMEOUT_MS={UPSTREAM_TIMEOUT_MS}, PNS_RECONCILE_INTERVAL_SECS=5, PNS_RECONCILE_PENDING_GRACE_SECS=2, PNS_RATE_LIMIT_PER_SEC=0. {} workers for {} s: bind a fresh pair on an explicit X (POST /v1/bindings), play 1–2 calls on it through the simulator (signed call events + a CDR batched ≤ 50), unbind every third. The simulator retries refused callbacks after {:?} ms. A fault burst every 2 s (round-robin, first 80% of the run); PostgreSQL {}. Afterwards: faults cleared, CDR queue flushed until empty, two manual reconciliations, then counted from the simulator's ledger (`GET /sim/cdrs/delivered`, `GET /sim/bindings`) and the gateway's tables.\n\n",
        opts.numbers,
        opts.workers,
        opts.duration_secs,
        RETRY_DELAYS_MS,
        if c.injected.pg_restart_note.is_empty() {
            "not restarted".to_owned()
        } else {
            c.injected.pg_restart_note.clone()
        }
    )
}

fn injected(c: &Counts) -> String {
    let mut rows: Vec<Vec<String>> = c
        .injected
        .faults
        .iter()
        .map(|(k, n)| vec![(*k).to_owned(), n.to_string()])
        .collect();
    rows.push(vec![
        "PostgreSQL restarts".into(),
        c.injected.pg_restarts.to_string(),
    ]);
    "### Injected\n\n".to_owned() + &table(&["fault", "requests affected (or restarts)"], &rows)
}

fn what_clients_saw(c: &Counts) -> String {
    let rows: Vec<Vec<String>> = c
        .load
        .iter()
        .map(|(k, n)| vec![k.clone(), n.to_string()])
        .collect();
    "### What clients saw\n\n".to_owned() + &table(&["counter", "n"], &rows)
}

fn cdrs(c: &Counts) -> String {
    let call_event_refusals = c
        .load
        .get("call event refused attempts")
        .copied()
        .unwrap_or(0);
    let rows = vec![
        row(
            "CDRs the simulator delivered with a 2xx",
            c.cdrs_delivered,
            "",
        ),
        row(
            "CDRs lost by the simulator after its last retry",
            c.cdrs_lost,
            "0",
        ),
        row(
            "CDR pushes answered non-2xx (then redelivered)",
            c.cdr_refused_attempts,
            "",
        ),
        row(
            "call-event pushes answered non-2xx (then redelivered)",
            call_event_refusals,
            "",
        ),
        row(
            "CDRs still queued in the simulator",
            c.sim_pending_left,
            "0",
        ),
        row("rows in `cdrs`", c.cdr_rows, "= delivered"),
        row("delivered CDRs missing from `cdrs`", c.cdrs_missing, "0"),
        row("icids stored more than once", c.cdr_duplicate_groups, "0"),
        row(
            "rows whose icid was never answered 2xx",
            c.cdr_rows_not_delivered,
            "",
        ),
    ];
    "### CDRs\n\n".to_owned() + &table(&["count", "n", "expected"], &rows)
}

/// The bindings table, then what reconciliation found and a sample of what went missing.
fn bindings(c: &Counts) -> String {
    let mut rows = vec![
        row("bindings live on the simulator", c.upstream_bindings, ""),
        row("… with no row in `bindings`", c.upstream_missing, "0"),
        row(
            "… whose row is not active/pending",
            c.upstream_not_live,
            "0",
        ),
        row(
            "active rows the simulator does not have",
            c.active_not_upstream,
            "0",
        ),
        row("orphans recorded by reconciliation", c.orphans, ""),
        row("pending rows left", c.pending_rows, "0"),
    ];
    for (status, n) in &c.rows_by_status {
        rows.push(row(&format!("rows with status {status}"), *n, ""));
    }
    let mut out = "### Bindings\n\n".to_owned() + &table(&["count", "n", "expected"], &rows);
    out += &reconciliations(c);
    if !c.sample_missing.is_empty() {
        out += &format!("\nMissing (first few): {}\n", c.sample_missing.join(", "));
    }
    out
}

fn reconciliations(c: &Counts) -> String {
    let findings: Vec<String> = c.findings.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let mut out = format!(
        "\nReconciliation runs in all (every 5 s during the load, plus the manual ones): {}; their findings by category: {}.\n",
        c.reconcile_runs,
        if findings.is_empty() {
            "none".to_owned()
        } else {
            findings.join(", ")
        }
    );
    out += "\nManual reconciliations after the load: ";
    out += &c
        .reconcile
        .iter()
        .map(|r| format!("`{r}`"))
        .collect::<Vec<_>>()
        .join(", then ");
    out += "\n";
    out
}

fn webhook_events(c: &Counts) -> String {
    let e = &c.events;
    let rows = vec![
        row(
            "calls of the app settled (disconnect or CDR)",
            e.settled_calls,
            "",
        ),
        row("… whose call.completed arrived", e.delivered, "= settled"),
        row("… never delivered", e.missing, "0"),
        row("… delivered under two webhook-ids", e.duplicated, "0"),
        row(
            "redeliveries of a webhook-id (at least once)",
            e.redeliveries,
            "",
        ),
        row("events for calls not stored as settled", e.unknown, "0"),
    ];
    "### Webhook events (`call.completed`, the app's endpoint)\n\n".to_owned()
        + &table(&["count", "n", "expected"], &rows)
}

fn verdict(c: &Counts) -> String {
    format!(
        "\nVerdict: {}\n",
        if nothing_lost(c) {
            "every CDR delivered with a 2xx is stored exactly once, every upstream binding has a row, and every settled call's call.completed reached the app exactly once by webhook-id."
        } else {
            "LOSS — see the counts above."
        }
    )
}

fn nothing_lost(c: &Counts) -> bool {
    c.cdrs_missing == 0
        && c.cdr_duplicate_groups == 0
        && c.cdrs_lost == 0
        && c.upstream_missing == 0
        && c.events.missing == 0
        && c.events.duplicated == 0
}

pub fn write_into(path: &Path, section: &str) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n\n{}\n\n{END}\n", section.trim_end());
    let updated = match (existing.find(BEGIN), existing.find(END)) {
        (Some(b), Some(e)) if e > b => format!(
            "{}{block}{}",
            &existing[..b],
            existing[e + END.len()..].trim_start_matches('\n')
        ),
        _ => format!("{}\n\n{block}", existing.trim_end()),
    };
    std::fs::write(path, updated)?;
    Ok(())
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
