//! The fee queue: CDRs wait here and go out in `{"eventType":"fee","feeLst":[..]}` batches of at most
//! `cdr_batch_max`. Like the platform, a batch the receiver keeps refusing is lost once retries run out.

use serde_json::json;

use crate::engine::Engine;
use crate::engine::state::lock;
use crate::error::SimError;

impl Engine {
    /// Pushes every queued CDR now. Ok(how many were delivered); Err when a batch was lost.
    pub(crate) async fn flush_cdrs(&self) -> Result<usize, SimError> {
        // Wait for a push in flight, so everything queued before this call has been tried on return.
        let _turn = self.cdr_push_guard().await;
        let url = self.callbacks.url().ok_or(SimError::NoCallbackUrl)?;
        let (mut delivered, mut lost) = (0, 0);
        let mut failure = None;
        loop {
            let batch = self.take_cdr_batch();
            if batch.is_empty() {
                break;
            }
            let n = batch.len();
            let d = self
                .push(&url, &json!({"eventType": "fee", "feeLst": batch}), true)
                .await;
            lock(&self.callbacks.cdr_ledger).record(&batch, d.attempts, d.outcome.is_ok());
            match d.outcome {
                Ok(_) => delivered += n,
                Err(e) => {
                    tracing::warn!(lost = n, attempts = d.attempts, error = %e, "CDR batch lost");
                    lost += n;
                    failure = Some((d.attempts, e));
                }
            }
        }
        match failure {
            None => Ok(delivered),
            Some((attempts, last_error)) => Err(SimError::Delivery {
                attempts,
                last_error,
                delivered,
                lost,
            }),
        }
    }
}
