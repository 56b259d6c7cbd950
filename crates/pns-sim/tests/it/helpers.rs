//! A simulator on port 0 with a signing client, and a callback receiver that verifies signatures.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::Utc;
use pns_core::wire::BIND_PATH;
use pns_core::{Credentials, InMemoryReplayGuard, Verifier};
use pns_sim::{RunningSim, SimConfig, SimControl, SimNumber};
use serde_json::{Value, json};

pub const APP_KEY: &str = "sim-app-key";
pub const APP_SECRET: &str = "sim-app-secret";
pub const X1: &str = "+8617000000001";
pub const X2: &str = "+8617000000002";
pub const X3: &str = "+8617000000003";
pub const A: &str = "+8613800000001";
pub const B: &str = "+8613800000002";
pub const C: &str = "+8613800000003";
pub const D: &str = "+8613800000004";

pub struct TestSim {
    pub sim: RunningSim,
    pub ctl: SimControl,
    pub base: String,
    pub client: reqwest::Client,
    pub creds: Credentials,
}

pub fn default_numbers() -> Vec<SimNumber> {
    vec![
        SimNumber::new(X1, "0755"),
        SimNumber::new(X2, "0755"),
        SimNumber::new(X3, "010"),
    ]
}

pub async fn spawn_sim() -> TestSim {
    spawn_sim_with(|_| {}).await
}

pub async fn spawn_sim_with(tweak: impl FnOnce(&mut SimConfig)) -> TestSim {
    let mut cfg = SimConfig::new(APP_KEY, APP_SECRET, default_numbers());
    tweak(&mut cfg);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let sim = pns_sim::start(cfg, listener)
        .await
        .expect("simulator starts");
    TestSim {
        ctl: sim.control(),
        base: sim.base_url(),
        sim,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        creds: Credentials::new(APP_KEY, APP_SECRET),
    }
}

/// Status and JSON body of an answer (Null when the body is not JSON).
pub type Reply = (u16, Value);

impl TestSim {
    pub fn signed(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let h = self.creds.sign_now();
        rb.header("Authorization", h.authorization)
            .header("X-AKSK", h.x_aksk)
            .header("Content-Type", "application/json;charset=UTF-8")
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let resp = rb.send().await.expect("request reaches the simulator");
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn bind(&self, body: Value) -> Reply {
        self.send(self.signed(self.client.post(self.url(BIND_PATH)).json(&body)))
            .await
    }

    pub async fn bind_ok(&self, x: &str, a: &str, b: &str) -> String {
        let (status, body) = self
            .bind(json!({"relationNum": x, "callerNum": a, "calleeNum": b}))
            .await;
        assert_eq!(
            (status, body["resultcode"].as_str()),
            (200, Some("0")),
            "{body}"
        );
        body["subscriptionId"].as_str().unwrap().to_owned()
    }

    pub async fn modify(&self, body: Value) -> Reply {
        self.send(self.signed(self.client.put(self.url(BIND_PATH)).json(&body)))
            .await
    }

    pub async fn unbind(&self, query: &str) -> Reply {
        let url = format!("{}?{query}", self.url(BIND_PATH));
        self.send(self.signed(self.client.delete(url))).await
    }

    pub async fn query(&self, query: &str) -> Reply {
        let url = format!("{}?{query}", self.url(BIND_PATH));
        self.send(self.signed(self.client.get(url))).await
    }
}

pub fn code(reply: &Reply) -> &str {
    reply.1["resultcode"].as_str().unwrap_or("<none>")
}

pub fn enc(number: &str) -> String {
    number.replace('+', "%2B")
}

/// One callback as received: its JSON body and whether its AKSK signature verified.
#[derive(Clone, Debug)]
pub struct Received {
    pub body: Value,
    pub signature_ok: bool,
}

struct ReceiverState {
    verifier: Verifier,
    received: Mutex<Vec<Received>>,
    /// Scripted answers, used in order; when empty: 200 with an empty body.
    answers: Mutex<VecDeque<(u16, String)>>,
}

/// A local endpoint standing in for the gateway's callback URL.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(ReceiverState {
            verifier: Verifier::new(
                Credentials::new(APP_KEY, APP_SECRET),
                Duration::from_secs(300),
                Arc::new(InMemoryReplayGuard::new(Duration::from_secs(300), 10_000)),
            ),
            received: Mutex::default(),
            answers: Mutex::default(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/callbacks", listener.local_addr().unwrap());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/callbacks", web::post().to(receive))
        })
        .listen(listener)
        .unwrap()
        .workers(1)
        .disable_signals()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state, handle }
    }

    pub fn answer_next(&self, status: u16, body: &str) {
        self.state
            .answers
            .lock()
            .unwrap()
            .push_back((status, body.to_owned()));
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Bodies of a given eventType ("fee", "callin", ...), in arrival order.
    pub fn of_type(&self, event_type: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .map(|r| r.body)
            .filter(|b| b["eventType"] == event_type)
            .collect()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn receive(
    state: web::Data<ReceiverState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    let signature_ok = state
        .verifier
        .verify(header("Authorization"), header("X-AKSK"), Utc::now())
        .is_ok();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state
        .received
        .lock()
        .unwrap()
        .push(Received { body, signature_ok });
    let answer = state.answers.lock().unwrap().pop_front();
    match answer {
        Some((status, body)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                .content_type("application/json")
                .body(body)
        }
        None => HttpResponse::Ok().finish(),
    }
}
