//! A pool number the platform refuses as not this app's (1012001): the bind moves to another X, and
//! the number is marked unusable (visible to admins, counted in a metric) until an admin clears it.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

/// In the pool, unknown to the platform, and first in line (least used, lowest number).
const FOREIGN: &str = "+8617000000000";

fn party(i: u32) -> String {
    format!("+861860010{i:04}")
}

both_backends!(
    a_number_the_platform_says_is_not_ours_is_skipped_and_marked,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let admin = app.admin();
        let added = app
            .post_json(
                &admin,
                "/v1/numbers",
                &json!({"number": FOREIGN, "areaCode": "0755"}),
            )
            .await;
        assert_eq!(added.status(), 201);
        let token = app.writer("app-1");

        let (status, body) = app
            .pick(&token, &party(1), &party(2), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 201, "moved to another X: {body}");
        assert_ne!(body["relationNum"], FOREIGN);
        let pool = app.numbers().await;
        let reason = pool[FOREIGN]["unusableReason"].as_str().unwrap_or_default();
        assert!(reason.contains("1012001"), "{}", pool[FOREIGN]);
        assert!(pool[FOREIGN]["unusableSince"].is_string());
        assert_eq!(pool[FOREIGN]["inUse"], 0);

        // Never offered again: every later bind goes straight to a number of ours.
        for i in 0..3 {
            let (status, body) = app
                .pick(
                    &token,
                    &party(10 + 2 * i),
                    &party(11 + 2 * i),
                    json!({"areaCode": "0755"}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            assert_ne!(body["relationNum"], FOREIGN);
        }
        let metrics = app.metrics().await;
        assert!(
            metrics.contains("pns_pool_numbers_marked_unusable_total"),
            "the mark is counted"
        );

        // An admin clears it; it is offered (and refused, and marked) again.
        let cleared: Value = app
            .patch(
                &admin,
                &format!("/v1/numbers/{FOREIGN}"),
                &json!({"usable": true}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(cleared["unusableReason"], Value::Null);
        let (status, _) = app
            .pick(&token, &party(30), &party(31), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 201);
        assert!(app.numbers().await[FOREIGN]["unusableReason"].is_string());

        // Admins may also mark a number by hand; a writer may not.
        let marked: Value = app
            .patch(
                &admin,
                "/v1/numbers/+8617000000001",
                &json!({"usable": false}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(marked["unusableReason"].is_string());
        assert_eq!(
            app.patch(
                &token,
                "/v1/numbers/+8617000000001",
                &json!({"usable": true})
            )
            .await
            .status(),
            403
        );
    }
);
