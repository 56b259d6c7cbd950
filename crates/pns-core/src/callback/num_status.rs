//! X-number status pushes: `{"eventType": "numStatus", "numInfo": [{number, status, cause}, ..]}`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumStatusNotification {
    pub event_type: String,
    pub num_info: Vec<NumStatusInfo>,
    /// When the change happened, if the platform says (not in the published contract): applies to
    /// every item that carries no time of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumStatusInfo {
    pub number: String,
    /// See [`XNumberStatus::from_code`].
    pub status: i64,
    /// Why it is unavailable: 1 deleted, 2 arrears, 3 suspended, 5 call-restricted by the carrier,
    /// 6 restriction lifted, 7/8/9 call forwarding switched on for X.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<i64>,
    /// When this status took effect, if the platform says; see [`NumStatusNotification::timestamp`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl NumStatusInfo {
    pub fn kind(&self) -> Option<XNumberStatus> {
        XNumberStatus::from_code(self.status)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XNumberStatus {
    Normal = 5,
    Suspended = 9,
    Unavailable = 10,
    /// Frozen for new bindings; existing bindings keep working.
    FrozenForNewBindings = 11,
}

impl XNumberStatus {
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            5 => Some(Self::Normal),
            9 => Some(Self::Suspended),
            10 => Some(Self::Unavailable),
            11 => Some(Self::FrozenForNewBindings),
            _ => None,
        }
    }

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Suspended => "suspended",
            Self::Unavailable => "unavailable",
            Self::FrozenForNewBindings => "frozen",
        }
    }

    /// Whether new bindings may be placed on a number in this state.
    pub fn accepts_new_bindings(self) -> bool {
        self == Self::Normal
    }
}
