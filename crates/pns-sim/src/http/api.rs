//! The AXB API as the platform serves it. Every request is authenticated first (403 + 1023xxx/1010013/
//! 1010003), then meets any injected fault, then is validated (400 + 1010002) and applied.

use actix_web::http::header::{AUTHORIZATION, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use pns_core::ResultCode;
use pns_core::wire::{BIND_PATH, CALL_STOP_PATH, RECORD_URL_PATH};
use serde_json::{Value, json};

use super::{drop_connection, rejection, success};
use crate::engine::{Engine, validate};
use crate::error::Rejection;
use crate::faults::Op;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(BIND_PATH)
            .route(web::post().to(bind))
            .route(web::put().to(modify))
            .route(web::delete().to(unbind))
            .route(web::get().to(query)),
    )
    .route(RECORD_URL_PATH, web::get().to(record_url))
    .route(CALL_STOP_PATH, web::post().to(call_stop));
}

type Answer = Result<HttpResponse, Rejection>;

/// Authentication, faults, then the operation. `act` runs synchronously: no lock outlives it.
async fn serve(
    engine: &Engine,
    req: &HttpRequest,
    op: Op,
    act: impl FnOnce(&Engine) -> Answer,
) -> HttpResponse {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Err(r) = engine.authenticate(header(AUTHORIZATION.as_str()), header("X-AKSK")) {
        tracing::debug!(code = %r.code, desc = %r.desc, "refused: authentication");
        return rejection(&r);
    }
    let plan = engine.faults.take(op);
    if let Some(delay) = plan.latency {
        tokio::time::sleep(delay).await;
    }
    if plan.drop_connection {
        return drop_connection(req);
    }
    if let Some((code, status)) = plan.result_code {
        let status = if status == 0 {
            Rejection::status_for(&code)
        } else {
            status
        };
        let desc = ResultCode::parse(&code).meaning();
        return rejection(&Rejection::new(status, code, desc));
    }
    let answer = act(engine).unwrap_or_else(|r| rejection(&r));
    if plan.apply_then_drop {
        return drop_connection(req);
    }
    answer
}

async fn bind(engine: web::Data<Engine>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    serve(&engine, &req, Op::Bind, |e| {
        let cmd = validate::bind(&validate::object_body(&body)?)?;
        let b = e.bind(&cmd)?;
        Ok(success(json!({
            "subscriptionId": b.subscription_id,
            "relationNum": e.relation_num(&b),
            "callerNum": b.caller,
            "calleeNum": b.callee,
            "callDirection": b.call_direction,
            "duration": b.duration,
            "maxDuration": b.max_duration,
        })))
    })
    .await
}

async fn modify(engine: web::Data<Engine>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    serve(&engine, &req, Op::Modify, |e| {
        e.modify(&validate::modify(&validate::object_body(&body)?)?)?;
        Ok(success(Value::Null))
    })
    .await
}

async fn unbind(engine: web::Data<Engine>, req: HttpRequest) -> HttpResponse {
    serve(&engine, &req, Op::Unbind, |e| {
        e.unbind(&validate::unbind(&validate::query_params(
            req.query_string(),
        )?)?)?;
        Ok(success(Value::Null))
    })
    .await
}

async fn query(engine: web::Data<Engine>, req: HttpRequest) -> HttpResponse {
    serve(&engine, &req, Op::Query, |e| {
        let page = e.query(&validate::query(&validate::query_params(
            req.query_string(),
        )?)?)?;
        let list: Vec<Value> = page.items.iter().map(|b| e.binding_json(b)).collect();
        Ok(success(
            json!({"totalCount": page.total, "relationNumList": list}),
        ))
    })
    .await
}

async fn record_url(engine: web::Data<Engine>, req: HttpRequest) -> HttpResponse {
    serve(&engine, &req, Op::RecordUrl, |e| {
        let (domain, file) = validate::record_url(&validate::query_params(req.query_string())?)?;
        if !e.callbacks.has_recording(&domain, &file) {
            return Err(Rejection::not_found());
        }
        // Answers with a link to the simulator itself so a sandbox can actually download something.
        let location = format!("{}/sim/recordings/{file}", e.base_url);
        Ok(HttpResponse::MovedPermanently()
            .insert_header((LOCATION, location))
            .finish())
    })
    .await
}

async fn call_stop(engine: web::Data<Engine>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    serve(&engine, &req, Op::CallStop, |_| {
        // Simulated calls are over when play_call returns, so any well-formed stop is accepted.
        validate::call_stop(&validate::object_body(&body)?)?;
        Ok(success(Value::Null))
    })
    .await
}
