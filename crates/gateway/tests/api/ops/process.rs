//! The real binary as a child process: what it writes to stdout/stderr during a full
//! bind -> call -> unbind flow, and how it stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use gateway::auth::JwtConfig;
use secrecy::SecretString;
use serde_json::{Value, json};

const JWT_SECRET: &str = "ops-jwt-secret-ops-jwt-secret-0123456789";
const APP_KEY: &str = "ops-app-key";
const APP_SECRET: &str = "ops-app-secret-9f8e7d6c5b4a";
const CALLER: &str = "+8618612345678";
const CALLEE: &str = "+8613987654321";
const X: &str = "+8617000000101";

/// The gateway binary, its address and everything it printed.
pub(crate) struct Gateway {
    child: Child,
    pub(crate) address: String,
    output: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    pub(crate) fn start(env: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
        command.arg("serve");
        for (key, _) in std::env::vars() {
            if key.starts_with("PNS_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("RUST_LOG", "debug")
            .env("PNS_LOG_FORMAT", "json")
            .env("PNS_LISTEN", "127.0.0.1:0")
            .env(
                "PNS_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("pns.db").display()),
            )
            .env("PNS_JWT_SECRET", JWT_SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("gateway binary starts");
        let output = Arc::new(Mutex::new(String::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for (stream, tx) in [
            (
                Box::new(stdout) as Box<dyn std::io::Read + Send>,
                Some(port_tx),
            ),
            (Box::new(stderr), None),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(tx) = &tx
                        && line.contains("pns gateway listening")
                        && let Ok(event) = serde_json::from_str::<Value>(&line)
                        && let Some(port) = event["port"].as_u64()
                    {
                        let _ = tx.send(port);
                    }
                    let mut all = output.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
            });
        }
        let port = port_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("gateway did not start:\n{}", output.lock().unwrap())
            });
        Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            output,
            _dir: dir,
        }
    }

    /// `kill -9`: no shutdown code runs.
    pub(crate) fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        let _ = self.child.wait();
    }

    fn sigterm(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    }

    /// Waits for the process to end; its exit code (None = killed by a signal).
    async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("gateway still running after {within:?}:\n{}", self.output());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub(crate) fn jwt() -> JwtConfig {
    JwtConfig::new(&SecretString::from(JWT_SECRET), "pns-gateway", None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_full_flow_hold_no_number_and_no_secret() {
    let sim_config = pns_sim::SimConfig::new(
        APP_KEY,
        APP_SECRET,
        vec![pns_sim::SimNumber::new(X, "0755")],
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sim = pns_sim::start(sim_config, listener).await.unwrap();
    let mut gateway = Gateway::start(&[
        ("PNS_UPSTREAM_URL", sim.base_url()),
        ("PNS_APP_KEY", APP_KEY.into()),
        ("PNS_APP_SECRET", APP_SECRET.into()),
    ]);
    let control = sim.control();
    control.set_callback_url(Some(format!("{}/callbacks/huawei", gateway.address)));

    let client = reqwest::Client::new();
    let token = jwt()
        .mint("ops-app", "bindings:read bindings:write", 600)
        .unwrap();
    let bind = client
        .post(format!("{}/v1/bindings", gateway.address))
        .bearer_auth(&token)
        .header("X-Request-Id", "ops-flow-bind")
        .json(&json!({"callerNum": CALLER, "calleeNum": CALLEE, "relationNum": X}))
        .send()
        .await
        .unwrap();
    assert_eq!(bind.status(), 201, "{}", gateway.output());
    assert_eq!(bind.headers()["x-request-id"], "ops-flow-bind");
    let binding: Value = bind.json().await.unwrap();
    let id = binding["id"].as_str().unwrap().to_owned();
    let subscription = binding["subscriptionId"].as_str().unwrap().to_owned();

    // Refusals quote input: still nothing unmasked in the log.
    let conflict = client
        .post(format!("{}/v1/bindings", gateway.address))
        .bearer_auth(&token)
        .json(&json!({"callerNum": CALLER, "calleeNum": CALLEE, "relationNum": X}))
        .send()
        .await
        .unwrap();
    assert!(conflict.status().is_client_error());
    let invalid = client
        .post(format!("{}/v1/bindings", gateway.address))
        .bearer_auth(&token)
        .json(&json!({"callerNum": format!("{CALLER}9"), "calleeNum": CALLEE}))
        .send()
        .await
        .unwrap();
    assert!(invalid.status().is_client_error());

    // A call through X: the simulator signs and posts the call events and the CDR.
    let _ = control
        .play_call(pns_sim::CallScript {
            subscription_id: subscription,
            from: pns_sim::Party::Caller,
            outcome: pns_sim::CallOutcome::Answered,
            talk_seconds: 42,
            record: false,
        })
        .await;
    let _ = control.flush_cdrs().await;

    let listed = client
        .get(format!("{}/v1/bindings", gateway.address))
        .query(&[("number", CALLER)])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let unbind = client
        .delete(format!("{}/v1/bindings/{id}", gateway.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(unbind.status(), 200, "{}", gateway.output());

    gateway.sigterm();
    assert_eq!(gateway.exit_code(Duration::from_secs(30)).await, Some(0));
    sim.stop().await;
    let log = gateway.output();

    // Every line of the bind request carries its id, and there is more than the closing line.
    let bind_lines = log.lines().filter(|l| l.contains("ops-flow-bind")).count();
    assert!(bind_lines >= 2, "bind request lines: {bind_lines}\n{log}");
    for line in log.lines() {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        // Inside a request, whatever the innermost span, the root span (with the id) is listed.
        if let Some(spans) = event["spans"].as_array()
            && spans.iter().any(|s| s["name"] == "upstream.bind")
        {
            assert_eq!(spans[0]["name"], "request", "{line}");
            assert!(spans[0]["request_id"].is_string(), "{line}");
        }
    }
    for (what, secret) in [
        ("caller number", &CALLER[3..]),
        ("callee number", &CALLEE[3..]),
        ("JWT secret", JWT_SECRET),
        ("app token", token.as_str()),
        ("app secret", APP_SECRET),
        ("X-AKSK digest", "PasswordDigest"),
    ] {
        assert!(!log.contains(secret), "the log shows the {what}:\n{log}");
    }
    assert!(
        log.contains("****"),
        "masked numbers expected in a debug log:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(1_500))
                .set_body_json(json!({
                    "resultcode": "0", "resultdesc": "Success",
                    "subscriptionId": "sub-slow", "relationNum": X
                })),
        )
        .mount(&upstream)
        .await;
    let mut gateway = Gateway::start(&[
        ("PNS_UPSTREAM_URL", upstream.uri()),
        ("PNS_APP_KEY", APP_KEY.into()),
        ("PNS_APP_SECRET", APP_SECRET.into()),
        ("PNS_UPSTREAM_MAX_RETRIES", "0".into()),
    ]);
    let token = jwt().mint("ops-app", "bindings:write", 600).unwrap();
    let url = format!("{}/v1/bindings", gateway.address);
    let in_flight = tokio::spawn({
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"callerNum": CALLER, "calleeNum": CALLEE, "relationNum": X}))
                .send()
                .await
        }
    });
    // Let the request reach the slow upstream, then ask the gateway to stop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    gateway.sigterm();

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status(), 201, "{}", gateway.output());
    assert_eq!(gateway.exit_code(Duration::from_secs(30)).await, Some(0));
    // Stopped means stopped: nobody answers any more.
    assert!(
        reqwest::get(format!("{}/healthz", gateway.address))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_at_debug_level_leaves_no_number_in_the_log() {
    let mut gateway = Gateway::start(&[
        ("PNS_UPSTREAM_URL", "http://127.0.0.1:9".into()),
        ("PNS_APP_KEY", APP_KEY.into()),
        ("PNS_APP_SECRET", APP_SECRET.into()),
    ]);
    let client = reqwest::Client::new();
    let credentials = pns_core::aksk::Credentials::new(APP_KEY, APP_SECRET);
    // Numbers where the platform sends strings: serde quotes the value in its error text.
    let number: u64 = CALLER[1..].parse().unwrap();
    let callbacks = [
        json!({"eventType": "fee", "feeLst": [{"sessionId": "s-1", "callerNum": number}]}),
        json!({"eventType": "callin", "statusInfo": {"sessionId": "s-2", "caller": number}}),
        json!({"smsEvent": {"smsIdentifier": "m-1", "calling": number, "called": CALLEE}}),
        json!({"eventType": "numStatus", "numInfo": [{"number": number}]}),
    ];
    for body in &callbacks {
        let signed = credentials.sign_now();
        let response = client
            .post(format!("{}/callbacks/huawei", gateway.address))
            .header("Authorization", signed.authorization)
            .header("X-AKSK", signed.x_aksk)
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() < 500, "{body}");
    }
    let token = jwt().mint("ops-app", "bindings:write", 600).unwrap();
    let api = client
        .post(format!("{}/v1/bindings", gateway.address))
        .bearer_auth(&token)
        .json(&json!({"callerNum": number, "calleeNum": CALLEE}))
        .send()
        .await
        .unwrap();
    assert!(api.status().is_client_error());

    gateway.sigterm();
    assert_eq!(gateway.exit_code(Duration::from_secs(30)).await, Some(0));
    let log = gateway.output();
    assert!(
        log.contains("failed to parse"),
        "the malformed callbacks were logged:\n{log}"
    );
    for line in log.lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    for digits in [&CALLER[3..], &CALLEE[3..]] {
        assert!(!log.contains(digits), "the log shows {digits}:\n{log}");
    }
}
