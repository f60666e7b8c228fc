//! The real wire (issue 18): every kind of call over TLS, through a TLS-terminating proxy on
//! loopback in front of the stand-in, with a test CA made at run time; certificates the
//! client must refuse, once and saying why; extra trusted roots from the builder and from
//! `USAGE_SDK_CA_FILE`.
//!
//! Two proxies: one that prefers HTTP/2 (ALPN `[h2, http/1.1]`, h2 whenever offered), as an
//! edge may, and one with HTTP/1.1 only. The client's reqwest has no HTTP/2 support, so it
//! must never offer h2; the proxy records what each handshake settled on.

use std::sync::Arc;
use std::time::Duration;

use usage_sdk::time::ManualClock;
use usage_sdk::{
    AuthError, Config, ConfigBuilder, Days, Error, Execution, ExecutionId, GroupBy, JobGroupBy,
    OAuthClientJobQuery, OAuthClientQuery, OrganizationJobQuery, OrganizationQuery, PageSize,
    SimpleSearchQuery, TransportError, UsageClient,
};
use usage_sdk_stand_in::{Route, RunningStandIn, StandIn};
use usage_sdk_tls_proxy::{Alpn, Handshake, TestCa, TlsProxy, Validity};

use crate::support::{CollectReport, TOKEN, demo, recent_week, si_config};

/// Rows per job and search page: small, so that every read spans several pages.
const PAGE: u32 = 3;

/// A stand-in whose executions and jobs finish at once, behind a TLS proxy presenting a leaf
/// of `ca` for `names` with `validity`.
async fn behind_tls(
    ca: &TestCa,
    names: &[&str],
    validity: Validity,
    alpn: Alpn,
) -> (RunningStandIn, TlsProxy) {
    let si = StandIn::builder()
        .no_rate_limit()
        .execution_time(Duration::ZERO)
        .job_times(Duration::ZERO, Duration::ZERO)
        .start()
        .await
        .expect("the stand-in binds 127.0.0.1");
    let proxy = TlsProxy::start(si.local_addr(), &ca.leaf(names, validity), alpn).await;
    (si, proxy)
}

/// The demo client's credentials on `si`, through `proxy`, waits on a manual clock (retries
/// would be instant, so a retried refusal would show as more connections, not as a slow
/// test).
fn through(si: &RunningStandIn, proxy: &TlsProxy) -> ConfigBuilder {
    si_config(si, Arc::new(ManualClock::new())).base_url(proxy.base_url())
}

fn page() -> PageSize {
    PageSize::new(PAGE).unwrap()
}

async fn every_kind_of_call_works(alpn: Alpn) {
    let ca = TestCa::new();
    let (si, proxy) = behind_tls(&ca, &["127.0.0.1"], Validity::Current, alpn).await;
    let client = UsageClient::new(
        through(&si, &proxy)
            .extra_root_certificates_pem(ca.pem())
            .build()
            .unwrap(),
    )
    .unwrap();

    let org = client
        .rows(
            &OrganizationQuery::builder(recent_week())
                .group_by([GroupBy::OAuthClientId])
                .build()
                .unwrap(),
        )
        .report()
        .await
        .unwrap();
    assert!(!org.rows.is_empty(), "legacy organization rows");
    let by_client = client
        .oauth_client(&demo())
        .rows(&OAuthClientQuery::builder(recent_week()).build().unwrap())
        .report()
        .await
        .unwrap();
    assert!(!by_client.rows.is_empty(), "legacy client rows");
    let summary = client
        .oauth_client(&demo())
        .rows(&Days::new(7).unwrap())
        .report()
        .await
        .unwrap();
    assert!(!summary.rows.is_empty(), "client usage summary rows");

    let org_job = |page_size: PageSize| {
        OrganizationJobQuery::builder(recent_week())
            .group_by([JobGroupBy::OauthClientName, JobGroupBy::HttpMethod])
            .page_size(page_size)
            .build()
            .unwrap()
    };
    let paged = client
        .rows(&org_job(page()))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let whole = client
        .rows(&org_job(PageSize::new(1000).unwrap()))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        paged.len() > 2 * PAGE as usize,
        "several pages: {}",
        paged.len()
    );
    assert_eq!(paged, whole, "the pages add up to the one-page result");
    let job_gets = si.stats().requests_to(Route::GetAggregatesQueryJob);
    assert!(
        job_gets > paged.len() as u64 / PAGE as u64,
        "{job_gets} page reads"
    );

    let client_rows = client
        .oauth_client(&demo())
        .rows(
            &OAuthClientJobQuery::builder(recent_week())
                .page_size(page())
                .build()
                .unwrap(),
        )
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(!client_rows.is_empty(), "client job rows");
    let searched = client
        .rows(
            &SimpleSearchQuery::builder(recent_week())
                .page_size(page())
                .build()
                .unwrap(),
        )
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        searched.len() > PAGE as usize,
        "several search pages: {}",
        searched.len()
    );

    let stats = si.stats();
    assert_eq!(stats.requests_to(Route::Token), 1, "one token, over TLS");
    assert_eq!(stats.requests_to(Route::Unknown), 0);
    let handshakes = proxy.handshakes();
    assert!(!handshakes.is_empty());
    assert!(
        handshakes
            .iter()
            .all(|h| *h == Handshake::Completed(Some("http/1.1".into()))),
        "every connection speaks HTTP/1.1: {handshakes:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_call_works_over_tls_to_a_server_that_prefers_http2() {
    every_kind_of_call_works(Alpn::PrefersHttp2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_call_works_over_tls_to_a_server_that_speaks_http_1_1_only() {
    every_kind_of_call_works(Alpn::Http11Only).await;
}

/// The transport error inside `error`, token request or API call.
fn transport(error: &Error) -> &TransportError {
    match error {
        Error::Transport { source, .. } | Error::Auth(AuthError::Transport { source, .. }) => {
            source
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Checks that `error` is a refused certificate, reported after one connection, naming
/// `cause` and how to trust a CA.
fn assert_refused_once(error: &Error, proxy: &TlsProxy, cause: &str) {
    let message = error.to_string();
    assert!(transport(error).is_certificate(), "{message}");
    assert!(message.contains(cause), "names {cause:?}: {message}");
    assert!(
        message.contains("USAGE_SDK_CA_FILE")
            && message.contains("ConfigBuilder::extra_root_certificates_pem"),
        "{message}"
    );
    assert_eq!(proxy.connections(), 1, "not retried: {message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_signed_by_an_unknown_ca_is_refused_at_the_token_request_without_retrying() {
    let ca = TestCa::new();
    let (si, proxy) = behind_tls(&ca, &["127.0.0.1"], Validity::Current, Alpn::Http11Only).await;
    // The platform's roots only: the test CA is not among them.
    let client = UsageClient::new(through(&si, &proxy).build().unwrap()).unwrap();

    let error = client
        .rows(&OrganizationQuery::builder(recent_week()).build().unwrap())
        .report()
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::Auth(AuthError::Transport { .. })),
        "{error:?}"
    );
    assert_refused_once(&error, &proxy, "unknown issuer");
    assert_eq!(si.stats().total_requests(), 0, "nothing reached the server");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_for_another_name_is_refused_on_a_get_without_retrying() {
    let ca = TestCa::new();
    let (si, proxy) = behind_tls(
        &ca,
        &["api.other.example"],
        Validity::Current,
        Alpn::Http11Only,
    )
    .await;
    let client = UsageClient::new(
        through(&si, &proxy)
            .access_token(TOKEN)
            .extra_root_certificates_pem(ca.pem())
            .build()
            .unwrap(),
    )
    .unwrap();
    let execution =
        Execution::organization(ExecutionId::new("9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1").unwrap());

    // A GET is retried after most transport failures; not after this one.
    let error = client.fetch_page(&execution, None).await.unwrap_err();

    assert!(
        matches!(error, Error::Transport { attempts: 1, .. }),
        "{error:?}"
    );
    assert_refused_once(&error, &proxy, "name mismatch");
    assert!(error.to_string().contains("after 1 attempt(s)"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_is_refused_on_a_post_without_retrying() {
    let ca = TestCa::new();
    let (si, proxy) = behind_tls(&ca, &["127.0.0.1"], Validity::Expired, Alpn::PrefersHttp2).await;
    let client = UsageClient::new(
        through(&si, &proxy)
            .access_token(TOKEN)
            .extra_root_certificates_pem(ca.pem())
            .build()
            .unwrap(),
    )
    .unwrap();

    // A POST is re-sent after a failure to connect; a refused certificate is not one.
    let error = client
        .submit(&OrganizationQuery::builder(recent_week()).build().unwrap())
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::Transport { attempts: 1, .. }),
        "{error:?}"
    );
    assert_refused_once(&error, &proxy, "expired");
}

/// A file in the system's temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn with(name: &str, contents: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!("usage-sdk-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    fn path(&self) -> String {
        self.0.to_str().unwrap().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_sdk_ca_file_adds_its_cas_to_the_trusted_roots() {
    let ca = TestCa::new();
    let (si, proxy) = behind_tls(&ca, &["localhost"], Validity::Current, Alpn::PrefersHttp2).await;
    // A bundle of two CAs, as a proxy's may be: each is trusted.
    let bundle = format!("{}{}", TestCa::new().pem(), ca.pem());
    let file = TempFile::with("ca-bundle.pem", bundle.as_bytes());
    let client = si.demo_client();
    let vars = [
        (
            "GENESYSCLOUD_API_REGION",
            format!("https://localhost:{}", proxy.port()),
        ),
        ("GENESYSCLOUD_OAUTHCLIENT_ID", client.id.clone()),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", client.secret.clone()),
        ("USAGE_SDK_CA_FILE", file.path()),
    ];
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
    .build()
    .unwrap();

    assert_eq!(config.extra_root_certificates(), 2);
    let debug = format!("{config:?}");
    assert!(debug.contains("2 extra root certificate(s)"), "{debug}");
    assert!(!debug.contains("BEGIN CERTIFICATE") && !debug.contains(&bundle[30..60]));
    let report = UsageClient::new(config)
        .unwrap()
        .oauth_client(&demo())
        .rows(&Days::new(7).unwrap())
        .report()
        .await
        .unwrap();
    assert!(!report.rows.is_empty());
    assert!(proxy.connections() >= 1);
}

#[test]
fn pem_without_a_certificate_is_invalid_input_naming_where_it_came_from() {
    let builder = || Config::builder().access_token(TOKEN);
    for pem in [
        &b""[..],
        b"not a certificate",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        match builder().extra_root_certificates_pem(pem).build() {
            Err(Error::InvalidInput(invalid)) => {
                assert_eq!(invalid.field, "extra_root_certificates_pem", "{invalid}")
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    let garbage = TempFile::with("garbage.pem", b"-----BEGIN CERTIFICATE-----\n%%%\n");
    let lookup = |path: String| {
        move |name: &str| match name {
            "GENESYSCLOUD_ACCESS_TOKEN" => Some(TOKEN.to_string()),
            "USAGE_SDK_CA_FILE" => Some(path.clone()),
            _ => None,
        }
    };
    match Config::from_lookup(lookup(garbage.path())).unwrap().build() {
        Err(Error::InvalidInput(invalid)) => {
            assert_eq!(invalid.field, "USAGE_SDK_CA_FILE");
            assert!(invalid.problem.contains(&garbage.path()), "{invalid}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let missing = std::env::temp_dir().join("usage-sdk-no-such-ca.pem");
    match Config::from_lookup(lookup(missing.to_str().unwrap().into())) {
        Err(Error::InvalidInput(invalid)) => {
            assert_eq!(invalid.field, "USAGE_SDK_CA_FILE");
            assert!(invalid.problem.contains("cannot read"), "{invalid}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}
