//! What can go wrong binding, changing or unbinding, as the service knows it. The HTTP edge turns
//! each into an answer in one place (`routes::errors`); nothing here knows a status code.

use pns_upstream::UpstreamError;
use sea_orm::DbErr;

use crate::domain::BindingStatus;
use crate::repo::ClaimError;

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// A field is valid alone but not with the binding's other values.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("binding not found")]
    NotFound,
    /// A real number already has a live binding on that X (unmasked; masked by `Display`).
    #[error("{} already has a binding on this X number", pns_core::phone::mask(.0))]
    PartyTaken(String),
    /// No pool number can take the binding; says why.
    #[error("{0}")]
    PoolExhausted(String),
    /// Only an active binding can be changed.
    #[error("the binding is {0}; only an active binding can be changed")]
    NotActive(BindingStatus),
    /// Another change holds the binding, or it changed since it was read.
    #[error(
        "the binding is being changed by another request, or was changed since it was read; read it again and retry"
    )]
    ChangeInProgress,
    /// The bind's outcome is unknown; reconciliation settles it before it can be unbound.
    #[error(
        "the binding is pending: the platform's answer was lost; reconciliation will settle it before it can be unbound"
    )]
    StillPending,
    /// The platform no longer has it; it has been marked unbound.
    #[error("the platform no longer has this binding; it is now marked unbound")]
    GoneUpstream,
    /// The platform bound it, but the binding was settled here meanwhile (reconciliation failed the
    /// pending row, or a party was taken); the platform's binding was undone.
    #[error("the binding could not be recorded ({0}); the platform's binding was undone, retry")]
    Undone(&'static str),
    /// The platform said yes without the ids we need to manage the binding; left pending.
    #[error("the platform's answer lacked the binding id; the binding will be reconciled")]
    IncompleteAnswer,
    /// The platform refused, or its answer was lost (then the row stays pending).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The binding the Idempotency-Key created has ended since; a create is not repeated.
    #[error("the binding created with this Idempotency-Key has since ended ({0})")]
    EndedSince(BindingStatus),
    /// An Idempotency-Key reused with another body.
    #[error("this Idempotency-Key was already used with a different request body")]
    KeyReused,
    /// The first request with this Idempotency-Key is still running.
    #[error("a request with this Idempotency-Key is still in progress")]
    KeyInProgress,
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// A state that should not exist (e.g. an active row without subscriptionId).
    #[error("{0}")]
    Internal(String),
}

impl From<ClaimError> for BindError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::PartyTaken(p) => Self::PartyTaken(p),
            ClaimError::Db(e) => Self::Db(e),
        }
    }
}
