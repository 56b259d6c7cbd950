//! `query_all_on_x` walks every page of bindings on one X.

use pns_upstream::{PAGE_SIZE, UpstreamError, query_all_on_x};
use wiremock::Mock;
use wiremock::matchers::{method, path, query_param};

use crate::helpers::*;

async fn mount_page(app: &TestApp, index: u32, range: std::ops::Range<usize>, total: usize) {
    Mock::given(method("GET"))
        .and(path(BIND_PATH))
        .and(query_param("relationNum", X))
        .and(query_param("pageIndex", index.to_string()))
        .and(query_param("pageSize", PAGE_SIZE.to_string()))
        .respond_with(query_page(range, total))
        .expect(1)
        .mount(&app.server)
        .await;
}

#[tokio::test]
async fn walks_three_pages_until_the_total_is_reached() {
    let app = spawn_app().await;
    mount_page(&app, 1, 0..100, 250).await;
    mount_page(&app, 2, 100..200, 250).await;
    mount_page(&app, 3, 200..250, 250).await;

    let all = query_all_on_x(app.client.as_ref(), X).await.unwrap();

    let ids: Vec<String> = all.into_iter().map(|b| b.subscription_id).collect();
    let expected: Vec<String> = (0..250).map(|n| format!("sub-{n}")).collect();
    assert_eq!(ids, expected);
    app.assert_all_signed().await;
}

#[tokio::test]
async fn an_x_without_bindings_is_an_empty_list() {
    let app = spawn_app().await;
    mount_page(&app, 1, 0..0, 0).await;
    assert!(
        query_all_on_x(app.client.as_ref(), X)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn record_not_found_ends_the_walk_without_an_error() {
    let app = spawn_app().await;
    mount_page(&app, 1, 0..100, 150).await;
    Mock::given(method("GET"))
        .and(query_param("pageIndex", "2"))
        .respond_with(rejection(400, "1012007"))
        .expect(1)
        .mount(&app.server)
        .await;

    let all = query_all_on_x(app.client.as_ref(), X).await.unwrap();
    assert_eq!(all.len(), 100);
}

#[tokio::test]
async fn other_errors_stop_the_walk() {
    let app = spawn_app().await;
    mount_page(&app, 1, 0..100, 150).await;
    Mock::given(method("GET"))
        .and(query_param("pageIndex", "2"))
        .respond_with(rejection(403, "1010003"))
        .expect(1)
        .mount(&app.server)
        .await;

    let err = query_all_on_x(app.client.as_ref(), X).await.unwrap_err();
    assert!(matches!(
        err,
        UpstreamError::Rejected {
            http_status: 403,
            ..
        }
    ));
}

#[tokio::test]
async fn without_a_total_count_a_short_page_is_the_last() {
    let app = spawn_app().await;
    let list: Vec<_> = (0..30).map(binding).collect();
    Mock::given(method("GET"))
        .and(query_param("pageIndex", "1"))
        .respond_with(answer(
            200,
            serde_json::json!({"resultcode": "0", "relationNumList": list}),
        ))
        .expect(1)
        .mount(&app.server)
        .await;

    assert_eq!(
        query_all_on_x(app.client.as_ref(), X).await.unwrap().len(),
        30
    );
}
