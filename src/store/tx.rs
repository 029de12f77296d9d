//! Why a transaction closure stopped: a refusal for the user, a redelivery,
//! a record that could not be read, or the backend's own error (which the
//! backend may retry: a conflict).

use crate::domain::Refusal;

#[derive(Debug)]
pub struct TxError(pub(super) TxFailure);

#[derive(Debug)]
pub(super) enum TxFailure {
    Refused(Refusal),
    Corrupt(String),
    /// The inbound delivery this transaction would mark was handled already.
    Duplicate,
    /// The backend's error, boxed so that no driver type leaves its module;
    /// the backend takes it back (`downcast`) to tell conflicts from faults.
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl TxError {
    pub(super) fn corrupt(what: &str, error: impl std::fmt::Display) -> TxError {
        TxError(TxFailure::Corrupt(format!("{what}: {error}")))
    }

    pub(super) fn duplicate() -> TxError {
        TxError(TxFailure::Duplicate)
    }

    pub(super) fn backend(error: impl std::error::Error + Send + Sync + 'static) -> TxError {
        TxError(TxFailure::Backend(Box::new(error)))
    }
}

impl From<Refusal> for TxError {
    fn from(refusal: Refusal) -> Self {
        TxError(TxFailure::Refused(refusal))
    }
}

pub type TxResult<T> = Result<T, TxError>;
