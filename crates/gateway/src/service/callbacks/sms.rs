//! SMS notifications. Notify: kept and acknowledged with an empty body. Block: the platform holds the
//! text until our answer says where it goes, so the decision is two indexed point reads
//! (`binding_parties` by its primary key, then the binding by id) and one insert.

use chrono::Utc;
use pns_core::callback::{NotificationMode, SmsDecision, SmsEvent};
use pns_core::wire_time::parse_sms_time;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, TryIntoModel,
};
use serde_json::Value;

use super::{Ack, find_binding, was_inserted};
use crate::db::entity::bindings;
use crate::db::entity::sms_messages::{self, Entity as SmsMessages};
use crate::domain::BindingStatus;
use crate::repo::outbox::sms_event;

/// Route iff X has an active binding holding the sender whose privateSms is not false; the text goes
/// to the binding's other party.
pub fn decide(sender: &str, binding: Option<&bindings::Model>) -> SmsDecision {
    let Some(b) = binding else {
        return SmsDecision::Discard;
    };
    if b.status != BindingStatus::Active || b.private_sms == Some(false) {
        return SmsDecision::Discard;
    }
    let other = if sender == b.caller_num {
        &b.callee_num
    } else if sender == b.callee_num {
        &b.caller_num
    } else {
        return SmsDecision::Discard;
    };
    SmsDecision::Route {
        called: other.clone(),
        calling: sender.to_owned(),
    }
}

/// The binding of (X, sender), if any. Deliberately not by subscriptionId: what matters is who
/// holds X with the sender now, and that is what the AXB table's primary key answers.
async fn binding_of(
    db: &impl ConnectionTrait,
    event: &SmsEvent,
) -> Result<Option<bindings::Model>, DbErr> {
    find_binding(
        db,
        None,
        Some((event.virtual_number.as_str(), event.calling.as_str())),
    )
    .await
}

/// The first identifier too long to be a key (see [`super::MAX_KEY_BYTES`]).
pub fn overlong(event: &SmsEvent) -> Option<&'static str> {
    super::first_overlong([
        ("smsIdentifier", Some(event.sms_identifier.as_str())),
        ("calling", Some(event.calling.as_str())),
        ("called", event.called.as_deref()),
        ("virtualNumber", Some(event.virtual_number.as_str())),
        ("subscriptionId", event.subscription_id.as_deref()),
    ])
}

/// Stores the notification (once per smsIdentifier) and returns the answer. A redelivered Block gets
/// the decision taken the first time.
pub async fn store(
    txn: &DatabaseTransaction,
    event: &SmsEvent,
    payload: &Value,
) -> Result<(Ack, bool), DbErr> {
    let binding = binding_of(txn, event).await?;
    let (label, decision) = match event.notification_mode {
        NotificationMode::Notify => ("notify", None),
        NotificationMode::Block => {
            let d = decide(&event.calling, binding.as_ref());
            let label = match d {
                SmsDecision::Route { .. } => "route",
                SmsDecision::Discard => "discard",
            };
            (label, Some(d))
        }
    };
    let routed_to = match &decision {
        Some(SmsDecision::Route { called, .. }) => Some(called.clone()),
        _ => None,
    };
    let row = sms_messages::ActiveModel {
        sms_identifier: Set(event.sms_identifier.clone()),
        app_id: Set(binding.as_ref().map(|b| b.app_id.clone())),
        binding_id: Set(binding.as_ref().map(|b| b.id)),
        mode: Set(match event.notification_mode {
            NotificationMode::Notify => "notify".into(),
            NotificationMode::Block => "block".into(),
        }),
        calling: Set(Some(event.calling.clone())),
        called: Set(event.called.clone().or_else(|| routed_to.clone())),
        virtual_number: Set(Some(event.virtual_number.clone())),
        event: Set(event.event.clone()),
        sms_time: Set(event.time_stamp.as_deref().and_then(parse_sms_time)),
        subscription_id: Set(event.subscription_id.clone().filter(|s| !s.is_empty())),
        decision: Set(label.to_owned()),
        routed_to: Set(routed_to),
        payload: Set(payload.clone()),
        received_at: Set(Utc::now()),
    };
    let result = SmsMessages::insert(row.clone())
        .on_conflict_do_nothing_on([sms_messages::Column::SmsIdentifier])
        .exec_without_returning(txn)
        .await?;
    let inserted = was_inserted(result);
    if inserted {
        // A redelivered text was announced with its first copy.
        sms_event(txn, &row.try_into_model()?).await?;
    }
    let decision = match (decision, inserted) {
        (Some(_), false) => first_decision(txn, &event.sms_identifier).await?,
        (decision, _) => decision,
    };
    let ack = match decision {
        Some(d) => Ack::Json(d.to_body()),
        None => Ack::Empty,
    };
    Ok((ack, inserted))
}

async fn first_decision(
    txn: &DatabaseTransaction,
    sms_identifier: &str,
) -> Result<Option<SmsDecision>, DbErr> {
    let Some(row) = SmsMessages::find_by_id(sms_identifier.to_owned())
        .one(txn)
        .await?
    else {
        return Ok(Some(SmsDecision::Discard));
    };
    Ok(Some(
        match (row.decision.as_str(), row.routed_to, row.calling) {
            ("route", Some(called), Some(calling)) => SmsDecision::Route { called, calling },
            _ => SmsDecision::Discard,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(status: BindingStatus, private_sms: Option<bool>) -> bindings::Model {
        let now = Utc::now();
        bindings::Model {
            private_sms,
            ..bindings::Model::fixture(status, "+8617000000001", now)
        }
    }

    #[test]
    fn routes_to_the_other_party_only_on_an_active_binding_with_sms() {
        let b = binding(BindingStatus::Active, None);
        assert_eq!(
            decide("+8613800000001", Some(&b)),
            SmsDecision::Route {
                called: "+8613800000002".into(),
                calling: "+8613800000001".into()
            }
        );
        assert_eq!(
            decide("+8613800000002", Some(&b)),
            SmsDecision::Route {
                called: "+8613800000001".into(),
                calling: "+8613800000002".into()
            }
        );
        assert_eq!(decide("+8613800000009", Some(&b)), SmsDecision::Discard);
        assert_eq!(decide("+8613800000001", None), SmsDecision::Discard);
        let no_sms = binding(BindingStatus::Active, Some(false));
        assert_eq!(
            decide("+8613800000001", Some(&no_sms)),
            SmsDecision::Discard
        );
        let pending = binding(BindingStatus::Pending, None);
        assert_eq!(
            decide("+8613800000001", Some(&pending)),
            SmsDecision::Discard
        );
    }
}
