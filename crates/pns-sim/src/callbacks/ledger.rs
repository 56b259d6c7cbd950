//! What became of every CDR push: the icids answered 2xx, the ones lost after the last retry, and the
//! refused attempts in between. Read through `SimControl::cdr_ledger` (GET /sim/cdrs/delivered) so a
//! fault run can check the receiver stored exactly what the platform considers delivered.

use serde::Serialize;
use serde_json::Value;

/// Icids kept per list; past it only the counts grow (a long-lived sandbox simulator stays bounded).
const MAX_ICIDS: usize = 1_000_000;

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CdrLedger {
    /// CDRs in batches answered with a 2xx.
    pub delivered: u64,
    /// CDRs in batches still refused after the last retry (lost, as on the platform).
    pub lost: u64,
    /// Batch pushes answered 2xx.
    pub batches: u64,
    /// Attempts answered non-2xx or not answered (each one retried or, the last, lost).
    pub failed_attempts: u64,
    pub delivered_icids: Vec<String>,
    pub lost_icids: Vec<String>,
    /// Whether an icid list hit its cap (the counts are still exact).
    pub truncated: bool,
}

impl CdrLedger {
    pub(crate) fn record(&mut self, batch: &[Value], attempts: u32, ok: bool) {
        let n = batch.len() as u64;
        let failed = if ok {
            attempts.saturating_sub(1)
        } else {
            attempts
        };
        self.failed_attempts += u64::from(failed);
        let list = if ok {
            self.delivered += n;
            self.batches += 1;
            &mut self.delivered_icids
        } else {
            self.lost += n;
            &mut self.lost_icids
        };
        for record in batch {
            if list.len() >= MAX_ICIDS {
                self.truncated = true;
                break;
            }
            list.push(record["icid"].as_str().unwrap_or_default().to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_delivered_lost_and_refused_attempts() {
        let mut l = CdrLedger::default();
        l.record(&[json!({"icid": "a"}), json!({"icid": "b"})], 3, true);
        l.record(&[json!({"icid": "c"})], 7, false);
        assert_eq!((l.delivered, l.lost, l.batches), (2, 1, 1));
        assert_eq!(l.failed_attempts, 2 + 7);
        assert_eq!(l.delivered_icids, ["a", "b"]);
        assert_eq!(l.lost_icids, ["c"]);
    }
}
