//! `spawn_app()`: the real gateway on port 0 with real migrations on a fresh SQLite file or a fresh
//! PostgreSQL database, and the in-process simulator (or a wiremock server) as the platform.

use std::sync::LazyLock;

use gateway::auth::JwtConfig;
use gateway::settings::{RawSettings, Settings};
use gateway::startup::Application;
use gateway::state::AppState;
use secrecy::SecretString;
use serde_json::{Value, json};

mod database;
pub use database::TestDatabase;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        gateway::telemetry::init(gateway::settings::LogFormat::Text);
    }
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub enum Upstream {
    Sandbox,
    Url(String),
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub jwt: JwtConfig,
    pub state: AppState,
    pub database_url: String,
    /// The database this app was spawned on, when it owns it (dropped with the app).
    pub database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

/// A fresh database for `backend`; `None` when PostgreSQL is unreachable outside CI (the test is
/// skipped). A PostgreSQL database is dropped when the returned value is.
pub async fn fresh_database(backend: Backend, dir: &tempfile::TempDir) -> Option<TestDatabase> {
    TestDatabase::new(backend, dir).await
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Upstream::Sandbox, |_| {}).await
}

pub async fn spawn_app_with(
    backend: Backend,
    upstream: Upstream,
    tweak: impl FnOnce(&mut RawSettings),
) -> Option<TestApp> {
    LazyLock::force(&TRACING);
    let dir = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::new(backend, &dir).await?;
    let mut app = spawn_on(database.url.clone(), dir, upstream, tweak).await?;
    app.database = Some(database);
    Some(app)
}

pub async fn spawn_on(
    database_url: String,
    dir: tempfile::TempDir,
    upstream: Upstream,
    tweak: impl FnOnce(&mut RawSettings),
) -> Option<TestApp> {
    let mut raw = RawSettings {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        jwt_secret: Some(JWT_SECRET.into()),
        upstream_timeout_ms: 2_000,
        upstream_max_retries: 0,
        ..RawSettings::default()
    };
    if let Upstream::Url(url) = upstream {
        raw.upstream_url = Some(url);
        raw.app_key = Some("test-app-key".into());
        raw.app_secret = Some("test-app-secret".into());
    }
    tweak(&mut raw);
    let settings = Settings::from_raw(raw).expect("valid settings");
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        jwt: JwtConfig::new(&SecretString::from(JWT_SECRET), "pns-gateway", None),
        state,
        database_url,
        database: None,
        _dir: dir,
    })
}

impl TestApp {
    pub fn token(&self, app: &str, scope: &str) -> String {
        self.jwt.mint(app, scope, 600).expect("mint")
    }

    pub fn writer(&self, app: &str) -> String {
        self.token(app, "bindings:read bindings:write")
    }

    pub async fn post_binding(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/bindings", self.address))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(format!("{}{path}", self.address))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Every item of a cursor-paged list, walking `nextCursor` with pages of `limit`; asserts each
    /// page is bounded by it.
    pub async fn all_pages(&self, token: &str, path: &str, limit: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let response = self.get(token, &url).await;
            assert_eq!(response.status(), 200, "{url}");
            let page: Value = response.json().await.expect("json");
            let batch = page["items"].as_array().expect("items");
            assert!(batch.len() <= limit, "{url}: {} items", batch.len());
            items.extend(batch.iter().cloned());
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// A binding between two fresh parties, asserting it was created.
    pub async fn bind(&self, token: &str, caller: &str, callee: &str, x: &str) -> Value {
        let response = self
            .post_binding(
                token,
                &json!({"callerNum": caller, "calleeNum": callee, "relationNum": x}),
            )
            .await;
        assert_eq!(
            response.status(),
            201,
            "bind failed: {:?}",
            response.text().await
        );
        response.json().await.expect("json")
    }
}

/// Asserts an error answer: its status and the `code` saying which error it is (a 409 alone does not
/// tell a binding conflict from an exhausted pool). Returns the body for further checks.
pub async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("an error body is JSON");
    assert_eq!(body["code"], code, "{body}");
    body
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)($crate::helpers::Backend::Postgres).await
            }
        }
    };
}
