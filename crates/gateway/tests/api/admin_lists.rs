//! Admin lists are bounded cursor pages: the pool, drift reports, a run's findings and orphans.
//! A pool or a drift report of any size never comes back in one unbounded answer.

use std::collections::HashSet;

use pns_core::wire::BindRequest;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

const X2: &str = "+8617000000002";

fn distinct(items: &[Value], field: &str) -> HashSet<String> {
    items
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

both_backends!(
    the_pool_list_pages_through_every_number_once,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let seeded = app.all_pages(&app.admin(), "/v1/numbers", 200).await.len();
        let numbers: Vec<Value> = (0..120)
            .map(|i| json!({"number": format!("+86171{i:08}"), "areaCode": "0755"}))
            .collect();
        let imported = app
            .post_json(&app.admin(), "/v1/numbers", &json!({"numbers": numbers}))
            .await;
        assert_eq!(imported.status(), 201);

        let first: Value = app
            .get(&app.admin(), "/v1/numbers")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(first["items"].as_array().unwrap().len(), 50, "default page");
        assert!(first["nextCursor"].is_string());

        let all = app.all_pages(&app.admin(), "/v1/numbers", 7).await;
        assert_eq!(all.len(), seeded + 120);
        assert_eq!(distinct(&all, "number").len(), seeded + 120, "none twice");

        // Filters and pages compose: only the imported area, in pages of 50.
        let area = app
            .all_pages(&app.admin(), "/v1/numbers?areaCode=0755&status=normal", 50)
            .await;
        assert!(area.len() >= 120);
        assert!(area.iter().all(|n| n["areaCode"] == "0755"));

        for bad in ["limit=0", "limit=201", "cursor=junk", "cursor=%00"] {
            let r = app.get(&app.admin(), &format!("/v1/numbers?{bad}")).await;
            assert_eq!(r.status(), 422, "{bad}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["code"], "validation_failed", "{bad}: {body}");
        }
    }
);

both_backends!(
    a_large_drift_report_is_paged_and_counted_in_full,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        // 60 bindings made behind the gateway's back: 60 orphans, 60 findings.
        for i in 0..60 {
            app.state
                .upstream
                .bind(&BindRequest {
                    relation_num: Some(X2.into()),
                    caller_num: format!("+86186{i:08}"),
                    callee_num: format!("+86187{i:08}"),
                    ..BindRequest::default()
                })
                .await
                .unwrap();
        }
        let response = app
            .post_json(&app.admin(), "/v1/admin/reconcile", &json!({}))
            .await;
        assert_eq!(response.status(), 201);
        let run: Value = response.json().await.unwrap();
        assert_eq!(run["counts"]["orphans"], 60, "{run}");
        assert_eq!(
            run["categories"]["orphan"], 60,
            "counted, not just the page"
        );
        assert_eq!(
            run["findings"].as_array().unwrap().len(),
            50,
            "first page only"
        );
        let id = run["id"].as_str().unwrap();

        // The rest through the findings list, from the run's own cursor.
        let rest: Value = app
            .get(
                &app.admin(),
                &format!(
                    "/v1/admin/reconcile/{id}/findings?cursor={}",
                    run["findingsNextCursor"].as_str().expect("a next cursor")
                ),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rest["items"].as_array().unwrap().len(), 10, "{rest}");
        assert!(rest["nextCursor"].is_null());
        let findings = app
            .all_pages(
                &app.admin(),
                &format!("/v1/admin/reconcile/{id}/findings"),
                13,
            )
            .await;
        assert_eq!(distinct(&findings, "subscriptionId").len(), 60);

        let orphans = app.all_pages(&app.admin(), "/v1/admin/orphans", 25).await;
        assert_eq!(distinct(&orphans, "subscriptionId").len(), 60);

        // A second run: the run list pages newest first.
        app.post_json(&app.admin(), "/v1/admin/reconcile", &json!({}))
            .await;
        let runs = app.all_pages(&app.admin(), "/v1/admin/reconcile", 1).await;
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1]["id"], id, "oldest last");

        let unknown = "/v1/admin/reconcile/01890000-0000-7000-8000-000000000000/findings";
        assert_eq!(app.get(&app.admin(), unknown).await.status(), 404);
        for path in ["/v1/admin/orphans", "/v1/admin/reconcile"] {
            let writer = app.writer("app-1");
            assert_eq!(app.get(&writer, path).await.status(), 403, "{path}");
            let r = app.get(&app.admin(), &format!("{path}?limit=500")).await;
            assert_eq!(r.status(), 422, "{path}");
        }
    }
);
