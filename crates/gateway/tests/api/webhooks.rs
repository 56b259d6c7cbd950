//! Webhooks to apps: endpoints scoped like bindings, signed deliveries to a real receiver on a port,
//! retries with a stable `webhook-id`, the delivery log, delivery across instances, and the events the
//! binding table, reconciliation and the callbacks produce.

mod bindings;
mod calls;
mod crash;
mod delivery;
mod endpoints;
mod receiver;
mod reconcile;
