//! Several gateway instances on one PostgreSQL behave as one service: no double allocation under
//! concurrent load, every platform binding in the table, periodic jobs run once per interval.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::time::Duration;

use futures::StreamExt;
use gateway::db::entity::{binding_parties, bindings, reconcile_runs, x_numbers};
use gateway::domain::BindingStatus;
use gateway::service::jobs;
use pns_sim::{SimConfig, SimNumber};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, Upstream, spawn_app, spawn_app_with, spawn_on};

const NUMBERS: [&str; 4] = [
    "+8617100000001",
    "+8617100000002",
    "+8617100000003",
    "+8617100000004",
];

/// Small deterministic generator: the load is the same on every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Two gateways on one fresh PostgreSQL database, both talking to one simulated platform that owns
/// `NUMBERS`, which are imported into the pool (capacity 25 each).
async fn two_instances() -> Option<(pns_sim::RunningSim, TestApp, TestApp)> {
    let sim = pns_sim::start(
        SimConfig::new(
            "test-app-key",
            "test-app-secret",
            NUMBERS.iter().map(|n| SimNumber::new(*n, "0755")).collect(),
        ),
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .await
    .unwrap();
    let tweak = |raw: &mut gateway::settings::RawSettings| {
        raw.upstream_timeout_ms = 2_000;
        raw.upstream_connect_timeout_ms = 500;
        raw.reconcile_interval_secs = 1;
        raw.sweep_interval_secs = 1;
    };
    let one = spawn_app_with(Backend::Postgres, Upstream::Url(sim.base_url()), tweak).await?;
    let two = spawn_on(
        one.database_url.clone(),
        tempfile::tempdir().unwrap(),
        Upstream::Url(sim.base_url()),
        tweak,
    )
    .await
    .unwrap();
    let numbers: Vec<Value> = NUMBERS
        .iter()
        .map(|n| json!({"number": n, "areaCode": "0755", "capacity": 25}))
        .collect();
    let imported = one
        .post_json(&one.admin(), "/v1/numbers", &json!({"numbers": numbers}))
        .await;
    assert_eq!(imported.status(), 201);
    Some((sim, one, two))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_pool_without_double_allocation() {
    let t0 = std::time::Instant::now();
    let Some((sim, one, two)) = two_instances().await else {
        return;
    };

    // 300 binds over 16 parties, half through each instance, 48 at a time; every third success is
    // unbound again through the other instance, so the pool keeps churning.
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let requests: Vec<(usize, String, String)> = (0..300)
        .map(|i| {
            let a = rng.below(16);
            let b = (a + 1 + rng.below(15)) % 16;
            (i % 2, format!("+86186{a:08}"), format!("+86186{b:08}"))
        })
        .collect();
    let apps = [&one, &two];
    let tokens = [one.writer("load"), two.writer("load")];
    let statuses: Vec<(u16, Value)> = futures::stream::iter(requests.into_iter().enumerate())
        .map(|(n, (i, a, b))| {
            let (app, token) = (apps[i], &tokens[i]);
            let (other, other_token) = (apps[1 - i], &tokens[1 - i]);
            async move {
                let (status, body) = app.pick(token, &a, &b, json!({"areaCode": "0755"})).await;
                if status == 201 && n % 3 == 0 {
                    let id = body["id"].as_str().unwrap();
                    let ended = other
                        .delete(other_token, &format!("/v1/bindings/{id}"))
                        .await;
                    assert_eq!(ended.status(), 200);
                }
                (status, body)
            }
        })
        .buffer_unordered(48)
        .collect()
        .await;
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for (status, body) in &statuses {
        *by_status.entry(*status).or_default() += 1;
        assert!(
            *status == 201 || (*status == 409 && body["code"] == "pool_exhausted"),
            "{status}: {body}"
        );
    }
    assert!(by_status[&201] > 20, "{by_status:?}");

    // The table and the platform agree, binding for binding.
    let db = &one.state.db;
    let rows = bindings::Entity::find().all(db).await.unwrap();
    assert!(
        rows.iter().all(|r| r.status != BindingStatus::Pending),
        "nothing left in doubt"
    );
    let local: HashSet<(String, String, String, String)> = rows
        .iter()
        .filter(|r| r.status == BindingStatus::Active)
        .map(|r| {
            (
                r.subscription_id.clone().unwrap(),
                r.relation_num.clone().unwrap(),
                r.caller_num.clone(),
                r.callee_num.clone(),
            )
        })
        .collect();
    let upstream: HashSet<(String, String, String, String)> = sim
        .control()
        .bindings()
        .into_iter()
        .map(|b| {
            (
                b.subscription_id,
                b.relation_num,
                b.caller_num,
                b.callee_num,
            )
        })
        .collect();
    let unbound = rows
        .iter()
        .filter(|r| r.status == BindingStatus::Unbound)
        .count();
    assert_eq!(local.len() + unbound, by_status[&201]);
    assert_eq!(local, upstream);

    // The invariant and the counters, as stored.
    let mut pairs = HashSet::new();
    let mut per_x: HashMap<&str, i32> = HashMap::new();
    for (_, x, a, b) in &local {
        assert!(
            pairs.insert((x, a)) && pairs.insert((x, b)),
            "{x} holds a party twice"
        );
        *per_x.entry(x.as_str()).or_default() += 1;
    }
    for x in x_numbers::Entity::find().all(db).await.unwrap() {
        assert_eq!(
            x.in_use,
            per_x.get(x.number.as_str()).copied().unwrap_or(0),
            "{}",
            x.number
        );
        assert!(x.in_use <= x.capacity);
    }

    // Once every row has been still for longer than an upstream call, both instances reconciling at
    // once find nothing to correct.
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    let (admin, empty) = (one.admin(), json!({}));
    let (first, second) = tokio::join!(
        one.post_json(&admin, "/v1/admin/reconcile", &empty),
        two.post_json(&admin, "/v1/admin/reconcile", &empty),
    );
    for run in [first, second] {
        let run: Value = run.json().await.unwrap();
        assert_eq!(run["status"], "done");
        assert_eq!(run["numbersChecked"], 4);
        assert_eq!(run["findings"], json!([]), "{run}");
    }

    // Reconciliation also ran on a schedule during all this, once per interval across both
    // instances, and found nothing to correct.
    let runs = reconcile_runs::Entity::find()
        .filter(reconcile_runs::Column::Trigger.eq("scheduled"))
        .all(db)
        .await
        .unwrap();
    // One leader runs each 1 s round; two instances without a leader would run twice as often.
    let most = t0.elapsed().as_millis() as usize / 1000 + 2;
    assert!(!runs.is_empty());
    assert!(
        runs.len() <= most,
        "{} runs in {:?}: more than one per interval",
        runs.len(),
        t0.elapsed()
    );
    for run in runs.iter().filter(|r| r.status == "done") {
        assert_eq!(
            (
                run.failed_pending,
                run.missing_upstream,
                run.orphans,
                run.corrected
            ),
            (0, 0, 0, 0),
            "{run:?}"
        );
    }
}

both_backends!(a_job_round_has_one_leader, |backend: Backend| async move {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let lease = Duration::from_secs(2);
    let lead = |job: &'static str, holder: &'static str| async move {
        jobs::try_lead(db, job, holder, lease).await.unwrap()
    };
    assert!(lead("test-job", "instance-a").await);
    assert!(!lead("test-job", "instance-b").await);
    // The leader keeps its lease round after round.
    assert!(lead("test-job", "instance-a").await);
    assert!(!lead("test-job", "instance-b").await);
    assert!(lead("other-job", "instance-b").await);
    // A leader that stops renewing is replaced once its lease has run out.
    tokio::time::sleep(lease).await;
    assert!(lead("test-job", "instance-b").await);
    assert!(!lead("test-job", "instance-a").await);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_of_one_binding_lose_no_update() {
    let Some((sim, one, two)) = two_instances().await else {
        return;
    };
    let token = one.writer("app-1");
    let (status, bound) = one
        .pick(&token, "+8618600000001", "+8618600000002", json!({}))
        .await;
    assert_eq!(status, 201);
    let id = bound["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/bindings/{id}");
    // Twenty changes of B at once, through both instances.
    let apps = [&one, &two];
    let results: Vec<u16> = futures::stream::iter(0..20u32)
        .map(|i| {
            let (app, token, path) = (apps[i as usize % 2], &token, &path);
            async move {
                let callee = format!("+861870000{i:04}");
                app.patch(
                    token,
                    path,
                    &json!({"calleeNum": callee, "callDirection": i % 3}),
                )
                .await
                .status()
                .as_u16()
            }
        })
        .buffer_unordered(20)
        .collect()
        .await;
    assert!(
        results.iter().all(|s| *s == 200 || *s == 409),
        "{results:?}"
    );
    assert!(results.contains(&200));

    // Whatever won, the table says what the platform says, and X holds exactly the two parties.
    let row = bindings::Entity::find_by_id(uuid::Uuid::parse_str(&id).unwrap())
        .one(&one.state.db)
        .await
        .unwrap()
        .unwrap();
    let upstream = sim.control().bindings();
    assert_eq!(upstream.len(), 1);
    assert_eq!(row.callee_num, upstream[0].callee_num);
    assert_eq!(Some(row.call_direction as u8), upstream[0].call_direction);
    let parties: HashSet<String> = binding_parties::Entity::find()
        .filter(binding_parties::Column::RelationNum.eq(row.relation_num.clone().unwrap()))
        .all(&one.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.party_num)
        .collect();
    assert_eq!(parties, HashSet::from([row.caller_num, row.callee_num]));
}
