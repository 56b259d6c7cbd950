//! The deployment's mode is recorded at first start: a database that served production never starts
//! a sandbox (which would seed the simulator's numbers into its pool), nor the reverse.

use gateway::settings::{RawSettings, Settings};
use gateway::startup::Application;

use crate::both_backends;
use crate::helpers::{Backend, JWT_SECRET, fresh_database};

/// Builds (and drops) an instance on `database_url`: production when `upstream` is given.
async fn start(database_url: &str, upstream: Option<&str>) -> anyhow::Result<Application> {
    let mut raw = RawSettings {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.to_owned(),
        jwt_secret: Some(JWT_SECRET.into()),
        ..RawSettings::default()
    };
    if let Some(url) = upstream {
        raw.upstream_url = Some(url.to_owned());
        raw.app_key = Some("mode-key".into());
        raw.app_secret = Some("mode-secret".into());
    }
    Application::build(Settings::from_raw(raw)?).await
}

const PLATFORM: &str = "http://127.0.0.1:9";

async fn pool_size(app: &Application) -> usize {
    use sea_orm::EntityTrait;
    gateway::db::entity::x_numbers::Entity::find()
        .all(&app.state().db)
        .await
        .unwrap()
        .len()
}

both_backends!(
    a_production_database_refuses_to_start_a_sandbox,
    |backend: Backend| async move {
        let dir = tempfile::tempdir().unwrap();
        let Some(database) = fresh_database(backend, &dir).await else {
            return;
        };
        let url = database.url.clone();
        let production = start(&url, Some(PLATFORM)).await.expect("first start");
        drop(production);
        // Restarting in the same mode is fine.
        let again = start(&url, Some(PLATFORM)).await.expect("restart");
        assert_eq!(pool_size(&again).await, 0);
        drop(again);

        let err = start(&url, None).await.err().expect("sandbox refused");
        let message = format!("{err:#}");
        assert!(message.contains("PNS_UPSTREAM_URL"), "{message}");
        assert!(message.contains("served production"), "{message}");
        // Nothing of the sandbox leaked into the production pool.
        let production = start(&url, Some(PLATFORM)).await.expect("still production");
        assert_eq!(pool_size(&production).await, 0);
    }
);

both_backends!(
    a_sandbox_database_refuses_to_start_production,
    |backend: Backend| async move {
        let dir = tempfile::tempdir().unwrap();
        let Some(database) = fresh_database(backend, &dir).await else {
            return;
        };
        let url = database.url.clone();
        let sandbox = start(&url, None).await.expect("first start");
        assert!(
            pool_size(&sandbox).await > 0,
            "the simulator's numbers are seeded"
        );
        drop(sandbox);
        let err = start(&url, Some(PLATFORM))
            .await
            .err()
            .expect("production refused");
        let message = format!("{err:#}");
        assert!(message.contains("PNS_UPSTREAM_URL"), "{message}");
        assert!(message.contains("sandbox"), "{message}");
    }
);
