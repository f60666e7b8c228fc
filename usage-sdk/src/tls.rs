//! The HTTP client builder with this crate's TLS stack: rustls with the `ring` crypto provider
//! and the platform's certificate verifier.
//!
//! reqwest's `rustls` feature brings the `aws-lc-rs` provider, whose C build script is most of
//! a consumer's clean build (about a minute on two cores, see the README's build-cost figures);
//! `ring` builds in a fraction of that. The provider is given to this client only, never
//! installed process-wide, so an application's own rustls choice is left alone.
//!
//! HTTP/1.1 only (issue 18). Offering `h2` in ALPN while reqwest's `http2` feature is off made
//! every call to a server preferring HTTP/2 panic in hyper-util. Enabling `http2` instead was
//! measured and rejected. Two scratch crates outside the repository, each a `main.rs` that
//! builds a client on this TLS stack and sends one GET, depending on reqwest =0.13.5 (no
//! default features; json, gzip, rustls-no-provider, query; plus `http2` in one of them),
//! rustls (ring), rustls-platform-verifier and tokio, built clean in turn, each in a fresh
//! target directory: `CARGO_BUILD_JOBS=2 CARGO_TARGET_DIR=$(mktemp -d) /usr/bin/time cargo
//! build`, median (range) of 2 rounds each, on a 2-core machine shared with other builds:
//!
//! | clean dev build                             | without http2         | with http2            | cost       |
//! |---------------------------------------------|-----------------------|-----------------------|------------|
//! | wall time, rounds 1-2 (load average 7 to 9) | 172.1 s (164.1-180.2) | 200.2 s (185.3-215.1) | +28 s, 16% |
//! | CPU time (user + sys), rounds 3-4           | 75.5 s (75.5-75.5)    | 83.7 s (82.9-84.5)    | +8 s, 11%  |
//!
//! The CPU time is the steadier figure on a shared machine. 11-16% on the README's 70.5 s
//! usage-sdk consumer is 78-82 s, past its target of at most 75 s. And h2 would buy little:
//! Genesys rate-limits per token (300 requests a minute), so a connection per concurrent
//! request is cheap, and Genesys' own SDKs speak HTTP/1.1.

use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;

use crate::error::Error;

/// The only protocol offered in ALPN: see the module documentation.
const ALPN: &[&[u8]] = &[b"http/1.1"];

/// A `reqwest::ClientBuilder` whose TLS is rustls + ring + the platform verifier, with ALPN
/// offering HTTP/1.1 only (reqwest sets ALPN only on configurations it builds itself).
pub(crate) fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|e| Error::invalid("config", format!("cannot set up TLS: {e}")))?
        .with_no_client_auth();
    tls.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tls_stack_builds_a_client_without_a_process_wide_provider() {
        // reqwest with `rustls-no-provider` panics when it has to pick a provider itself; a
        // preconfigured rustls config means it never does.
        let client = super::http_client_builder().and_then(|b| {
            b.build()
                .map_err(|e| crate::error::Error::invalid("config", e.to_string()))
        });
        assert!(client.is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    }

    #[test]
    fn alpn_offers_http_1_1_only() {
        // reqwest is built without `http2`: a server that picked h2 would make hyper-util panic.
        assert_eq!(super::ALPN, &[b"http/1.1".as_slice()]);
    }
}
