//! The wire: configuration and policies, TLS, one request with retries and pacing, tokens,
//! and the generated client with its hooks.

pub(crate) mod auth;
pub(crate) mod config;
mod hooks;
pub(crate) mod poller;
pub mod raw;
pub(crate) mod region;
pub(crate) mod retry;
mod routes;
pub(crate) mod session;
pub(crate) mod throttle;
pub(crate) mod tls;
pub(crate) mod transport;
