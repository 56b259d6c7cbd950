//! The deployment's mode (`sandbox` or `production`), recorded in the database at its first start and
//! checked at every later one. A sandbox seeds the simulator's numbers into the pool and prints an
//! admin token: started by mistake on a production database (a missing `PNS_UPSTREAM_URL`), it would
//! hand out numbers that reach no one. The reverse, production on a sandbox's database, would trust a
//! table the real platform never saw. Both refuse to start, naming the setting.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};

use crate::db::entity::service_facts::{self, Entity as ServiceFacts};
use crate::settings::SettingsError;

const MODE: &str = "mode";

#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    #[error(transparent)]
    Mismatch(#[from] SettingsError),
    #[error("recording the deployment mode: {0}")]
    Storage(#[from] DbErr),
}

/// Records `sandbox`/`production` on first start; refuses a start in the other mode afterwards.
pub async fn ensure_mode(db: &DatabaseConnection, sandbox: bool) -> Result<(), ModeError> {
    let mine = if sandbox { "sandbox" } else { "production" };
    // First start wins under a race: the insert is a no-op when any instance recorded a mode first.
    ServiceFacts::insert(service_facts::ActiveModel {
        name: Set(MODE.to_owned()),
        value: Set(mine.to_owned()),
        recorded_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(service_facts::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let recorded = ServiceFacts::find_by_id(MODE.to_owned())
        .one(db)
        .await?
        .map(|fact| fact.value);
    match recorded.as_deref() {
        Some(recorded) if recorded != mine => Err(mismatch(recorded, mine).into()),
        _ => Ok(()),
    }
}

fn mismatch(recorded: &str, mine: &str) -> SettingsError {
    let reason = if mine == "sandbox" {
        format!(
            "not set, so this start is a sandbox, but the database in PNS_DATABASE_URL served {recorded}: \
             set PNS_UPSTREAM_URL (with PNS_APP_KEY and PNS_APP_SECRET), or give the sandbox its own database"
        )
    } else {
        format!(
            "set, so this start is production, but the database in PNS_DATABASE_URL served a {recorded} \
             (its pool holds the simulator's numbers): give production a fresh database, or unset PNS_UPSTREAM_URL"
        )
    };
    SettingsError {
        key: "PNS_UPSTREAM_URL".into(),
        reason,
    }
}
