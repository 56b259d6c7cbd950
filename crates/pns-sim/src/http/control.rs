//! The control API under /sim, for driving the simulator from outside the process (sandbox mode, scripts).
//! It is unauthenticated on purpose: the simulator is a test tool bound to a local address.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use pns_core::NumStatusInfo;
use serde::Deserialize;
use serde_json::{Value, json};

use super::json_response;
use crate::callbacks::calls::CallScript;
use crate::callbacks::sms::SmsScript;
use crate::control::SimControl;
use crate::engine::Engine;
use crate::error::SimError;
use crate::faults::Fault;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/sim")
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route("/calls", web::post().to(play_call))
            .route("/sms", web::post().to(send_sms))
            .route("/sms", web::get().to(sms_reports))
            .route("/num-status", web::post().to(num_status))
            .route("/faults", web::post().to(inject))
            .route("/faults", web::get().to(faults))
            .route("/faults", web::delete().to(clear_faults))
            .route("/bindings", web::get().to(bindings))
            .route("/bindings/{id}/expire", web::post().to(expire))
            .route("/cdrs/flush", web::post().to(flush_cdrs))
            .route("/cdrs/delivered", web::get().to(cdr_ledger))
            .route("/callback-retries", web::put().to(set_retry_delays))
            .route("/callback-url", web::put().to(set_callback_url))
            .route("/recordings/{file}", web::get().to(recording)),
    );
}

fn control(engine: web::Data<Engine>) -> SimControl {
    SimControl::new(engine.into_inner())
}

fn error(status: u16, message: impl std::fmt::Display) -> HttpResponse {
    json_response(status, &json!({"error": message.to_string()}))
}

fn sim_error(e: &SimError) -> HttpResponse {
    let status = match e {
        SimError::UnknownSubscription(_) => 404,
        SimError::NoCallbackUrl => 409,
        SimError::InvalidScript(_) => 400,
        SimError::Delivery { .. } => 502,
        SimError::Stopped => 503,
    };
    error(status, e)
}

/// A bad body is a 400 naming the problem, not actix's plain-text default.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnboundCall {
    relation_num: String,
    caller: String,
}

/// A CallScript, or `{"relationNum","caller"}` for a call from a number with no binding (8014).
async fn play_call(engine: web::Data<Engine>, body: web::Bytes) -> HttpResponse {
    let ctl = control(engine);
    let is_script =
        serde_json::from_slice::<Value>(&body).is_ok_and(|v| v.get("subscriptionId").is_some());
    let result = if is_script {
        match parse::<CallScript>(&body) {
            Ok(script) => ctl.play_call(script).await,
            Err(msg) => return error(400, msg),
        }
    } else {
        match parse::<UnboundCall>(&body) {
            Ok(c) => ctl.play_unbound_call(&c.relation_num, &c.caller).await,
            Err(msg) => return error(400, msg),
        }
    };
    match result {
        Ok(report) => json_response(200, &json!(report)),
        Err(e) => sim_error(&e),
    }
}

async fn send_sms(engine: web::Data<Engine>, body: web::Bytes) -> HttpResponse {
    let script = match parse::<SmsScript>(&body) {
        Ok(s) => s,
        Err(msg) => return error(400, msg),
    };
    match control(engine).send_sms(script).await {
        Ok(report) => json_response(200, &report.to_json()),
        Err(e) => sim_error(&e),
    }
}

async fn sms_reports(engine: web::Data<Engine>) -> HttpResponse {
    let reports: Vec<Value> = control(engine)
        .sms_reports()
        .iter()
        .map(|r| r.to_json())
        .collect();
    json_response(200, &json!(reports))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NumStatusIn {
    num_info: Vec<NumStatusInfo>,
}

async fn num_status(engine: web::Data<Engine>, body: web::Bytes) -> HttpResponse {
    let items = match parse::<NumStatusIn>(&body) {
        Ok(b) => b.num_info,
        Err(msg) => return error(400, msg),
    };
    match control(engine).push_num_status(items).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => sim_error(&e),
    }
}

async fn inject(engine: web::Data<Engine>, body: web::Bytes) -> HttpResponse {
    match parse::<Fault>(&body) {
        Ok(f) => {
            control(engine).inject(f);
            HttpResponse::NoContent().finish()
        }
        Err(msg) => error(400, msg),
    }
}

async fn faults(engine: web::Data<Engine>) -> HttpResponse {
    json_response(200, &json!(control(engine).faults()))
}

async fn clear_faults(engine: web::Data<Engine>) -> HttpResponse {
    control(engine).clear_faults();
    HttpResponse::NoContent().finish()
}

async fn bindings(engine: web::Data<Engine>) -> HttpResponse {
    let list = control(engine).bindings();
    json_response(200, &json!({"count": list.len(), "bindings": list}))
}

async fn expire(engine: web::Data<Engine>, id: web::Path<String>) -> HttpResponse {
    let expired = control(engine).expire_now(&id);
    json_response(
        if expired { 200 } else { 404 },
        &json!({"expired": expired}),
    )
}

async fn flush_cdrs(engine: web::Data<Engine>) -> HttpResponse {
    match control(engine).flush_cdrs().await {
        Ok(n) => json_response(200, &json!({"delivered": n})),
        Err(e) => sim_error(&e),
    }
}

async fn cdr_ledger(engine: web::Data<Engine>) -> HttpResponse {
    json_response(200, &json!(control(engine).cdr_ledger()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RetryDelaysIn {
    delays_ms: Vec<u64>,
}

/// The waits between callback retries, e.g. `{"delaysMs":[200,500,1000]}` (an empty list: no retries).
async fn set_retry_delays(engine: web::Data<Engine>, body: web::Bytes) -> HttpResponse {
    match parse::<RetryDelaysIn>(&body) {
        Ok(b) if b.delays_ms.len() <= 100 && b.delays_ms.iter().all(|ms| *ms <= 3_600_000) => {
            let delays = b.delays_ms.into_iter().map(Duration::from_millis).collect();
            control(engine).set_retry_delays(delays);
            HttpResponse::NoContent().finish()
        }
        Ok(_) => error(400, "delaysMs: at most 100 delays of at most 3600000 ms"),
        Err(msg) => error(400, msg),
    }
}

#[derive(Deserialize)]
struct CallbackUrlIn {
    url: Option<String>,
}

async fn set_callback_url(engine: web::Data<Engine>, body: web::Bytes) -> HttpResponse {
    match parse::<CallbackUrlIn>(&body) {
        Ok(b) => {
            control(engine).set_callback_url(b.url);
            HttpResponse::NoContent().finish()
        }
        Err(msg) => error(400, msg),
    }
}

/// Where the record URL API's 301 points: a valid, silent WAV, so a sandbox download works end to end.
async fn recording() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("audio/wav")
        .body(silent_wav(8_000))
}

/// One second of 8 kHz, 8-bit mono silence.
fn silent_wav(samples: u32) -> Vec<u8> {
    let mut w = Vec::with_capacity(44 + samples as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + samples).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&8_000u32.to_le_bytes()); // sample rate
    w.extend_from_slice(&8_000u32.to_le_bytes()); // byte rate
    w.extend_from_slice(&1u16.to_le_bytes()); // block align
    w.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    w.extend_from_slice(b"data");
    w.extend_from_slice(&samples.to_le_bytes());
    w.resize(44 + samples as usize, 0x80); // 8-bit PCM silence is the midpoint
    w
}
