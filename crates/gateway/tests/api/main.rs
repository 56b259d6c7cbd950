//! The gateway's integration tests: one binary, real HTTP, real databases.

mod bindings;
mod helpers;
mod platform;
mod surface;
