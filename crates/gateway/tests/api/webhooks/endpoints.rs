//! `/v1/webhooks`: app scoping, the secret shown once, target and event checks, rotation.

use serde_json::{Value, json};

use crate::both_backends;
use gateway::settings::RawSettings;

use crate::helpers::{Backend, Upstream, spawn_app, spawn_app_with};

both_backends!(
    endpoints_are_scoped_to_their_app_and_admin_sees_all,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let (one, two, admin) = (app.writer("app-1"), app.writer("app-2"), app.admin());
        let created = app
            .webhook(&one, "http://127.0.0.1:9/hooks", json!(["binding.*"]))
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
        assert_eq!(created["enabled"], true);
        assert_eq!(created["events"], json!(["binding.*"]));

        let fetched: Value = app
            .get(&one, &format!("/v1/webhooks/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(fetched["url"], "http://127.0.0.1:9/hooks");
        assert!(
            fetched.get("secret").is_none(),
            "the secret is shown only at creation"
        );

        // Another app sees nothing of it and can change nothing.
        let path = format!("/v1/webhooks/{id}");
        assert_eq!(app.get(&two, &path).await.status(), 404);
        assert_eq!(
            app.patch(&two, &path, &json!({"enabled": false}))
                .await
                .status(),
            404
        );
        assert_eq!(
            app.post_json(&two, &format!("{path}/rotate-secret"), &json!({}))
                .await
                .status(),
            404
        );
        assert_eq!(
            app.get(&two, &format!("{path}/deliveries")).await.status(),
            404
        );
        assert_eq!(app.delete(&two, &path).await.status(), 404);
        // None of it reached the endpoint: its owner sees it as it was.
        let after: Value = app.get(&one, &path).await.json().await.unwrap();
        assert_eq!(after, fetched);
        let theirs: Value = app.get(&two, "/v1/webhooks").await.json().await.unwrap();
        assert_eq!(theirs["items"], json!([]));

        app.webhook(&two, "http://127.0.0.1:9/two", json!([])).await;
        let all: Value = app.get(&admin, "/v1/webhooks").await.json().await.unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        let page: Value = app
            .get(&admin, "/v1/webhooks?limit=1")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let cursor = page["nextCursor"].as_str().expect("a second page");
        let rest: Value = app
            .get(&admin, &format!("/v1/webhooks?limit=1&cursor={cursor}"))
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(rest["items"][0]["id"], page["items"][0]["id"]);

        // Rotation: a new secret, the old one still signing for 24 h.
        let rotated: Value = app
            .post_json(&one, &format!("{path}/rotate-secret"), &json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(rotated["secret"], created["secret"]);
        assert!(rotated["previousSecretUntil"].is_string());

        let disabled: Value = app
            .patch(&one, &path, &json!({"enabled": false}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(disabled["enabled"], false);
        assert_eq!(disabled["disabledReason"], "disabled by the app");
        assert_eq!(app.delete(&one, &path).await.status(), 204);
        assert_eq!(app.get(&one, &path).await.status(), 404);
    }
);

both_backends!(
    bad_urls_forbidden_targets_and_unknown_events_are_422,
    |backend: Backend| async move {
        // Production's default: public addresses only.
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw: &mut RawSettings| {
            raw.webhook_allowed_networks = Some("public".into());
        })
        .await
        else {
            return;
        };
        let one = app.writer("app-1");
        for (body, says) in [
            (json!({"url": "ftp://example.com/x"}), "http"),
            (json!({"url": "not a url"}), "url"),
            (
                json!({"url": "http://169.254.169.254/latest/meta-data"}),
                "may not",
            ),
            (json!({"url": "http://127.0.0.1:8080/hooks"}), "may not"),
            (json!({"url": "http://[::1]/hooks"}), "may not"),
            (json!({"url": "http://localhost:8080/hooks"}), "may not"),
            (
                json!({"url": "https://user:pw@example.com/"}),
                "credentials",
            ),
            (json!({"url": "https://no-such-host.invalid/"}), "resolve"),
            (
                json!({"url": "https://example.com/", "events": ["binding.nope"]}),
                "event type",
            ),
            (
                json!({"url": "https://example.com/", "events": ["number.status_changed"]}),
                "admin",
            ),
        ] {
            let response = app.post_json(&one, "/v1/webhooks", &body).await;
            assert_eq!(response.status(), 422, "{body}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["code"], "validation_failed", "{body}");
            assert!(
                error["message"].as_str().unwrap().contains(says),
                "{body}: {error}"
            );
        }
        let unknown_field = app
            .post_json(
                &one,
                "/v1/webhooks",
                &json!({"url": "https://example.com/", "secret": "x"}),
            )
            .await;
        assert_eq!(unknown_field.status(), 422);
        let reader = app.token("app-1", "bindings:read");
        let forbidden = app
            .post_json(
                &reader,
                "/v1/webhooks",
                &json!({"url": "http://127.0.0.1/"}),
            )
            .await;
        assert_eq!(forbidden.status(), 403);
    }
);
