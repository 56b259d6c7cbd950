//! Events under faults: the faults app's endpoint subscribes to `call.completed`; after the load every
//! settled call of that app must have had its event delivered exactly once (one `webhook-id` per
//! call; the same id arriving again is a redelivery, which at-least-once allows).

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use pns_bench::receiver::WebhookReceiver;

#[derive(Debug, Default)]
pub struct EventCounts {
    /// Calls of the app settled by a disconnect or a CDR.
    pub settled_calls: u64,
    pub delivered: u64,
    /// Settled calls whose call.completed never arrived.
    pub missing: u64,
    /// Calls whose call.completed arrived under more than one webhook-id.
    pub duplicated: u64,
    /// Arrivals of a webhook-id already seen (retries after a lost or late answer).
    pub redeliveries: u64,
    /// Events for calls the table does not hold as settled.
    pub unknown: u64,
}

/// Waits (bounded) until every settled call has its event, then counts.
pub async fn count(
    db: &DatabaseConnection,
    app: &str,
    receiver: &WebhookReceiver,
) -> anyhow::Result<EventCounts> {
    let sql = format!(
        "SELECT session_id FROM calls WHERE app_id = '{app}' \
         AND (ended_at IS NOT NULL OR cdr_received_at IS NOT NULL)"
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let settled: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let all_arrived = || {
        let seen = receiver.seen();
        settled.iter().all(|s| seen.sessions.contains_key(s))
    };
    while Instant::now() < deadline && !all_arrived() {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A last moment for redeliveries in flight to show up in the counts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = receiver.seen();
    let mut c = EventCounts {
        settled_calls: settled.len() as u64,
        redeliveries: seen.repeats(),
        ..EventCounts::default()
    };
    for session in &settled {
        match seen.sessions.get(session).map(|ids| ids.len()) {
            None | Some(0) => c.missing += 1,
            Some(1) => c.delivered += 1,
            Some(_) => {
                c.delivered += 1;
                c.duplicated += 1;
            }
        }
    }
    let known: std::collections::HashSet<&str> = settled.iter().map(String::as_str).collect();
    c.unknown = seen
        .sessions
        .keys()
        .filter(|s| !known.contains(s.as_str()))
        .count() as u64;
    Ok(c)
}
