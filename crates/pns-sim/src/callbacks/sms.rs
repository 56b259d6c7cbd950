//! SMS through X (Notify and Block notifications) and X-number status pushes.

use chrono::Utc;
use pns_core::{NotificationMode, NumStatusInfo, SmsDecision, SmsEvent, SmsNotification};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::calls::Party;
use crate::engine::Engine;
use crate::engine::state::lock;
use crate::error::SimError;

/// The platform sends at most 100 numbers per status push.
const NUM_STATUS_BATCH: usize = 100;

/// A text sent by one party of a binding to X. Control API form: `{"subscriptionId":"..","from":"caller",
/// "mode":"Block","content":"hi"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsScript {
    pub subscription_id: String,
    pub from: Party,
    pub mode: NotificationMode,
    /// Sent as smsContent (the platform includes it only when content push is enabled).
    #[serde(default)]
    pub content: Option<String>,
}

/// What the receiver answered; in Block mode, the decision read from the answer body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsReport {
    pub sms_identifier: String,
    pub subscription_id: String,
    pub mode: NotificationMode,
    pub http_status: Option<u16>,
    pub attempts: u32,
    /// Block only: `None` when the answer held neither a vNumberRoute nor a DiscardMessage action.
    pub decision: Option<SmsDecision>,
    pub error: Option<String>,
}

impl SmsReport {
    pub fn to_json(&self) -> Value {
        json!({
            "smsIdentifier": self.sms_identifier,
            "subscriptionId": self.subscription_id,
            "mode": self.mode,
            "httpStatus": self.http_status,
            "attempts": self.attempts,
            "decision": self.decision.as_ref().map(SmsDecision::to_body),
            "error": self.error,
        })
    }
}

impl Engine {
    pub(crate) async fn send_sms(&self, script: &SmsScript) -> Result<SmsReport, SimError> {
        let url = self.callbacks.url().ok_or(SimError::NoCallbackUrl)?;
        let b = self
            .binding(&script.subscription_id)
            .ok_or_else(|| SimError::UnknownSubscription(script.subscription_id.clone()))?;
        if b.private_sms == Some(false) {
            return Err(SimError::InvalidScript(
                "the binding has privateSms \"false\": the platform drops the text".into(),
            ));
        }
        let (calling, called) = match script.from {
            Party::Caller => (&b.caller, &b.callee),
            Party::Callee => (&b.callee, &b.caller),
        };
        let sms_identifier = uuid::Uuid::new_v4().simple().to_string();
        let body = SmsNotification {
            app_key: Some(self.app_key.clone()),
            sms_event: SmsEvent {
                sms_identifier: sms_identifier.clone(),
                notification_mode: script.mode,
                calling: calling.clone(),
                called: Some(called.clone()),
                virtual_number: self.relation_num(&b).to_owned(),
                event: Some("TextSMS".into()),
                time_stamp: Some(Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
                subscription_id: Some(b.subscription_id.clone()),
                sms_content: script.content.clone(),
                ..SmsEvent::default()
            },
        };
        let body = serde_json::to_value(&body).expect("SMS notification serialises");
        // Block holds the message until the answer: one try, then the platform's default applies.
        let retry = script.mode == NotificationMode::Notify;
        let d = self.push(&url, &body, retry).await;
        let decision = match (&d.outcome, script.mode) {
            (Ok((_, answer)), NotificationMode::Block) => serde_json::from_slice::<Value>(answer)
                .ok()
                .and_then(|v| SmsDecision::from_body(&v)),
            _ => None,
        };
        let report = SmsReport {
            sms_identifier,
            subscription_id: b.subscription_id.clone(),
            mode: script.mode,
            http_status: d.outcome.as_ref().ok().map(|(s, _)| *s),
            attempts: d.attempts,
            decision,
            error: d.outcome.err(),
        };
        lock(&self.callbacks.sms_log).push(report.clone());
        Ok(report)
    }

    /// Applies the statuses to the simulator's own X numbers (only 5 = normal takes new bindings) and
    /// pushes them in batches of up to 100.
    pub(crate) async fn push_num_status(&self, items: &[NumStatusInfo]) -> Result<(), SimError> {
        let url = self.callbacks.url().ok_or(SimError::NoCallbackUrl)?;
        for item in items {
            self.set_number_status(&item.number, item.status);
        }
        for chunk in items.chunks(NUM_STATUS_BATCH) {
            let body = json!({"eventType": "numStatus", "numInfo": chunk});
            let d = self.push(&url, &body, true).await;
            if let Err(last_error) = d.outcome {
                return Err(SimError::Delivery {
                    attempts: d.attempts,
                    last_error,
                    delivered: 0,
                    lost: chunk.len(),
                });
            }
        }
        Ok(())
    }
}
