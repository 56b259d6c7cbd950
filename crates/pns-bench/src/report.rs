//! Results as Markdown tables: readable in a terminal and pasted as-is into BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::db::Backend;

const BEGIN: &str = "<!-- pns-bench:begin (replaced by `pns-bench all`) -->";
const END: &str = "<!-- pns-bench:end -->";

/// Where the numbers were measured.
#[derive(Debug, Clone)]
pub struct Machine {
    pub nproc: usize,
    pub model: String,
    pub memory: String,
    pub kernel: String,
    /// 1/5/15-minute load averages when the run started: other work on the machine skews the figures.
    pub load: String,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map(|(_, m)| m.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        let load = std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        Self {
            nproc: std::thread::available_parallelism().map_or(1, usize::from),
            model,
            memory,
            kernel,
            load,
        }
    }
}

/// One scenario's table, with a row per measured thing and backend.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    pub notes: Vec<String>,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// A target from the issue, as measured: reported, never asserted.
#[derive(Debug, Clone)]
pub struct Check {
    pub target: &'static str,
    pub backend: Backend,
    pub measured: String,
    /// None when the measurement failed.
    pub met: Option<bool>,
}

#[derive(Debug)]
pub struct Report {
    pub machine: Machine,
    pub command: String,
    pub settings: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub sections: Vec<Section>,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn header(&self) -> String {
        let m = &self.machine;
        let took = (self.finished - self.started).num_seconds();
        let took = if took > 0 {
            format!(", run took {took} s")
        } else {
            String::new()
        };
        format!(
            "- Date: {} UTC{took}\n- Machine: {} CPUs (nproc), {}, {} RAM, Linux {}; load average at start {}\n- Command: `{}`\n- Settings: {}\n",
            self.started.format("%Y-%m-%d %H:%M"),
            m.nproc,
            m.model,
            m.memory,
            m.kernel,
            m.load,
            self.command,
            self.settings,
        )
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.header());
        for section in &self.sections {
            let _ = writeln!(out, "### {}\n", section.title);
            out.push_str(&table(&section.headers, &section.rows));
            for note in &section.notes {
                let _ = writeln!(out, "- {note}");
            }
            out.push('\n');
        }
        if !self.checks.is_empty() {
            let _ = writeln!(out, "### Targets (measured, not asserted)\n");
            let rows: Vec<Vec<String>> = self
                .checks
                .iter()
                .map(|c| {
                    let verdict = match c.met {
                        Some(true) => "met",
                        Some(false) => "**MISSED**",
                        None => "**NOT MEASURED**",
                    };
                    vec![
                        c.target.to_owned(),
                        c.backend.label().to_owned(),
                        c.measured.clone(),
                        verdict.to_owned(),
                    ]
                })
                .collect();
            out.push_str(&table(&["target", "backend", "measured", "verdict"], &rows));
        }
        out
    }

    /// Replaces the marked section of `path` (or appends one) with this report.
    pub fn write_into(&self, path: &Path) -> anyhow::Result<()> {
        let existing = std::fs::read_to_string(path).unwrap_or_default();
        let section = format!("{BEGIN}\n\n{}\n{END}\n", self.to_markdown().trim_end());
        let updated = match (existing.find(BEGIN), existing.find(END)) {
            (Some(b), Some(e)) if e > b => {
                format!(
                    "{}{section}{}",
                    &existing[..b],
                    &existing[e + END.len()..].trim_start_matches('\n')
                )
            }
            _ if existing.is_empty() => format!("# Benchmarks\n\n{section}"),
            _ => format!("{}\n{section}", existing.trim_end()),
        };
        std::fs::write(path, updated)?;
        Ok(())
    }
}

/// A Markdown table with padded columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(widths.iter().map(|_| "").collect()).replace(' ', "-"));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

pub fn ms(v: f64) -> String {
    format!("{v:.2}")
}

pub fn rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_aligned_markdown() {
        let t = table(
            &["a", "long header"],
            &[vec!["wide cell".into(), "1".into()]],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "| a         | long header |");
        assert_eq!(lines[1], "|-----------|-------------|");
        assert_eq!(lines[2], "| wide cell | 1           |");
    }

    #[test]
    fn the_marked_section_is_replaced_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("B.md");
        std::fs::write(
            &path,
            format!("# B\n\nintro\n\n{BEGIN}\nold\n{END}\n\nafter\n"),
        )
        .unwrap();
        let report = Report {
            machine: Machine::detect(),
            command: "cmd".into(),
            settings: "s".into(),
            started: Utc::now(),
            finished: Utc::now(),
            sections: vec![],
            checks: vec![],
        };
        report.write_into(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# B\n\nintro\n\n"));
        assert!(!text.contains("old"));
        assert!(text.contains("`cmd`"));
        assert!(text.trim_end().ends_with("after"));
    }
}
