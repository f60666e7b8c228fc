//! One shape for every kind of query: handles, each kind's reading, the row stream, and the
//! one waiter with the client's query methods; the operational events, read as the same rows.

pub(crate) mod events;
pub(crate) mod execution;
pub(crate) mod handle;
pub(crate) mod jobs;
pub(crate) mod paging;
pub(crate) mod search;
pub(crate) mod waiter;
