//! usage-sdk: the Genesys Cloud Usage API for Rust.

pub mod open_enum;
pub mod raw;
mod transport;

pub use open_enum::{LimitNamespace, QueryStatus};
