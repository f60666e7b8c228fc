//! The queries, built and checked before anything is sent: the legacy usage queries, and the
//! aggregates jobs' and simple search's.

pub(crate) mod jobs;
pub(crate) mod legacy;
