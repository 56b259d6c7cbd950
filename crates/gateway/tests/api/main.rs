//! The gateway's integration tests: one binary, real HTTP, real databases.

mod admin_lists;
mod auth;
mod bindings;
mod callbacks;
mod callbacks_hostile;
mod calls;
mod cluster;
mod group_commit;
mod hardening;
mod helpers;
mod idp;
mod interrupted;
mod ops;
mod platform;
mod platform_sim;
mod pool;
mod pool_props;
mod pool_refused;
mod reconcile;
mod reconcile_confirm;
mod retention;
mod surface;
mod upstream_round_trip;
mod webhooks;
