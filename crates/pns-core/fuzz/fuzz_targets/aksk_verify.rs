//! The X-AKSK parser and verifier must never panic, and must refuse anything not signed with the secret.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pns_core::aksk::{AUTHORIZATION, Credentials, InMemoryReplayGuard, Verifier, XAksk};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = XAksk::parse(&text);
    // Split the input into an Authorization and an X-AKSK value.
    let (authorization, x_aksk) = text.split_once('\n').unwrap_or((AUTHORIZATION, &text));
    let verifier = Verifier::new(
        Credentials::new("fuzz-key", "fuzz-secret"),
        Duration::from_secs(300),
        Arc::new(InMemoryReplayGuard::new(Duration::from_secs(300), 64)),
    );
    let now = chrono::Utc::now();
    if verifier.verify(Some(authorization), Some(x_aksk), now).is_ok() {
        // Only a header carrying the real digest of its own nonce and created can pass.
        let parsed = XAksk::parse(x_aksk).expect("verified headers parse");
        let expected = pns_core::aksk::password_digest("fuzz-secret", parsed.nonce, parsed.created);
        assert_eq!(parsed.password_digest, expected);
    }
});
