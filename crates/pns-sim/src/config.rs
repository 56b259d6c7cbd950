//! What a simulated PrivateNumber app looks like: its keys, its X numbers and where it pushes callbacks.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use pns_core::PhoneNumber;

/// Area code given to an X number listed without `@areaCode` (Shenzhen, as in Huawei's examples).
pub const DEFAULT_AREA_CODE: &str = "0755";

/// Settings of one simulated app. `SimConfig::new` fills the platform defaults.
#[derive(Clone)]
pub struct SimConfig {
    pub app_key: String,
    pub app_secret: String,
    pub numbers: Vec<SimNumber>,
    pub callback_url: Option<String>,
    /// Bindings one X may hold (the platform's limit is 5,000).
    pub capacity_per_number: usize,
    /// Allowed distance between `Created` and the simulator's clock.
    pub skew_window: Duration,
    /// Most CDRs in one `fee` push (the platform sends at most 50).
    pub cdr_batch_max: usize,
}

impl SimConfig {
    pub fn new(
        app_key: impl Into<String>,
        app_secret: impl Into<String>,
        numbers: Vec<SimNumber>,
    ) -> Self {
        Self {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
            numbers,
            callback_url: None,
            capacity_per_number: 5_000,
            skew_window: Duration::from_secs(300),
            cdr_batch_max: 50,
        }
    }

    /// Refuses settings the platform could never have (so a typo fails at start, not at the first bind).
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.app_key.is_empty(), "app_key must not be empty");
        anyhow::ensure!(!self.app_secret.is_empty(), "app_secret must not be empty");
        anyhow::ensure!(
            self.capacity_per_number > 0,
            "capacity_per_number must be > 0"
        );
        anyhow::ensure!(
            (1..=50).contains(&self.cdr_batch_max),
            "cdr_batch_max must be 1..=50"
        );
        let mut seen = HashSet::new();
        for n in &self.numbers {
            PhoneNumber::parse(&n.number).map_err(|e| {
                anyhow::anyhow!("numbers: {}: {e}", pns_core::phone::mask(&n.number))
            })?;
            anyhow::ensure!(
                valid_area_code(&n.area_code),
                "numbers: area code {:?} must be 2..=8 digits",
                n.area_code
            );
            anyhow::ensure!(
                seen.insert(n.number.as_str()),
                "numbers: {} listed twice",
                pns_core::phone::mask(&n.number)
            );
        }
        if let Some(url) = &self.callback_url {
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "callback_url must be an http(s) URL"
            );
        }
        Ok(())
    }
}

impl fmt::Debug for SimConfig {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("app_key", &self.app_key)
            .field("app_secret", &"[REDACTED]")
            .field("numbers", &self.numbers.len())
            .field("callback_url", &self.callback_url)
            .field("capacity_per_number", &self.capacity_per_number)
            .field("skew_window", &self.skew_window)
            .field("cdr_batch_max", &self.cdr_batch_max)
            .finish()
    }
}

pub(crate) fn valid_area_code(s: &str) -> bool {
    (2..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// One X number owned by the app. CLI form: `+8617000000001` or `+8617000000001@0755`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimNumber {
    pub number: String,
    pub area_code: String,
}

impl SimNumber {
    pub fn new(number: impl Into<String>, area_code: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            area_code: area_code.into(),
        }
    }
}

impl FromStr for SimNumber {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (number, area) = match s.trim().split_once('@') {
            Some((n, a)) => (n.trim(), a.trim()),
            None => (s.trim(), DEFAULT_AREA_CODE),
        };
        PhoneNumber::parse(number)
            .map_err(|e| format!("{}: {e}", pns_core::phone::mask(number)))?;
        if !valid_area_code(area) {
            return Err(format!("area code {area:?} must be 2..=8 digits"));
        }
        Ok(Self::new(number, area))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_without_area_gets_default() {
        let n: SimNumber = "+8617000000001".parse().unwrap();
        assert_eq!(n, SimNumber::new("+8617000000001", "0755"));
        let n: SimNumber = "+8617000000002@010".parse().unwrap();
        assert_eq!(n.area_code, "010");
        assert!("17000000001".parse::<SimNumber>().is_err());
        assert!("+8617000000001@x1".parse::<SimNumber>().is_err());
    }

    #[test]
    fn duplicate_numbers_are_refused() {
        let n = SimNumber::new("+8617000000001", "0755");
        let cfg = SimConfig::new("k", "s", vec![n.clone(), n]);
        assert!(cfg.validate().is_err());
    }
}
