//! Every callback body parser: never a panic, and whatever parses survives a serialize/parse round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pns_core::callback::Callback;

fuzz_target!(|data: &[u8]| {
    if let Ok(callback) = Callback::parse(data) {
        let value = match &callback {
            Callback::CallEvent(e) => serde_json::to_vec(e),
            Callback::Fee(f) => serde_json::to_vec(f),
            Callback::Sms(s) => serde_json::to_vec(s),
            Callback::NumStatus(n) => serde_json::to_vec(n),
            Callback::Unknown(v) => serde_json::to_vec(v),
        }
        .expect("a parsed callback serializes");
        assert!(Callback::parse(&value).is_ok(), "round trip failed");
    }
});
