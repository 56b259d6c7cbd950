//! One system under test: a fresh database, pns-sim and the gateway in front of it, plus the calls the
//! scenarios make through the gateway and directly against the simulator.

use std::time::Duration;

use anyhow::Context;
use pns_core::aksk::Credentials;
use pns_core::wire::{BIND_PATH, BindRequest, BindResponse, ResultResponse};
use pns_core::{ResultCode, SmsDecision, WireBool};
use serde_json::{Value, json};

use crate::bodies::BoundPair;
use crate::db::{Backend, BenchDb};
use crate::procs::{self, Binaries, Proc};

pub const APP_KEY: &str = "pns-bench-app";
const APP_SECRET: &str = "pns-bench-app-secret-2f6c1d9e";
const JWT_SECRET: &str = "pns-bench-jwt-secret-7f3a9c1e5b2d4f6a8c0e";
const APP: &str = "bench";

/// What every scenario needs to start its own stack.
pub struct Ctx {
    pub opts: crate::cli::Opts,
    pub bins: Binaries,
    pub dir: tempfile::TempDir,
}

pub struct Stack {
    pub backend: Backend,
    pub db: BenchDb,
    pub sim: Proc,
    pub sim_url: String,
    pub gateway: Proc,
    pub gateway_url: String,
    pub token: String,
    pub client: reqwest::Client,
    pub credentials: Credentials,
}

/// One HTTP/1.1 client for every target, so the gateway and the simulator are measured alike.
pub fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        // Below actix's 5 s keep-alive, so an idle connection is never reused just as the server closes it.
        .pool_idle_timeout(Duration::from_secs(3))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// The two children and what talking to them needs.
struct Running {
    sim: Proc,
    sim_url: String,
    gateway: Proc,
    gateway_url: String,
    token: String,
}

impl Stack {
    pub async fn start(ctx: &Ctx, backend: Backend, connections: usize) -> anyhow::Result<Self> {
        let client = client(connections)?;
        let db = BenchDb::create(backend, &ctx.opts.pg_url, ctx.dir.path()).await?;
        let running = match Self::spawn(ctx, &db, &client).await {
            Ok(running) => running,
            Err(e) => {
                let _ = db.drop_database().await;
                return Err(e);
            }
        };
        Ok(Self {
            backend,
            db,
            sim: running.sim,
            sim_url: running.sim_url,
            gateway: running.gateway,
            gateway_url: running.gateway_url,
            token: running.token,
            client,
            credentials: Credentials::new(APP_KEY, APP_SECRET),
        })
    }

    async fn spawn(ctx: &Ctx, db: &BenchDb, client: &reqwest::Client) -> anyhow::Result<Running> {
        let (dir, tag) = (ctx.dir.path(), db.backend.tag());
        let numbers: Vec<String> = (0..ctx.opts.numbers).map(crate::bodies::x_number).collect();
        let (sim, sim_url) =
            procs::spawn_sim(&ctx.bins.sim, dir, tag, APP_KEY, APP_SECRET, &numbers).await?;
        let env: Vec<(String, String)> = [
            ("PNS_DATABASE_URL", db.url.as_str()),
            ("PNS_UPSTREAM_URL", sim_url.as_str()),
            ("PNS_APP_KEY", APP_KEY),
            ("PNS_APP_SECRET", APP_SECRET),
            ("PNS_JWT_SECRET", JWT_SECRET),
            // Capacity is what is measured here, not the per-app limiter in front of it.
            ("PNS_RATE_LIMIT_PER_SEC", "0"),
            // Reconciliation would query the platform for every pre-filled binding of the growth scenario.
            ("PNS_RECONCILE_INTERVAL_SECS", "0"),
            // The webhook scenario's receiver listens on loopback.
            ("PNS_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let (gateway, gateway_url) =
            procs::spawn_gateway(&ctx.bins.gateway, dir, tag, &env, client).await?;
        let scope = "bindings:read bindings:write";
        let token = procs::mint_token(&ctx.bins.gateway, dir, &env, APP, scope).await?;
        Ok(Running {
            sim,
            sim_url,
            gateway,
            gateway_url,
            token,
        })
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
        self.sim.stop().await;
        if let Err(e) = self.db.drop_database().await {
            eprintln!("pns-bench: dropping the benchmark database failed: {e:#}");
        }
    }

    /// POST /v1/bindings with an explicit X; returns (binding id, the bound pair).
    pub async fn gateway_bind(
        &self,
        caller: &str,
        callee: &str,
        x: &str,
    ) -> Result<(String, BoundPair), String> {
        let body =
            json!({"callerNum": caller, "calleeNum": callee, "relationNum": x, "privateSms": true});
        let resp = self
            .client
            .post(format!("{}/v1/bindings", self.gateway_url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let v = json_ok(resp, "gateway bind").await?;
        let field = |k: &str| v[k].as_str().map(str::to_owned);
        let id = field("id").ok_or("bind answer without id")?;
        let pair = BoundPair {
            subscription_id: field("subscriptionId").unwrap_or_default(),
            x: field("relationNum").unwrap_or_else(|| x.to_owned()),
            caller: caller.to_owned(),
            callee: callee.to_owned(),
        };
        Ok((id, pair))
    }

    pub async fn gateway_unbind(&self, id: &str) -> Result<(), String> {
        let resp = self
            .client
            .delete(format!("{}/v1/bindings/{id}", self.gateway_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("unbind: {e}"))?;
        json_ok(resp, "gateway unbind").await.map(drop)
    }

    /// Signed bind straight to pns-sim; returns the subscriptionId.
    pub async fn direct_bind(&self, caller: &str, callee: &str, x: &str) -> Result<String, String> {
        let req = BindRequest {
            relation_num: Some(x.to_owned()),
            caller_num: caller.to_owned(),
            callee_num: callee.to_owned(),
            call_direction: Some(0),
            duration: Some(0),
            record_flag: Some(WireBool(false)),
            max_duration: Some(0),
            private_sms: Some(WireBool(true)),
            ..BindRequest::default()
        };
        let resp = self
            .signed(self.client.post(format!("{}{BIND_PATH}", self.sim_url)))
            .json(&req)
            .send()
            .await
            .map_err(|e| format!("direct bind: {e}"))?;
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        let parsed: BindResponse = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if !ResultCode::parse(&parsed.resultcode).is_success() {
            return Err(format!("direct bind: resultcode {}", parsed.resultcode));
        }
        parsed
            .subscription_id
            .ok_or_else(|| "direct bind: no subscriptionId".to_owned())
    }

    pub async fn direct_unbind(&self, subscription_id: &str) -> Result<(), String> {
        let resp = self
            .signed(self.client.delete(format!("{}{BIND_PATH}", self.sim_url)))
            .query(&[("subscriptionId", subscription_id)])
            .send()
            .await
            .map_err(|e| format!("direct unbind: {e}"))?;
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        let parsed: ResultResponse = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if !ResultCode::parse(&parsed.resultcode).is_success() {
            return Err(format!("direct unbind: resultcode {}", parsed.resultcode));
        }
        Ok(())
    }

    /// Posts a platform callback to the gateway, signed with the app's key pair like the platform does.
    pub async fn post_callback(&self, body: &Value) -> Result<Value, String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let resp = self
            .signed(
                self.client
                    .post(format!("{}/callbacks/huawei", self.gateway_url)),
            )
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(bytes)
            .send()
            .await
            .map_err(|e| format!("callback: {e}"))?;
        json_ok(resp, "callback").await
    }

    /// A live binding made through the gateway, for callbacks to refer to.
    pub async fn bound_pair(&self) -> anyhow::Result<BoundPair> {
        let (caller, callee, x) = crate::bodies::pair(1);
        let (_, pair) = self
            .gateway_bind(&caller, &callee, &x)
            .await
            .map_err(anyhow::Error::msg)
            .context("binding a pair for the callbacks")?;
        Ok(pair)
    }

    /// The gateway's Block-mode SMS answer, read as a decision.
    pub fn decision(answer: &Value) -> Option<SmsDecision> {
        SmsDecision::from_body(answer)
    }

    fn signed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let signed = self.credentials.sign_now();
        req.header("Authorization", signed.authorization)
            .header("X-AKSK", signed.x_aksk)
    }
}

/// The JSON answer of a 2xx (Null when the body is empty), or an error naming the status.
async fn json_ok(resp: reqwest::Response, what: &str) -> Result<Value, String> {
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| format!("{what}: {e}"))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        let snippet: String = text.chars().take(160).collect();
        return Err(format!("{what}: HTTP {} {snippet}", status.as_u16()));
    }
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}
