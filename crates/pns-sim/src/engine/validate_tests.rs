//! Field checks, one rejection per bad field.

use super::*;
use serde_json::json;

fn bind_of(v: Value) -> Result<BindCmd> {
    bind(v.as_object().unwrap())
}

fn field_of(r: Result<BindCmd>) -> String {
    let e = r.unwrap_err();
    assert_eq!(e.code, "1010002");
    e.desc
}

#[test]
fn bind_defaults_and_fields() {
    let b = bind_of(json!({"relationNum":"+8617000000001","callerNum":"+8613800000001","calleeNum":"+8613800000002"})).unwrap();
    assert_eq!(
        (b.call_direction, b.duration, b.max_duration, b.record_flag),
        (0, 0, 0, false)
    );
    for (patch, field) in [
        (json!({"callDirection": 3}), "callDirection"),
        (json!({"callDirection": "0"}), "callDirection"),
        (json!({"duration": 7_776_001}), "duration"),
        (json!({"maxDuration": 1441}), "maxDuration"),
        (json!({"userData": "a{b"}), "userData"),
        (json!({"userData": ""}), "userData"),
        (json!({"recordFlag": true}), "recordFlag"),
        (json!({"privateSms": "yes"}), "privateSms"),
        (json!({"areaMatchMode": "2"}), "areaMatchMode"),
        (json!({"callerNum": "13800000001"}), "callerNum"),
        (json!({"relationNum": "+86abc"}), "relationNum"),
        (json!({"lastMinVoice": "a.wav"}), "lastMinVoice"),
        (
            json!({"preVoice": {"callerHintTone": ""}}),
            "preVoice.callerHintTone",
        ),
    ] {
        let mut body = json!({"relationNum":"+8617000000001","callerNum":"+8613800000001","calleeNum":"+8613800000002"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let desc = field_of(bind_of(body));
        assert!(desc.contains(field), "{desc} should name {field}");
    }
}

#[test]
fn query_paging_falls_back() {
    let p = |qs: &str| query(&query_params(qs).unwrap());
    assert_eq!(
        p("relationNum=%2B8617000000001&pageSize=5")
            .unwrap()
            .page_size,
        50
    );
    assert_eq!(
        p("relationNum=%2B8617000000001&pageSize=100")
            .unwrap()
            .page_size,
        100
    );
    assert!(p("relationNum=%2B8617000000001&pageIndex=0").is_err());
    assert!(p("pageSize=10").is_err());
}

#[test]
fn unbind_prefers_subscription_id() {
    let c = unbind(&query_params("subscriptionId=abc&relationNum=%2B8617000000001").unwrap());
    assert_eq!(c.unwrap(), UnbindCmd::BySubscription("abc".into()));
}
