//! The stand-in on its own, driven over HTTP with plain reqwest, as the reference describes
//! the real API:
//! - `server`: the token flow, the legacy executions, the data semantics, validation, rate
//!   limiting, fault injection and correlation ids.
//! - `aggregates`: the aggregates query jobs, and simple search.
//!
//! The client against the stand-in is tested in the workspace's tests (tests/it).

mod aggregates;
mod server;

/// A plain reqwest client. reqwest is built without a crypto provider of its own (as in
/// usage-sdk, which passes ring to its clients), so ring is installed as the process's
/// provider first: the tests build no second crypto library.
fn plain_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
