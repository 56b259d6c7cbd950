//! HTTP surface: the AXB API at the platform's paths, and the simulator's control API under /sim.

pub(crate) mod api;
pub(crate) mod control;

use std::any::Any;
use std::net::Shutdown;
use std::sync::Arc;

use actix_web::dev::Extensions;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde_json::{Value, json};

use crate::error::Rejection;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    api::routes(cfg);
    control::routes(cfg);
}

pub(crate) fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json;charset=UTF-8")
        .body(body.to_string())
}

pub(crate) fn rejection(r: &Rejection) -> HttpResponse {
    json_response(
        r.http_status,
        &json!({"resultcode": r.code, "resultdesc": r.desc}),
    )
}

pub(crate) fn success(mut extra: Value) -> HttpResponse {
    let mut body = json!({"resultcode": "0", "resultdesc": "Success"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object_mut()) {
        b.append(e);
    }
    json_response(200, &body)
}

/// A second handle on the connection's socket, so a handler can cut the connection itself.
#[derive(Clone)]
struct ConnSocket(Arc<std::net::TcpStream>);

/// `HttpServer::on_connect` hook: remembers each plain TCP connection's socket (a duplicated descriptor).
pub(crate) fn remember_socket(conn: &dyn Any, ext: &mut Extensions) {
    #[cfg(unix)]
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        use std::os::fd::AsFd;
        if let Ok(fd) = tcp.as_fd().try_clone_to_owned() {
            ext.insert(ConnSocket(Arc::new(std::net::TcpStream::from(fd))));
        }
    }
    #[cfg(not(unix))]
    let _ = (conn, ext);
}

/// Ends the request the way a lost answer looks to a client: the TCP connection is shut down with no
/// response, so the client sees "connection closed before message completed", exactly like a platform
/// answer lost in the network. Without a socket handle (non-unix) it falls back to an empty 500 with
/// `Connection: close`.
pub(crate) fn drop_connection(req: &HttpRequest) -> HttpResponse {
    if let Some(sock) = req.conn_data::<ConnSocket>() {
        // shutdown acts on the socket, not the descriptor: actix's own handle sees EOF and gives up.
        let _ = sock.0.shutdown(Shutdown::Both);
    }
    HttpResponse::InternalServerError().force_close().finish()
}
