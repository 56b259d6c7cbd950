//! The binding lifecycle: create (at most once per Idempotency-Key), change, unbind and read, the
//! local table and the platform kept in step. Writes go through `crate::repo`.

pub mod create;
pub mod error;
pub mod idempotent;
pub mod modify;
pub mod query;
pub mod unbind;
pub mod wire;

pub use error::BindError;

impl From<crate::service::error::QueryError> for BindError {
    fn from(e: crate::service::error::QueryError) -> Self {
        use crate::service::error::QueryError as Q;
        match e {
            Q::NotFound(_) => Self::NotFound,
            Q::Db(e) => Self::Db(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Runs a lifecycle step as its own task and waits for it: a client that hangs up stops waiting but
/// does not cancel the step half-way (between the platform's answer and the row that records it).
pub(crate) async fn detached<T, F>(work: F) -> Result<T, BindError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, BindError>> + Send + 'static,
{
    use tracing::Instrument;
    // Still inside the request's span: its logs keep the request id.
    tokio::spawn(work.instrument(tracing::Span::current()))
        .await
        .map_err(|e| BindError::Internal(format!("a lifecycle task failed: {e}")))?
}
