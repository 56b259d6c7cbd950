//! sea-orm entities, one per table, mirroring the `migration` crate (the schema's source of truth).

pub mod prelude;

pub mod binding_parties;
pub mod bindings;
pub mod call_events;
pub mod callback_nonces;
pub mod calls;
pub mod cdrs;
pub mod idempotency_keys;
pub mod job_leases;
pub mod orphan_bindings;
pub mod raw_callbacks;
pub mod reconcile_findings;
pub mod reconcile_runs;
pub mod service_facts;
pub mod sms_messages;
pub mod webhook_attempts;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhook_events;
pub mod webhook_sequences;
pub mod x_number_status_events;
pub mod x_numbers;
