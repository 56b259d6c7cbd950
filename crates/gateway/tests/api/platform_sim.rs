//! The gateway in production mode against a pns-sim with known keys: the simulator is the platform,
//! posting real signed callbacks to `/callbacks/huawei`, and tests can sign (or forge) their own.

use std::net::TcpListener;

use pns_core::aksk::Credentials;
use pns_sim::{RunningSim, SimConfig, SimControl, SimNumber};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Backend, TestApp, Upstream, spawn_app_with};

pub const APP_KEY: &str = "callback-test-key";
pub const APP_SECRET: &str = "callback-test-secret";
pub const X1: &str = "+8617000000001";
pub const X2: &str = "+8617000000002";
pub const A: &str = "+8613800000001";
pub const B: &str = "+8613800000002";
pub const C: &str = "+8613800000003";
pub const D: &str = "+8613800000004";
pub const STRANGER: &str = "+8613800000009";

pub struct Platform {
    pub app: TestApp,
    pub ctl: SimControl,
    pub creds: Credentials,
    _sim: RunningSim,
}

pub async fn spawn_platform(backend: Backend) -> Option<Platform> {
    spawn_platform_with(backend, |_| {}).await
}

pub async fn spawn_platform_with(
    backend: Backend,
    tweak: impl FnOnce(&mut gateway::settings::RawSettings),
) -> Option<Platform> {
    let numbers = vec![SimNumber::new(X1, "0755"), SimNumber::new(X2, "0755")];
    let sim = pns_sim::start(
        SimConfig::new(APP_KEY, APP_SECRET, numbers),
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .await
    .expect("simulator starts");
    let app = spawn_app_with(backend, Upstream::Url(sim.base_url()), |raw| {
        raw.app_key = Some(APP_KEY.into());
        raw.app_secret = Some(APP_SECRET.into());
        tweak(raw);
    })
    .await?;
    let ctl = sim.control();
    ctl.set_callback_url(Some(app.callback_url()));
    // CDRs go out when a test flushes them, so it knows when they have arrived.
    ctl.set_cdr_auto_push(false);
    Some(Platform {
        app,
        ctl,
        creds: Credentials::new(APP_KEY, APP_SECRET),
        _sim: sim,
    })
}

impl TestApp {
    pub fn callback_url(&self) -> String {
        format!("{}/callbacks/huawei", self.address)
    }

    /// Counts rows with plain SQL (what is stored, not what the API shows).
    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.state.db.get_database_backend();
        let row = self
            .state
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("n")
    }

    pub async fn sql(&self, sql: &str) {
        self.state
            .db
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl Platform {
    /// The simulated platform's base URL (for a second gateway instance).
    pub fn upstream_url(&self) -> String {
        self._sim.base_url()
    }

    /// Posts `body` signed with the app's key and secret.
    pub async fn post_signed(&self, body: &Value) -> reqwest::Response {
        self.post_with(body, &self.creds).await
    }

    pub async fn post_with(&self, body: &Value, creds: &Credentials) -> reqwest::Response {
        let signed = creds.sign_now();
        self.app
            .client
            .post(self.app.callback_url())
            .header("Authorization", signed.authorization)
            .header("X-AKSK", signed.x_aksk)
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .expect("callback request")
    }

    /// A binding of `caller`/`callee` on `x` for `app`; returns (binding id, subscription id).
    pub async fn bind(&self, app: &str, caller: &str, callee: &str, x: &str) -> (String, String) {
        let b = self
            .app
            .bind(&self.app.writer(app), caller, callee, x)
            .await;
        (
            b["id"].as_str().unwrap().to_owned(),
            b["subscriptionId"].as_str().unwrap().to_owned(),
        )
    }

    /// Points the simulator's callbacks at a recorder for the duration of `f`, and returns the bodies
    /// it posted (so a test can redeliver them as it likes).
    pub async fn capture<F, Fut>(&self, f: F) -> Vec<Value>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let recorder = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&recorder)
            .await;
        self.ctl.set_callback_url(Some(recorder.uri()));
        f().await;
        self.ctl.set_callback_url(Some(self.app.callback_url()));
        recorder
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).expect("JSON callback"))
            .collect()
    }
}
