//! The processes under test: building the release binaries, spawning pns-sim and the gateway as
//! children, waiting for readiness, and reading their memory from /proc.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Paths of the two release binaries.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub gateway: PathBuf,
    pub sim: PathBuf,
}

impl Binaries {
    /// Uses the given paths, or builds both once with cargo and takes the paths cargo reports
    /// (which honours CARGO_TARGET_DIR and the configured target dir).
    pub fn locate(gateway: Option<PathBuf>, sim: Option<PathBuf>) -> anyhow::Result<Self> {
        let (gateway, sim) = match (gateway, sim) {
            (Some(g), Some(s)) => (g, s),
            (g, s) => {
                let built = build_release()?;
                (g.unwrap_or(built.gateway), s.unwrap_or(built.sim))
            }
        };
        for bin in [&gateway, &sim] {
            ensure!(bin.is_file(), "{} is not a file", bin.display());
        }
        Ok(Self { gateway, sim })
    }
}

fn workspace_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn build_release() -> anyhow::Result<Binaries> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("pns-bench: cargo build --release -p gateway -p pns-sim");
    let out = std::process::Command::new(cargo)
        .args(["build", "--release", "-p", "gateway", "-p", "pns-sim"])
        .arg("--manifest-path")
        .arg(workspace_manifest())
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    ensure!(out.status.success(), "cargo build --release failed");
    let (mut gateway, mut sim) = (None, None);
    for line in out.stdout.split(|b| *b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = msg["executable"].as_str() else {
            continue;
        };
        match msg["target"]["name"].as_str() {
            Some("gateway") => gateway = Some(PathBuf::from(exe)),
            Some("pns-sim") => sim = Some(PathBuf::from(exe)),
            _ => {}
        }
    }
    Ok(Binaries {
        gateway: gateway.context("cargo reported no gateway executable")?,
        sim: sim.context("cargo reported no pns-sim executable")?,
    })
}

/// A child process, killed when stopped or dropped.
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// A command with none of the caller's PNS_* settings leaking in; stdout and stderr go to `log`.
fn command(bin: &Path, log: &Path) -> anyhow::Result<Command> {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PNS_") {
            cmd.env_remove(key);
        }
    }
    let log_file = std::fs::File::create(log).with_context(|| format!("{}", log.display()))?;
    cmd.env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .kill_on_drop(true);
    Ok(cmd)
}

/// Starts pns-sim on a free port; returns it with its base URL (read from its first stdout line).
pub async fn spawn_sim(
    bin: &Path,
    dir: &Path,
    tag: &str,
    app_key: &str,
    app_secret: &str,
    numbers: &[String],
) -> anyhow::Result<(Proc, String)> {
    let log = dir.join(format!("pns-sim-{tag}.log"));
    let mut cmd = command(bin, &log)?;
    cmd.args(["--listen", "127.0.0.1:0", "--app-key", app_key])
        .args(["--app-secret", app_secret, "--numbers"])
        .arg(numbers.join(","))
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().context("spawning pns-sim")?;
    let stdout = child.stdout.take().context("pns-sim stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .context("pns-sim did not start within 20 s")??
        .with_context(|| format!("pns-sim exited; see {}", log.display()))?;
    let url = first
        .strip_prefix("pns-sim listening on ")
        .with_context(|| format!("unexpected first line from pns-sim: {first}"))?
        .trim()
        .to_owned();
    // Keep draining so a later print never meets a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let proc = Proc {
        name: "pns-sim".into(),
        child,
        log,
    };
    Ok((proc, url))
}

/// Starts the gateway on a free loopback port with `env` and waits until /readyz answers 200.
pub async fn spawn_gateway(
    bin: &Path,
    dir: &Path,
    tag: &str,
    env: &[(String, String)],
    client: &reqwest::Client,
) -> anyhow::Result<(Proc, String)> {
    let port = free_port()?;
    let log = dir.join(format!("gateway-{tag}.log"));
    let mut cmd = command(bin, &log)?;
    cmd.arg("serve")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PNS_LISTEN", format!("127.0.0.1:{port}"));
    let child = cmd.spawn().context("spawning the gateway")?;
    let mut proc = Proc {
        name: "gateway".into(),
        child,
        log,
    };
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&mut proc, client, &format!("{url}/readyz")).await?;
    Ok((proc, url))
}

/// Runs `gateway token` with the same settings and returns the JWT it prints.
pub async fn mint_token(
    bin: &Path,
    dir: &Path,
    env: &[(String, String)],
    app: &str,
    scope: &str,
) -> anyhow::Result<String> {
    let log = dir.join("gateway-token.log");
    let mut cmd = command(bin, &log)?;
    let out = cmd
        .args(["token", "--app", app, "--scope", scope, "--ttl", "7200"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PNS_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .output()
        .await
        .context("running gateway token")?;
    ensure!(
        out.status.success(),
        "gateway token failed; see {}",
        log.display()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.split('.').count() == 3)
        .context("gateway token printed no JWT")?;
    Ok(token.to_owned())
}

async fn wait_ready(proc: &mut Proc, client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = proc.exited() {
            bail!(
                "{} exited ({status}) before it was ready; see {}",
                proc.name,
                proc.log.display()
            );
        }
        if let Ok(resp) = client.get(url).send().await
            && resp.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{} not ready within 60 s; see {}",
                proc.name,
                proc.log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A `Vm*` field of /proc/<pid>/status, in kB.
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs).
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// User + system CPU seconds a process has used so far.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may itself hold spaces: state is the first, utime the 12th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_proc_status_and_cpu() {
        let pid = std::process::id();
        assert!(proc_status_kb(pid, "VmRSS").is_some_and(|kb| kb > 0));
        assert!(proc_status_kb(pid, "VmHWM").is_some());
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(50) {}
        assert!(cpu_seconds(pid).is_some_and(|s| s > 0.0));
    }
}
