//! Tokens from the company's identity provider: a JWKS served on a local port by a fake provider with
//! keys generated here; rotation, refresh, outages, claim variants and forgeries.

mod keys;
mod rules;

use std::time::Duration;

use gateway::settings::RawSettings;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, Upstream, spawn_app_with};
use crate::idp::Idp;

const BINDING: &str = r#"{"callerNum": "+8618600000001", "calleeNum": "+8618600000002"}"#;

async fn spawn_with_idp(
    backend: Backend,
    idp: &Idp,
    tweak: impl FnOnce(&mut RawSettings),
) -> Option<TestApp> {
    let jwks_url = idp.jwks_url();
    spawn_app_with(backend, Upstream::Sandbox, move |raw| {
        raw.jwt_jwks_url = Some(jwks_url);
        raw.jwt_jwks_cooldown_secs = 1;
        tweak(raw);
    })
    .await
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.get(token, "/v1/bindings").await.status().as_u16()
}

async fn refusal(app: &TestApp, token: &str) -> String {
    let response = app.get(token, "/v1/bindings").await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    body["message"].as_str().unwrap().to_owned()
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Polls until `check` holds (the refresher runs on its own clock), failing after 10 s.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}
