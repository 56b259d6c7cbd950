//! The gateway's integration tests: one binary, real HTTP, real databases.

mod auth;
mod bindings;
mod callbacks;
mod calls;
mod cluster;
mod hardening;
mod helpers;
mod idp;
mod interrupted;
mod ops;
mod platform;
mod platform_sim;
mod pool;
mod pool_props;
mod reconcile;
mod surface;
mod webhooks;
