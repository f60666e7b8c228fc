//! A server certificate the client refused, found in a transport error's source chain.
//!
//! A leaf module (it knows rustls only): `retry.rs` uses it to make certificate failures
//! permanent, `error.rs` to say what was wrong and how to trust a CA. The same certificate
//! fails the same way on every attempt, so retrying it only delays the message.

use std::error::Error as StdError;

use rustls::CertificateError;

/// How a user trusts a CA of their own (a private one, a TLS-inspecting proxy's), for messages.
pub(crate) const HOW_TO_TRUST_A_CA: &str = "to trust a CA of your own (a private CA, or a \
     TLS-inspecting proxy's), set USAGE_SDK_CA_FILE to its PEM file or use \
     ConfigBuilder::extra_root_certificates_pem";

/// The certificate error behind `error`, if the server's certificate was refused.
pub(crate) fn refused<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a CertificateError> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(rustls::Error::InvalidCertificate(problem)) =
            current.downcast_ref::<rustls::Error>()
        {
            return Some(problem);
        }
        // The TLS stream reports rustls' error inside an io::Error, whose `source()` skips
        // the error it wraps (it returns that error's own source): look inside it instead.
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            return refused(inner);
        }
        next = current.source();
    }
    None
}

/// What was wrong with the certificate, in words (the cause first, rustls' words after).
pub(crate) fn describe(problem: &CertificateError) -> String {
    let cause = match problem {
        CertificateError::UnknownIssuer => {
            "unknown issuer: it is not signed by a certificate authority this client trusts"
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "name mismatch: it is not valid for the host connected to"
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "it has expired",
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet (is the system clock right?)"
        }
        _ => "it is not acceptable",
    };
    format!("{cause} ({problem})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(Box<dyn StdError + Send + Sync>);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error sending request")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.0)
        }
    }

    fn wrapped(error: rustls::Error) -> Wrapper {
        // As the HTTP stack delivers it: rustls' error in an io::Error in an outer error.
        Wrapper(Box::new(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            error,
        )))
    }

    #[test]
    fn a_certificate_error_is_found_inside_the_io_error_that_carries_it() {
        let error = wrapped(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert_eq!(refused(&error), Some(&CertificateError::UnknownIssuer));
    }

    #[test]
    fn other_tls_and_io_failures_are_not_certificate_refusals() {
        let alert = wrapped(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert_eq!(refused(&alert), None);
        let reset = Wrapper(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(refused(&reset), None);
    }

    #[test]
    fn each_cause_is_named() {
        for (problem, named) in [
            (CertificateError::UnknownIssuer, "unknown issuer"),
            (CertificateError::NotValidForName, "name mismatch"),
            (CertificateError::Expired, "expired"),
            (CertificateError::NotValidYet, "not valid yet"),
            (CertificateError::BadSignature, "not acceptable"),
        ] {
            let text = describe(&problem);
            assert!(text.contains(named), "{problem:?}: {text}");
        }
    }
}
