//! pns-sim integration tests: the simulator on port 0, driven over real HTTP.

mod api;
mod auth;
mod calls;
mod cdr_ledger;
mod cli;
mod faults;
mod helpers;
mod samples;
mod sms;
