//! The stack under test: pns-sim pushing callbacks to the gateway, the gateway in production mode on a
//! fresh PostgreSQL database with a short upstream timeout and frequent reconciliation.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};
use pns_bench::db::{Backend, BenchDb};
use pns_bench::procs::{self, Binaries, Proc};
use pns_bench::receiver::WebhookReceiver;
use serde_json::{Value, json};

use crate::Opts;

const APP_KEY: &str = "pns-faults-app";
const APP_SECRET: &str = "pns-faults-app-secret-4b1e9d7c";
const JWT_SECRET: &str = "pns-faults-jwt-secret-9e2c4a6b8d0f1a3c5e7b";
/// Below the 1,500 ms latency fault, so those binds time out and leave pending rows.
pub const UPSTREAM_TIMEOUT_MS: u64 = 1_000;
/// The simulator's waits between callback retries: about 30 s in all, longer than a PostgreSQL restart.
pub const RETRY_DELAYS_MS: [u64; 8] = [200, 500, 1_000, 2_000, 3_000, 5_000, 8_000, 10_000];

pub struct FaultStack {
    pub db: BenchDb,
    sim: Proc,
    pub sim_url: String,
    gateway: Proc,
    pub gateway_url: String,
    pub token: String,
    pub admin_token: String,
    pub client: reqwest::Client,
    pub numbers: usize,
    /// The faults app's webhook endpoint (`call.completed`).
    pub receiver: WebhookReceiver,
}

/// The app the load binds as.
pub const APP: &str = "faults";

impl FaultStack {
    pub async fn start(opts: &Opts, bins: &Binaries, dir: &Path) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(opts.workers * 2)
            .pool_idle_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(60))
            .build()?;
        let db = BenchDb::create(Backend::Postgres, &opts.pg_url, dir).await?;
        match Self::spawn(opts, bins, dir, db, client).await {
            Ok(stack) => Ok(stack),
            Err((db, e)) => {
                let _ = db.drop_database().await;
                Err(e)
            }
        }
    }

    async fn spawn(
        opts: &Opts,
        bins: &Binaries,
        dir: &Path,
        db: BenchDb,
        client: reqwest::Client,
    ) -> Result<Self, (BenchDb, anyhow::Error)> {
        let numbers: Vec<String> = (0..opts.numbers).map(pns_bench::bodies::x_number).collect();
        let sim = procs::spawn_sim(&bins.sim, dir, "faults", APP_KEY, APP_SECRET, &numbers).await;
        let (sim, sim_url) = match sim {
            Ok(s) => s,
            Err(e) => return Err((db, e)),
        };
        let env: Vec<(String, String)> = [
            ("PNS_DATABASE_URL", db.url.as_str()),
            ("PNS_UPSTREAM_URL", sim_url.as_str()),
            ("PNS_APP_KEY", APP_KEY),
            ("PNS_APP_SECRET", APP_SECRET),
            ("PNS_JWT_SECRET", JWT_SECRET),
            ("PNS_RATE_LIMIT_PER_SEC", "0"),
            ("PNS_UPSTREAM_TIMEOUT_MS", &UPSTREAM_TIMEOUT_MS.to_string()),
            ("PNS_UPSTREAM_CONNECT_TIMEOUT_MS", "500"),
            ("PNS_RECONCILE_INTERVAL_SECS", "5"),
            ("PNS_RECONCILE_PENDING_GRACE_SECS", "2"),
            ("PNS_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let gw = procs::spawn_gateway(&bins.gateway, dir, "faults", &env, &client).await;
        let (gateway, gateway_url) = match gw {
            Ok(g) => g,
            Err(e) => {
                sim.stop().await;
                return Err((db, e));
            }
        };
        let tokens = async {
            let rw = "bindings:read bindings:write";
            let token = procs::mint_token(&bins.gateway, dir, &env, APP, rw).await?;
            let admin = procs::mint_token(&bins.gateway, dir, &env, APP, "admin").await?;
            anyhow::Ok((token, admin))
        };
        let (token, admin_token) = match tokens.await {
            Ok(t) => t,
            Err(e) => {
                gateway.stop().await;
                sim.stop().await;
                return Err((db, e));
            }
        };
        let stack = Self {
            db,
            sim,
            sim_url,
            gateway,
            gateway_url,
            token,
            admin_token,
            client,
            numbers: opts.numbers,
            receiver: WebhookReceiver::start().await,
        };
        let callback = format!("{}/callbacks/huawei", stack.gateway_url);
        let wired = async {
            stack
                .sim_put("/sim/callback-url", &json!({ "url": callback }))
                .await?;
            stack
                .sim_put(
                    "/sim/callback-retries",
                    &json!({ "delaysMs": RETRY_DELAYS_MS }),
                )
                .await?;
            let (client, url) = (&stack.client, &stack.gateway_url);
            stack
                .receiver
                .subscribe(client, url, &stack.token, &["call.completed"])
                .await
        };
        if let Err(e) = wired.await {
            return Err((stack.stop_children().await, e));
        }
        Ok(stack)
    }

    async fn sim_put(&self, path: &str, body: &Value) -> anyhow::Result<()> {
        let resp = self
            .client
            .put(format!("{}{path}", self.sim_url))
            .json(body)
            .send()
            .await?;
        ensure!(resp.status().is_success(), "PUT {path}: {}", resp.status());
        Ok(())
    }

    /// GET or POST on the simulator's control API, JSON answer.
    pub async fn sim_json(
        &self,
        post: bool,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.sim_url);
        let mut req = if post {
            self.client.post(url)
        } else {
            self.client.get(url)
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.with_context(|| path.to_owned())?;
        let status = resp.status();
        let text = resp.text().await?;
        ensure!(status.is_success(), "{path}: HTTP {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn stop_children(self) -> BenchDb {
        self.gateway.stop().await;
        self.sim.stop().await;
        self.db
    }

    pub async fn stop(self) {
        let db = self.stop_children().await;
        if let Err(e) = db.drop_database().await {
            eprintln!("pns-faults: dropping the database failed: {e:#}");
        }
    }
}
