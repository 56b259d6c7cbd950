use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::Utc;
use pns_core::aksk::{Credentials, InMemoryReplayGuard, Verifier};
use pns_upstream::{ClientConfig, HuaweiClient, Upstream};
use serde_json::{Value, json};
use url::Url;
use wiremock::{Match, MockServer, Request, ResponseTemplate};

pub const APP_KEY: &str = "test-app-key";
pub const APP_SECRET: &str = "test-app-secret";
pub const BIND_PATH: &str = "/rest/caas/relationnumber/partners/v1.0";
pub const X: &str = "+8617000000001";
pub const A: &str = "+8618612345678";
pub const B: &str = "+8618612345679";
/// The per-attempt timeout of the test client: roomy enough for a loaded CI box, short enough to wait out.
pub const TIMEOUT: Duration = Duration::from_secs(1);
pub const MAX_RETRIES: u32 = 2;

// Quiet unless TEST_LOG is set, so failures are readable; then everything goes to stdout.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter("pns_upstream=trace")
            .with_test_writer()
            .init();
    }
});

pub struct TestApp {
    pub server: MockServer,
    pub client: Arc<dyn Upstream>,
    pub credentials: Credentials,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A client against a fresh wiremock server; `tweak` adjusts the config before the client is built.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut ClientConfig)) -> TestApp {
    LazyLock::force(&TRACING);
    let server = MockServer::start().await;
    let credentials = Credentials::new(APP_KEY, APP_SECRET);
    let mut config = ClientConfig::new(Url::parse(&server.uri()).unwrap(), credentials.clone());
    config.connect_timeout = Duration::from_secs(1);
    config.timeout = TIMEOUT;
    config.max_retries = MAX_RETRIES;
    config.retry_base_delay = Duration::from_millis(5);
    tweak(&mut config);
    let client = HuaweiClient::new(config).expect("client builds");
    TestApp {
        server,
        client: Arc::new(client),
        credentials,
    }
}

impl TestApp {
    pub async fn received(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// Every request the server saw carries a valid signature, and no nonce was used twice.
    pub async fn assert_all_signed(&self) {
        let verifier = Verifier::new(
            self.credentials.clone(),
            Duration::from_secs(300),
            Arc::new(InMemoryReplayGuard::new(Duration::from_secs(600), 1000)),
        );
        let received = self.received().await;
        assert!(!received.is_empty(), "no request reached the server");
        for req in received {
            let header = |name: &str| req.headers.get(name).map(|v| v.to_str().unwrap());
            assert_eq!(
                header("content-type"),
                Some("application/json;charset=UTF-8")
            );
            verifier
                .verify(header("authorization"), header("x-aksk"), Utc::now())
                .unwrap_or_else(|e| panic!("{} {} not verifiable: {e:?}", req.method, req.url));
        }
    }
}

/// Matches the raw query string byte for byte, so `%2B` is told apart from `+`.
pub struct RawQuery(pub &'static str);

impl Match for RawQuery {
    fn matches(&self, request: &Request) -> bool {
        request.url.query() == Some(self.0)
    }
}

/// Matches requests without a body (unbind must never move its parameters into one).
pub struct NoBody;

impl Match for NoBody {
    fn matches(&self, request: &Request) -> bool {
        request.body.is_empty()
    }
}

pub fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

pub fn ok() -> ResponseTemplate {
    answer(200, json!({"resultcode": "0", "resultdesc": "Success"}))
}

pub fn rejection(status: u16, code: &str) -> ResponseTemplate {
    answer(
        status,
        json!({"resultcode": code, "resultdesc": format!("test {code}")}),
    )
}

pub fn binding(n: usize) -> Value {
    json!({
        "subscriptionId": format!("sub-{n}"),
        "relationNum": X,
        "callerNum": format!("+86186{n:08}"),
        "calleeNum": format!("+86187{n:08}"),
        "callDirection": 0,
        "duration": 0,
    })
}

/// One query page holding bindings `range`, out of `total`.
pub fn query_page(range: std::ops::Range<usize>, total: usize) -> ResponseTemplate {
    let list: Vec<Value> = range.map(binding).collect();
    answer(
        200,
        json!({"resultcode": "0", "resultdesc": "Success", "totalCount": total, "relationNumList": list}),
    )
}
