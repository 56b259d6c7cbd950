//! pns gateway: the REST API apps call to bind A and B to an X number, the receiver of the
//! platform's callbacks, and the background jobs that keep the binding table in step with upstream.

pub mod auth;
pub mod db;
pub mod domain;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod repo;
pub mod routes;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod service;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
