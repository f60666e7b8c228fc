//! A TLS-terminating proxy on 127.0.0.1 in front of a plain HTTP/1.1 server (the stand-in),
//! with a test CA and leaf certificates made at run time: the TLS tests' fixture, shared by
//! `tests/it/tls.rs` and usage-report's `tests/cli.rs`.
//!
//! The proxy records each connection and the ALPN protocol its handshake settled on, so a
//! test can assert what was negotiated and how many attempts a refused certificate got.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A test certificate authority; its PEM is what a user would put in `USAGE_SDK_CA_FILE`.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate and its key.
#[derive(Clone)]
pub struct Leaf {
    cert: CertificateDer<'static>,
    key: Arc<PrivatePkcs8KeyDer<'static>>,
}

/// How long a leaf is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// From a year ago to a year ahead.
    Current,
    /// 2020 only: long expired.
    Expired,
}

impl TestCa {
    /// A new CA with a fresh P-256 key.
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "usage-sdk test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a P-256 key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a self-signed CA"),
        }
    }

    /// The CA certificate as PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf for `names` (DNS names or IP addresses) signed by this CA.
    pub fn leaf(&self, names: &[&str], validity: Validity) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid names");
        params
            .distinguished_name
            .push(DnType::CommonName, "usage-sdk test server");
        let (before, after) = match validity {
            Validity::Current => {
                let now = std::time::SystemTime::now();
                let year = std::time::Duration::from_secs(365 * 86_400);
                (now - year, now + year)
            }
            Validity::Expired => (
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_800), // 2020-01-01
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_609_459_200), // 2021-01-01
            ),
        };
        params.not_before = before.into();
        params.not_after = after.into();
        let key = KeyPair::generate().expect("a P-256 key");
        let cert = params.signed_by(&key, &self.issuer).expect("a signed leaf");
        Leaf {
            cert: cert.der().clone(),
            key: Arc::new(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// A leaf for `127.0.0.1` and `localhost`, valid now.
    pub fn loopback_leaf(&self) -> Leaf {
        self.leaf(&["127.0.0.1", "localhost"], Validity::Current)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// The protocols the proxy offers in ALPN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alpn {
    /// `[h2, http/1.1]`, and h2 whenever the client offers it, as Genesys' edge may. A
    /// connection that settles on h2 is recorded and closed: the upstream speaks HTTP/1.1.
    PrefersHttp2,
    /// `[http/1.1]` only.
    Http11Only,
}

/// What one connection to the proxy came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// The handshake completed with this ALPN protocol (`None`: the client offered none).
    Completed(Option<String>),
    /// The handshake failed (the client refused the certificate, say).
    Failed,
}

/// A running proxy; stops when dropped.
pub struct TlsProxy {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    handshakes: Arc<Mutex<Vec<Handshake>>>,
    task: JoinHandle<()>,
}

impl TlsProxy {
    /// Starts a proxy on `127.0.0.1` presenting `leaf` and forwarding to `upstream` (plain
    /// HTTP/1.1). Call from within a tokio runtime.
    pub async fn start(upstream: SocketAddr, leaf: &Leaf, alpn: Alpn) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.cert.clone()],
                PrivateKeyDer::Pkcs8(leaf.key.clone_key()),
            )
            .expect("a usable leaf and key");
        // rustls picks the first of the server's protocols that the client also offers.
        config.alpn_protocols = match alpn {
            Alpn::PrefersHttp2 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            Alpn::Http11Only => vec![b"http/1.1".to_vec()],
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("a bound address");
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let record = handshakes.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // Counted before the handshake: a client sees the certificate only after this.
                accepted.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        record.lock().unwrap().push(Handshake::Failed);
                        return;
                    };
                    let protocol = tls
                        .get_ref()
                        .1
                        .alpn_protocol()
                        .map(|p| String::from_utf8_lossy(p).into_owned());
                    let h2 = protocol.as_deref() == Some("h2");
                    record.lock().unwrap().push(Handshake::Completed(protocol));
                    if h2 {
                        return;
                    }
                    if let Ok(mut plain) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        Self {
            addr,
            connections,
            handshakes,
            task,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every handshake ended so far, in the order they ended (a failed one may be recorded a
    /// moment after the client gave up).
    pub fn handshakes(&self) -> Vec<Handshake> {
        self.handshakes.lock().unwrap().clone()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
