//! The X-number pool: which numbers exist, which one a new binding gets, and the admin operations.
//!
//! `x_numbers.in_use` counts the live (pending or active) bindings on each number. It changes only in
//! the transaction that changes a binding (see `crate::repo`), and reconciliation repairs it.

pub mod admin;
pub mod allocate;
