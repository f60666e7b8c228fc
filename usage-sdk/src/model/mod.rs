//! The API's vocabulary and the leaves under everything: ids, inputs checked before sending,
//! secrets, open enums and row dates, the clock, the generated types, and the one error type.

pub(crate) mod certificate;
pub(crate) mod error;
pub(crate) mod ids;
pub(crate) mod input;
pub mod open_enum;
pub mod row_date;
#[cfg(feature = "schemars")]
mod schema;
pub(crate) mod secret;
pub mod time;
pub mod types;
