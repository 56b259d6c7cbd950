//! The binding lifecycle: validation, the table and its invariant, and the upstream calls.

pub mod lifecycle;
pub mod query;
pub mod repo;
pub mod validate;
