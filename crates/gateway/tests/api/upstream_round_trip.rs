//! pns-upstream's real client against the real simulator: every operation round-trips over signed
//! HTTP. It lives here, not in pns-upstream, so the client crate does not depend on our own double
//! (its own tests check it against wiremock with the platform's recorded answers).

use std::net::TcpListener;

use pns_core::aksk::Credentials;
use pns_core::phone::PhoneNumber;
use pns_core::result_code::ResultCode;
use pns_core::types::SubscriptionId;
use pns_core::wire::{BindRequest, ModifyRequest, QueryParams};
use pns_sim::{CallOutcome, CallScript, Party, SimConfig, SimNumber};
use pns_upstream::{ClientConfig, HuaweiClient, Upstream, UpstreamError, query_all_on_x};
use url::Url;

const X: &str = "+8617000000001";
const A: &str = "+8618612345678";
const B: &str = "+8618612345679";

async fn sim_and_client() -> (pns_sim::RunningSim, HuaweiClient) {
    let config = SimConfig::new(
        "rt-key",
        "rt-secret",
        vec![
            SimNumber::new(X, "0755"),
            SimNumber::new("+8617000000002", "0755"),
        ],
    );
    let sim = pns_sim::start(config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .unwrap();
    let client = HuaweiClient::new(ClientConfig::new(
        Url::parse(&sim.base_url()).unwrap(),
        Credentials::new("rt-key", "rt-secret"),
    ))
    .unwrap();
    (sim, client)
}

fn bind_request(caller: &str, callee: &str) -> BindRequest {
    BindRequest {
        relation_num: Some(X.into()),
        caller_num: caller.into(),
        callee_num: callee.into(),
        ..BindRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_round_trips_against_the_simulator() {
    let (sim, client) = sim_and_client().await;

    let bound = client.bind(&bind_request(A, B)).await.expect("bind");
    let sub = bound.subscription_id.clone().expect("subscriptionId");
    assert_eq!(bound.relation_num.as_deref(), Some(X));
    let sub_id = SubscriptionId::parse(&sub).unwrap();

    // The invariant: B cannot be bound again on the same X.
    let refused = client
        .bind(&bind_request(B, "+8618612340000"))
        .await
        .unwrap_err();
    assert!(
        matches!(refused.result_code(), Some(ResultCode::BindingExists)),
        "{refused:?}"
    );

    let found = client
        .query(&QueryParams {
            subscription_id: Some(sub.clone()),
            ..QueryParams::default()
        })
        .await
        .expect("query");
    assert_eq!(found.relation_num_list.len(), 1);
    assert_eq!(found.relation_num_list[0].caller_num, A);

    client
        .modify(&ModifyRequest {
            subscription_id: sub.clone(),
            callee_num: Some("+8618612340001".into()),
            duration: Some(600),
            ..ModifyRequest::default()
        })
        .await
        .expect("modify");
    let all = query_all_on_x(&client, X).await.expect("query all");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].callee_num, "+8618612340001");

    // A recorded call gives a CDR whose recording the record API redirects to.
    let control = sim.control();
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    control.set_callback_url(Some(receiver.uri()));
    let report = control
        .play_call(CallScript {
            subscription_id: sub.clone(),
            from: Party::Caller,
            outcome: CallOutcome::Answered,
            talk_seconds: 30,
            record: true,
        })
        .await;
    let report = report.expect("play call");
    let (domain, file) = (
        report.record_domain.expect("recorded"),
        report.record_object_name.expect("recorded"),
    );
    let location = client.record_url(&domain, &file).await.expect("record url");
    assert!(location.starts_with("http"), "{location}");

    client.unbind(&sub_id).await.expect("unbind");
    let gone = client.unbind(&sub_id).await.unwrap_err();
    assert!(
        matches!(gone.result_code(), Some(ResultCode::RecordNotFound)),
        "{gone:?}"
    );

    // unbind_all_on_x removes every binding on X and nothing elsewhere.
    client.bind(&bind_request(A, B)).await.unwrap();
    client
        .bind(&bind_request("+8618612340002", "+8618612340003"))
        .await
        .unwrap();
    let mut other = bind_request(A, B);
    other.relation_num = Some("+8617000000002".into());
    client.bind(&other).await.unwrap();
    client
        .unbind_all_on_x(&PhoneNumber::parse(X).unwrap())
        .await
        .expect("unbind all");
    assert!(query_all_on_x(&client, X).await.unwrap().is_empty());
    assert_eq!(
        query_all_on_x(&client, "+8617000000002")
            .await
            .unwrap()
            .len(),
        1
    );

    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_refused_as_a_configuration_error() {
    let (sim, _) = sim_and_client().await;
    let client = HuaweiClient::new(ClientConfig::new(
        Url::parse(&sim.base_url()).unwrap(),
        Credentials::new("rt-key", "not-the-secret"),
    ))
    .unwrap();
    let err = client.bind(&bind_request(A, B)).await.unwrap_err();
    assert!(
        matches!(
            err,
            UpstreamError::Rejected {
                http_status: 403,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(sim.control().binding_count(), 0);
    sim.stop().await;
}
