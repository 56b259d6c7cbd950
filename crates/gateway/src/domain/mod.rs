//! The binding's life as types: statuses, end reasons, call outcomes, field rules. Knows no HTTP
//! and no SQL beyond the column mapping (`DeriveActiveEnum`, string values as stored), so a value read
//! from the database that is not one of these is an error, never a silent default.

pub mod binding;
pub mod call;
pub mod number;
pub mod rules;

pub use binding::{BindingStatus, Changes, EndReason, NewBinding};
pub use call::CallOutcome;
