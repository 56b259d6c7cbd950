//! The number pool: admin operations, allocation (spread, area, status, reserve, capacity), the
//! messages of an exhausted pool, retries when the platform refuses the picked X, and a property test.

use std::collections::{HashMap, HashSet};

use pns_sim::Fault;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, spawn_app};

// The sandbox seeds these (three in 0755, two in 010).
const X1: &str = "+8617000000001";
const X2: &str = "+8617000000002";
const X3: &str = "+8617000000003";
const X4: &str = "+8617000000004";
const X5: &str = "+8617000000005";

fn party(n: u32) -> String {
    format!("+86186{n:08}")
}

/// The AXB invariant on the platform's side: on one X, a real number is in one live binding at most.
fn assert_one_live_binding_per_party(upstream: &[pns_core::wire::BindingInfo]) {
    let mut claimed = HashSet::new();
    for b in upstream {
        for party in [&b.caller_num, &b.callee_num] {
            assert!(
                claimed.insert((&b.relation_num, party)),
                "{} is bound twice on {}",
                party,
                b.relation_num
            );
        }
    }
}

impl TestApp {
    pub fn admin(&self) -> String {
        self.token("ops", "admin")
    }

    /// `/metrics` as an admin reads it.
    pub async fn metrics(&self) -> String {
        self.get(&self.admin(), "/metrics")
            .await
            .text()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Binds without `relationNum`: the pool picks. Returns (status, body).
    pub async fn pick(
        &self,
        token: &str,
        caller: &str,
        callee: &str,
        extra: Value,
    ) -> (u16, Value) {
        let mut body = json!({"callerNum": caller, "calleeNum": callee});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let response = self.post_binding(token, &body).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn numbers(&self) -> HashMap<String, Value> {
        self.all_pages(&self.admin(), "/v1/numbers", 200)
            .await
            .iter()
            .map(|n| (n["number"].as_str().unwrap().to_owned(), n.clone()))
            .collect()
    }

    pub async fn set_number(&self, number: &str, patch: Value) {
        let response = self
            .patch(&self.admin(), &format!("/v1/numbers/{number}"), &patch)
            .await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }
}

both_backends!(
    numbers_are_admin_only_and_managed,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let writer = app.writer("app-1");
        let admin = app.admin();
        assert_eq!(app.get(&writer, "/v1/numbers").await.status(), 403);
        let refused = app
            .post_json(
                &writer,
                "/v1/numbers",
                &json!({"number": "+8617000000009", "areaCode": "020"}),
            )
            .await;
        assert_eq!(refused.status(), 403);

        // The sandbox's numbers are in the pool from the start.
        let pool = app.numbers().await;
        assert_eq!(pool.len(), 5);
        assert_eq!(pool[X1]["status"], "normal");
        assert_eq!(pool[X1]["capacity"], 5000);
        assert_eq!(pool[X4]["areaCode"], "010");

        let one = app
        .post_json(&admin, "/v1/numbers", &json!({"number": "+8617000000009", "areaCode": "020", "capacity": 10, "reserved": true}))
        .await;
        assert_eq!(one.status(), 201);
        let one: Value = one.json().await.unwrap();
        assert_eq!(one["created"][0]["capacity"], 10);
        assert_eq!(one["created"][0]["reserved"], true);
        assert_eq!(one["created"][0]["inUse"], 0);
        let again = app
            .post_json(
                &admin,
                "/v1/numbers",
                &json!({"number": "+8617000000009", "areaCode": "020"}),
            )
            .await;
        crate::helpers::expect_error(again, 409, "conflict").await;

        let bulk: Value = app
            .post_json(
                &admin,
                "/v1/numbers",
                &json!({"numbers": [
                    {"number": "+8617000000009", "areaCode": "020"},
                    {"number": "+8617000000010", "areaCode": "020"},
                    {"number": "+8617000000011", "areaCode": "021"},
                ]}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(bulk["created"].as_array().unwrap().len(), 2);
        assert_eq!(bulk["skipped"], json!(["+8617000000009"]));
        let invalid = app
            .post_json(
                &admin,
                "/v1/numbers",
                &json!({"numbers": [{"number": "12", "areaCode": "020"}]}),
            )
            .await;
        assert_eq!(invalid.status(), 422);
        assert!(invalid.text().await.unwrap().contains("numbers[0].number"));

        let pool = app.numbers().await;
        assert_eq!(pool.len(), 8);

        // Change it, then remove it.
        let patched: Value = app
            .patch(
                &admin,
                "/v1/numbers/%2B8617000000011",
                &json!({"capacity": 7, "areaCode": "022", "reserved": true}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                patched["capacity"].clone(),
                patched["areaCode"].clone(),
                patched["reserved"].clone()
            ),
            (json!(7), json!("022"), json!(true))
        );
        assert_eq!(
            app.patch(
                &admin,
                "/v1/numbers/+8617000000099",
                &json!({"capacity": 7})
            )
            .await
            .status(),
            404
        );
        assert_eq!(
            app.delete(&admin, "/v1/numbers/+8617000000011")
                .await
                .status(),
            204
        );
        assert_eq!(
            app.delete(&admin, "/v1/numbers/+8617000000011")
                .await
                .status(),
            404
        );

        // A number holding a binding cannot be removed until the binding ends.
        let bound = app.bind(&writer, &party(1), &party(2), X5).await;
        assert_eq!(app.numbers().await[X5]["inUse"], 1);
        let busy = app.delete(&admin, &format!("/v1/numbers/{X5}")).await;
        crate::helpers::expect_error(busy, 409, "conflict").await;
        let id = bound["id"].as_str().unwrap();
        assert_eq!(
            app.delete(&writer, &format!("/v1/bindings/{id}"))
                .await
                .status(),
            200
        );
        assert_eq!(app.numbers().await[X5]["inUse"], 0);
        assert_eq!(
            app.count("binding_parties").await,
            0,
            "the parties are free again"
        );
        assert_eq!(
            app.delete(&admin, &format!("/v1/numbers/{X5}"))
                .await
                .status(),
            204
        );
    }
);

both_backends!(
    allocation_spreads_load_within_the_area,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let mut picked = Vec::new();
        for i in 0..6 {
            let (status, body) = app
                .pick(
                    &token,
                    &party(10 + 2 * i),
                    &party(11 + 2 * i),
                    json!({"areaCode": "0755"}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            assert_eq!(body["status"], "active");
            picked.push(body["relationNum"].as_str().unwrap().to_owned());
        }
        // Least used first, ties by number: round-robin over the three 0755 numbers.
        assert_eq!(picked, [X1, X2, X3, X1, X2, X3]);
        let pool = app.numbers().await;
        assert_eq!(
            (pool[X1]["inUse"].clone(), pool[X4]["inUse"].clone()),
            (json!(2), json!(0))
        );

        // Strict area: none in 0999. Loose: any area.
        let (status, body) = app
            .pick(&token, &party(90), &party(91), json!({"areaCode": "0999"}))
            .await;
        assert_eq!(status, 409);
        assert_eq!(body["code"], "pool_exhausted");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("no X number in area 0999"),
            "{body}"
        );
        let (status, body) = app
            .pick(
                &token,
                &party(90),
                &party(91),
                json!({"areaCode": "0999", "areaMatchMode": "loose"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert!(
            [X4, X5].contains(&body["relationNum"].as_str().unwrap()),
            "least used overall: {body}"
        );

        // No areaCode: anywhere, least used first.
        let (status, body) = app.pick(&token, &party(92), &party(93), json!({})).await;
        assert_eq!(status, 201);
        assert!([X4, X5].contains(&body["relationNum"].as_str().unwrap()));
    }
);

both_backends!(exhausted_pool_says_why, |backend: Backend| async move {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.writer("app-1");
    let a = party(1);
    // A takes every 0755 number (with three different partners).
    for i in 0..3 {
        let (status, body) = app
            .pick(&token, &a, &party(20 + i), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = app
        .pick(&token, &a, &party(30), json!({"areaCode": "0755"}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "pool_exhausted");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("every X number in area 0755 already binds"),
        "{message}"
    );
    assert!(
        !message.contains(&a),
        "numbers are masked in messages: {message}"
    );
    // Loose: another city when this one has nothing free for these parties.
    let (status, body) = app
        .pick(
            &token,
            &a,
            &party(30),
            json!({"areaCode": "0755", "areaMatchMode": "loose"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["relationNum"], X4);
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&token, &format!("/v1/bindings/{id}"))
            .await
            .status(),
        200
    );
    // B is free, so B with someone else still finds a number.
    let (status, _) = app
        .pick(&token, &party(30), &party(31), json!({"areaCode": "0755"}))
        .await;
    assert_eq!(status, 201);

    // Capacity: 010 numbers hold one binding each.
    app.set_number(X4, json!({"capacity": 1})).await;
    app.set_number(X5, json!({"capacity": 1})).await;
    for i in 0..2 {
        let (status, _) = app
            .pick(
                &token,
                &party(40 + 2 * i),
                &party(41 + 2 * i),
                json!({"areaCode": "010"}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, body) = app
        .pick(&token, &party(50), &party(51), json!({"areaCode": "010"}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "pool_exhausted");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("every X number in area 010 is at capacity"),
        "{body}"
    );

    // The refused requests left no rows behind: six bindings and the loose one, unbound.
    let page: Value = app
        .get(&token, "/v1/bindings?limit=200")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 7);
});

both_backends!(
    status_and_reserve_take_a_number_out_of_allocation,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        // What the numStatus callback writes: X1 suspended, X2 frozen for new bindings.
        app.state
            .db
            .execute_unprepared(&format!(
                "UPDATE x_numbers SET status = 'suspended' WHERE number = '{X1}'"
            ))
            .await
            .unwrap();
        app.state
            .db
            .execute_unprepared(&format!(
                "UPDATE x_numbers SET status = 'frozen' WHERE number = '{X2}'"
            ))
            .await
            .unwrap();
        for i in 0..3 {
            let (status, body) = app
                .pick(
                    &token,
                    &party(2 * i),
                    &party(2 * i + 1),
                    json!({"areaCode": "0755"}),
                )
                .await;
            assert_eq!(status, 201);
            assert_eq!(body["relationNum"], X3);
        }
        app.set_number(X3, json!({"reserved": true})).await;
        let (status, body) = app
            .pick(&token, &party(60), &party(61), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 409);
        assert_eq!(body["code"], "pool_exhausted");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("2 are not in normal status") && message.contains("1 are reserved"),
            "{message}"
        );
        // A reserved number can still be asked for by name.
        app.bind(&token, &party(60), &party(61), X3).await;
        // Back to normal: allocatable again.
        app.state
            .db
            .execute_unprepared(&format!(
                "UPDATE x_numbers SET status = 'normal' WHERE number = '{X1}'"
            ))
            .await
            .unwrap();
        let (status, body) = app
            .pick(&token, &party(62), &party(63), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 201);
        assert_eq!(body["relationNum"], X1);
    }
);

both_backends!(
    platform_refusing_the_picked_x_is_retried_on_another,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        sim.inject(Fault::ResultCode {
            code: "1012010".into(),
            http_status: 400,
            times: 1,
            operation: Some(pns_sim::Op::Bind),
        });
        let (status, body) = app
            .pick(&token, &party(1), &party(2), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["relationNum"], X2, "X1 was refused, X2 is next");
        let pool = app.numbers().await;
        assert_eq!(
            (pool[X1]["inUse"].clone(), pool[X2]["inUse"].clone()),
            (json!(0), json!(1))
        );

        // Bounded: after three refusals the caller gets the platform's answer and the row ends failed.
        sim.inject(Fault::ResultCode {
            code: "1012009".into(),
            http_status: 400,
            times: 5,
            operation: Some(pns_sim::Op::Bind),
        });
        let (status, body) = app
            .pick(&token, &party(3), &party(4), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["code"], "binding_conflict");
        assert_eq!(body["upstreamCode"], "1012009");
        assert_eq!(sim.faults().len(), 1, "exactly three attempts were made");
        sim.clear_faults();
        let pool = app.numbers().await;
        let used: i64 = [X1, X2, X3]
            .iter()
            .map(|x| pool[*x]["inUse"].as_i64().unwrap())
            .sum();
        assert_eq!(used, 1, "the failed binding released every X it held");
    }
);

both_backends!(
    a_number_status_callback_takes_x_out_of_allocation,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        // The platform says X1 is suspended and X2 unavailable (arrears): it posts numStatus to us.
        sim.push_num_status(vec![
            pns_core::NumStatusInfo {
                number: X1.into(),
                status: 9,
                cause: None,
                timestamp: None,
            },
            pns_core::NumStatusInfo {
                number: X2.into(),
                status: 10,
                cause: Some(2),
                timestamp: None,
            },
        ])
        .await
        .unwrap();
        let pool = app.numbers().await;
        assert_eq!(pool[X1]["status"], "suspended");
        assert_eq!(
            (pool[X2]["status"].clone(), pool[X2]["statusCause"].clone()),
            (json!("unavailable"), json!(2))
        );
        assert!(pool[X1]["statusUpdatedAt"].is_string());
        for i in 0..3 {
            let (status, body) = app
                .pick(
                    &token,
                    &party(2 * i),
                    &party(2 * i + 1),
                    json!({"areaCode": "0755"}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            assert_eq!(body["relationNum"], X3);
        }
        // Back to normal (status 5): allocatable again.
        sim.push_num_status(vec![pns_core::NumStatusInfo {
            number: X1.into(),
            status: 5,
            cause: None,
            timestamp: None,
        }])
        .await
        .unwrap();
        let (status, body) = app
            .pick(&token, &party(10), &party(11), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 201);
        assert_eq!(body["relationNum"], X1);
    }
);

both_backends!(
    an_empty_pool_lets_the_platform_pick,
    |backend: Backend| async move {
        let numbers = vec![pns_sim::SimNumber::new("+8617200000001", "0755")];
        let sim = pns_sim::start(
            pns_sim::SimConfig::new("test-app-key", "test-app-secret", numbers),
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        )
        .await
        .unwrap();
        let Some(app) = crate::helpers::spawn_app_with(
            backend,
            crate::helpers::Upstream::Url(sim.base_url()),
            |_| {},
        )
        .await
        else {
            return;
        };
        assert!(app.numbers().await.is_empty());
        let token = app.writer("app-1");
        let (status, body) = app
            .pick(&token, &party(1), &party(2), json!({"areaCode": "0755"}))
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            body["relationNum"], "+8617200000001",
            "recorded as the platform picked it"
        );
        assert_eq!(body["status"], "active");
        // The invariant holds for the platform's pick too.
        let again = app
        .post_binding(&token, &json!({"callerNum": party(1), "calleeNum": party(3), "relationNum": "+8617200000001"}))
        .await;
        crate::helpers::expect_error(again, 409, "binding_conflict").await;
    }
);

both_backends!(
    concurrent_binds_keep_the_invariant,
    |backend: Backend| async move {
        use futures::StreamExt;
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        // 120 binds over 10 parties and the three 0755 numbers, 24 at a time.
        let results: Vec<(u16, Value)> = futures::stream::iter(0..120u32)
            .map(|i| {
                let (app, token) = (&app, &token);
                async move {
                    let (a, b) = (i % 10, (i * 7 + 3) % 10);
                    let b = if a == b { (b + 1) % 10 } else { b };
                    app.pick(token, &party(a), &party(b), json!({"areaCode": "0755"}))
                        .await
                }
            })
            .buffer_unordered(24)
            .collect()
            .await;
        for (status, body) in &results {
            assert!(
                *status == 201 || body["code"] == "pool_exhausted",
                "{status}: {body}"
            );
        }
        // At most 5 disjoint pairs fit on each of the 3 numbers, and the pool fills up completely.
        let made = results.iter().filter(|(s, _)| *s == 201).count();
        assert_eq!(made, 15);
        let upstream = app.state.sandbox.as_ref().unwrap().bindings();
        assert_eq!(upstream.len(), made);
        assert_one_live_binding_per_party(&upstream);
        let pool = app.numbers().await;
        assert_eq!(
            [X1, X2, X3].map(|x| pool[x]["inUse"].as_i64().unwrap()),
            [5, 5, 5]
        );
    }
);

both_backends!(
    racing_binds_and_unbinds_on_named_numbers_keep_the_counts,
    |backend: Backend| async move {
        use futures::StreamExt;
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        // 240 binds over 6 parties on X1 and X2, 32 at a time, two of three unbound right away:
        // claims and releases of the same (X, party) rows race each other.
        let results: Vec<(u16, Value, u16)> = futures::stream::iter(0..240u32)
            .map(|i| {
                let (app, token) = (&app, &token);
                async move {
                    let x = if i % 2 == 0 { X1 } else { X2 };
                    let (a, b) = (party(i % 6), party((i * 5 + 1) % 6));
                    let response = app
                        .post_binding(
                            token,
                            &json!({"callerNum": a, "calleeNum": b, "relationNum": x}),
                        )
                        .await;
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap();
                    let unbound = match body["id"].as_str() {
                        Some(id) if status == 201 && i % 3 != 0 => app
                            .delete(token, &format!("/v1/bindings/{id}"))
                            .await
                            .status()
                            .as_u16(),
                        _ => 0,
                    };
                    (status, body, unbound)
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        for (status, body, unbound) in &results {
            assert!(
                *status == 201 || (*status == 409 && body["code"] == "binding_conflict"),
                "{status}: {body}"
            );
            assert!(matches!(unbound, 0 | 200), "unbind answered {unbound}");
        }
        let made = results.iter().filter(|(s, _, _)| *s == 201).count();
        let unbound = results.iter().filter(|(_, _, u)| *u == 200).count();
        assert!(
            made > 6 && made < 240 && unbound > 0,
            "the binds and unbinds raced: {made} of 240 bound, {unbound} unbound"
        );
        // The platform, the table and the pool's counts agree afterwards.
        let upstream = app.state.sandbox.as_ref().unwrap().bindings();
        assert_one_live_binding_per_party(&upstream);
        let listed: Value = app
            .get(&token, "/v1/bindings?status=active&limit=200")
            .await
            .json()
            .await
            .unwrap();
        let active: HashSet<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["subscriptionId"].as_str().unwrap())
            .collect();
        let live: HashSet<&str> = upstream
            .iter()
            .map(|b| b.subscription_id.as_str())
            .collect();
        assert_eq!(
            active, live,
            "the active bindings the API lists are the platform's"
        );
        let pool = app.numbers().await;
        for x in [X1, X2] {
            let live = upstream.iter().filter(|b| b.relation_num == x).count();
            assert_eq!(pool[x]["inUse"].as_u64(), Some(live as u64), "{x}");
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_seeding_is_idempotent_across_restarts() {
    let Some(first) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    first
        .set_number(X1, json!({"capacity": 3, "reserved": true}))
        .await;
    let token = first.writer("app-1");
    first.bind(&token, &party(1), &party(2), X2).await;
    // A second start on the same database (a restart, or a second instance) seeds again.
    let again = crate::helpers::spawn_on(
        first.database_url.clone(),
        tempfile::tempdir().unwrap(),
        crate::helpers::Upstream::Sandbox,
        |_| {},
    )
    .await
    .unwrap();
    let pool = again.numbers().await;
    assert_eq!(pool.len(), 5);
    assert_eq!(
        (pool[X1]["capacity"].clone(), pool[X1]["reserved"].clone()),
        (json!(3), json!(true)),
        "admin changes are kept"
    );
    assert_eq!(pool[X2]["inUse"], 1);
}
