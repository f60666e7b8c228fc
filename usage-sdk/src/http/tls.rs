//! The HTTP client builder with this crate's TLS stack: rustls with the `ring` crypto provider
//! and the platform's certificate verifier, plus any extra root certificates the user trusts.
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
//! usage-sdk consumer is 78-82 s, past its target of at most 75 s. And h2 buys little: in a
//! third scratch crate (release build), 200 concurrent GETs (a 2 KiB body after 20 ms) to a
//! loopback TLS server (hyper-util auto, h2 and HTTP/1.1), a fresh client per round offering
//! one protocol, 5 interleaved rounds, took 170.0 ms (132.7-228.4) over HTTP/1.1 and
//! 179.2 ms (151.5-202.7) over h2. Genesys rate-limits per token (300 requests a minute), so
//! a connection per concurrent request is cheap, and its own SDKs speak HTTP/1.1.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::model::error::Error;

/// The only protocol offered in ALPN: see the module documentation.
const ALPN: &[&[u8]] = &[b"http/1.1"];

/// Root certificates trusted in addition to the platform's. Its `Debug` says how many, not
/// their bytes: configurations are logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct ExtraRoots(Arc<[CertificateDer<'static>]>);

impl ExtraRoots {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} extra root certificate(s)", self.0.len())
    }
}

impl FromIterator<CertificateDer<'static>> for ExtraRoots {
    fn from_iter<I: IntoIterator<Item = CertificateDer<'static>>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// The CA certificates in `pem` (one or more `CERTIFICATE` blocks; other blocks are
/// ignored), each checked to be usable as a trust anchor. `field` and `origin` name where
/// the PEM came from in the error.
pub(crate) fn parse_roots(
    field: &'static str,
    origin: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let invalid = |problem: String| Error::invalid(field, format!("{origin}: {problem}"));
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("is not valid PEM ({e})")))?;
    if certificates.is_empty() {
        return Err(invalid(
            "holds no certificate; expected one or more -----BEGIN CERTIFICATE----- blocks".into(),
        ));
    }
    // The verifier would refuse an unparsable certificate only when the client is made;
    // checked here so `build()` says which input was wrong.
    let mut store = rustls::RootCertStore::empty();
    for (n, certificate) in certificates.iter().enumerate() {
        store.add(certificate.clone()).map_err(|e| {
            invalid(format!(
                "certificate {} of {} is not a usable CA certificate ({e})",
                n + 1,
                certificates.len()
            ))
        })?;
    }
    Ok(certificates)
}

/// A `reqwest::ClientBuilder` whose TLS is rustls + ring + the platform verifier (trusting
/// `extra_roots` too), with ALPN offering HTTP/1.1 only (reqwest sets ALPN only on
/// configurations it builds itself).
pub(crate) fn http_client_builder(
    extra_roots: &ExtraRoots,
) -> Result<reqwest::ClientBuilder, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup = |e: rustls::Error| Error::invalid("config", format!("cannot set up TLS: {e}"));
    // What `BuilderVerifierExt::with_platform_verifier` does, with the extra roots added.
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
        extra_roots.0.iter().cloned(),
        provider.clone(),
    )
    .map_err(setup)?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    tls.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_stack_builds_a_client_without_a_process_wide_provider() {
        // reqwest with `rustls-no-provider` panics when it has to pick a provider itself; a
        // preconfigured rustls config means it never does.
        let client = http_client_builder(&ExtraRoots::default()).and_then(|b| {
            b.build()
                .map_err(|e| crate::model::error::Error::invalid("config", e.to_string()))
        });
        assert!(client.is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    }

    #[test]
    fn alpn_offers_http_1_1_only() {
        // reqwest is built without `http2`: a server that picked h2 would make hyper-util panic.
        assert_eq!(ALPN, &[b"http/1.1".as_slice()]);
    }

    #[test]
    fn pem_without_a_certificate_or_with_a_broken_one_is_invalid_input() {
        for (pem, says) in [
            (&b""[..], "holds no certificate"),
            (b"just text\n", "holds no certificate"),
            (
                b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                "not valid PEM",
            ),
            (
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "not a usable CA certificate",
            ),
        ] {
            match parse_roots("extra_root_certificates_pem", "the PEM given", pem) {
                Err(Error::InvalidInput(invalid)) => {
                    assert_eq!(invalid.field, "extra_root_certificates_pem");
                    assert!(invalid.problem.contains(says), "{says}: {invalid}");
                }
                other => panic!("{says}: expected InvalidInput, got {other:?}"),
            }
        }
    }

    #[test]
    fn debug_counts_the_extra_roots_without_their_bytes() {
        let roots: ExtraRoots = [CertificateDer::from(vec![0x30, 0x82, 0x01])]
            .into_iter()
            .collect();
        assert_eq!(format!("{roots:?}"), "1 extra root certificate(s)");
    }
}
