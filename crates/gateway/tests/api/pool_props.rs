//! Property test of allocation: random parties over a small pool, checked against a model.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

const X1: &str = "+8617000000001";
const X2: &str = "+8617000000002";
const X3: &str = "+8617000000003";

fn party(n: u32) -> String {
    format!("+86186{n:08}")
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Op {
    Bind(u32, u32),
    Unbind(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => (0u32..6, 0u32..6).prop_filter("distinct", |(a, b)| a != b).prop_map(|(a, b)| Op::Bind(a, b)),
        1 => (0usize..64).prop_map(Op::Unbind),
    ];
    proptest::collection::vec(op, 1..24)
}

/// Random parties over a small pool (three numbers, capacities 1..=3): the invariant never breaks,
/// a bind succeeds exactly when some number is free for both parties, and it gets the least used one.
#[test]
fn allocation_never_breaks_the_invariant_and_never_misses_a_free_number() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = ProptestConfig {
        cases: 16,
        ..ProptestConfig::default()
    };
    proptest!(config, |(capacities in proptest::collection::vec(1i64..=3, 3), steps in ops())| {
        runtime.block_on(check(capacities, steps));
    });
}

async fn check(capacities: Vec<i64>, steps: Vec<Op>) {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let token = app.writer("prop");
    let xs = [X1, X2, X3];
    for (x, cap) in xs.iter().zip(&capacities) {
        app.set_number(x, json!({"capacity": cap})).await;
    }
    // Model: live bindings as (id, x, a, b).
    let mut live: Vec<(String, String, String, String)> = Vec::new();
    for step in steps {
        match step {
            Op::Bind(a, b) => {
                let (a, b) = (party(a), party(b));
                let used = |x: &str| live.iter().filter(|l| l.1 == x).count() as i64;
                let free: Vec<&str> = xs
                    .iter()
                    .zip(&capacities)
                    .filter(|(x, cap)| {
                        used(x) < **cap
                            && !live.iter().any(|l| {
                                l.1 == **x && [&l.2, &l.3].iter().any(|p| **p == a || **p == b)
                            })
                    })
                    .map(|(x, _)| *x)
                    .collect();
                let (status, body) = app.pick(&token, &a, &b, json!({"areaCode": "0755"})).await;
                if free.is_empty() {
                    assert_eq!(status, 409, "no number was free: {body}");
                    assert_eq!(body["code"], "pool_exhausted");
                } else {
                    assert_eq!(status, 201, "{free:?} were free: {body}");
                    let x = body["relationNum"].as_str().unwrap().to_owned();
                    let least = free.iter().map(|f| used(f)).min().unwrap();
                    let expected = free.iter().find(|f| used(f) == least).unwrap();
                    assert_eq!(&x, expected, "least used, then lowest number");
                    live.push((body["id"].as_str().unwrap().to_owned(), x, a, b));
                }
            }
            Op::Unbind(i) if !live.is_empty() => {
                let (id, ..) = live.remove(i % live.len());
                assert_eq!(
                    app.delete(&token, &format!("/v1/bindings/{id}"))
                        .await
                        .status(),
                    200
                );
            }
            Op::Unbind(_) => {}
        }
        // The invariant, as stored.
        let mut seen = HashSet::new();
        for (_, x, a, b) in &live {
            assert!(seen.insert((x.clone(), a.clone())) && seen.insert((x.clone(), b.clone())));
        }
    }
    let pool = app.numbers().await;
    for x in xs {
        let used = live.iter().filter(|l| l.1 == x).count() as i64;
        assert_eq!(pool[x]["inUse"].as_i64().unwrap(), used, "inUse of {x}");
    }
}
