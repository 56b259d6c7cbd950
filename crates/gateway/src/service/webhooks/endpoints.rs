//! Webhook endpoints of an app: create, list, change, delete, rotate the secret. Every finder is
//! scoped to the caller's app (admin: every app); another app's endpoint is "not found".

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, Set,
};
use serde_json::Value;
use uuid::Uuid;

use super::outbox::{self, EventType};
use super::{TargetPolicy, WebhookError, signing};
use crate::auth::Principal;
use crate::db::entity::webhook_endpoints::{self, Entity as Endpoints};
use crate::service::page::{Cursor, Keyset, Page, PageRequest, uuid_key};

/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
const MAX_FILTERS: usize = 32;

pub struct NewEndpoint {
    pub url: String,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
}

#[derive(Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

pub async fn create(
    db: &DatabaseConnection,
    policy: &TargetPolicy,
    principal: &Principal,
    new: NewEndpoint,
) -> Result<webhook_endpoints::Model, WebhookError> {
    let events = filters(new.events.unwrap_or_default(), principal.is_admin())?;
    let description = description(new.description)?;
    let url = policy.check_target(&new.url).await?;
    let now = Utc::now();
    let row = webhook_endpoints::ActiveModel {
        id: Set(Uuid::now_v7()),
        app_id: Set(principal.app_id.clone()),
        all_apps: Set(principal.is_admin()),
        url: Set(url.to_string()),
        events: Set(events),
        description: Set(description),
        enabled: Set(true),
        disabled_reason: Set(None),
        secret: Set(signing::new_secret()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let created = row.insert(db).await?;
    outbox::endpoints_changed();
    Ok(created)
}

pub async fn find(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<webhook_endpoints::Model, WebhookError> {
    let mut query = Endpoints::find_by_id(id);
    if let Some(app) = principal.app_scope() {
        query = query.filter(webhook_endpoints::Column::AppId.eq(app));
    }
    query.one(db).await?.ok_or(WebhookError::EndpointNotFound)
}

/// Oldest first, `limit` per page.
/// The caller's endpoints (admin: all), oldest first, one page.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    page: &PageRequest,
) -> Result<Page<webhook_endpoints::Model>, WebhookError> {
    let mut query = Endpoints::find();
    if let Some(app) = principal.app_scope() {
        query = query.filter(webhook_endpoints::Column::AppId.eq(app));
    }
    let keyset = Keyset {
        time: webhook_endpoints::Column::CreatedAt,
        key: webhook_endpoints::Column::Id,
        order: Order::Asc,
        key_value: uuid_key,
    };
    Ok(keyset
        .fetch(db, query, page, |e| Cursor::new(e.created_at, e.id))
        .await?)
}

pub async fn update(
    db: &DatabaseConnection,
    policy: &TargetPolicy,
    principal: &Principal,
    id: Uuid,
    patch: EndpointPatch,
) -> Result<webhook_endpoints::Model, WebhookError> {
    let current = find(db, principal, id).await?;
    let all_apps = current.all_apps;
    let mut row: webhook_endpoints::ActiveModel = current.into();
    if let Some(url) = patch.url {
        row.url = Set(policy.check_target(&url).await?.to_string());
    }
    if let Some(events) = patch.events {
        row.events = Set(filters(events, all_apps)?);
    }
    if patch.description.is_some() {
        row.description = Set(description(patch.description)?);
    }
    if let Some(enabled) = patch.enabled {
        row.enabled = Set(enabled);
        // Re-enabling starts a fresh count towards "failing for 5 days".
        if enabled {
            row.disabled_reason = Set(None);
            row.failing_since = Set(None);
        } else {
            row.disabled_reason = Set(Some("disabled by the app".into()));
        }
    }
    row.updated_at = Set(Utc::now());
    let updated = row.update(db).await?;
    outbox::endpoints_changed();
    Ok(updated)
}

/// Deleting an endpoint deletes its deliveries and their log.
pub async fn delete(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<(), WebhookError> {
    let endpoint = find(db, principal, id).await?;
    Endpoints::delete_by_id(endpoint.id).exec(db).await?;
    outbox::endpoints_changed();
    Ok(())
}

/// A new secret; the old one keeps signing beside it for [`ROTATION_OVERLAP`], so receivers can
/// switch without losing an event.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<webhook_endpoints::Model, WebhookError> {
    let current = find(db, principal, id).await?;
    let now = Utc::now();
    let old = current.secret.clone();
    let mut row: webhook_endpoints::ActiveModel = current.into();
    row.secret = Set(signing::new_secret());
    row.previous_secret = Set(Some(old));
    row.previous_secret_until = Set(Some(now + ROTATION_OVERLAP));
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

/// The secrets that sign a delivery now: the current one, and the previous one during its overlap.
pub fn signing_secrets(endpoint: &webhook_endpoints::Model) -> Vec<&str> {
    let mut secrets = vec![endpoint.secret.as_str()];
    if let (Some(previous), Some(until)) =
        (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > Utc::now()
    {
        secrets.push(previous);
    }
    secrets
}

/// Event types, or `prefix.*` for all of a kind; empty = every event the endpoint may receive.
fn filters(events: Vec<String>, admin: bool) -> Result<Value, WebhookError> {
    let invalid = |why: String| WebhookError::Invalid(format!("events: {why}"));
    if events.len() > MAX_FILTERS {
        return Err(invalid(format!("at most {MAX_FILTERS} entries")));
    }
    let mut accepted: Vec<String> = Vec::new();
    for filter in events {
        let known = EventType::ALL
            .iter()
            .copied()
            .filter(|t| covers(&filter, t.as_str()));
        let mut known = known.peekable();
        if known.peek().is_none() {
            return Err(invalid(format!(
                "`{}` is not an event type or `kind.*`",
                filter.chars().take(64).collect::<String>()
            )));
        }
        if !admin && known.all(EventType::admin_only) {
            return Err(invalid(format!("`{filter}` is for admin endpoints only")));
        }
        if !accepted.contains(&filter) {
            accepted.push(filter);
        }
    }
    Ok(Value::from(accepted))
}

fn covers(filter: &str, event_type: &str) -> bool {
    match filter.strip_suffix(".*") {
        Some(kind) => event_type
            .strip_prefix(kind)
            .is_some_and(|rest| rest.starts_with('.')),
        None => filter == event_type,
    }
}

/// Whether an endpoint with these filters wants `event_type`.
pub fn subscribed(filters: &Value, event_type: &str) -> bool {
    match filters.as_array() {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(Value::as_str)
            .any(|f| covers(f, event_type)),
        _ => true,
    }
}

fn description(text: Option<String>) -> Result<Option<String>, WebhookError> {
    match text {
        Some(t) if t.chars().count() > 512 => Err(WebhookError::Invalid(
            "description: at most 512 characters".into(),
        )),
        Some(t) if t.chars().any(char::is_control) => Err(WebhookError::Invalid(
            "description: no control characters".into(),
        )),
        Some(t) if t.is_empty() => Ok(None),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_accept_types_and_kinds_and_refuse_the_rest() {
        assert!(filters(vec!["binding.*".into(), "call.completed".into()], false).is_ok());
        assert!(filters(vec!["binding".into()], false).is_err());
        assert!(filters(vec!["bind.*".into()], false).is_err());
        assert!(filters(vec!["number.status_changed".into()], false).is_err());
        assert!(filters(vec!["number.*".into()], true).is_ok());
        let f = filters(vec!["call.*".into()], false).unwrap();
        assert!(subscribed(&f, "call.completed"));
        assert!(!subscribed(&f, "binding.created"));
        assert!(subscribed(
            &Value::from(Vec::<String>::new()),
            "sms.received"
        ));
    }
}
