//! Numbers and request bodies, shaped like the platform's (the same fields pns-sim sends).

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, Utc};
use pns_core::wire_time::format_event_time;
use pns_core::{NotificationMode, SmsEvent, SmsNotification};
use serde_json::{Value, json};

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// A number never handed out before in this run: keeps A/B pairs unique so no AXB check conflicts.
pub fn next_seq() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// The i-th X number given to pns-sim: +8617000000001, +8617000000002, ...
pub fn x_number(i: usize) -> String {
    format!("+86170{:08}", i + 1)
}

/// A real party number: `+86<prefix><8 digits>` (prefix 138 for A, 139 for B).
pub fn party(prefix: u16, n: u64) -> String {
    format!("+86{prefix}{:08}", n % 100_000_000)
}

/// A fresh A/B pair and the X it goes on.
pub fn pair(numbers: usize) -> (String, String, String) {
    let n = next_seq();
    let x = x_number((n % numbers.max(1) as u64) as usize);
    (party(138, n), party(139, n), x)
}

/// The binding a CDR or call event refers to.
#[derive(Clone, Debug)]
pub struct BoundPair {
    pub subscription_id: String,
    pub x: String,
    pub caller: String,
    pub callee: String,
}

/// One answered 42-second call, as a `feeLst` item.
pub fn fee_record(icid: &str, b: &BoundPair) -> Value {
    let end = Utc::now();
    let answer = end - Duration::seconds(42);
    let start = answer - Duration::seconds(5);
    json!({
        "direction": 0,
        "spId": "pns-bench",
        "appKey": crate::stack::APP_KEY,
        "icid": icid,
        "bindNum": b.x,
        "sessionId": format!("s-{icid}"),
        "subscriptionId": b.subscription_id,
        "callerNum": b.caller,
        "calleeNum": b.x,
        "fwdDisplayNum": b.x,
        "fwdDstNum": b.callee,
        "callInTime": format_event_time(start),
        "fwdStartTime": format_event_time(start),
        "fwdAlertingTime": format_event_time(start + Duration::seconds(1)),
        "fwdAnswerTime": format_event_time(answer),
        "callEndTime": format_event_time(end),
        "fwdUnaswRsn": 0,
        "ulFailReason": 0,
        "sipStatusCode": 0,
        "callOutUnaswRsn": 0,
        "recordFlag": 0,
        "ttsPlayTimes": 0,
        "ttsTransDuration": 0,
        "mptyId": format!("s-{icid}"),
        "serviceType": "004",
        "hostName": "pns-bench",
    })
}

/// `{"eventType":"fee","feeLst":[...]}` with `size` records whose icids start with `prefix`.
pub fn fee_batch(prefix: &str, size: usize, bindings: &[BoundPair]) -> (Vec<Value>, Value) {
    let records: Vec<Value> = (0..size)
        .map(|i| {
            let icid = format!("{prefix}.{i}");
            fee_record(&icid, &bindings[(next_seq() as usize) % bindings.len()])
        })
        .collect();
    let body = json!({"eventType": "fee", "feeLst": records});
    (records, body)
}

pub const CALL_EVENTS: [&str; 4] = ["callin", "alerting", "answer", "disconnect"];

/// The `step`-th event (callin, alerting, answer, disconnect) of call `session_id`.
pub fn call_event(session_id: &str, step: usize, b: &BoundPair) -> Value {
    let event_type = CALL_EVENTS[step % CALL_EVENTS.len()];
    let mut info = json!({
        "sessionId": session_id,
        "timestamp": format_event_time(Utc::now()),
        "caller": b.caller,
        "called": b.x,
        "subscriptionId": b.subscription_id,
    });
    if event_type == "disconnect" {
        info["stateCode"] = json!(0);
        info["stateDesc"] = json!("the user hung up");
    }
    json!({"eventType": event_type, "statusInfo": info})
}

/// A Block-mode SMS from A to X: the platform holds it until the answer says where it goes.
pub fn sms_block(b: &BoundPair) -> Value {
    let body = SmsNotification {
        app_key: Some(crate::stack::APP_KEY.to_owned()),
        sms_event: SmsEvent {
            sms_identifier: uuid::Uuid::new_v4().simple().to_string(),
            notification_mode: NotificationMode::Block,
            calling: b.caller.clone(),
            called: Some(b.callee.clone()),
            virtual_number: b.x.clone(),
            event: Some("TextSMS".into()),
            time_stamp: Some(Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
            subscription_id: Some(b.subscription_id.clone()),
            sms_content: Some("pns-bench".into()),
            ..SmsEvent::default()
        },
    };
    serde_json::to_value(body).expect("SMS notification serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound() -> BoundPair {
        BoundPair {
            subscription_id: "sub-1".into(),
            x: x_number(0),
            caller: party(138, 1),
            callee: party(139, 1),
        }
    }

    #[test]
    fn numbers_are_valid_e164() {
        for n in [
            x_number(0),
            x_number(199),
            party(138, 7),
            party(139, 123_456_789),
        ] {
            assert!(pns_core::PhoneNumber::parse(&n).is_ok(), "{n}");
        }
        assert_eq!(x_number(0), "+8617000000001");
    }

    #[test]
    fn bodies_parse_as_the_platform_callbacks_they_imitate() {
        let (_, fee) = fee_batch("icid", 50, &[bound()]);
        match pns_core::Callback::parse(&serde_json::to_vec(&fee).unwrap()).unwrap() {
            pns_core::Callback::Fee(f) => {
                assert_eq!(f.fee_lst.len(), 50);
                assert!(f.fee_lst[0].answered());
            }
            other => panic!("not a fee callback: {other:?}"),
        }
        let event = call_event("s1", 3, &bound());
        assert!(matches!(
            pns_core::Callback::parse(&serde_json::to_vec(&event).unwrap()).unwrap(),
            pns_core::Callback::CallEvent(_)
        ));
        let sms = sms_block(&bound());
        assert!(matches!(
            pns_core::Callback::parse(&serde_json::to_vec(&sms).unwrap()).unwrap(),
            pns_core::Callback::Sms(_)
        ));
    }
}
