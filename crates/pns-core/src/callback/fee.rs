//! CDRs ("fee"): `{"eventType": "fee", "feeLst": [1..=50 records]}`. The platform does not keep a CDR after
//! delivering it, so a record must never be rejected for a field we do not know: those land in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::redact::debug_masking;
use crate::wire_time::parse_event_time;

/// The platform merges CDRs of calls that end close together, at most this many per push.
pub const MAX_FEE_BATCH: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeNotification {
    pub event_type: String,
    pub fee_lst: Vec<FeeRecord>,
}

/// One call record. Times are UTC `yyyy-MM-dd HH:mm:ss`. `icid` identifies the record (dedupe key).
#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeRecord {
    pub icid: String,
    pub direction: Option<i64>,
    pub sp_id: Option<String>,
    pub app_key: Option<String>,
    /// X.
    pub bind_num: Option<String>,
    pub session_id: Option<String>,
    /// Empty when the call matched no binding.
    pub subscription_id: Option<String>,
    pub caller_num: Option<String>,
    pub callee_num: Option<String>,
    pub fwd_display_num: Option<String>,
    pub fwd_dst_num: Option<String>,
    pub call_in_time: Option<String>,
    pub fwd_start_time: Option<String>,
    pub fwd_alerting_time: Option<String>,
    pub fwd_answer_time: Option<String>,
    pub call_end_time: Option<String>,
    pub fail_time: Option<String>,
    /// Q.850 cause of the forwarded leg.
    pub fwd_unasw_rsn: Option<i64>,
    pub ul_fail_reason: Option<i64>,
    pub sip_status_code: Option<i64>,
    pub call_out_unasw_rsn: Option<i64>,
    /// 0 or 1.
    pub record_flag: Option<i64>,
    pub record_start_time: Option<String>,
    pub record_domain: Option<String>,
    pub record_bucket_name: Option<String>,
    pub record_object_name: Option<String>,
    pub tts_play_times: Option<i64>,
    pub tts_trans_duration: Option<i64>,
    pub mpty_id: Option<String>,
    pub service_type: Option<String>,
    pub host_name: Option<String>,
    pub user_data: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

debug_masking!(FeeRecord {
    plain: [
        icid,
        direction,
        sp_id,
        app_key,
        bind_num,
        session_id,
        subscription_id,
        call_in_time,
        fwd_start_time,
        fwd_alerting_time,
        fwd_answer_time,
        call_end_time,
        fail_time,
        fwd_unasw_rsn,
        ul_fail_reason,
        sip_status_code,
        call_out_unasw_rsn,
        record_flag,
        record_start_time,
        record_domain,
        record_bucket_name,
        record_object_name,
        tts_play_times,
        tts_trans_duration,
        mpty_id,
        service_type,
        host_name,
        user_data,
        extra
    ],
    masked: [caller_num, callee_num, fwd_display_num, fwd_dst_num],
});

impl FeeRecord {
    /// Connected iff `fwdAnswerTime` is present (the documented rule; `ulFailReason` is not reliable).
    pub fn answered(&self) -> bool {
        self.fwd_answer_time
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty())
    }

    /// Billed seconds: `callEndTime - fwdAnswerTime`; 0 when not answered or the times do not parse.
    pub fn talk_seconds(&self) -> i64 {
        if !self.answered() {
            return 0;
        }
        let answer = self.fwd_answer_time.as_deref().and_then(parse_event_time);
        let end = self.call_end_time.as_deref().and_then(parse_event_time);
        match (answer, end) {
            (Some(a), Some(e)) => (e - a).num_seconds().max(0),
            _ => 0,
        }
    }

    /// A recording can be fetched: the flag is set and the file is named.
    pub fn has_recording(&self) -> bool {
        self.record_flag == Some(1)
            && self
                .record_object_name
                .as_deref()
                .is_some_and(|n| !n.is_empty())
            && self.record_domain.as_deref().is_some_and(|d| !d.is_empty())
    }
}
