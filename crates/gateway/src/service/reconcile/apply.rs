//! The writing half of reconciliation: each action as a conditional change, so a row that moved on
//! since it was read (another instance, an app's request) is left for the next run.

use chrono::Utc;
use pns_core::wire::BindingInfo;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};

use super::compare::{Diff, upstream_expiry};
use crate::db::entity::bindings::{self};
use crate::db::entity::orphan_bindings::{self, Entity as OrphanBindings};
use crate::domain::EndReason;
use crate::repo::ClaimError;
use crate::repo::bindings::{self as repo, Activation, Ending};
use crate::repo::correction::{self, Correction};

/// Whether a row actually changed (false: someone else settled it first).
fn changed(before: &bindings::Model, after: &bindings::Model) -> bool {
    after.version != before.version
}

pub async fn adopt(
    db: &DatabaseConnection,
    row: &bindings::Model,
    info: &BindingInfo,
) -> Result<bool, DbErr> {
    let activation = Activation {
        app_id: &row.app_id,
        subscription_id: &info.subscription_id,
        relation_num: &info.relation_num,
        expires_at: upstream_expiry(info, row.created_at),
        claim: row
            .relation_num
            .is_none()
            .then_some([row.caller_num.as_str(), row.callee_num.as_str()]),
    };
    match repo::activate(db, row.id, activation).await {
        Ok(after) => Ok(changed(row, &after)),
        Err(ClaimError::PartyTaken(p)) => {
            tracing::warn!(binding_id = %row.id, party = %pns_core::phone::mask(&p), "reconcile: cannot adopt, a party is bound on that X by another row");
            Ok(false)
        }
        Err(ClaimError::Db(e)) => Err(e),
    }
}

pub async fn fail_pending(db: &DatabaseConnection, row: &bindings::Model) -> Result<bool, DbErr> {
    let ending = Ending::failed(EndReason::NotFoundUpstream);
    let after = repo::end_if(db, row.id, ending, version_is(row)).await?;
    Ok(changed(row, &after))
}

pub async fn missing(
    db: &DatabaseConnection,
    row: &bindings::Model,
    expired: bool,
) -> Result<bool, DbErr> {
    let ending = if expired {
        Ending::expired()
    } else {
        Ending::unbound(EndReason::MissingUpstream)
    };
    let after = repo::end_if(db, row.id, ending, version_is(row)).await?;
    Ok(changed(row, &after))
}

fn version_is(row: &bindings::Model) -> sea_orm::Condition {
    sea_orm::Condition::all().add(bindings::Column::Version.eq(row.version))
}

pub use crate::repo::correction::Corrected;

pub async fn correct(
    db: &DatabaseConnection,
    row: &bindings::Model,
    info: &BindingInfo,
    diffs: &[Diff],
) -> Result<Corrected, DbErr> {
    let has = |field: &str| diffs.iter().any(|d| d.field == field);
    let fix = Correction {
        relation_num: has("relationNum").then(|| info.relation_num.clone()),
        caller_num: has("callerNum").then(|| info.caller_num.clone()),
        callee_num: has("calleeNum").then(|| info.callee_num.clone()),
        call_direction: info
            .call_direction
            .filter(|_| has("callDirection"))
            .map(i16::from),
        duration: info
            .duration
            .filter(|_| has("duration"))
            .map(|d| (d as i32, upstream_expiry(info, row.created_at))),
    };
    correction::correct(db, row, &fix).await
}

/// Upserts this run's orphans and forgets earlier ones the platform no longer reports on the numbers
/// it was asked about.
pub async fn record_orphans(
    db: &DatabaseConnection,
    run_id: uuid::Uuid,
    seen: &[&BindingInfo],
    checked: &[String],
) -> Result<(), DbErr> {
    let now = Utc::now();
    for info in seen {
        let row = orphan_bindings::ActiveModel {
            subscription_id: Set(info.subscription_id.clone()),
            relation_num: Set(info.relation_num.clone()),
            caller_num: Set(info.caller_num.clone()),
            callee_num: Set(info.callee_num.clone()),
            first_seen_at: Set(now),
            last_seen_at: Set(now),
            last_run_id: Set(Some(run_id)),
        };
        OrphanBindings::insert(row)
            .on_conflict(
                OnConflict::column(orphan_bindings::Column::SubscriptionId)
                    .update_columns([
                        orphan_bindings::Column::RelationNum,
                        orphan_bindings::Column::CallerNum,
                        orphan_bindings::Column::CalleeNum,
                        orphan_bindings::Column::LastSeenAt,
                        orphan_bindings::Column::LastRunId,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    let still: Vec<String> = seen.iter().map(|i| i.subscription_id.clone()).collect();
    for chunk in checked.chunks(500) {
        let mut gone = OrphanBindings::delete_many()
            .filter(orphan_bindings::Column::RelationNum.is_in(chunk.iter().cloned()));
        if !still.is_empty() {
            gone = gone
                .filter(orphan_bindings::Column::SubscriptionId.is_not_in(still.iter().cloned()));
        }
        gone.exec(db).await?;
    }
    Ok(())
}

pub use crate::repo::correction::repair_in_use;
