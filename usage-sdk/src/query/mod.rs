//! The queries, built and checked before anything is sent: the legacy usage queries, and the
//! aggregates jobs' and simple search's, and the operational events'.

pub(crate) mod events;
pub(crate) mod jobs;
pub(crate) mod legacy;
