//! What the client writes to the log: phone numbers masked, secrets absent.

use std::io::Write;
use std::sync::{Arc, Mutex};

use pns_core::phone::mask;
use pns_core::wire::BindRequest;
use wiremock::Mock;
use wiremock::matchers::method;

use crate::helpers::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// current_thread runtime (the tokio::test default): the thread-local subscriber sees the whole call.
#[tokio::test]
async fn logs_show_masked_numbers_and_never_the_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app().await;
    Mock::given(method("POST"))
        .respond_with(rejection(400, "1012010"))
        .mount(&app.server)
        .await;
    let req = BindRequest {
        relation_num: Some(X.into()),
        caller_num: A.into(),
        callee_num: B.into(),
        ..Default::default()
    };
    app.client.bind(&req).await.unwrap_err();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("upstream call failed"), "{logs}");
    assert!(logs.contains(&mask(A)), "{logs}");
    for secret in [A, B, X, APP_SECRET] {
        assert!(!logs.contains(secret), "{secret} leaked into:\n{logs}");
    }
}
