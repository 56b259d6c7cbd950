//! One delivery attempt: sign, POST, and record what happened (attempt log, next attempt or final
//! state, the endpoint's health) in one transaction.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};

use super::endpoints::signing_secrets;
use super::{TargetPolicy, signing};
use crate::db::entity::webhook_attempts::{self, Entity as Attempts};
use crate::db::entity::webhook_deliveries::{self, DeliveryStatus, Entity as Deliveries};
use crate::db::entity::webhook_endpoints::{self, Entity as Endpoints};
use crate::db::entity::webhook_events::Entity as Events;
use crate::repo::outbox;
use crate::settings::WebhookSettings;
use crate::state::AppState;
use crate::telemetry::metrics;

/// The longest `Retry-After` honoured; a receiver asking for more is retried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

pub struct Sender {
    db: DatabaseConnection,
    client: reqwest::Client,
    policy: TargetPolicy,
    settings: WebhookSettings,
}

/// What one attempt means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Delivered,
    /// 410: the receiver asks never to be called again.
    Gone,
    /// Try again: after this delay when the receiver said so, else on the schedule.
    Retry(Option<Duration>),
}

struct Attempt {
    at: DateTime<Utc>,
    http_status: Option<u16>,
    error: Option<String>,
    latency_ms: i32,
    verdict: Verdict,
}

impl Sender {
    pub fn new(state: &AppState) -> reqwest::Result<Self> {
        let settings = state.settings.webhooks.clone();
        let policy = TargetPolicy::new(settings.allowed_networks.clone());
        Ok(Self {
            db: state.db.clone(),
            client: policy.clone().client(settings.timeout)?,
            policy,
            settings,
        })
    }

    pub async fn deliver(&self, delivery: webhook_deliveries::Model) {
        let id = delivery.id;
        if let Err(e) = self.try_deliver(delivery).await {
            // The claim runs out and the delivery is tried again.
            tracing::warn!(delivery = %id, error = %e, "webhook delivery could not be recorded");
        }
    }

    async fn try_deliver(&self, delivery: webhook_deliveries::Model) -> Result<(), DbErr> {
        let endpoint = Endpoints::find_by_id(delivery.endpoint_id)
            .one(&self.db)
            .await?;
        let event = Events::find_by_id(delivery.event_id).one(&self.db).await?;
        let (Some(endpoint), Some(event)) = (endpoint, event) else {
            return Ok(()); // deleted with its endpoint meanwhile
        };
        let body = serde_json::to_vec(&event.payload).map_err(|e| DbErr::Custom(e.to_string()))?;
        let attempt = self.send(&endpoint, &event.id.to_string(), body).await;
        tracing::debug!(
            delivery = %delivery.id, event_type = %delivery.event_type,
            status = ?attempt.http_status, verdict = ?attempt.verdict, "webhook attempt"
        );
        self.record(&delivery, &endpoint, attempt).await
    }

    async fn send(
        &self,
        endpoint: &webhook_endpoints::Model,
        message_id: &str,
        body: Vec<u8>,
    ) -> Attempt {
        let at = Utc::now();
        let started = Instant::now();
        let failed = |error: String, started: Instant| Attempt {
            at,
            http_status: None,
            error: Some(error),
            latency_ms: millis(started),
            verdict: Verdict::Retry(None),
        };
        // Names are checked by the client's resolver; an address literal never reaches it.
        if let Err(e) = self.policy.check_url(&endpoint.url) {
            return failed(format!("target refused: {e}"), started);
        }
        let timestamp = at.timestamp();
        let signature =
            signing::signature_header(&signing_secrets(endpoint), message_id, timestamp, &body);
        let response = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(e) => return failed(describe(&e, self.settings.timeout), started),
        };
        let status = response.status();
        let retry_after = retry_after(&response);
        let verdict = if status.is_success() {
            Verdict::Delivered
        } else if status == StatusCode::GONE {
            Verdict::Gone
        } else if matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ) {
            Verdict::Retry(retry_after)
        } else {
            Verdict::Retry(None)
        };
        Attempt {
            at,
            http_status: Some(status.as_u16()),
            error: None,
            latency_ms: millis(started),
            verdict,
        }
    }

    /// One transaction: the attempt, the delivery's new state, the endpoint's health.
    async fn record(
        &self,
        delivery: &webhook_deliveries::Model,
        endpoint: &webhook_endpoints::Model,
        attempt: Attempt,
    ) -> Result<(), DbErr> {
        let now = Utc::now();
        let attempts = delivery.attempts + 1;
        let schedule = &self.settings.retry_schedule;
        let next = match attempt.verdict {
            Verdict::Retry(after) if (attempts as usize) < schedule.len() => {
                let delay = after.unwrap_or(schedule[attempts as usize]);
                Some(now + chrono::Duration::from_std(delay).unwrap_or_default())
            }
            _ => None,
        };
        let status = match (attempt.verdict, next) {
            (Verdict::Delivered, _) => DeliveryStatus::Delivered,
            (_, Some(_)) => DeliveryStatus::Pending,
            (_, None) => DeliveryStatus::Failed,
        };
        let txn = self.db.begin().await?;
        Attempts::insert(webhook_attempts::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            delivery_id: Set(delivery.id),
            attempted_at: Set(attempt.at),
            http_status: Set(attempt.http_status.map(i32::from)),
            error: Set(attempt.error.map(|e| e.chars().take(500).collect())),
            latency_ms: Set(attempt.latency_ms),
        })
        .exec_without_returning(&txn)
        .await?;
        Deliveries::update_many()
            .col_expr(webhook_deliveries::Column::Status, Expr::value(status))
            .col_expr(webhook_deliveries::Column::Attempts, Expr::value(attempts))
            .col_expr(
                webhook_deliveries::Column::NextAttemptAt,
                Expr::value(next.unwrap_or(delivery.next_attempt_at)),
            )
            .col_expr(
                webhook_deliveries::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                webhook_deliveries::Column::FinishedAt,
                Expr::value((status != DeliveryStatus::Pending).then_some(now)),
            )
            .filter(webhook_deliveries::Column::Id.eq(delivery.id))
            .exec(&txn)
            .await?;
        let endpoint_update = match attempt.verdict {
            Verdict::Delivered => healthy(endpoint),
            Verdict::Gone => Some(disable(endpoint, "the endpoint answered 410 Gone".into())),
            Verdict::Retry(_) => self.failing(endpoint, now),
        };
        let disables = endpoint_update
            .as_ref()
            .is_some_and(|u| u.enabled == Set(false));
        if let Some(update) = endpoint_update {
            Endpoints::update(update).exec(&txn).await?;
        }
        txn.commit().await?;
        if disables {
            outbox::endpoints_changed();
        }
        metrics::webhook_attempt(status_label(status), attempt.latency_ms);
        Ok(())
    }

    /// A failure: starts the endpoint's failing clock, or disables it once the clock passes the limit.
    fn failing(
        &self,
        endpoint: &webhook_endpoints::Model,
        now: DateTime<Utc>,
    ) -> Option<webhook_endpoints::ActiveModel> {
        let Some(since) = endpoint.failing_since else {
            let mut row = webhook_endpoints::ActiveModel {
                id: Set(endpoint.id),
                ..Default::default()
            };
            row.failing_since = Set(Some(now));
            return Some(row);
        };
        let limit = chrono::Duration::from_std(self.settings.disable_after).unwrap_or_default();
        (endpoint.enabled && now - since >= limit).then(|| {
            disable(
                endpoint,
                format!("every delivery failed since {}", since.to_rfc3339()),
            )
        })
    }
}

fn healthy(endpoint: &webhook_endpoints::Model) -> Option<webhook_endpoints::ActiveModel> {
    endpoint
        .failing_since
        .map(|_| webhook_endpoints::ActiveModel {
            id: Set(endpoint.id),
            failing_since: Set(None),
            ..Default::default()
        })
}

fn disable(endpoint: &webhook_endpoints::Model, reason: String) -> webhook_endpoints::ActiveModel {
    tracing::warn!(endpoint = %endpoint.id, app = %endpoint.app_id, %reason, "webhook endpoint disabled");
    webhook_endpoints::ActiveModel {
        id: Set(endpoint.id),
        enabled: Set(false),
        disabled_reason: Set(Some(reason)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
}

fn status_label(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Pending => "retrying",
        DeliveryStatus::Failed => "failed",
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from webhook receivers and falls back to
/// the schedule), capped.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// The error as the delivery log shows it, without the URL (the app knows it) and with the cause.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let mut text = if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn millis(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}
