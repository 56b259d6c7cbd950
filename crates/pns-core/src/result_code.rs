//! The platform's `resultcode` strings, named, with what each means for a caller: success, worth retrying
//! (the platform's own trouble), or permanent (retrying the same request cannot help).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResultClass {
    Success,
    Retryable,
    Permanent,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// `0`
    Success,
    /// 1023006..=1023012 (Authorization header) and 1023033..=1023037 (X-AKSK header): our signing is broken.
    AuthHeaderInvalid(u32),
    /// 1010013: `Created` too far from the platform's clock.
    ClockSkew,
    /// 1010002: a parameter is invalid (resultdesc names it) or an audio file is missing.
    InvalidParameter,
    /// 1010003: unknown app_key or wrong base URL.
    InvalidAppKey,
    /// 1010010: platform flow control; retry after about a minute.
    FlowControl,
    /// 1010029: account frozen (arrears).
    AccountFrozen,
    /// 1010040: the app_key's mode does not allow this API.
    ApiNotAllowed,
    /// 1012001: X does not belong to this app.
    NumberNotOwned,
    /// 1012007: no such binding or recording.
    RecordNotFound,
    /// 1012008: no free X (in that area) or X full.
    NotEnoughNumbers,
    /// 1012009: X already holds the maximum number of bindings.
    NumberFull,
    /// 1012010: the A/B + X binding already exists.
    BindingExists,
    /// 1012012: recording is not enabled for this app.
    RecordingNotEnabled,
    /// 1012102: number status abnormal or blacklisted.
    NumberAbnormal,
    /// 1010001 or 1023001: platform internal error.
    InternalError(u32),
    /// 1023002: the platform timed out internally.
    PlatformTimeout,
    /// Anything undocumented, kept verbatim.
    Other(String),
}

impl ResultCode {
    pub fn parse(code: &str) -> Self {
        let code = code.trim();
        let Ok(n) = code.parse::<u32>() else {
            return Self::Other(code.to_owned());
        };
        // "00" or "+0" are not the platform's success marker; only the canonical spelling is.
        if n.to_string() != code {
            return Self::Other(code.to_owned());
        }
        match n {
            0 => Self::Success,
            1_023_006..=1_023_012 | 1_023_033..=1_023_037 => Self::AuthHeaderInvalid(n),
            1_010_013 => Self::ClockSkew,
            1_010_002 => Self::InvalidParameter,
            1_010_003 => Self::InvalidAppKey,
            1_010_010 => Self::FlowControl,
            1_010_029 => Self::AccountFrozen,
            1_010_040 => Self::ApiNotAllowed,
            1_012_001 => Self::NumberNotOwned,
            1_012_007 => Self::RecordNotFound,
            1_012_008 => Self::NotEnoughNumbers,
            1_012_009 => Self::NumberFull,
            1_012_010 => Self::BindingExists,
            1_012_012 => Self::RecordingNotEnabled,
            1_012_102 => Self::NumberAbnormal,
            1_010_001 | 1_023_001 => Self::InternalError(n),
            1_023_002 => Self::PlatformTimeout,
            _ => Self::Other(code.to_owned()),
        }
    }

    /// The wire form, e.g. `"1012008"`.
    pub fn code(&self) -> String {
        let n: u32 = match self {
            Self::Success => 0,
            Self::AuthHeaderInvalid(n) | Self::InternalError(n) => *n,
            Self::ClockSkew => 1_010_013,
            Self::InvalidParameter => 1_010_002,
            Self::InvalidAppKey => 1_010_003,
            Self::FlowControl => 1_010_010,
            Self::AccountFrozen => 1_010_029,
            Self::ApiNotAllowed => 1_010_040,
            Self::NumberNotOwned => 1_012_001,
            Self::RecordNotFound => 1_012_007,
            Self::NotEnoughNumbers => 1_012_008,
            Self::NumberFull => 1_012_009,
            Self::BindingExists => 1_012_010,
            Self::RecordingNotEnabled => 1_012_012,
            Self::NumberAbnormal => 1_012_102,
            Self::PlatformTimeout => 1_023_002,
            Self::Other(s) => return s.clone(),
        };
        n.to_string()
    }

    pub fn meaning(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::AuthHeaderInvalid(_) => "Authorization or X-AKSK header missing or malformed",
            Self::ClockSkew => "Created timestamp too far from the platform's clock",
            Self::InvalidParameter => "invalid request parameter",
            Self::InvalidAppKey => "invalid app_key or wrong base URL",
            Self::FlowControl => "platform flow control, retry later",
            Self::AccountFrozen => "account frozen",
            Self::ApiNotAllowed => "app_key not allowed to call this API",
            Self::NumberNotOwned => "number does not belong to this app",
            Self::RecordNotFound => "record does not exist",
            Self::NotEnoughNumbers => "not enough virtual numbers",
            Self::NumberFull => "virtual number holds the maximum number of bindings",
            Self::BindingExists => "binding already exists",
            Self::RecordingNotEnabled => "recording not enabled for this app",
            Self::NumberAbnormal => "number status abnormal or blacklisted",
            Self::InternalError(_) => "platform internal error",
            Self::PlatformTimeout => "platform response timeout",
            Self::Other(_) => "undocumented result code",
        }
    }

    pub fn class(&self) -> ResultClass {
        match self {
            Self::Success => ResultClass::Success,
            Self::InternalError(_) | Self::PlatformTimeout | Self::FlowControl => {
                ResultClass::Retryable
            }
            _ => ResultClass::Permanent,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Self::Success)
    }

    pub fn is_retryable(&self) -> bool {
        self.class() == ResultClass::Retryable
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

impl From<&str> for ResultCode {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

/// Serialized as the wire string, so it can sit in a `resultcode` field directly.
impl Serialize for ResultCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for ResultCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENTED: &[&str] = &[
        "0", "1023006", "1023007", "1023008", "1023009", "1023010", "1023011", "1023012",
        "1023033", "1023037", "1010013", "1010002", "1010003", "1010010", "1010029", "1010040",
        "1012001", "1012007", "1012008", "1012009", "1012010", "1012012", "1012102", "1010001",
        "1023001", "1023002",
    ];

    #[test]
    fn documented_codes_round_trip() {
        for code in DOCUMENTED {
            let rc = ResultCode::parse(code);
            assert!(
                !matches!(rc, ResultCode::Other(_)),
                "{code} should be known"
            );
            assert_eq!(rc.code(), *code);
        }
    }

    #[test]
    fn retryable_set_is_exactly_the_platforms_own_trouble() {
        for code in DOCUMENTED {
            let rc = ResultCode::parse(code);
            let expected = match *code {
                "0" => ResultClass::Success,
                "1010001" | "1023001" | "1023002" | "1010010" => ResultClass::Retryable,
                _ => ResultClass::Permanent,
            };
            assert_eq!(rc.class(), expected, "{code}");
        }
        assert_eq!(ResultCode::parse("9999999").class(), ResultClass::Permanent);
    }

    #[test]
    fn unknown_and_odd_codes_are_kept() {
        assert_eq!(
            ResultCode::parse("9999999"),
            ResultCode::Other("9999999".into())
        );
        assert_eq!(ResultCode::parse("00"), ResultCode::Other("00".into()));
        assert_eq!(ResultCode::parse(""), ResultCode::Other(String::new()));
        assert_eq!(
            ResultCode::parse("1023013"),
            ResultCode::Other("1023013".into())
        );
        assert!(ResultCode::parse(" 0 ").is_success());
    }

    #[test]
    fn display_and_serde() {
        assert_eq!(
            ResultCode::BindingExists.to_string(),
            "1012010 (binding already exists)"
        );
        assert_eq!(
            serde_json::to_string(&ResultCode::NotEnoughNumbers).unwrap(),
            r#""1012008""#
        );
        let rc: ResultCode = serde_json::from_str(r#""1010010""#).unwrap();
        assert_eq!(rc, ResultCode::FlowControl);
    }
}
