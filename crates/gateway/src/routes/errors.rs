//! Service errors become API errors here, in one `From` per service error: the only place that
//! picks a status code and an error code for what a service reports.

use crate::error::{ApiError, ErrorCode};
use crate::service::bindings::BindError;
use crate::service::callbacks::verify::Refused;
use crate::service::calls::RecordingError;
use crate::service::error::QueryError;
use crate::service::page::PageError;
use crate::service::pool::admin::PoolError;

impl From<BindError> for ApiError {
    fn from(err: BindError) -> Self {
        let message = err.to_string();
        match err {
            BindError::Invalid { field, reason } => Self::validation(field, reason),
            BindError::NotFound => Self::not_found("binding"),
            BindError::PartyTaken(_) => Self::new(ErrorCode::BindingConflict, message),
            BindError::PoolExhausted(_) => Self::new(ErrorCode::PoolExhausted, message),
            BindError::NotActive(_)
            | BindError::ChangeInProgress
            | BindError::StillPending
            | BindError::GoneUpstream
            | BindError::EndedSince(_) => Self::new(ErrorCode::Conflict, message),
            BindError::Undone(_) | BindError::IncompleteAnswer => {
                Self::new(ErrorCode::UpstreamUnavailable, message)
            }
            BindError::Upstream(e) => e.into(),
            BindError::KeyReused => Self::new(ErrorCode::IdempotencyMismatch, message),
            BindError::KeyInProgress => Self::new(ErrorCode::IdempotencyInProgress, message),
            BindError::Db(e) => e.into(),
            BindError::Internal(cause) => Self::internal(cause),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::Invalid { field, reason } => Self::validation(field, reason),
            QueryError::NotFound(what) => Self::not_found(what),
            QueryError::AdminOnly(why) => Self::new(ErrorCode::Forbidden, why),
            QueryError::Db(e) => e.into(),
        }
    }
}

impl From<PageError> for ApiError {
    fn from(err: PageError) -> Self {
        Self::validation(err.field, err.reason)
    }
}

impl From<PoolError> for ApiError {
    fn from(err: PoolError) -> Self {
        match err {
            PoolError::NotFound => Self::not_found("X number"),
            PoolError::InUse(_) => Self::new(ErrorCode::Conflict, err.to_string()),
            PoolError::Db(e) => e.into(),
        }
    }
}

impl From<RecordingError> for ApiError {
    fn from(err: RecordingError) -> Self {
        match err {
            RecordingError::Query(e) => e.into(),
            RecordingError::Gone => Self::new(ErrorCode::Gone, err.to_string()),
            RecordingError::Upstream(e) => e.into(),
        }
    }
}

impl From<Refused> for ApiError {
    fn from(_: Refused) -> Self {
        Self::new(ErrorCode::Unauthorized, "callback not authorised")
    }
}

#[cfg(feature = "sandbox")]
impl From<crate::service::simulate::SandboxError> for ApiError {
    fn from(err: crate::service::simulate::SandboxError) -> Self {
        use crate::service::simulate::SandboxError as E;
        let message = err.to_string();
        match err {
            E::NotSandbox => Self::new(ErrorCode::NotFound, message),
            E::NotActive(_) | E::GoneFromSimulator => Self::new(ErrorCode::Conflict, message),
            E::InvalidScript(reason) => Self::new(ErrorCode::Validation, reason),
            E::NotStored | E::Simulator(_) => Self::internal(message),
            E::Query(e) => e.into(),
            E::Db(e) => e.into(),
        }
    }
}
