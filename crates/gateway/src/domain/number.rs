//! An X number's status in the pool (`x_numbers.status`), as the platform's `numStatus` pushes
//! report it. Only `Normal` numbers take new bindings. A stored value that is not one of these is an
//! error when read, never taken for another status.

use pns_core::callback::XNumberStatus;
use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NumberStatus {
    #[sea_orm(string_value = "normal")]
    Normal,
    #[sea_orm(string_value = "suspended")]
    Suspended,
    #[sea_orm(string_value = "unavailable")]
    Unavailable,
    /// Frozen for new bindings; existing bindings keep working.
    #[sea_orm(string_value = "frozen")]
    Frozen,
}

impl NumberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Suspended => "suspended",
            Self::Unavailable => "unavailable",
            Self::Frozen => "frozen",
        }
    }

    /// Whether new bindings may be placed on a number in this state.
    pub fn accepts_new_bindings(self) -> bool {
        self == Self::Normal
    }
}

impl From<XNumberStatus> for NumberStatus {
    fn from(status: XNumberStatus) -> Self {
        match status {
            XNumberStatus::Normal => Self::Normal,
            XNumberStatus::Suspended => Self::Suspended,
            XNumberStatus::Unavailable => Self::Unavailable,
            XNumberStatus::FrozenForNewBindings => Self::Frozen,
        }
    }
}

impl std::fmt::Display for NumberStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ActiveEnum;

    #[test]
    fn stored_values_are_the_ones_already_in_the_table() {
        for code in [5, 9, 10, 11] {
            let platform = XNumberStatus::from_code(code).unwrap();
            let ours = NumberStatus::from(platform);
            // The words the column held when it was a string: no data migration.
            assert_eq!(ours.to_value(), platform.as_str());
            assert_eq!(ours.as_str(), platform.as_str());
            assert_eq!(ours.accepts_new_bindings(), platform.accepts_new_bindings());
        }
    }

    #[test]
    fn an_unknown_stored_status_is_an_error() {
        assert!(NumberStatus::try_from_value(&"code:12".to_owned()).is_err());
        assert!(NumberStatus::try_from_value(&String::new()).is_err());
    }
}
