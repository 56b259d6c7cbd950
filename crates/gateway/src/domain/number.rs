//! An X number's status in the pool, as the platform's `numStatus` pushes report it (stored as
//! `as_str()`). Only `Normal` numbers take new bindings.

pub use pns_core::callback::XNumberStatus as NumberStatus;
