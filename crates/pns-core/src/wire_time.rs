//! Timestamp formats used on the wire. The platform speaks UTC everywhere but without an offset marker in
//! call events and CDRs, so the parsing lives in one place.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Call events and CDRs: `2019-01-23 09:16:41`, UTC.
pub const EVENT_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Parses a call-event/CDR timestamp (UTC, no offset). `None` for anything else, including an empty string.
pub fn parse_event_time(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), EVENT_TIME_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

pub fn format_event_time(t: DateTime<Utc>) -> String {
    t.format(EVENT_TIME_FORMAT).to_string()
}

/// SMS notifications use ISO 8601 with milliseconds and `Z`: `2018-09-13T09:46:16.023Z`.
/// The fraction is optional so a platform that drops it is still understood.
pub fn parse_sms_time(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.fZ")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn event_time_round_trips() {
        let t = parse_event_time("2019-01-23 09:16:41").unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2019, 1, 23, 9, 16, 41).unwrap());
        assert_eq!(format_event_time(t), "2019-01-23 09:16:41");
    }

    #[test]
    fn event_time_rejects_other_shapes() {
        for bad in [
            "",
            "2019-01-23T09:16:41Z",
            "2019-13-23 09:16:41",
            "yesterday",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn sms_time_with_and_without_millis() {
        let t = parse_sms_time("2018-09-13T09:46:16.023Z").unwrap();
        assert_eq!(t.timestamp_millis() % 1000, 23);
        assert_eq!(
            parse_sms_time("2018-09-13T09:46:16Z").unwrap(),
            Utc.with_ymd_and_hms(2018, 9, 13, 9, 46, 16).unwrap()
        );
        assert_eq!(parse_sms_time("2018-09-13 09:46:16"), None);
    }
}
