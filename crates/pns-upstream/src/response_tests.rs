use serde_json::json;

use super::*;

fn raw(status: u16, body: serde_json::Value) -> RawResponse {
    RawResponse {
        status,
        location: None,
        body: serde_json::to_vec(&body).unwrap(),
    }
}

fn text(status: u16, body: &str) -> RawResponse {
    RawResponse {
        status,
        location: None,
        body: body.as_bytes().to_vec(),
    }
}

fn assert_rejected(result: Result<(), UpstreamError>, status: u16, code: &str, desc: &str) {
    match result {
        Err(UpstreamError::Rejected {
            http_status,
            code: c,
            desc: d,
        }) => {
            assert_eq!(http_status, status);
            assert_eq!(c, ResultCode::parse(code));
            assert_eq!(d, desc);
        }
        other => panic!("expected Rejected {code}, got {other:?}"),
    }
}

#[test]
fn success_needs_a_2xx_and_resultcode_zero() {
    parse_ok(&raw(
        200,
        json!({"resultcode": "0", "resultdesc": "Success"}),
    ))
    .unwrap();
    assert!(matches!(
        parse_ok(&raw(500, json!({"resultcode": "0"}))),
        Err(UpstreamError::Decode(_))
    ));
}

#[test]
fn a_non_zero_resultcode_is_rejected_even_on_http_200() {
    assert_rejected(
        parse_ok(&raw(
            200,
            json!({"resultcode": "1012007", "resultdesc": "no record"}),
        )),
        200,
        "1012007",
        "no record",
    );
}

#[test]
fn error_statuses_carry_the_platform_code_and_text() {
    for status in [400, 403, 500] {
        assert_rejected(
            parse_ok(&raw(
                status,
                json!({"resultcode": "1010002", "resultdesc": "callerNum"}),
            )),
            status,
            "1010002",
            "callerNum",
        );
    }
}

#[test]
fn a_numeric_resultcode_is_read_like_a_string() {
    parse_ok(&raw(200, json!({"resultcode": 0}))).unwrap();
    assert_rejected(
        parse_ok(&raw(403, json!({"resultcode": 1010003}))),
        403,
        "1010003",
        "",
    );
}

#[test]
fn answers_without_a_resultcode_are_transport_for_5xx_and_decode_otherwise() {
    assert!(matches!(
        parse_ok(&text(502, "<html>Bad Gateway</html>")),
        Err(UpstreamError::Transport(_))
    ));
    assert!(matches!(
        parse_ok(&text(404, "not found")),
        Err(UpstreamError::Decode(_))
    ));
    assert!(matches!(
        parse_ok(&text(200, "{}")),
        Err(UpstreamError::Decode(_))
    ));
    assert!(matches!(
        parse_ok(&text(200, "")),
        Err(UpstreamError::Decode(_))
    ));
    assert!(matches!(
        parse_ok(&text(302, "")),
        Err(UpstreamError::Decode(_))
    ));
}

#[test]
fn bind_requires_subscription_id_and_relation_num_and_keeps_the_rest() {
    let ok = parse_bind(&raw(
        200,
        json!({"resultcode": "0", "resultdesc": "Success", "subscriptionId": "s1",
               "relationNum": "+8617000000001", "callerNum": "+8618612345678", "newField": 1}),
    ))
    .unwrap();
    assert_eq!(ok.subscription_id.as_deref(), Some("s1"));
    assert_eq!(ok.relation_num.as_deref(), Some("+8617000000001"));
    assert_eq!(ok.extra.get("newField"), Some(&json!(1)));

    for body in [
        json!({"resultcode": "0", "relationNum": "+8617000000001"}),
        json!({"resultcode": "0", "subscriptionId": "", "relationNum": "+8617000000001"}),
        json!({"resultcode": "0", "subscriptionId": "s1"}),
    ] {
        assert!(matches!(
            parse_bind(&raw(200, body)),
            Err(UpstreamError::Decode(_))
        ));
    }
}

#[test]
fn query_reads_the_page_and_reports_bad_shapes_as_decode() {
    let page = parse_query(&raw(
        200,
        json!({"resultcode": "0", "resultdesc": "Success", "totalCount": 1, "relationNumList": [
            {"subscriptionId": "s1", "relationNum": "+8617000000001", "callerNum": "+8618612345678",
             "calleeNum": "+8618612345679", "callDirection": 0, "recordFlag": "false"}
        ]}),
    ))
    .unwrap();
    assert_eq!(page.total_count, Some(1));
    assert_eq!(page.relation_num_list[0].subscription_id, "s1");

    let bad = raw(
        200,
        json!({"resultcode": "0", "relationNumList": [{"subscriptionId": 5}]}),
    );
    assert!(matches!(parse_query(&bad), Err(UpstreamError::Decode(_))));
}

#[test]
fn record_url_is_the_location_of_the_redirect() {
    let mut moved = text(301, "");
    moved.location = Some("https://obs.example.com/rec.wav?sig=1".into());
    assert_eq!(
        parse_redirect(&moved).unwrap(),
        "https://obs.example.com/rec.wav?sig=1"
    );

    moved.location = None;
    assert!(matches!(
        parse_redirect(&moved),
        Err(UpstreamError::Decode(_))
    ));

    let expired = raw(
        404,
        json!({"resultcode": "1012007", "resultdesc": "no record"}),
    );
    assert!(matches!(
        parse_redirect(&expired),
        Err(UpstreamError::Rejected {
            code: ResultCode::RecordNotFound,
            ..
        })
    ));
    // A success without the redirect gives no URL to hand back.
    assert!(matches!(
        parse_redirect(&raw(200, json!({"resultcode": "0"}))),
        Err(UpstreamError::Decode(_))
    ));
}
