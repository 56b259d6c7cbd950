//! Reconciliation against a walk that is not a snapshot: pages that slide while X is walked, and a
//! platform that cannot answer the confirming query. A live binding is never ended on the walk alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use gateway::db::entity::bindings::{self, Entity as Bindings};
use gateway::service::reconcile::{self, Trigger};
use gateway::state::AppState;
use pns_core::phone::PhoneNumber;
use pns_core::result_code::ResultCode;
use pns_core::types::SubscriptionId;
use pns_core::wire::{BindRequest, BindResponse, ModifyRequest, QueryParams, QueryResponse};
use pns_upstream::{Upstream, UpstreamError};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, Upstream as Platform, spawn_app_with};

const X1: &str = "+8617000000001";

/// The simulated platform, with two faults a real one shows: `slide` bindings removed from X's first
/// page between the walk's page 1 and page 2 (page 2 then starts `slide` entries later and reports the
/// smaller total), and queries by subscriptionId that fail.
struct Drifting {
    inner: Arc<dyn Upstream>,
    slide: usize,
    fail_by_subscription: bool,
    slid_pages: AtomicUsize,
}

impl Drifting {
    fn new(inner: Arc<dyn Upstream>, slide: usize, fail_by_subscription: bool) -> Arc<Self> {
        Arc::new(Self {
            inner,
            slide,
            fail_by_subscription,
            slid_pages: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Upstream for Drifting {
    async fn bind(&self, req: &BindRequest) -> Result<BindResponse, UpstreamError> {
        self.inner.bind(req).await
    }
    async fn modify(&self, req: &ModifyRequest) -> Result<(), UpstreamError> {
        self.inner.modify(req).await
    }
    async fn unbind(&self, sub: &SubscriptionId) -> Result<(), UpstreamError> {
        self.inner.unbind(sub).await
    }
    async fn unbind_all_on_x(&self, x: &PhoneNumber) -> Result<(), UpstreamError> {
        self.inner.unbind_all_on_x(x).await
    }
    async fn query(&self, params: &QueryParams) -> Result<QueryResponse, UpstreamError> {
        if params.subscription_id.is_some() && self.fail_by_subscription {
            return Err(UpstreamError::Rejected {
                http_status: 500,
                code: ResultCode::InternalError(1_010_001),
                desc: "internal error".into(),
            });
        }
        let mut page = self.inner.query(params).await?;
        let walking = params.subscription_id.is_none() && params.caller_num.is_none();
        if walking && self.slide > 0 && params.page_index == Some(2) {
            let slide = self.slide.min(page.relation_num_list.len());
            page.relation_num_list.drain(..slide);
            page.total_count = page.total_count.map(|t| t - slide as u64);
            self.slid_pages.fetch_add(1, Ordering::SeqCst);
        }
        Ok(page)
    }
    async fn record_url(&self, domain: &str, file: &str) -> Result<String, UpstreamError> {
        self.inner.record_url(domain, file).await
    }
    async fn stop_call(&self, session_id: &str) -> Result<(), UpstreamError> {
        self.inner.stop_call(session_id).await
    }
}

/// Short upstream timeouts, so rows settle (are judged) half a second after their last change.
fn quick(raw: &mut gateway::settings::RawSettings) {
    raw.upstream_connect_timeout_ms = 100;
    raw.upstream_timeout_ms = 300;
}

fn with_upstream(app: &TestApp, upstream: Arc<dyn Upstream>) -> AppState {
    let mut state = app.state.clone();
    state.upstream = upstream;
    state
}

async fn active_rows(app: &TestApp) -> u64 {
    Bindings::find()
        .filter(bindings::Column::Status.eq("active"))
        .count(&app.state.db)
        .await
        .unwrap()
}

both_backends!(
    a_walk_whose_pages_slid_ends_no_live_binding,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Platform::Sandbox, quick).await else {
            return;
        };
        let token = app.writer("app-1");
        for i in 0..130 {
            let caller = format!("+86186100{i:05}");
            let callee = format!("+86187100{i:05}");
            app.bind(&token, &caller, &callee, X1).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;

        let drifting = Drifting::new(app.state.upstream.clone(), 10, false);
        let state = with_upstream(&app, drifting.clone());
        let run = reconcile::run(&state, Trigger::Manual).await.unwrap();
        assert!(
            drifting.slid_pages.load(Ordering::SeqCst) >= 1,
            "the walk of X1 had a slid second page"
        );
        assert_eq!(run.missing_upstream, 0, "{run:?}");
        assert_eq!(run.status, "done");
        assert_eq!(active_rows(&app).await, 130, "not one live binding ended");
        assert_eq!(app.numbers().await[X1]["inUse"], 130);
    }
);

both_backends!(
    a_binding_whose_absence_cannot_be_confirmed_is_not_judged,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Platform::Sandbox, quick).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        let bound = app
            .bind(&token, "+8618600000001", "+8618600000002", X1)
            .await;
        assert!(sim.expire_now(bound["subscriptionId"].as_str().unwrap()));
        tokio::time::sleep(Duration::from_millis(500)).await;

        // The walk does not see it, and asking for it by subscriptionId fails.
        let failing = with_upstream(&app, Drifting::new(app.state.upstream.clone(), 0, true));
        let run = reconcile::run(&failing, Trigger::Manual).await.unwrap();
        assert_eq!(run.missing_upstream, 0, "{run:?}");
        assert!(
            run.error
                .as_deref()
                .unwrap_or_default()
                .contains("could not be confirmed"),
            "{run:?}"
        );
        let report = app.reconcile_report(run.id).await;
        assert_eq!(report["categories"]["unconfirmed"], 1, "{report}");
        let id = bound["id"].as_str().unwrap();
        assert_eq!(app.binding(id).await["status"], "active");

        // A run that can ask confirms it gone and ends it.
        let run = reconcile::run(&app.state, Trigger::Manual).await.unwrap();
        assert_eq!(run.missing_upstream, 1, "{run:?}");
        let ended = app.binding(id).await;
        assert_eq!(ended["status"], "unbound");
        assert_eq!(ended["endReason"], "missing_upstream");
    }
);

impl TestApp {
    async fn reconcile_report(&self, id: uuid::Uuid) -> serde_json::Value {
        self.get(&self.admin(), &format!("/v1/admin/reconcile/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }
}
