//! Bind, modify and unbind: the local table and the platform kept in step.
//!
//! Rules: the `pending` row is written before the platform is called; a definite refusal ends it as
//! `failed`; an ambiguous outcome (timeout, lost connection) leaves it `pending` for reconciliation;
//! a success that cannot be recorded is compensated by an unbind, so there is never an upstream
//! binding the table does not know.

mod create;
mod modify;
mod unbind;

pub use create::{Created, create};
pub use modify::modify;
pub use unbind::unbind;

use pns_core::wire::PreVoice;

use crate::error::{ApiError, ErrorCode};
use crate::routes::bindings::dto::PreVoiceIn;

pub(super) fn pre_voice(p: Option<PreVoiceIn>) -> Option<PreVoice> {
    p.map(|p| PreVoice {
        caller_hint_tone: p.caller_hint_tone,
        callee_hint_tone: p.callee_hint_tone,
    })
}

pub(super) fn conflict(party: &str) -> ApiError {
    ApiError::conflict(
        ErrorCode::BindingConflict,
        format!(
            "{} already has a binding on this X number",
            pns_core::phone::mask(party)
        ),
    )
}
