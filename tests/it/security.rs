//! What must never leak or be steered by the server or the caller: secrets (client secret,
//! access tokens, Basic credentials) stay out of `Debug`, `Display`, errors and TRACE logs;
//! redirects are not followed, so no credential reaches another host; and an id, however
//! hostile, stays one path segment and cannot add a query.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use httpmock::MockServer;
use serde_json::json;
use usage_sdk::time::ManualClock;
use usage_sdk::{
    AuthError, Days, Error, Execution, ExecutionId, JobId, OAuthClientId, OAuthClientQuery,
    OrganizationJob, UsageClient,
};

use crate::scripted::{Reply, ScriptedServer};
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// Secrets.
// ---------------------------------------------------------------------------------------------

/// Captured tracing output. A test binary can install one global subscriber, so every test
/// that reads the logs shares [`global`]: it holds everything logged at TRACE in this process,
/// by any test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The process-wide capture, installed as the global subscriber (TRACE, all span events) on
/// first use. Global, not scoped: a scoped subscriber misses callsites whose interest other
/// test threads cached first.
fn global() -> &'static Captured {
    static GLOBAL: OnceLock<Captured> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("only logs::global installs a subscriber");
        logs
    })
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_stay_out_of_debug_display_errors_and_trace_logs_on_every_path() {
    const RENEWED: &str = "renewed-token-8d2f11";
    let logs = global();
    let server = ScriptedServer::start(|request, n| match (request.path(), n) {
        ("/oauth/token", 0) => Reply::token(TOKEN, 86_399),
        ("/oauth/token", _) => Reply::token(RENEWED, 86_399),
        ("/bad/oauth/token", _) => Reply::json(
            400,
            json!({"error": "unauthorized_client", "error_description": "client is not authorized"}),
        ),
        ("/shape/oauth/token", _) => Reply::json(200, json!({"access_token": TOKEN, "expires_in": "x"})),
        (ORG_RESULTS, 0) => Reply::error(401, "bad.credentials", "expired"),
        (ORG_RESULTS, 1) => Reply::error(503, "service.unavailable", "down"),
        (ORG_RESULTS, _) => Reply::json(200, json!({"queryStatus": "Complete"})),
        _ => Reply::error(500, "internal.server.error", "boom"),
    })
    .await;
    let clock = ManualClock::new();
    let builder = config(&server.base_url, &clock).client_credentials("bot", SECRET);
    let good = build(builder.clone());
    let result = good.fetch_page(&org_execution(), None).await.unwrap();
    assert_eq!(good.token_requests(), 2, "renewed after the 401");
    let static_token = build(config(&server.base_url, &clock));
    let mut shown = vec![
        format!("{builder:?}"),
        format!("{:?} {:?}", good.config(), good.config().credentials()),
        format!("{good:?} {static_token:?} {:?}", static_token.config()),
        format!("{result:?}"),
        format!(
            "{:?} {}",
            usage_sdk::Secret::new(SECRET),
            usage_sdk::Secret::new(SECRET)
        ),
    ];
    let failing: Vec<(&str, UsageClient)> = vec![
        ("500", build(builder.clone())),
        (
            "rejected",
            build(
                builder
                    .clone()
                    .token_url(format!("{}/bad/oauth/token", server.base_url)),
            ),
        ),
        (
            "malformed",
            build(
                builder
                    .clone()
                    .token_url(format!("{}/shape/oauth/token", server.base_url)),
            ),
        ),
        (
            "refused",
            build(
                builder
                    .clone()
                    .base_url(format!("http://127.0.0.1:{}", unused_port())),
            ),
        ),
        ("static", build(config(&server.base_url, &clock))),
    ];
    for (what, client) in failing {
        let err = bounded(client.submit(&org_query())).await.0.unwrap_err();
        shown.push(format!(
            "{what}: {err} / {err:?} / {:?}",
            std::error::Error::source(&err)
        ));
    }
    let basic = base64(format!("bot:{SECRET}").as_bytes());
    let log = logs.text();
    assert!(
        [
            "usage_sdk.call",
            "usage_sdk.attempt",
            "oauth_token",
            "post_usage_query"
        ]
        .iter()
        .all(|expected| log.contains(expected)),
        "the calls and attempts were not logged"
    );
    shown.push(log);
    for text in shown {
        for secret in [SECRET, TOKEN, RENEWED, basic.as_str()] {
            assert!(!text.contains(secret), "{secret:?} shown in:\n{text}");
        }
    }
}

/// The raw client from `UsageClient::raw` carries the client's session (its config holds the
/// token as a `Secret`), so `Debug` of the generated client must not print the token.
#[tokio::test]
async fn the_raw_client_debug_output_does_not_show_the_token() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);

    let debug = format!("{client:?}");

    assert!(debug.contains("Session"), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
    assert!(!debug.contains(TOKEN), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// Redirects.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn redirects_are_not_followed_so_no_credential_reaches_another_host() {
    let elsewhere =
        ScriptedServer::start(|_, _| Reply::json(200, json!({"queryStatus": "Complete"}))).await;
    let target = elsewhere.base_url.clone();
    let server = ScriptedServer::start(move |request, _| {
        let status = if request.path().ends_with("token") {
            307
        } else {
            302
        };
        Reply::json(status, json!({})).header("Location", &format!("{target}{}", request.target))
    })
    .await;
    let clock = ManualClock::new();
    let (api, took) =
        bounded(build(config(&server.base_url, &clock)).fetch_page(&org_execution(), None)).await;
    let err = api.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 302 && api.attempts == 1),
        "{err:?}"
    );
    report(
        "302 to another loopback port (GET, bearer token)",
        "Api 302, not followed",
        1,
        took,
    );

    let token_client = build(config(&server.base_url, &clock).client_credentials("bot", SECRET));
    let (token, took) = bounded(token_client.fetch_page(&org_execution(), None)).await;
    let err = token.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::Rejected { status: 307, .. })),
        "{err:?}"
    );
    report(
        "307 from the token endpoint to another port",
        "Auth::Rejected 307, not followed",
        1,
        took,
    );

    assert_eq!(server.requests().len(), 2);
    assert!(
        elsewhere.requests().is_empty(),
        "followed: {:?}",
        elsewhere.requests()
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile ids.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_path_parameter_is_encoded_so_an_id_cannot_change_the_path_or_query() {
    let server = ScriptedServer::start(|request, _| match request.method.as_str() {
        "GET" if request.path().ends_with("/summary") => {
            Reply::json(202, json!({"executionId": EXECUTION_ID}))
        }
        "GET" => Reply::json(200, json!({"queryStatus": "Running"})),
        _ => Reply::json(202, json!({"executionId": EXECUTION_ID})),
    })
    .await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));
    let hostile = [
        "../../users",
        "a/b?x=1#y",
        "%2e%2e%2fusers",
        "..%2F..%2F",
        "a b c",
        "ü/../ä",
        "?days=3650",
        "#frag",
        "a;b=c",
    ];
    // URL parsers read `\` as `/` in http(s) URLs and the generated encoder leaves it alone,
    // so `\..\..` would climb out of its segment: such ids are refused up front.
    for id in ["\\..\\..", "a\\b"] {
        assert!(matches!(OAuthClientId::new(id), Err(e) if e.field == "clientId"));
        assert!(matches!(ExecutionId::new(id), Err(e) if e.field == "executionId"));
    }
    let query = OAuthClientQuery::builder(interval()).build().unwrap();
    for id in hostile {
        let client_id = OAuthClientId::new(id).unwrap();
        let execution_id = ExecutionId::new(id).unwrap();
        let before = server.requests().len();
        client
            .oauth_client(&client_id)
            .submit(&query)
            .await
            .unwrap();
        client
            .oauth_client(&client_id)
            .submit(&Days::new(7).unwrap())
            .await
            .unwrap();
        client
            .fetch_page(
                &Execution::oauth_client(client_id.clone(), execution_id.clone()),
                None,
            )
            .await
            .unwrap();
        client
            .fetch_page(&Execution::organization(execution_id), None)
            .await
            .unwrap();
        let sent = &server.requests()[before..];
        let expected: [(&str, Vec<&str>, Option<&str>); 4] = [
            (
                "POST",
                vec!["api", "v2", "oauth", "clients", id, "usage", "query"],
                None,
            ),
            (
                "GET",
                vec!["api", "v2", "oauth", "clients", id, "usage", "summary"],
                Some("days=7"),
            ),
            (
                "GET",
                vec![
                    "api", "v2", "oauth", "clients", id, "usage", "query", "results", id,
                ],
                None,
            ),
            (
                "GET",
                vec!["api", "v2", "usage", "query", id, "results"],
                None,
            ),
        ];
        assert_eq!(sent.len(), 4, "{id:?}");
        for (request, (method, segments, query)) in sent.iter().zip(expected) {
            assert_eq!(request.method, method, "{id:?}");
            let (path, sent_query) = match request.target.split_once('?') {
                Some((path, query)) => (path, Some(query)),
                None => (request.target.as_str(), None),
            };
            assert!(!request.target.contains('#'), "{id:?}: {}", request.target);
            assert_eq!(sent_query, query, "{id:?}: {}", request.target);
            let decoded: Vec<String> = path[1..].split('/').map(percent_decode).collect();
            assert_eq!(decoded, segments, "{id:?}: {}", request.target);
        }
    }
}

#[tokio::test]
async fn hostile_job_ids_stay_one_path_segment() {
    let server =
        ScriptedServer::start(|_, _| Reply::json(200, json!({"queryStatus": "Running"}))).await;
    let client = build(config(&server.base_url, &ManualClock::new()));
    for hostile in ["a/b?x=1#y", "%2e%2e%2f", "../../users"] {
        let job = OrganizationJob::new(JobId::new(hostile).unwrap());
        client.fetch_page(&job, None).await.unwrap();
    }
    for bad in ["..", ".", "", "a\nb"] {
        assert!(
            matches!(JobId::new(bad), Err(e) if e.field == "jobId"),
            "{bad:?}"
        );
    }
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    for path in &paths {
        let rest = path
            .strip_prefix("/api/v2/usage/aggregates/query/jobs/")
            .unwrap();
        assert!(!rest.contains('/') && !rest.contains('?'), "{path}");
    }
    assert_eq!(paths.len(), 3);
}
