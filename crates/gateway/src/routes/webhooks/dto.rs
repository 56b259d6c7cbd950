//! What apps send and receive for webhook endpoints and their delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::entity::webhook_deliveries::DeliveryStatus;
use crate::db::entity::{webhook_attempts, webhook_endpoints};
use crate::service::webhooks::deliveries::DeliveryLog;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookIn {
    /// `http://` or `https://`; must resolve to an address the gateway may call.
    #[schema(example = "https://app.example.com/pns-events", max_length = 2048)]
    pub url: String,
    /// Event types or `kind.*` (`binding.*`, `call.completed`...); absent or empty: every event.
    pub events: Option<Vec<String>>,
    #[schema(max_length = 512)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookPatch {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    #[schema(max_length = 512)]
    pub description: Option<String>,
    /// `true` re-enables an endpoint the gateway disabled.
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookOut {
    pub id: Uuid,
    pub url: String,
    /// The subscriptions; empty: every event.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the endpoint is disabled (410 answered, failing for days, disabled by the app).
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; absent while deliveries succeed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Created with an admin token: receives every app's events and the pool's.
    pub all_apps: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint with its signing secret, shown only at creation and rotation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookOut,
    /// `whsec_` + base64 key: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
    /// After a rotation: the old secret keeps signing beside the new one until then.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPage {
    pub items: Vec<WebhookOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut {
    pub at: DateTime<Utc>,
    /// The receiver's answer; absent when none came (see `error`).
    pub http_status: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i32,
}

/// One event on its way to the endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOut {
    pub id: Uuid,
    /// Also the `webhook-id` header: the receiver's dedupe key.
    pub event_id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Oldest first.
    pub attempts: Vec<AttemptOut>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    pub items: Vec<DeliveryOut>,
    pub next_cursor: Option<String>,
}

impl From<webhook_endpoints::Model> for WebhookOut {
    fn from(m: webhook_endpoints::Model) -> Self {
        Self {
            id: m.id,
            url: m.url,
            events: serde_json::from_value(m.events).unwrap_or_default(),
            description: m.description,
            enabled: m.enabled,
            disabled_reason: m.disabled_reason,
            failing_since: m.failing_since,
            all_apps: m.all_apps,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl From<webhook_endpoints::Model> for WebhookWithSecret {
    fn from(m: webhook_endpoints::Model) -> Self {
        let secret = m.secret.clone();
        let previous_secret_until = m.previous_secret_until;
        Self {
            endpoint: m.into(),
            secret,
            previous_secret_until,
        }
    }
}

impl From<webhook_attempts::Model> for AttemptOut {
    fn from(a: webhook_attempts::Model) -> Self {
        Self {
            at: a.attempted_at,
            http_status: a.http_status,
            error: a.error,
            latency_ms: a.latency_ms,
        }
    }
}

impl From<DeliveryLog> for DeliveryOut {
    fn from(log: DeliveryLog) -> Self {
        let d = log.delivery;
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: log.attempts.into_iter().map(Into::into).collect(),
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            created_at: d.created_at,
            finished_at: d.finished_at,
        }
    }
}
