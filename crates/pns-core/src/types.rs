//! Small domain values the platform constrains. Each can only hold what the platform accepts, so a request
//! built from them cannot fail validation upstream for a range reason.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl DomainError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// The platform's binding id: 1..=64 visible ASCII characters. An empty id must never reach an unbind call
/// (the platform would fall back to `relationNum` and could drop every binding on X), hence the type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(String);

impl SubscriptionId {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.is_empty() || s.len() > 64 {
            return Err(DomainError::invalid(
                "subscriptionId",
                "must be 1 to 64 characters",
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                "subscriptionId",
                "only visible ASCII characters are allowed",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for SubscriptionId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for SubscriptionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SubscriptionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(de::Error::custom)
    }
}

/// Which way calls through X may go. On the wire an integer 0/1/2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CallDirection {
    #[default]
    Both = 0,
    CallerToCallee = 1,
    CalleeToCaller = 2,
}

impl CallDirection {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl TryFrom<i64> for CallDirection {
    type Error = DomainError;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        match v {
            0 => Ok(Self::Both),
            1 => Ok(Self::CallerToCallee),
            2 => Ok(Self::CalleeToCaller),
            _ => Err(DomainError::invalid(
                "callDirection",
                format!("{v} is not 0, 1 or 2"),
            )),
        }
    }
}

impl Serialize for CallDirection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for CallDirection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        Self::try_from(v).map_err(de::Error::custom)
    }
}

/// How long a binding lives, in seconds: 0..=7,776,000 (90 days); 0 means it never expires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BindingDuration(u32);

impl BindingDuration {
    pub const MAX_SECONDS: u32 = 7_776_000;
    pub const UNLIMITED: Self = Self(0);

    pub fn new(seconds: u32) -> Result<Self, DomainError> {
        if seconds > Self::MAX_SECONDS {
            return Err(DomainError::invalid(
                "duration",
                format!("{seconds} s is more than {} s (90 days)", Self::MAX_SECONDS),
            ));
        }
        Ok(Self(seconds))
    }

    pub fn seconds(self) -> u32 {
        self.0
    }

    pub fn is_unlimited(self) -> bool {
        self.0 == 0
    }
}

impl<'de> Deserialize<'de> for BindingDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(u32::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// Longest single call, in minutes: 0..=1440; 0 means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MaxCallDuration(u16);

impl MaxCallDuration {
    pub const MAX_MINUTES: u16 = 1_440;
    pub const UNLIMITED: Self = Self(0);

    pub fn new(minutes: u16) -> Result<Self, DomainError> {
        if minutes > Self::MAX_MINUTES {
            return Err(DomainError::invalid(
                "maxDuration",
                format!(
                    "{minutes} min is more than {} min (24 h)",
                    Self::MAX_MINUTES
                ),
            ));
        }
        Ok(Self(minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    pub fn is_unlimited(self) -> bool {
        self.0 == 0
    }
}

impl<'de> Deserialize<'de> for MaxCallDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(u16::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// The platform's string booleans (`recordFlag`, `privateSms`): always sent as `"true"`/`"false"`.
/// Reading also takes JSON booleans, because echoes in query results are not documented precisely.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WireBool(pub bool);

impl From<bool> for WireBool {
    fn from(b: bool) -> Self {
        Self(b)
    }
}

impl From<WireBool> for bool {
    fn from(b: WireBool) -> Self {
        b.0
    }
}

impl Serialize for WireBool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0 { "true" } else { "false" })
    }
}

impl<'de> Deserialize<'de> for WireBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct WireBoolVisitor;

        impl Visitor<'_> for WireBoolVisitor {
            type Value = WireBool;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#""true" or "false""#)
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<WireBool, E> {
                Ok(WireBool(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireBool, E> {
                match v {
                    "true" => Ok(WireBool(true)),
                    "false" => Ok(WireBool(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }

        d.deserialize_any(WireBoolVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_id_bounds() {
        assert!(SubscriptionId::parse("0167ecc9-bfb6-4eec-b671-a7dab2ba78c").is_ok());
        assert!(SubscriptionId::parse(&"a".repeat(64)).is_ok());
        for bad in ["", " ", "a b", "ab\n", "绑定", &"a".repeat(65)] {
            assert!(SubscriptionId::parse(bad).is_err(), "{bad:?}");
        }
        let id: SubscriptionId = serde_json::from_str(r#""abc""#).unwrap();
        assert_eq!(id.to_string(), "abc");
        assert!(serde_json::from_str::<SubscriptionId>(r#""""#).is_err());
    }

    #[test]
    fn call_direction_is_an_integer_on_the_wire() {
        assert_eq!(
            serde_json::to_string(&CallDirection::CalleeToCaller).unwrap(),
            "2"
        );
        assert_eq!(
            serde_json::from_str::<CallDirection>("1").unwrap(),
            CallDirection::CallerToCallee
        );
        assert!(serde_json::from_str::<CallDirection>("3").is_err());
        assert!(serde_json::from_str::<CallDirection>(r#""0""#).is_err());
        assert_eq!(CallDirection::try_from(0).unwrap(), CallDirection::Both);
        assert!(CallDirection::try_from(-1).is_err());
    }

    #[test]
    fn durations_are_range_checked() {
        assert!(BindingDuration::new(0).unwrap().is_unlimited());
        assert_eq!(
            BindingDuration::new(7_776_000).unwrap().seconds(),
            7_776_000
        );
        assert!(BindingDuration::new(7_776_001).is_err());
        assert!(serde_json::from_str::<BindingDuration>("7776001").is_err());
        assert_eq!(
            serde_json::to_string(&BindingDuration::new(60).unwrap()).unwrap(),
            "60"
        );

        assert!(MaxCallDuration::new(0).unwrap().is_unlimited());
        assert_eq!(MaxCallDuration::new(1_440).unwrap().minutes(), 1_440);
        assert!(MaxCallDuration::new(1_441).is_err());
        assert!(serde_json::from_str::<MaxCallDuration>("-1").is_err());
    }

    #[test]
    fn wire_bool_is_a_string_on_the_wire() {
        assert_eq!(serde_json::to_string(&WireBool(true)).unwrap(), r#""true""#);
        assert_eq!(
            serde_json::to_string(&WireBool(false)).unwrap(),
            r#""false""#
        );
        assert_eq!(
            serde_json::from_str::<WireBool>(r#""true""#).unwrap(),
            WireBool(true)
        );
        assert_eq!(
            serde_json::from_str::<WireBool>("false").unwrap(),
            WireBool(false)
        );
        assert!(serde_json::from_str::<WireBool>(r#""yes""#).is_err());
        assert!(serde_json::from_str::<WireBool>("1").is_err());
    }
}
