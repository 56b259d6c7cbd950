//! The binary: flags and environment in, the listening address as the first stdout line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn binary_prints_its_address_first_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pns-sim"))
        .args(["--listen", "127.0.0.1:0", "--app-key", "k"])
        .args(["--numbers", "+8617000000001,+8617000000002@010"])
        .env("PNS_SIM_APP_SECRET", "from-env")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pns-sim starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .strip_prefix("pns-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let health = async {
        reqwest::get(format!("{base}/sim/health"))
            .await?
            .text()
            .await
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health.unwrap(), "ok");
}
