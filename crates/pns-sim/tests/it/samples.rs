//! Compatibility proof: Huawei's own Python samples (tests/huawei_samples/*.py) run against the simulator
//! with only the URL, keys and numbers substituted, and each gets resultcode "0".

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

const SAMPLE_HOST: &str = "https://rtcpns.cn-north-1.myhuaweicloud.com";

fn python3_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/huawei_samples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replaces a placeholder that must be in the sample (so a drifting fixture fails loudly).
fn substitute(src: String, from: &str, to: &str) -> String {
    assert!(src.contains(from), "sample no longer contains {from:?}");
    src.replace(from, to)
}

fn with_endpoint_and_keys(src: String, base: &str) -> String {
    let src = substitute(src, SAMPLE_HOST, base);
    let src = substitute(src, "\"a1********\"", &format!("\"{APP_KEY}\""));
    substitute(src, "\"cfc8********\"", &format!("\"{APP_SECRET}\""))
}

/// Runs a sample in `dir` (they write bind_data.txt into the working directory) and returns the platform
/// answer it printed.
async fn run(dir: PathBuf, name: &'static str, src: String) -> Value {
    tokio::task::spawn_blocking(move || {
        let script = dir.join(name);
        std::fs::write(&script, src).unwrap();
        let out = Command::new("python3")
            .arg(&script)
            .current_dir(&dir)
            // The samples format local time with a literal "Z": they assume a UTC clock.
            .env("TZ", "UTC")
            .output()
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{name}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v.get("resultcode").is_some())
            .unwrap_or_else(|| panic!("{name} printed no platform answer: {stdout}"))
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn huawei_python_samples_run_unchanged() {
    if !python3_available() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is required in CI"
        );
        eprintln!("SKIPPED huawei_python_samples_run_unchanged: python3 not found");
        return;
    }
    let t = spawn_sim().await;
    let dir =
        std::env::temp_dir().join(format!("pns-sim-samples-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let numbers = |src: String| {
        let src = substitute(src, "'+86186****5678'", &format!("'{A}'"));
        substitute(src, "'+86186****5679'", &format!("'{B}'"))
    };

    let bind = numbers(with_endpoint_and_keys(fixture("bind.py"), &t.base));
    let bind = substitute(bind, "'+86170****0001'", &format!("'{X1}'"));
    let answer = run(dir.clone(), "bind.py", bind).await;
    assert_eq!(answer["resultcode"], "0", "bind: {answer}");
    assert_eq!(answer["relationNum"], X1);
    let sid = answer["subscriptionId"].as_str().unwrap().to_owned();

    let modify = numbers(with_endpoint_and_keys(fixture("modify.py"), &t.base));
    let modify = substitute(
        modify,
        "'0167ecc9-bfb6-4eec-b671-a7dab2ba78c'",
        &format!("'{sid}'"),
    );
    let answer = run(dir.clone(), "modify.py", modify).await;
    assert_eq!(answer["resultcode"], "0", "modify: {answer}");

    let with_ids = |src: String| {
        let src = substitute(
            src,
            "subscriptionId = '****'",
            &format!("subscriptionId = '{sid}'"),
        );
        substitute(src, "'+86170****0001'", &format!("'{X1}'"))
    };
    let query = with_ids(with_endpoint_and_keys(fixture("query.py"), &t.base));
    let answer = run(dir.clone(), "query.py", query).await;
    assert_eq!(answer["resultcode"], "0", "query: {answer}");
    assert_eq!(answer["relationNumList"][0]["subscriptionId"], sid.as_str());

    let unbind = with_ids(with_endpoint_and_keys(fixture("unbind.py"), &t.base));
    let answer = run(dir.clone(), "unbind.py", unbind).await;
    assert_eq!(answer["resultcode"], "0", "unbind: {answer}");
    assert_eq!(t.ctl.binding_count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
