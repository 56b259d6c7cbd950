//! How a call ended, as apps see it (`calls.outcome`).

/// The outcome of a call, derived from its events and CDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    InProgress,
    Answered,
    CallerHungUp,
    Rejected,
    NoBinding,
    DirectionNotAllowed,
    NoAnswer,
    Busy,
    PoweredOff,
    InvalidNumber,
    Failed,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Answered => "answered",
            Self::CallerHungUp => "caller_hung_up",
            Self::Rejected => "rejected",
            Self::NoBinding => "no_binding",
            Self::DirectionNotAllowed => "direction_not_allowed",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::PoweredOff => "powered_off",
            Self::InvalidNumber => "invalid_number",
            Self::Failed => "failed",
        }
    }

    /// From the platform's disconnect state code.
    pub fn of_state_code(code: i64) -> Self {
        match code {
            0 | 8010 => Self::Answered,
            7501 | 7502 => Self::CallerHungUp,
            7503 | 7504 => Self::Rejected,
            8014 => Self::NoBinding,
            8016 => Self::DirectionNotAllowed,
            8101 | 8035 => Self::NoAnswer,
            8102 => Self::Busy,
            8104 | 8105 => Self::PoweredOff,
            8100 => Self::InvalidNumber,
            _ => Self::Failed,
        }
    }

    /// A CDR without a disconnect event: the Q.850 cause of the forwarded leg says why it failed.
    pub fn of_q850(cause: Option<i32>) -> Self {
        match cause {
            Some(17) => Self::Busy,
            Some(18 | 19) => Self::NoAnswer,
            Some(20) => Self::PoweredOff,
            Some(21) => Self::Rejected,
            Some(1) => Self::InvalidNumber,
            _ => Self::Failed,
        }
    }
}

impl std::fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
