//! The HTTP surface: auth, error shapes, health, OpenAPI and Swagger UI.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

both_backends!(
    tokens_are_required_and_scoped,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let body = json!({"callerNum": "+8618600000001", "calleeNum": "+8618600000002"});
        let anonymous = app
            .client
            .post(format!("{}/v1/bindings", app.address))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(
            anonymous.json::<Value>().await.unwrap()["code"],
            "unauthorized"
        );

        let forged = app.post_binding("not.a.jwt", &body).await;
        assert_eq!(forged.status(), 401);

        let other_secret = gateway::auth::JwtConfig::new(
            &secrecy::SecretString::from("z".repeat(40)),
            "pns-gateway",
            None,
        );
        let forged = app
            .post_binding(
                &other_secret.mint("app-1", "bindings:write", 60).unwrap(),
                &body,
            )
            .await;
        assert_eq!(forged.status(), 401);

        // Expired well past the leeway, and a token without `aud`: both refused.
        let key = jsonwebtoken::EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes());
        let now = jsonwebtoken::get_current_timestamp();
        for claims in [
            json!({"sub": "app-1", "aud": "pns-gateway", "exp": now - 3600, "scope": "bindings:write"}),
            json!({"sub": "app-1", "exp": now + 3600, "scope": "bindings:write"}),
        ] {
            let token =
                jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
            assert_eq!(
                app.post_binding(&token, &body).await.status(),
                401,
                "{claims}"
            );
        }

        let reader = app.token("app-1", "bindings:read");
        let response = app.post_binding(&reader, &body).await;
        assert_eq!(response.status(), 403);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "forbidden");
        assert_eq!(app.get(&reader, "/v1/bindings").await.status(), 200);
        let nothing = app.token("app-1", "");
        assert_eq!(app.get(&nothing, "/v1/bindings").await.status(), 403);
    }
);

both_backends!(
    malformed_input_gets_json_errors,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let send = |body: String, content_type: &'static str| {
            let request = app
                .client
                .post(format!("{}/v1/bindings", app.address))
                .bearer_auth(&token)
                .header("Content-Type", content_type)
                .body(body);
            async move { request.send().await.unwrap() }
        };
        let cases = [
            (
                send("{not json".into(), "application/json").await,
                400,
                "bad_request",
            ),
            (
                send(r#"{"callerNum": 5}"#.into(), "application/json").await,
                422,
                "validation_failed",
            ),
            (
                send(
                    format!(r#"{{"userData":"{}"}}"#, "x".repeat(70_000)),
                    "application/json",
                )
                .await,
                413,
                "payload_too_large",
            ),
            (
                send("{}".into(), "text/plain").await,
                415,
                "unsupported_media_type",
            ),
            (
                app.get(&token, "/v1/bindings/not-a-uuid").await,
                404,
                "not_found",
            ),
            (app.get(&token, "/v1/nowhere").await, 404, "not_found"),
        ];
        for (response, status, code) in cases {
            assert_eq!(response.status(), status);
            let body: Value = response.json().await.expect("a JSON error body");
            assert_eq!(body["code"], code);
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
);

both_backends!(health_and_readiness, |backend: Backend| async move {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["mode"], "sandbox");
    assert_eq!(ready["migrations"], true);
});

#[tokio::test]
async fn committed_openapi_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/openapi.json"
    ))
    .expect("openapi/openapi.json is committed");
    assert!(
        committed == gateway::openapi::document(),
        "openapi/openapi.json is stale: run `cargo run -p gateway -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_and_spec_are_served() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let spec: Value = app
        .client
        .get(format!("{}/api-docs/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/v1/bindings"]["post"].is_object());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    let ui = app
        .client
        .get(format!("{}/swagger-ui/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger"));
}
