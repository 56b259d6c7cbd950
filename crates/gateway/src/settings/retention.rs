//! How long each kind of history is kept (`PNS_RETENTION_*`).

use std::time::Duration;

use super::{RawSettings, SettingsError, interval, invalid};

/// How long each kind of history is kept; None = for ever. Purged by the leader-elected `retention`
/// job every `interval`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    pub interval: Option<Duration>,
    pub idempotency_keys: Option<Duration>,
    pub raw_callbacks: Option<Duration>,
    pub call_events: Option<Duration>,
    pub cdrs: Option<Duration>,
    pub calls: Option<Duration>,
    pub sms: Option<Duration>,
    pub number_status: Option<Duration>,
    pub reconcile: Option<Duration>,
}

impl Retention {
    /// A hundred years: longer is a typo, and would overflow date arithmetic.
    const MAX_DAYS: u64 = 36_500;

    pub(super) fn from_raw(raw: &RawSettings) -> Result<Self, SettingsError> {
        let hours = |key: &str, n: u64| {
            if n > Self::MAX_DAYS * 24 {
                return Err(invalid(
                    key,
                    format!("at most {} days (0 keeps for ever)", Self::MAX_DAYS),
                ));
            }
            Ok(interval(n * 3_600))
        };
        let days = |key: &str, n: u64| hours(key, n.saturating_mul(24));
        Ok(Self {
            interval: interval(raw.retention_interval_secs),
            idempotency_keys: hours(
                "PNS_RETENTION_IDEMPOTENCY_KEYS_HOURS",
                raw.retention_idempotency_keys_hours,
            )?,
            raw_callbacks: days(
                "PNS_RETENTION_RAW_CALLBACKS_DAYS",
                raw.retention_raw_callbacks_days,
            )?,
            call_events: days(
                "PNS_RETENTION_CALL_EVENTS_DAYS",
                raw.retention_call_events_days,
            )?,
            cdrs: days("PNS_RETENTION_CDRS_DAYS", raw.retention_cdrs_days)?,
            calls: days("PNS_RETENTION_CALLS_DAYS", raw.retention_calls_days)?,
            sms: days("PNS_RETENTION_SMS_DAYS", raw.retention_sms_days)?,
            number_status: days(
                "PNS_RETENTION_NUMBER_STATUS_DAYS",
                raw.retention_number_status_days,
            )?,
            reconcile: days("PNS_RETENTION_RECONCILE_DAYS", raw.retention_reconcile_days)?,
        })
    }
}
