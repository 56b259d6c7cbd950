//! E.164 phone numbers. Real numbers are personal data: the type masks itself in `Display` and `Debug` so a
//! stray `{}` or `{:?}` in a log line cannot leak one; the real value takes an explicit `as_str()`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::types::DomainError;

/// A validated E.164 number: `+`, then 8..=15 digits, the first not `0`.
/// China (`+86`) is checked tighter, 9..=12 digits after the country code: an 11-digit mobile or a
/// landline with its area code (without the leading 0).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let invalid = |reason: &str| DomainError::invalid("phone number", reason);
        let digits = s
            .strip_prefix('+')
            .ok_or_else(|| invalid("must start with '+' and the country code (E.164)"))?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("only digits may follow the '+'"));
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(invalid("must have 8 to 15 digits after the '+'"));
        }
        if digits.starts_with('0') {
            return Err(invalid("the country code cannot start with 0"));
        }
        if let Some(national) = digits.strip_prefix("86")
            && !(9..=12).contains(&national.len())
        {
            return Err(invalid(
                "a +86 number has 9 to 12 digits after the country code",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The real number, for the wire and the database. Never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// `+86186****5678`: safe to log.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any string the way [`PhoneNumber::masked`] does, for numbers that arrive unvalidated (callbacks).
/// From 11 characters on it keeps the first 6 and the last 4; shorter input keeps proportionally less, and
/// the hidden part is always the fixed `****` so the mask does not reveal the length either.
pub fn mask(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    let (head, tail) = if n >= 11 { (6, 4) } else { (n / 3, n / 4) };
    let mut out: String = chars[..head].iter().collect();
    out.push_str("****");
    out.extend(&chars[n - tail..]);
    out
}

/// Masks every run of 7 or more digits (with an optional leading `+`) as a phone number
/// (`+86186****5678`), for text that may carry one: paths, query strings, upstream messages.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.trim_start_matches('+').len();
        if digits >= 7 {
            out.push_str(&mask(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

impl FromStr for PhoneNumber {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> Self {
        p.0
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_mobile_landline_and_foreign_numbers() {
        for ok in [
            "+8618612345678",
            "+8675528123401",
            "+861012345678",
            "+14155550123",
            "+4930123456",
        ] {
            assert_eq!(PhoneNumber::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_non_e164() {
        for bad in [
            "",
            "+",
            "18612345678",
            "+86 18612345678",
            "+86-186-1234-5678",
            "+0861234567890",
            "+1234567",
            "+1234567890123456",
            "+86186123",
            "+8618612345678901",
            "+86186١2345678",
            " +8618612345678",
            "+8618612345678\n",
        ] {
            assert!(
                PhoneNumber::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn masks_in_display_and_debug() {
        let p = PhoneNumber::parse("+8618612345678").unwrap();
        assert_eq!(p.masked(), "+86186****5678");
        assert_eq!(p.to_string(), "+86186****5678");
        assert_eq!(format!("{p:?}"), r#"PhoneNumber("+86186****5678")"#);
    }

    #[test]
    fn masks_short_and_odd_input_without_panicking() {
        assert_eq!(mask(""), "****");
        assert_eq!(mask("+1"), "****");
        assert_eq!(mask("+8612"), "+****2");
        assert_eq!(mask("+4930123456"), "+49301****3456");
        assert_eq!(mask("+123456789"), "+12****89");
        assert_eq!(mask("号码号码号码号码号码号码"), "号码号码号码****号码号码");
    }

    #[test]
    fn serde_uses_the_real_value_and_validates() {
        let p = PhoneNumber::parse("+8618612345678").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), r#""+8618612345678""#);
        let back: PhoneNumber = serde_json::from_str(r#""+8618612345678""#).unwrap();
        assert_eq!(back, p);
        let err = serde_json::from_str::<PhoneNumber>(r#""186""#).unwrap_err();
        assert!(err.to_string().contains("phone number"), "{err}");
    }

    proptest! {
        #[test]
        fn parse_as_str_round_trips(cc in "[1-9][0-9]{0,2}", rest in "[0-9]{5,12}") {
            let raw = format!("+{cc}{rest}");
            if let Ok(p) = PhoneNumber::parse(&raw) {
                prop_assert_eq!(p.as_str(), raw.as_str());
                prop_assert_eq!(PhoneNumber::parse(p.as_str()).unwrap(), p);
            }
        }

        #[test]
        fn mask_hides_the_middle(raw in "\\+[1-9][0-9]{9,14}") {
            let masked = mask(&raw);
            let (head, tail) = (&raw[..6], &raw[raw.len() - 4..]);
            // Exactly head + **** + tail: no room is left for any middle digit, and the width is fixed.
            prop_assert_eq!(&masked, &format!("{head}****{tail}"));
        }

        #[test]
        fn mask_never_panics(raw in any::<String>()) {
            let masked = mask(&raw);
            prop_assert!(masked.contains("****"));
        }
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact;

    #[test]
    fn redact_masks_number_runs_and_keeps_the_rest() {
        assert_eq!(
            redact("/v1/bindings?callerNum=%2B8618612345678&page=2"),
            "/v1/bindings?callerNum=%2B861861****5678&page=2"
        );
        assert_eq!(redact("+8618612345678"), "+86186****5678");
        assert_eq!(redact("limit=100&x=+12"), "limit=100&x=+12");
        assert_eq!(redact(""), "");
        // A uuid is left readable: its digit runs are short.
        let id = "0193f3c2-7d1e-7a40-9b1c-2f4d5e6a7b8c";
        assert_eq!(redact(id), id);
    }
}
