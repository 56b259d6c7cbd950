//! The report's sections, rendered from hand-built counts: a broken split or a lost blank line fails here.

use clap::Parser;
use serde_json::json;

use super::*;

fn opts() -> Opts {
    Opts::parse_from(["pns-faults", "--duration-secs", "30", "--workers", "4"])
}

fn at(hms: &str) -> DateTime<Utc> {
    format!("2025-03-04T{hms}Z").parse().unwrap()
}

/// Distinct numbers everywhere, so an assertion can only match the field it names.
fn counts() -> Counts {
    let mut c = Counts {
        cdrs_delivered: 101,
        cdrs_lost: 102,
        cdr_refused_attempts: 103,
        cdr_rows: 104,
        cdrs_missing: 105,
        cdr_duplicate_groups: 106,
        cdr_rows_not_delivered: 107,
        sim_pending_left: 108,
        upstream_bindings: 201,
        upstream_missing: 202,
        upstream_not_live: 203,
        orphans: 204,
        pending_rows: 205,
        active_not_upstream: 206,
        reconcile: vec![json!({"status": "ok"}), json!({"status": "clean"})],
        reconcile_runs: 207,
        sample_missing: vec!["icid-a".into(), "icid-b".into()],
        ..Counts::default()
    };
    c.injected.faults.insert("latency 300 ms", 11);
    c.injected.pg_restarts = 1;
    c.injected.pg_restart_note = "restarted once at 20 s".into();
    c.load.insert("binds ok".into(), 12);
    c.load.insert("call event refused attempts".into(), 13);
    c.rows_by_status.insert("active".into(), 208);
    c.findings.insert("orphan".into(), 209);
    c.events.settled_calls = 301;
    c.events.delivered = 302;
    c.events.redeliveries = 303;
    c.events.unknown = 304;
    c
}

/// The text of the `###` section whose heading starts with `heading`, up to the next `###` heading.
fn section<'a>(out: &'a str, heading: &str) -> &'a str {
    let start = out
        .find(&format!("\n### {heading}"))
        .unwrap_or_else(|| panic!("no section {heading:?} in:\n{out}"));
    let body = &out[start + 1..];
    &body[..body.find("\n### ").unwrap_or(body.len())]
}

/// The trimmed cells of the table row whose first cell is `label`.
fn cells(section: &str, label: &str) -> Vec<String> {
    section
        .lines()
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells[0] == label)
        .unwrap_or_else(|| panic!("no row {label:?} in:\n{section}"))
}

fn rendered() -> String {
    markdown(&opts(), at("10:00:00"), at("10:00:45"), &counts())
}

#[test]
fn sections_come_in_order_each_set_apart_by_blank_lines() {
    let out = rendered();
    assert!(
        out.starts_with("## Faults under load\n\nMachine: "),
        "{out}"
    );
    let headings: Vec<&str> = out.lines().filter(|l| l.starts_with("### ")).collect();
    assert_eq!(
        headings,
        [
            "### Injected",
            "### What clients saw",
            "### CDRs",
            "### Bindings",
            "### Webhook events (`call.completed`, the app's endpoint)",
        ]
    );
    for h in headings {
        assert!(
            out.contains(&format!("\n\n{h}\n\n")),
            "{h:?} set apart by blank lines"
        );
    }
}

#[test]
fn setup_names_the_run_and_the_restart() {
    let out = rendered();
    let setup = &out[..out.find("### ").unwrap()];
    assert!(setup.contains("Setup: pns-sim (200 X numbers)"), "{setup}");
    assert!(setup.contains(" 4 workers for 30 s: "), "{setup}");
    assert!(
        setup.contains("PostgreSQL restarted once at 20 s."),
        "{setup}"
    );
}

#[test]
fn injected_faults_and_client_counters() {
    let out = rendered();
    let injected = section(&out, "Injected");
    assert_eq!(cells(injected, "latency 300 ms"), ["latency 300 ms", "11"]);
    assert_eq!(
        cells(injected, "PostgreSQL restarts"),
        ["PostgreSQL restarts", "1"]
    );
    let clients = section(&out, "What clients saw");
    assert_eq!(cells(clients, "binds ok"), ["binds ok", "12"]);
}

#[test]
fn cdr_counts() {
    let out = rendered();
    let cdrs = section(&out, "CDRs");
    assert_eq!(
        cells(cdrs, "rows in `cdrs`"),
        ["rows in `cdrs`", "104", "= delivered"]
    );
    assert_eq!(
        cells(
            cdrs,
            "call-event pushes answered non-2xx (then redelivered)"
        )[1],
        "13",
        "taken from the load's counter"
    );
    assert_eq!(cells(cdrs, "CDRs still queued in the simulator")[1], "108");
}

#[test]
fn binding_counts_then_reconciliations_and_missing() {
    let out = rendered();
    let bindings = section(&out, "Bindings");
    assert_eq!(
        cells(bindings, "pending rows left"),
        ["pending rows left", "205", "0"]
    );
    assert_eq!(cells(bindings, "rows with status active")[1], "208");
    assert!(
        bindings.contains("plus the manual ones): 207; their findings by category: orphan 209.\n"),
        "{bindings}"
    );
    assert!(
        bindings.contains(
            "Manual reconciliations after the load: `{\"status\":\"ok\"}`, then `{\"status\":\"clean\"}`\n"
        ),
        "{bindings}"
    );
    assert!(
        bindings.contains("\nMissing (first few): icid-a, icid-b\n"),
        "{bindings}"
    );
}

#[test]
fn webhook_event_counts_then_a_loss_verdict() {
    let out = rendered();
    let events = section(&out, "Webhook events");
    assert_eq!(
        cells(events, "… whose call.completed arrived"),
        ["… whose call.completed arrived", "302", "= settled"]
    );
    assert_eq!(
        cells(events, "events for calls not stored as settled")[1],
        "304"
    );
    assert!(
        out.ends_with("\n\nVerdict: LOSS — see the counts above.\n"),
        "{out}"
    );
}

#[test]
fn a_run_without_losses_says_so_and_omits_what_is_empty() {
    let defaults = Opts::parse_from(["pns-faults"]);
    let out = markdown(
        &defaults,
        at("10:00:00"),
        at("10:00:45"),
        &Counts::default(),
    );
    assert!(out.contains("PostgreSQL not restarted."), "{out}");
    assert!(out.contains("their findings by category: none.\n"), "{out}");
    assert!(!out.contains("Missing (first few)"), "{out}");
    assert!(
        out.ends_with("\n\nVerdict: every CDR delivered with a 2xx is stored exactly once, every upstream binding has a row, and every settled call's call.completed reached the app exactly once by webhook-id.\n"),
        "{out}"
    );
}

#[test]
fn the_run_line_names_the_machine_and_only_non_default_arguments() {
    let m = Machine {
        nproc: 2,
        model: "Test CPU".into(),
        memory: "4.0 GiB".into(),
        kernel: "6.1.0".into(),
        load: "0.00 0.00 0.00".into(),
    };
    let (from, to) = (at("10:00:00"), at("10:00:45"));
    assert_eq!(
        run_and_command(&m, &opts(), from, to),
        "Machine: 2 × Test CPU, 4.0 GiB, Linux 6.1.0. Run 2025-03-04 10:00:00 → 10:00:45 UTC.\n\n\
         Command: `cargo run --release -p pns-bench --bin pns-faults -- --duration-secs 30 --workers 4`\n\n"
    );
    assert!(
        run_and_command(&m, &Opts::parse_from(["pns-faults"]), from, to)
            .ends_with("Command: `cargo run --release -p pns-bench --bin pns-faults`\n\n")
    );
}
