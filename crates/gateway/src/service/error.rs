//! The error of the read paths (lookups and lists), shared because they fail the same few ways.

use sea_orm::DbErr;

use super::page::PageError;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A filter or paging parameter refused: which one and why.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Unknown, or another app's (its existence is not disclosed).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Visible to admins only.
    #[error("{0}")]
    AdminOnly(&'static str),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl From<PageError> for QueryError {
    fn from(e: PageError) -> Self {
        Self::Invalid {
            field: e.field,
            reason: e.reason,
        }
    }
}

impl QueryError {
    pub fn invalid(field: &'static str, reason: impl ToString) -> Self {
        Self::Invalid {
            field,
            reason: reason.to_string(),
        }
    }
}
