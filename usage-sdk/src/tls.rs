//! The HTTP client builder with this crate's TLS stack: rustls with the `ring` crypto provider
//! and the platform's certificate verifier.
//!
//! reqwest's `rustls` feature brings the `aws-lc-rs` provider, whose C build script is most of
//! a consumer's clean build (about a minute on two cores, see the README's build-cost figures);
//! `ring` builds in a fraction of that. The provider is given to this client only, never
//! installed process-wide, so an application's own rustls choice is left alone.

use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;

use crate::error::Error;

/// A `reqwest::ClientBuilder` whose TLS is rustls + ring + the platform verifier, with ALPN
/// offering HTTP/2 and HTTP/1.1 (reqwest sets ALPN only on configurations it builds itself).
pub(crate) fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|e| Error::invalid("config", format!("cannot set up TLS: {e}")))?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
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
}
