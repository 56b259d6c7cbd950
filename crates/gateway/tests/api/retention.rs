//! Retention: the leader-elected job purges what is older than its period, in bounded batches, and
//! keeps everything an operator set no period for.

use std::time::Duration;

use chrono::Utc;
use gateway::db::entity::{idempotency_keys, raw_callbacks, x_number_status_events};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, Upstream, spawn_app_with};

both_backends!(
    old_rows_are_purged_in_batches_and_the_rest_is_kept,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw| {
            raw.retention_interval_secs = 1;
            raw.retention_raw_callbacks_days = 1;
        })
        .await
        else {
            return;
        };
        let db = &app.state.db;
        let now = Utc::now();
        let key = |name: &str, age: chrono::Duration| idempotency_keys::ActiveModel {
            app_id: Set("app-1".into()),
            idem_key: Set(name.into()),
            request_hash: Set("h".into()),
            binding_id: Set(None),
            status_code: Set(Some(201)),
            response_body: Set(Some(json!({}))),
            created_at: Set(now - age),
        };
        idempotency_keys::Entity::insert_many([
            key("old", chrono::Duration::hours(25)),
            key("fresh", chrono::Duration::hours(23)),
        ])
        .exec_without_returning(db)
        .await
        .unwrap();
        // More old raw callbacks than one batch deletes, and one young one.
        let raw = |age: chrono::Duration| raw_callbacks::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            body: Set(json!({"eventType": "somethingNew"})),
            received_at: Set(now - age),
            reason: Set(None),
            body_sha256: Set(None),
        };
        let old = (gateway::service::jobs::retention::BATCH + 200) as usize;
        for chunk in (0..old).collect::<Vec<_>>().chunks(300) {
            raw_callbacks::Entity::insert_many(
                chunk.iter().map(|_| raw(chrono::Duration::days(2))),
            )
            .exec_without_returning(db)
            .await
            .unwrap();
        }
        raw_callbacks::Entity::insert(raw(chrono::Duration::hours(1)))
            .exec_without_returning(db)
            .await
            .unwrap();
        // No period set for number-status history: kept however old.
        x_number_status_events::Entity::insert(x_number_status_events::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            number: Set("+8617000000001".into()),
            status: Set("normal".into()),
            status_code: Set(5),
            cause: Set(None),
            received_at: Set(now - chrono::Duration::days(4000)),
            event_at: Set(None),
        })
        .exec_without_returning(db)
        .await
        .unwrap();

        let mut left = i64::MAX;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            left = app.count("raw_callbacks").await;
            if left == 1 && app.count("idempotency_keys").await == 1 {
                break;
            }
        }
        assert_eq!(left, 1, "old raw callbacks purged, the young one kept");
        let keys = idempotency_keys::Entity::find().all(db).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].idem_key, "fresh", "keys live 24 hours by default");
        assert_eq!(app.count("x_number_status_events").await, 1);
    }
);
