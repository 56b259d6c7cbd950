//! The binding lifecycle end to end, against the in-process simulator.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

const X1: &str = "+8617000000001";
const X2: &str = "+8617000000002";
const A: &str = "+8618600000001";
const B: &str = "+8618600000002";
const C: &str = "+8618600000003";

both_backends!(create_get_patch_delete, |backend: Backend| async move {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.writer("app-1");

    let created = app.bind(&token, A, B, X1).await;
    assert_eq!(created["status"], "active");
    assert_eq!(created["relationNum"], X1);
    assert!(
        created["subscriptionId"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let id = created["id"].as_str().unwrap().to_owned();

    let fetched: Value = app
        .get(&token, &format!("/v1/bindings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["callerNum"], A);

    let patched = app
        .patch(
            &token,
            &format!("/v1/bindings/{id}"),
            &json!({"calleeNum": C, "duration": 3600}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["calleeNum"], C);
    assert!(patched["expiresAt"].is_string());

    // B was released by the change: it can be bound with A's X again by someone else.
    app.bind(&token, B, "+8618600000009", X1).await;

    let deleted = app.delete(&token, &format!("/v1/bindings/{id}")).await;
    assert_eq!(deleted.status(), 200);
    let deleted: Value = deleted.json().await.unwrap();
    assert_eq!(deleted["status"], "unbound");
    assert!(deleted["endedAt"].is_string());

    // Idempotent: a second delete answers the final state.
    let again: Value = app
        .delete(&token, &format!("/v1/bindings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "unbound");
    assert_eq!(again["endedAt"], deleted["endedAt"]);

    // History is kept.
    let fetched: Value = app
        .get(&token, &format!("/v1/bindings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["status"], "unbound");
});

both_backends!(
    a_change_refused_for_one_number_claims_neither,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let free = "+8618600000004";
        let taken = "+8618600000009";
        let first = app.bind(&token, A, B, X1).await;
        app.bind(&token, C, taken, X1).await;
        let id = first["id"].as_str().unwrap();
        // Both numbers change; the second is already bound on X1.
        let refused = app
            .patch(
                &token,
                &format!("/v1/bindings/{id}"),
                &json!({"callerNum": free, "calleeNum": taken}),
            )
            .await;
        crate::helpers::expect_error(refused, 409, "binding_conflict").await;
        let unchanged: Value = app
            .get(&token, &format!("/v1/bindings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                unchanged["callerNum"].as_str(),
                unchanged["calleeNum"].as_str()
            ),
            (Some(A), Some(B))
        );
        // The free number was not left claimed on X1 by the refused change.
        app.bind(&token, free, "+8618600000010", X1).await;
    }
);

both_backends!(
    axb_invariant_is_checked_before_the_platform,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        app.bind(&token, A, B, X1).await;
        let response = app
            .post_binding(
                &token,
                &json!({"callerNum": B, "calleeNum": C, "relationNum": X1}),
            )
            .await;
        assert_eq!(response.status(), 409);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "binding_conflict");
        assert!(
            body["message"].as_str().unwrap().contains("+86186****0002"),
            "names the party, masked: {body}"
        );
        assert_eq!(
            app.count("bindings").await,
            1,
            "the refused bind left no row"
        );
        assert_eq!(app.count("binding_parties").await, 2, "nor a claim");
        // The same parties on another X are fine.
        app.bind(&token, B, C, X2).await;
    }
);

both_backends!(
    idempotency_key_replays_and_refuses_another_body,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let body = json!({"callerNum": A, "calleeNum": B, "relationNum": X1});
        let send = |body: Value| {
            let app = &app;
            let token = token.clone();
            async move {
                app.client
                    .post(format!("{}/v1/bindings", app.address))
                    .bearer_auth(token)
                    .header("Idempotency-Key", "order-42")
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let first = send(body.clone()).await;
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.unwrap();
        let second = send(body.clone()).await;
        assert_eq!(second.status(), 201);
        assert_eq!(second.headers()["Idempotent-Replayed"], "true");
        let second: Value = second.json().await.unwrap();
        assert_eq!(first["id"], second["id"]);
        // One binding upstream, not two.
        assert_eq!(app.state.sandbox.as_ref().unwrap().binding_count(), 1);

        let other = send(json!({"callerNum": A, "calleeNum": C, "relationNum": X1})).await;
        assert_eq!(other.status(), 422);
        assert_eq!(
            other.json::<Value>().await.unwrap()["code"],
            "idempotency_key_reused"
        );
    }
);

both_backends!(
    apps_see_only_their_own_bindings,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let mine = app.writer("app-1");
        let theirs = app.writer("app-2");
        let created = app.bind(&mine, A, B, X1).await;
        let id = created["id"].as_str().unwrap();
        let path = format!("/v1/bindings/{id}");
        let before: Value = app.get(&mine, &path).await.json().await.unwrap();

        assert_eq!(
            app.get(&theirs, &format!("/v1/bindings/{id}"))
                .await
                .status(),
            404
        );
        assert_eq!(
            app.patch(
                &theirs,
                &format!("/v1/bindings/{id}"),
                &json!({"duration": 5})
            )
            .await
            .status(),
            404
        );
        assert_eq!(
            app.delete(&theirs, &format!("/v1/bindings/{id}"))
                .await
                .status(),
            404
        );
        // The 404s changed nothing: the owner sees the binding as it was, the platform still has it.
        let after: Value = app.get(&mine, &path).await.json().await.unwrap();
        assert_eq!(after, before);
        assert_eq!(after["status"], "active");
        assert_eq!(app.state.sandbox.as_ref().unwrap().binding_count(), 1);
        let listed: Value = app.get(&theirs, "/v1/bindings").await.json().await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 0);

        let admin = app.token("ops", "admin");
        let listed: Value = app.get(&admin, "/v1/bindings").await.json().await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(
            app.get(&admin, &format!("/v1/bindings/{id}"))
                .await
                .status(),
            200
        );
    }
);

both_backends!(
    list_filters_and_cursor_pages,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        for i in 0..5 {
            let response = app
            .post_binding(&token, &json!({
                "callerNum": format!("+861860000010{i}"), "calleeNum": format!("+861860000020{i}"),
                "relationNum": X1, "externalRef": format!("order-{i}")
            }))
            .await;
            assert_eq!(response.status(), 201);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/bindings?limit=2&cursor={c}"),
                None => "/v1/bindings?limit=2".to_owned(),
            };
            let page: Value = app.get(&token, &path).await.json().await.unwrap();
            for item in page["items"].as_array().unwrap() {
                seen.push(item["externalRef"].as_str().unwrap().to_owned());
            }
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(
            seen,
            ["order-4", "order-3", "order-2", "order-1", "order-0"]
        );

        let page: Value = app
            .get(&token, "/v1/bindings?externalRef=order-3")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let page: Value = app
            .get(&token, "/v1/bindings?number=%2B8618600000202")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"][0]["externalRef"], "order-2");
        let page: Value = app
            .get(&token, "/v1/bindings?status=unbound")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 0);
        assert_eq!(
            app.get(&token, "/v1/bindings?limit=201").await.status(),
            422
        );
    }
);

both_backends!(validation_names_the_field, |backend: Backend| async move {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.writer("app-1");
    for (body, field) in [
        (json!({"callerNum": "12345", "calleeNum": B}), "callerNum"),
        (json!({"callerNum": A, "calleeNum": A}), "calleeNum"),
        (
            json!({"callerNum": A, "calleeNum": B, "duration": 7_776_001}),
            "duration",
        ),
        (
            json!({"callerNum": A, "calleeNum": B, "maxDuration": 1441}),
            "maxDuration",
        ),
        (
            json!({"callerNum": A, "calleeNum": B, "callDirection": 3}),
            "callDirection",
        ),
        (
            json!({"callerNum": A, "calleeNum": B, "userData": "{x}"}),
            "userData",
        ),
    ] {
        let response = app.post_binding(&token, &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "validation_failed");
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{error} should name {field}"
        );
    }
    // Nothing reached the platform.
    assert_eq!(app.state.sandbox.as_ref().unwrap().binding_count(), 0);
});

both_backends!(data_survives_a_restart, |backend: Backend| async move {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.writer("app-1");
    let created = app.bind(&token, A, B, X1).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let url = app.database_url.clone();
    let dir = tempfile::tempdir().unwrap();
    // A second process on the same database: same rows, migrations already applied.
    let restarted = crate::helpers::spawn_on(url, dir, crate::helpers::Upstream::Sandbox, |_| {})
        .await
        .unwrap();
    let fetched: Value = restarted
        .get(&token, &format!("/v1/bindings/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["status"], "active");
    assert_eq!(fetched["subscriptionId"], created["subscriptionId"]);
});

both_backends!(
    a_seven_digit_area_code_is_a_request_the_pool_can_serve,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        // The pool accepts 2-8 digit areas, so requests must too.
        let moved = app
            .patch(
                &app.token("ops", "admin"),
                &format!("/v1/numbers/{X2}"),
                &json!({"areaCode": "0755123"}),
            )
            .await;
        assert_eq!(moved.status(), 200, "{:?}", moved.text().await);
        let token = app.writer("app-1");
        let bound = app
            .post_binding(
                &token,
                &json!({"callerNum": A, "calleeNum": B, "areaCode": "0755123"}),
            )
            .await;
        assert_eq!(bound.status(), 201, "{:?}", bound.text().await);
        let bound: Value = bound.json().await.unwrap();
        assert_eq!(bound["relationNum"], X2);
        assert_eq!(bound["areaCode"], "0755123");
    }
);
