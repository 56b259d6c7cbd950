//! `SimControl`: what a test (or the /sim HTTP API) does to the simulated platform.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use pns_core::NumStatusInfo;
use pns_core::wire::BindingInfo;

use crate::callbacks::calls::{CallReport, CallScript};
use crate::callbacks::ledger::CdrLedger;
use crate::callbacks::sms::{SmsReport, SmsScript};
use crate::engine::Engine;
use crate::engine::state::lock;
use crate::error::SimError;
use crate::faults::Fault;

#[derive(Clone)]
pub struct SimControl(Arc<Engine>);

impl SimControl {
    pub(crate) fn new(engine: Arc<Engine>) -> Self {
        Self(engine)
    }

    /// Runs a push on the runtime that started the simulator, whichever runtime asks, so pooled callback
    /// connections are always driven by a runtime that is still alive.
    async fn on_sim_runtime<T, F>(&self, f: impl FnOnce(Arc<Engine>) -> F) -> Result<T, SimError>
    where
        F: Future<Output = Result<T, SimError>> + Send + 'static,
        T: Send + 'static,
    {
        let task = self.0.callbacks.rt().spawn(f(self.0.clone()));
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(SimError::Stopped),
        }
    }

    pub fn set_callback_url(&self, url: Option<String>) {
        self.0.callbacks.set_url(url);
    }

    pub fn callback_url(&self) -> Option<String> {
        self.0.callbacks.url()
    }

    /// Posts signed callin/alerting/answer/disconnect (as the outcome warrants) in order, then queues the
    /// fee CDR. A caller the binding's callDirection does not allow gets 8016.
    pub async fn play_call(&self, script: CallScript) -> Result<CallReport, SimError> {
        self.on_sim_runtime(|e| async move { e.play_call(&script).await })
            .await
    }

    /// A call to X from a number with no binding there: callin and a disconnect with 8014, empty
    /// subscriptionId, and a CDR.
    pub async fn play_unbound_call(
        &self,
        relation_num: &str,
        caller: &str,
    ) -> Result<CallReport, SimError> {
        let (x, caller) = (relation_num.to_owned(), caller.to_owned());
        self.on_sim_runtime(|e| async move { e.play_unbound_call(&x, &caller).await })
            .await
    }

    /// Delivers queued CDRs now in batches of at most `cdr_batch_max`, each retried on a non-2xx answer.
    /// Ok(how many this call delivered; a background push may have taken some first).
    pub async fn flush_cdrs(&self) -> Result<usize, SimError> {
        self.on_sim_runtime(|e| async move { e.flush_cdrs().await })
            .await
    }

    pub fn pending_cdrs(&self) -> usize {
        self.0.callbacks.cdrs_pending()
    }

    /// On by default: queued CDRs are pushed every second. Off leaves them for `flush_cdrs`.
    pub fn set_cdr_auto_push(&self, on: bool) {
        self.0.callbacks.cdr_auto_push.store(on, Ordering::Relaxed);
    }

    /// Waits between callback retries (default: the platform's 1/4/9/106/203/300 minutes at 10 ms each).
    pub fn set_retry_delays(&self, delays: Vec<Duration>) {
        self.0.callbacks.set_retry_delays(delays);
    }

    /// Every CDR push so far: icids answered 2xx, icids lost after the last retry, refused attempts.
    pub fn cdr_ledger(&self) -> CdrLedger {
        lock(&self.0.callbacks.cdr_ledger).clone()
    }

    /// Notify or Block; a Block answer's decision is read and recorded.
    pub async fn send_sms(&self, script: SmsScript) -> Result<SmsReport, SimError> {
        self.on_sim_runtime(|e| async move { e.send_sms(&script).await })
            .await
    }

    /// Every SMS sent so far, with the decisions received.
    pub fn sms_reports(&self) -> Vec<SmsReport> {
        lock(&self.0.callbacks.sms_log).clone()
    }

    /// Applies the statuses to the simulator's X numbers (anything but 5 refuses new bindings with
    /// 1012102 / skips the X in area selection) and pushes `numStatus` callbacks.
    pub async fn push_num_status(&self, items: Vec<NumStatusInfo>) -> Result<(), SimError> {
        self.on_sim_runtime(|e| async move { e.push_num_status(&items).await })
            .await
    }

    pub fn inject(&self, fault: Fault) {
        self.0.faults.inject(fault);
    }

    pub fn clear_faults(&self) {
        self.0.faults.clear();
    }

    /// Faults not yet used up.
    pub fn faults(&self) -> Vec<Fault> {
        self.0.faults.pending()
    }

    pub fn bindings(&self) -> Vec<BindingInfo> {
        self.0
            .all_bindings()
            .iter()
            .map(|b| {
                serde_json::from_value(self.0.binding_json(b))
                    .expect("binding_json matches BindingInfo")
            })
            .collect()
    }

    /// Live bindings (expired ones are swept first).
    pub fn binding_count(&self) -> usize {
        self.0.sweep_expired();
        self.0.store.total()
    }

    /// Platform-side expiry of one binding, as if its duration had run out.
    pub fn expire_now(&self, subscription_id: &str) -> bool {
        self.0.expire(subscription_id)
    }
}
