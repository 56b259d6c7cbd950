//! Upstream answers and SMS decisions decode without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pns_core::callback::SmsDecision;
use pns_core::wire::{BindResponse, QueryResponse, ResultResponse};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<BindResponse>(data);
    let _ = serde_json::from_slice::<QueryResponse>(data);
    let _ = serde_json::from_slice::<ResultResponse>(data);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(decision) = SmsDecision::from_body(&value) {
            assert_eq!(SmsDecision::from_body(&decision.to_body()), Some(decision));
        }
    }
});
