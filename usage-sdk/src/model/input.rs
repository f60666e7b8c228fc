//! [`InvalidInput`]: what is wrong with a caller's input, found before anything is sent. A
//! leaf: ids, secrets and queries use it without depending on the crate's [`Error`].
//!
//! [`Error`]: crate::Error

use std::fmt;

/// Input rejected before any request was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    /// The field or parameter at fault, e.g. `interval` or `groupBy`.
    pub field: &'static str,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.field, self.problem)
    }
}

impl std::error::Error for InvalidInput {}

impl InvalidInput {
    pub(crate) fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}
