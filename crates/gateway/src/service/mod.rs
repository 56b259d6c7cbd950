pub mod bindings;
pub mod idempotency;
