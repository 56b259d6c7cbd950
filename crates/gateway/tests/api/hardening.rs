//! Hostile or odd input at the edge (issue 13): compressed bodies, trickled bodies, encoded paths,
//! probe floods, callback refusals that must not teach a prober anything, and replays across
//! instances.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_backends;
use crate::helpers::{Backend, Upstream, spawn_app, spawn_app_with, spawn_on};
use crate::platform_sim::{APP_KEY, APP_SECRET, spawn_platform};

mod mode;
mod tls;

fn disconnect(session: &str) -> Value {
    json!({"eventType": "disconnect", "statusInfo": {
        "sessionId": session, "timestamp": "2026-01-01 10:00:00",
        "caller": "+8613800000001", "called": "+8613800000002", "stateCode": 8102,
        "subscriptionId": ""}})
}

/// A zstd frame of `blocks` RLE blocks of 128 KiB of spaces (JSON whitespace): 4 bytes each on the
/// wire, so 9 KB inflate to ~290 MB.
fn zstd_bomb(blocks: usize) -> Vec<u8> {
    const BLOCK: u32 = 128 * 1024;
    // Magic; frame header descriptor (no content size, not single-segment); window 2^17.
    let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38];
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let header = (BLOCK << 3) | (1 << 1) | last; // Block_Type 1 = RLE
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(b' ');
    }
    frame
}

/// The process's peak resident memory so far, in MiB (nextest runs each test in its own process).
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_are_refused_unread_and_memory_stays_flat() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let bomb = zstd_bomb(2_300);
    assert!(bomb.len() < 10_000);
    let token = app.writer("app-1");
    let before = peak_rss_mib();
    for path in ["/v1/bindings", "/callbacks/huawei"] {
        for encoding in ["zstd", "gzip", "br", "deflate, zstd"] {
            let response = app
                .client
                .post(format!("{}{path}", app.address))
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .header("Content-Encoding", encoding)
                .body(bomb.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 415, "{path} {encoding}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "unsupported_media_type");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("Content-Encoding")
            );
        }
    }
    let grown = peak_rss_mib().saturating_sub(before);
    assert!(grown < 48, "peak memory grew by {grown} MiB");

    // `identity` is no encoding at all.
    let plain = app
        .client
        .post(format!("{}/v1/bindings", app.address))
        .bearer_auth(&token)
        .header("Content-Encoding", "identity")
        .json(&json!({"callerNum": "+8613800000001", "calleeNum": "+8613800000002"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 201, "{:?}", plain.text().await);
}

/// Sends the head of a request and part of its body, then waits for whatever the server answers.
async fn trickle(address: &str, head: &str, partial_body: &str, wait: Duration) -> String {
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(partial_body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_the_connection_closed() {
    let Some(app) = spawn_app_with(Backend::Sqlite, Upstream::Sandbox, |raw| {
        raw.body_read_timeout_secs = 1;
    })
    .await
    else {
        return;
    };
    let token = app.writer("app-1");
    let head = format!(
        "POST /v1/bindings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    );
    let started = Instant::now();
    let answer = trickle(
        &app.address,
        &head,
        "{\"callerNum\":",
        Duration::from_secs(8),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "answer: {answer:?}");
    assert!(answer.contains("request_timeout"), "{answer}");
    // read_to_end returned: the server closed the connection, well before the client's patience ran out.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let head = "POST /callbacks/huawei HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n";
    let answer = trickle(&app.address, head, "{", Duration::from_secs(8)).await;
    // Unsigned: refused before its body is waited for; either way the connection does not hang.
    assert!(answer.starts_with("HTTP/1.1 401"), "answer: {answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_percent_encoded_api_path_is_rate_limited_like_the_plain_one() {
    let Some(app) = spawn_app_with(Backend::Sqlite, Upstream::Sandbox, |raw| {
        raw.rate_limit_per_sec = 1;
        raw.rate_limit_burst = 3;
    })
    .await
    else {
        return;
    };
    let token = app.writer("sneaky-app");
    let first = app.get(&token, "/%76%31/bindings").await;
    assert_eq!(first.status(), 200, "the router serves the encoded path");
    let mut statuses = Vec::new();
    for path in ["/%76%31/bindings", "/v%31/bindings", "/%76%31/bindings"].repeat(2) {
        statuses.push(app.get(&token, path).await.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_from_a_one_second_cache() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let readyz = || app.client.get(format!("{}/readyz", app.address)).send();
    let checked_at = Instant::now();
    assert_eq!(readyz().await.unwrap().status(), 200);
    // The migrations' bookkeeping disappears: the next real check says "not ready".
    app.sql("DROP TABLE seaql_migrations").await;
    let cached = readyz().await.unwrap().status();
    if checked_at.elapsed() < Duration::from_millis(900) {
        assert_eq!(cached, 200, "answered from the cache, no query");
    }
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let fresh = readyz().await.unwrap();
    assert_eq!(fresh.status(), 503);
    assert_eq!(fresh.json::<Value>().await.unwrap()["migrations"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_callback_refusal_answers_the_same_401_and_the_metric_says_why() {
    let Some(p) = spawn_platform(Backend::Sqlite).await else {
        return;
    };
    let body = disconnect("s-1");
    let post = |authorization: Option<&'static str>, x_aksk: Option<String>| {
        let mut request = p.app.client.post(p.app.callback_url()).json(&body);
        if let Some(a) = authorization {
            request = request.header("Authorization", a);
        }
        if let Some(x) = x_aksk {
            request = request.header("X-AKSK", x);
        }
        request.send()
    };
    let good = pns_core::aksk::Credentials::new(APP_KEY, APP_SECRET);
    let forged = pns_core::aksk::Credentials::new(APP_KEY, "guessed").sign_now();
    let stranger = pns_core::aksk::Credentials::new("other-key", APP_SECRET).sign_now();
    let stale = good.sign_with("n0nce0ld", chrono::Utc::now() - chrono::Duration::hours(1));
    let replayed = good.sign_now();
    assert_eq!(
        post(Some(replayed.authorization), Some(replayed.x_aksk.clone()))
            .await
            .unwrap()
            .status(),
        200
    );
    let mut bodies = Vec::new();
    for (authorization, x_aksk) in [
        (None, None),
        (Some(forged.authorization), Some(forged.x_aksk.clone())),
        (Some(stranger.authorization), Some(stranger.x_aksk.clone())),
        (Some(stale.authorization), Some(stale.x_aksk.clone())),
        (Some(replayed.authorization), Some(replayed.x_aksk.clone())),
        (
            Some(good.sign_now().authorization),
            Some("UsernameToken junk".into()),
        ),
    ] {
        let response = post(authorization, x_aksk).await.unwrap();
        assert_eq!(response.status(), 401);
        bodies.push(response.text().await.unwrap());
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:#?}");
    assert_eq!(
        serde_json::from_str::<Value>(&bodies[0]).unwrap(),
        json!({"code": "unauthorized", "message": "callback not authorised"})
    );

    let metrics = p
        .app
        .client
        .get(format!("{}/metrics", p.app.address))
        .bearer_auth(p.app.token("ops", "admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for reason in [
        "unsigned",
        "bad_digest",
        "unknown_app_key",
        "stale",
        "replayed",
        "malformed",
    ] {
        let series = format!("pns_callback_refusals_total{{reason=\"{reason}\"}} 1");
        assert!(metrics.contains(&series), "{series} missing:\n{metrics}");
    }
}

both_backends!(
    a_callback_replayed_to_another_instance_is_refused_there,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let upstream = p.upstream_url();
        let other = spawn_on(
            p.app.database_url.clone(),
            tempfile::tempdir().unwrap(),
            Upstream::Url(upstream),
            |raw| {
                raw.app_key = Some(APP_KEY.into());
                raw.app_secret = Some(APP_SECRET.into());
            },
        )
        .await
        .expect("a second instance on the same database");
        let signed = p.creds.sign_now();
        let body = disconnect("s-captured");
        let send = |address: &str, body: &Value| {
            p.app
                .client
                .post(format!("{address}/callbacks/huawei"))
                .header("Authorization", signed.authorization)
                .header("X-AKSK", signed.x_aksk.clone())
                .json(body)
                .send()
        };
        assert_eq!(send(&p.app.address, &body).await.unwrap().status(), 200);
        let replay = send(&other.address, &body).await.unwrap();
        assert_eq!(replay.status(), 401);
        // The same headers on another body: refused too, nothing stored.
        let other_body = disconnect("s-forged");
        assert_eq!(
            send(&other.address, &other_body).await.unwrap().status(),
            401
        );
        assert_eq!(p.app.count("call_events").await, 1);
        assert_eq!(p.app.count("callback_nonces").await, 1);
        // Once its `Created` has left the window, the nonce is purged (by the sweep job).
        let later = chrono::Utc::now() + chrono::Duration::hours(1);
        let purged = gateway::service::callbacks::nonces::purge(&p.app.state.db, later).await;
        assert_eq!(purged.unwrap(), 1);
        assert_eq!(p.app.count("callback_nonces").await, 0);
    }
);
