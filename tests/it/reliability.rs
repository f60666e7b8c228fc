//! Reliability and security of `UsageClient` under faults (issue #6): every scenario ends in a
//! correct result or a typed error, within a bound, without a panic, and with no request sent
//! more often than the retry rules allow (a POST again only after 429, 503 or a refused
//! connection; a GET also after 502, 504 and transport errors).
//!
//! Retry waits run on a [`ManualClock`], so backoffs and `Retry-After` cost no real time; only
//! request timeouts are real. Each scenario prints one `scenario |` line (run with
//! `--nocapture` to see them).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use usage_sdk::stand_in::{Fault, Route, RunningStandIn, StandIn};
use usage_sdk::time::ManualClock;
use usage_sdk::{
    AuthError, Config, ConfigBuilder, Days, Error, Execution, ExecutionId, GroupBy, Interval,
    Metric, OAuthClientId, OAuthClientQuery, OrganizationQuery, QueryStatus, RetryPolicy,
    UsageClient,
};

use crate::raw_tcp::{Act, RawServer, head};
use crate::scripted::{Reply, ScriptedServer};

const TOKEN: &str = "reliability-token-5b1e07";
const SECRET: &str = "reliability-secret-c4d2aa";
const EXECUTION: &str = "9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1";
const ORG_QUERY: &str = "/api/v2/usage/query";
const ORG_RESULTS: &str = "/api/v2/usage/query/9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1/results";
/// No scenario may take longer than this, whatever the server does.
const BOUND: Duration = Duration::from_secs(10);

fn interval() -> Interval {
    "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap()
}

fn org_query() -> OrganizationQuery {
    OrganizationQuery::builder(interval())
        .metrics([Metric::Requests])
        .build()
        .unwrap()
}

fn org_execution() -> Execution {
    Execution::organization(ExecutionId::new(EXECUTION).unwrap())
}

/// A config for `base_url` with a static token, retry waits on `clock` and no jitter.
fn config(base_url: &str, clock: &ManualClock) -> ConfigBuilder {
    Config::builder()
        .base_url(base_url)
        .access_token(TOKEN)
        .retry(RetryPolicy::default().with_jitter(false))
        .request_timeout(Duration::from_secs(5))
        .clock(Arc::new(clock.clone()))
}

fn client(builder: ConfigBuilder) -> UsageClient {
    UsageClient::new(builder.build().unwrap()).unwrap()
}

/// Awaits `call` within [`BOUND`]; returns its output and how long it took.
async fn bounded<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = tokio::time::timeout(BOUND, call)
        .await
        .expect("the call must end within the bound, whatever the server does");
    (out, started.elapsed())
}

/// One line of the scenario table.
fn report(scenario: &str, outcome: &str, requests: usize, took: Duration) {
    eprintln!("scenario | {scenario} | {outcome} | {requests} | {took:.2?}");
}

fn secs(values: &[f64]) -> Vec<Duration> {
    values.iter().map(|s| Duration::from_secs_f64(*s)).collect()
}

// ---------------------------------------------------------------------------------------------
// Rate limits and 5xx, on the stand-in's fault knobs.
// ---------------------------------------------------------------------------------------------

async fn stand_in_client(
    stand_in: &usage_sdk::stand_in::RunningStandIn,
    clock: &ManualClock,
) -> UsageClient {
    let demo = stand_in.demo_client();
    client(
        config(&stand_in.base_url(), clock)
            .client_credentials(demo.id.clone(), demo.secret.clone()),
    )
}

/// A stand-in with no rate limit whose executions complete at once: faults come only from
/// what a test injects.
async fn instant_stand_in() -> RunningStandIn {
    StandIn::builder()
        .no_rate_limit()
        .execution_time(Duration::ZERO)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_429_storm_with_retry_after_spends_the_attempt_budget_then_a_short_one_passes() {
    let stand_in = instant_stand_in().await;
    let clock = ManualClock::new();
    let client = stand_in_client(&stand_in, &clock).await;

    stand_in.inject(Fault::RateLimited, 5);
    let (result, took) = bounded(client.submit_organization_query(&org_query())).await;
    let err = result.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((api.status, api.attempts), (429, 5));
    assert_eq!(api.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(api.code(), Some("too.many.requests.retry.after"));
    let posts = stand_in.stats().requests_to(Route::PostUsageQuery);
    assert_eq!(posts, 5, "a POST is re-sent after a 429, within the budget");
    assert_eq!(clock.sleeps(), secs(&[1.0; 4]), "Retry-After: 1 honoured");
    report(
        "429 storm, Retry-After: 1 (POST)",
        "Api 429 after 5 attempts",
        posts as usize,
        took,
    );

    stand_in.reset_stats();
    stand_in.inject(Fault::RateLimited, 2);
    let (result, took) = bounded(client.submit_organization_query(&org_query())).await;
    result.unwrap();
    assert_eq!(stand_in.stats().requests_to(Route::PostUsageQuery), 3);
    assert_eq!(stand_in.stats().token_requests(), 0, "the token is reused");
    report("two 429s then 202 (POST)", "Ok on attempt 3", 3, took);
}

#[tokio::test]
async fn a_429_storm_without_retry_after_backs_off_exponentially_then_reports_429() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(
            429,
            json!({"message": "slow down", "code": "too.many.requests", "status": 429}),
        )
    })
    .await;
    let clock = ManualClock::new();
    let (result, took) =
        bounded(client(config(&server.base_url, &clock)).submit_organization_query(&org_query()))
            .await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 429 && api.attempts == 5 && api.retry_after.is_none()),
        "{err:?}"
    );
    assert_eq!(clock.sleeps(), secs(&[0.5, 1.0, 2.0, 4.0]));
    let posts = server.requests_to("POST", ORG_QUERY).len();
    assert_eq!(posts, 5);
    report(
        "429 storm, no Retry-After (POST)",
        "Api 429 after 5 attempts, backoff 0.5-4 s",
        posts,
        took,
    );
}

#[tokio::test]
async fn retry_after_beyond_the_cap_or_unparsable_never_stalls_or_panics() {
    let hours_ahead = (chrono::Utc::now() + chrono::Duration::hours(2))
        .to_rfc2822()
        .replace("+0000", "GMT");
    let cases: Vec<(&str, String, usize, Option<u64>)> = vec![
        // (what, Retry-After, GETs expected with max_attempts 3, retry_after reported)
        ("11 s, above a 10 s cap", "11".into(), 1, Some(11)),
        ("an HTTP-date two hours ahead", hours_ahead, 1, None),
        ("u64::MAX seconds", u64::MAX.to_string(), 1, Some(u64::MAX)),
        (
            "a number beyond u64",
            "99999999999999999999999".into(),
            3,
            None,
        ),
        ("negative", "-5".into(), 3, None),
        ("not a number", "soon".into(), 3, None),
    ];
    for (what, retry_after, expected_gets, reported) in cases {
        let value = retry_after.clone();
        let server = ScriptedServer::start(move |_, _| {
            Reply::error(503, "service.unavailable", "down").header("Retry-After", &value)
        })
        .await;
        let clock = ManualClock::new();
        let client = client(
            config(&server.base_url, &clock).retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_max_attempts(3)
                    .with_retry_after_cap(Duration::from_secs(10)),
            ),
        );
        let (result, took) = bounded(client.fetch_results(&org_execution())).await;
        let err = result.unwrap_err();
        let Error::Api(api) = &err else {
            panic!("{what}: {err:?}")
        };
        assert_eq!(api.status, 503, "{what}");
        let gets = server.requests_to("GET", ORG_RESULTS).len();
        assert_eq!(gets, expected_gets, "{what}");
        if let Some(seconds) = reported {
            assert_eq!(
                api.retry_after,
                Some(Duration::from_secs(seconds)),
                "{what}"
            );
        }
        if expected_gets == 1 {
            assert_eq!(api.retry_after_cap, Some(Duration::from_secs(10)), "{what}");
            assert!(err.to_string().contains("cap"), "{what}: {err}");
            assert!(clock.sleeps().is_empty(), "{what}");
        } else {
            // Ignored: the exponential backoff applies.
            assert_eq!(clock.sleeps(), secs(&[0.5, 1.0]), "{what}");
        }
        report(
            &format!("503 with Retry-After {what} (GET)"),
            "Api 503",
            gets,
            took,
        );
    }
}

#[tokio::test]
async fn an_unlimited_retry_after_cap_with_a_huge_retry_after_gives_up_instead_of_overflowing() {
    // A caller who raises the cap to "always honour Retry-After" must not turn a hostile
    // Retry-After into a panic (Instant + u64::MAX s overflows) or an endless wait.
    let server = ScriptedServer::start(|_, _| {
        Reply::error(429, "too.many.requests.retry.after", "later")
            .header("Retry-After", &u64::MAX.to_string())
    })
    .await;
    let clock = ManualClock::new();
    let client = client(
        config(&server.base_url, &clock).retry(
            RetryPolicy::default()
                .with_jitter(false)
                .with_retry_after_cap(Duration::MAX)
                .with_max_elapsed(Duration::MAX),
        ),
    );
    let (result, took) = bounded(client.submit_organization_query(&org_query())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 429 && api.attempts == 1),
        "{err:?}"
    );
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    let posts = server.requests_to("POST", ORG_QUERY).len();
    assert_eq!(posts, 1);
    report(
        "429 Retry-After u64::MAX, cap and max_elapsed unlimited",
        "Api 429 at once",
        posts,
        took,
    );
}

#[tokio::test]
async fn bursts_of_503_are_retried_for_posts_and_gets_but_500_is_not_retried() {
    let stand_in = instant_stand_in().await;
    let clock = ManualClock::new();
    let client = stand_in_client(&stand_in, &clock).await;

    stand_in.inject(Fault::Unavailable, 3);
    let (execution, took) = bounded(client.submit_organization_query(&org_query())).await;
    let execution = execution.unwrap();
    assert_eq!(stand_in.stats().requests_to(Route::PostUsageQuery), 4);
    report("three 503s then 202 (POST)", "Ok on attempt 4", 4, took);

    stand_in.inject(Fault::Unavailable, 3);
    let (result, took) = bounded(client.fetch_results(&execution)).await;
    assert_eq!(result.unwrap().query_status, Some(QueryStatus::Complete));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 4);
    report("three 503s then 200 (GET)", "Ok on attempt 4", 4, took);

    stand_in.inject(Fault::Unavailable, 5);
    let (result, took) = bounded(client.fetch_results(&execution)).await;
    assert!(matches!(result, Err(Error::Api(api)) if api.status == 503 && api.attempts == 5));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 9);
    report("503 storm (GET)", "Api 503 after 5 attempts", 5, took);

    stand_in.reset_stats();
    stand_in.inject(Fault::InternalError, 2);
    let (post, took) = bounded(client.submit_organization_query(&org_query())).await;
    let (get, _) = bounded(client.fetch_results(&execution)).await;
    assert!(matches!(post, Err(Error::Api(api)) if api.status == 500 && api.attempts == 1));
    assert!(matches!(get, Err(Error::Api(api)) if api.status == 500 && api.attempts == 1));
    let stats = stand_in.stats();
    assert_eq!(stats.requests_to(Route::PostUsageQuery), 1);
    assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 1);
    report("500 (POST and GET)", "Api 500, not retried", 1, took);
}

#[tokio::test]
async fn gateway_errors_exhaust_the_budget_for_gets_and_are_not_retried_for_posts() {
    let server = ScriptedServer::start(|request, _| match request.method.as_str() {
        "GET" => Reply::error(502, "bad.gateway", "proxy"),
        _ => Reply::error(504, "request.timeout", "slow"),
    })
    .await;
    let clock = ManualClock::new();
    let client = client(config(&server.base_url, &clock));
    let (get, took) = bounded(client.fetch_results(&org_execution())).await;
    assert!(matches!(get, Err(Error::Api(api)) if api.status == 502 && api.attempts == 5));
    let gets = server.requests_to("GET", ORG_RESULTS).len();
    assert_eq!(gets, 5);
    report("502 storm (GET)", "Api 502 after 5 attempts", gets, took);
    let (post, took) = bounded(client.submit_organization_query(&org_query())).await;
    assert!(matches!(post, Err(Error::Api(api)) if api.status == 504 && api.attempts == 1));
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 1);
    report("504 (POST)", "Api 504, not retried", 1, took);
}

// ---------------------------------------------------------------------------------------------
// Connections: refused, dropped before the answer, dropped or stalled mid-body.
// ---------------------------------------------------------------------------------------------

fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_gets_and_for_the_token_request() {
    let base = format!("http://127.0.0.1:{}", unused_port());
    let clock = ManualClock::new();
    let (get, took) = bounded(client(config(&base, &clock)).fetch_results(&org_execution())).await;
    let err = get.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { attempts: 5, source, .. } if source.is_connect()),
        "{err:?}"
    );
    assert!(err.to_string().contains("could not connect"), "{err}");
    assert_eq!(clock.sleeps().len(), 4);
    report(
        "connection refused (GET)",
        "Transport after 5 attempts",
        5,
        took,
    );

    let clock = ManualClock::new();
    let token_down = client(config(&base, &clock).client_credentials("bot", SECRET));
    let (post, took) = bounded(token_down.submit_organization_query(&org_query())).await;
    let err = post.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::Transport { source, .. }) if source.is_connect()),
        "{err:?}"
    );
    assert_eq!(clock.sleeps().len(), 4, "nothing was sent: safe to retry");
    assert_eq!(token_down.token_requests(), 1);
    assert!(!format!("{err} {err:?}").contains(SECRET));
    report(
        "token endpoint refused",
        "Auth::Transport after 5 attempts",
        5,
        took,
    );
}

#[tokio::test]
async fn a_connection_dropped_before_the_answer_retries_gets_only() {
    let stand_in = instant_stand_in().await;
    let clock = ManualClock::new();
    let client = stand_in_client(&stand_in, &clock).await;
    let execution = client
        .submit_organization_query(&org_query())
        .await
        .unwrap();

    stand_in.inject(Fault::Drop, 1);
    let (post, took) = bounded(client.submit_organization_query(&org_query())).await;
    let err = post.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        stand_in.stats().requests_to(Route::PostUsageQuery),
        2,
        "the dropped POST may have been processed: not re-sent"
    );
    report(
        "dropped before the answer (POST)",
        "Transport, not retried",
        1,
        took,
    );

    stand_in.inject(Fault::Drop, 2);
    let (get, took) = bounded(client.fetch_results(&execution)).await;
    assert_eq!(get.unwrap().query_status, Some(QueryStatus::Complete));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 3);
    report("dropped twice, then 200 (GET)", "Ok on attempt 3", 3, took);

    stand_in.inject(Fault::Drop, 5);
    let (get, took) = bounded(client.fetch_results(&execution)).await;
    assert!(matches!(get, Err(Error::Transport { attempts: 5, .. })));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 8);
    assert_eq!(stand_in.stats().dropped, 8);
    report(
        "dropped every time (GET)",
        "Transport after 5 attempts",
        5,
        took,
    );
}

/// A 200 that promises `{"queryStatus":"Complete"...}` and breaks off after 20 bytes.
fn mid_body() -> Act {
    Act::CloseMidBody {
        head: head(200, &[("Content-Type", "application/json")], Some(400)),
        partial: br#"{"queryStatus":"Comp"#.to_vec(),
    }
}

#[tokio::test]
async fn a_connection_dropped_mid_body_re_sends_gets_but_never_posts() {
    let server = RawServer::start(|request, _| match request.method.as_str() {
        "POST" => Act::CloseMidBody {
            head: head(202, &[("Content-Type", "application/json")], Some(400)),
            partial: br#"{"executionId":"9f3"#.to_vec(),
        },
        _ => mid_body(),
    })
    .await;
    let clock = ManualClock::new();
    let client = client(config(&server.base_url, &clock));
    for (what, call) in [
        (
            "POST",
            Box::pin(async {
                client
                    .submit_organization_query(&org_query())
                    .await
                    .map(drop)
            }) as std::pin::Pin<Box<dyn Future<Output = Result<(), Error>>>>,
        ),
        (
            "GET",
            Box::pin(async { client.fetch_results(&org_execution()).await.map(drop) }),
        ),
    ] {
        let before = server.requests().len();
        let (result, took) = bounded(call).await;
        let err = result.unwrap_err();
        assert!(matches!(&err, Error::Transport { .. }), "{what}: {err:?}");
        let sent = server.requests().len() - before;
        // A GET's body is read inside its attempt, so a broken body is re-requested like any
        // transport failure; a POST that reached the server is never re-sent.
        let expected = if what == "GET" { 5 } else { 1 };
        assert_eq!(sent, expected, "{what}");
        assert!(
            matches!(&err, Error::Transport { attempts, .. } if *attempts == expected as u32),
            "{what}: {err:?}"
        );
        report(
            &format!("dropped mid-body ({what})"),
            if what == "GET" {
                "Transport after 5 attempts"
            } else {
                "Transport, not retried"
            },
            sent,
            took,
        );
    }
    assert_eq!(clock.sleeps().len(), 4, "backoffs of the GET only");
}

#[tokio::test]
async fn a_get_whose_body_broke_once_is_re_requested_and_succeeds() {
    let server = RawServer::start(|_, n| match n {
        0 => mid_body(),
        _ => Act::respond(
            200,
            &[("Content-Type", "application/json")],
            r#"{"queryStatus":"Complete","results":[{"requests":7}]}"#,
        ),
    })
    .await;
    let clock = ManualClock::new();
    let client = client(config(&server.base_url, &clock));
    let (result, took) = bounded(client.fetch_results(&org_execution())).await;
    let result = result.expect("the second attempt reads a whole body");
    assert_eq!(result.results[0].requests, Some(7));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(clock.sleeps().len(), 1);
    report("dropped mid-body once (GET)", "Ok on attempt 2", 2, took);
}

#[tokio::test]
async fn a_body_that_stalls_past_the_request_timeout_ends_in_a_timeout_error() {
    let server = RawServer::start(|_, _| Act::Stall {
        head: head(200, &[("Content-Type", "application/json")], Some(400)),
        partial: br#"{"queryStatus":"#.to_vec(),
        hold: Duration::from_secs(30),
    })
    .await;
    let clock = ManualClock::new();
    let client =
        client(config(&server.base_url, &clock).request_timeout(Duration::from_millis(300)));
    let (result, took) = bounded(client.fetch_results(&org_execution())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { source, .. } if source.is_timeout()),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    // A timeout while reading a GET's body is retried like any timeout of a GET.
    let gets = server.requests().len();
    assert_eq!(gets, 5);
    report(
        "body stalls past a 300 ms timeout (GET)",
        "Transport timeout after 5 attempts",
        gets,
        took,
    );
}

// ---------------------------------------------------------------------------------------------
// Bodies that are not what the API defines.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn truncated_json_html_and_invalid_utf8_are_decode_or_api_errors() {
    let server = RawServer::start(|request, _| {
        let json = [("Content-Type", "application/json")];
        match (request.method.as_str(), request.path()) {
            ("POST", ORG_QUERY) => Act::respond(
                202,
                &[("Content-Type", "text/html"), ("ININ-Correlation-Id", "corr-html")],
                "<html><body>Service maintenance</body></html>",
            ),
            ("GET", ORG_RESULTS) => Act::respond(
                200,
                &json,
                r#"{"queryStatus":"Complete","results":[{"clientId":"c"#,
            ),
            ("GET", "/api/v2/usage/query/utf8/results") => {
                Act::respond(200, &json, b"{\"queryStatus\":\"Comp\xff\xfete\"}".to_vec())
            }
            ("GET", "/api/v2/usage/query/utf8-error/results") => {
                let mut bytes = head(500, &json, Some(12)).into_bytes();
                bytes.extend_from_slice(b"\xff\xfe\xfd{\"code\":1}");
                Act::Raw(bytes)
            }
            _ => {
                // A header value that is not UTF-8, on an otherwise fine answer.
                let body = br#"{"queryStatus":"Running"}"#;
                let mut bytes = format!(
                    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\nININ-Correlation-Id: ",
                    body.len()
                )
                .into_bytes();
                bytes.extend_from_slice(b"\xc3\x28\xff\r\n\r\n");
                bytes.extend_from_slice(body);
                Act::Raw(bytes)
            }
        }
    })
    .await;
    let clock = ManualClock::new();
    let client = client(config(&server.base_url, &clock));
    let execution = |id: &str| Execution::organization(ExecutionId::new(id).unwrap());

    let (html, took) = bounded(client.submit_organization_query(&org_query())).await;
    let err = html.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(decode.status, 202);
    assert_eq!(decode.correlation_id.as_deref(), Some("corr-html"));
    assert!(decode.snippet.starts_with("<html>"), "{}", decode.snippet);
    report(
        "202 with an HTML body (POST)",
        "Decode, not retried",
        1,
        took,
    );

    let (truncated, took) = bounded(client.fetch_results(&org_execution())).await;
    let err = truncated.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.status == 200
            && d.source.as_ref().is_some_and(|e| e.is_eof())),
        "{err:?}"
    );
    report("200 with truncated JSON (GET)", "Decode (EOF)", 1, took);

    let (utf8, took) = bounded(client.fetch_results(&execution("utf8"))).await;
    let err = utf8.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.status == 200),
        "{err:?}"
    );
    assert!(err.to_string().contains('\u{fffd}'), "lossy snippet: {err}");
    report(
        "200 with invalid UTF-8 in a string (GET)",
        "Decode",
        1,
        took,
    );

    let (utf8_error, took) = bounded(client.fetch_results(&execution("utf8-error"))).await;
    assert!(
        matches!(&utf8_error, Err(Error::Api(api)) if api.status == 500 && api.body.is_none()),
        "{utf8_error:?}"
    );
    report(
        "500 with a non-UTF-8 body (GET)",
        "Api 500, no body",
        1,
        took,
    );

    let (odd_header, took) = bounded(client.fetch_results(&execution("odd-header"))).await;
    let result = odd_header.unwrap();
    assert_eq!(result.query_status, Some(QueryStatus::Running));
    report(
        "200 with a non-UTF-8 header value (GET)",
        "Ok, header ignored",
        1,
        took,
    );

    assert_eq!(server.requests().len(), 5, "no decode failure was retried");
}

// ---------------------------------------------------------------------------------------------
// The token endpoint.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_endpoint_that_refuses_the_client_stops_before_any_api_request() {
    let stand_in = StandIn::builder()
        .unauthorized_client(true)
        .start()
        .await
        .unwrap();
    let clock = ManualClock::new();
    let client = stand_in_client(&stand_in, &clock).await;
    let (result, took) = bounded(client.submit_organization_query(&org_query())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::Rejected { status: 400, error, .. })
            if error.as_deref() == Some("unauthorized_client")),
        "{err:?}"
    );
    let stats = stand_in.stats();
    assert_eq!(stats.token_requests(), 1, "a 400 is not retried");
    assert_eq!(stats.total_requests(), 1, "no API request without a token");
    assert!(!format!("{err} {err:?}").contains(&stand_in.demo_client().secret));
    report(
        "token endpoint: 400 unauthorized_client",
        "Auth::Rejected",
        1,
        took,
    );
}

#[tokio::test]
async fn a_token_endpoint_that_is_down_gives_auth_errors_within_the_retry_rules() {
    let server = RawServer::start(|request, _| match request.target.as_str() {
        "/unavailable/oauth/token" => Act::json(503, json!({"error": "temporarily_unavailable"})),
        "/drops/oauth/token" => Act::Close,
        "/mid-body/oauth/token" => Act::CloseMidBody {
            head: head(200, &[("Content-Type", "application/json")], Some(200)),
            partial: format!(r#"{{"access_token":"{TOKEN}"#).into_bytes(),
        },
        _ => Act::json(200, json!({"queryStatus": "Complete"})),
    })
    .await;
    for (path, expected_posts) in [("unavailable", 5), ("drops", 1), ("mid-body", 1)] {
        let clock = ManualClock::new();
        let client = client(
            config(&server.base_url, &clock)
                .client_credentials("bot", SECRET)
                .token_url(format!("{}/{path}/oauth/token", server.base_url)),
        );
        let before = server.requests().len();
        let (result, took) = bounded(client.fetch_results(&org_execution())).await;
        let err = result.unwrap_err();
        let sent = server.requests().len() - before;
        match path {
            "unavailable" => assert!(
                matches!(&err, Error::Auth(AuthError::Rejected { status: 503, .. })),
                "{err:?}"
            ),
            _ => assert!(
                matches!(&err, Error::Auth(AuthError::Transport { .. })),
                "{path}: {err:?}"
            ),
        }
        assert_eq!(
            sent, expected_posts,
            "{path}: token POSTs, and no API request"
        );
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains(TOKEN),
            "{path}: {shown}"
        );
        report(
            &format!("token endpoint: {path}"),
            &format!("{err:.40}"),
            sent,
            took,
        );
    }
}

#[tokio::test]
async fn a_token_response_with_the_wrong_shape_is_malformed_and_never_quoted() {
    let bodies = [
        json!({"access_token": TOKEN, "expires_in": "soon"}),
        json!({"access_token": TOKEN, "expires_in": -1}),
        json!({"access_token": TOKEN, "expires_in": 1e300}),
        json!({"token": TOKEN}),
        json!({"access_token": ""}),
        json!([TOKEN]),
    ];
    let count = bodies.len();
    let server = RawServer::start(move |_, n| Act::json(200, bodies[n % count].clone())).await;
    for _ in 0..count {
        let clock = ManualClock::new();
        let client = client(config(&server.base_url, &clock).client_credentials("bot", SECRET));
        let (result, _) = bounded(client.fetch_results(&org_execution())).await;
        let err = result.unwrap_err();
        assert!(
            matches!(&err, Error::Auth(AuthError::Malformed { .. })),
            "{err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(TOKEN), "{shown}");
    }
    assert_eq!(
        server.requests().len(),
        count,
        "one token request each, no API request"
    );
}

#[tokio::test]
async fn a_token_with_an_absurd_lifetime_is_used_without_overflowing_the_clock() {
    let server = RawServer::start(|request, n| match request.path() {
        "/oauth/token" if n == 0 => Act::token("short-lived-token", 0),
        "/oauth/token" => Act::token(TOKEN, u64::MAX),
        _ => Act::json(200, json!({"queryStatus": "Running"})),
    })
    .await;
    let clock = ManualClock::new();
    let client = client(config(&server.base_url, &clock).client_credentials("bot", SECRET));
    for _ in 0..3 {
        let (result, _) = bounded(client.fetch_results(&org_execution())).await;
        assert_eq!(result.unwrap().query_status, Some(QueryStatus::Running));
    }
    // expires_in 0 is renewed on the next call; u64::MAX seconds is kept (and never overflows).
    assert_eq!(client.token_requests(), 2);
    let auth: Vec<_> = server
        .requests_to("GET", ORG_RESULTS)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(
        auth,
        [
            "Bearer short-lived-token",
            &format!("Bearer {TOKEN}"),
            &format!("Bearer {TOKEN}")
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Bodies too large to buffer.
// ---------------------------------------------------------------------------------------------

const MB_200: u64 = 200 * 1024 * 1024;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_200_mb_body_is_refused_with_a_typed_error_instead_of_being_buffered() {
    let server = RawServer::start(|request, _| {
        let json = [("Content-Type", "application/json")];
        match request.path() {
            // Announced: refused on the Content-Length, before any body is read.
            ORG_RESULTS => Act::Flood {
                head: head(200, &json, Some(MB_200)),
                total: MB_200,
                chunked: false,
            },
            // Not announced (chunked): refused once the limit has been read.
            ORG_QUERY => Act::Flood {
                head: head(
                    202,
                    &[
                        ("Content-Type", "application/json"),
                        ("Transfer-Encoding", "chunked"),
                    ],
                    None,
                ),
                total: MB_200,
                chunked: true,
            },
            // The token endpoint is held to the same limit.
            _ => Act::Flood {
                head: head(200, &json, Some(MB_200)),
                total: MB_200,
                chunked: false,
            },
        }
    })
    .await;
    let clock = ManualClock::new();
    let rss_before = rss_kib();

    let default_limit = client(config(&server.base_url, &clock));
    assert_eq!(default_limit.config().max_response_size(), 128 << 20);
    let (result, took) = bounded(default_limit.fetch_results(&org_execution())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::ResponseTooLarge { operation: "get_usage_query_execution_id_results", status: 200, limit, content_length: Some(MB_200) } if *limit == 128 << 20),
        "{err:?}"
    );
    assert!(err.to_string().contains("max_response_size"), "{err}");
    assert_eq!(err.status(), Some(200));
    report(
        "200 OK announcing 200 MB (GET, default 128 MiB limit)",
        "ResponseTooLarge before reading",
        1,
        took,
    );

    let one_mib = client(config(&server.base_url, &clock).max_response_size(1 << 20));
    let (result, took) = bounded(one_mib.submit_organization_query(&org_query())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ResponseTooLarge {
                status: 202,
                limit: 1_048_576,
                content_length: None,
                ..
            }
        ),
        "{err:?}"
    );
    report(
        "202 streaming 200 MB chunked (POST, 1 MiB limit)",
        "ResponseTooLarge after 1 MiB",
        1,
        took,
    );

    let token = client(
        config(&server.base_url, &clock)
            .client_credentials("bot", SECRET)
            .max_response_size(1 << 20),
    );
    let (result, took) = bounded(token.fetch_results(&org_execution())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ResponseTooLarge {
                operation: "oauth_token",
                content_length: Some(MB_200),
                ..
            }
        ),
        "{err:?}"
    );
    report(
        "token endpoint announcing 200 MB",
        "ResponseTooLarge",
        1,
        took,
    );

    assert_eq!(
        server.requests().len(),
        3,
        "a too-large body is not re-requested"
    );
    assert!(clock.sleeps().is_empty());
    // The server may have pushed some MB into socket buffers, never 200 MB into the client.
    let grown_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 64, "RSS grew by {grown_mib} MiB");
    let sent = server.flood_bytes_sent();
    eprintln!("flood bytes written: {sent}");
    assert!(sent < 64 << 20, "the client kept reading: {sent} bytes");
}

// ---------------------------------------------------------------------------------------------
// Bad input from the caller: a typed error naming the field, before any request.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bad_input_is_an_invalid_input_error_naming_the_field_before_any_request() {
    let server = ScriptedServer::start(|_, _| Reply::token(TOKEN, 86_399)).await;
    let base = server.base_url.clone();
    let good = || interval();
    let id_cases = [
        "",
        " 9f32",
        "9f32 ",
        "a\nb",
        "a\u{0}b",
        ".",
        "..",
        "\\..\\..",
        &"x".repeat(257),
    ];
    let mut cases: Vec<(String, &str, Result<(), Error>)> = Vec::new();
    for bad in id_cases {
        cases.push((
            format!("OAuthClientId {bad:.20?}"),
            "clientId",
            OAuthClientId::new(bad).map(drop).map_err(Error::from),
        ));
        cases.push((
            format!("ExecutionId {bad:.20?}"),
            "executionId",
            bad.parse::<ExecutionId>().map(drop).map_err(Error::from),
        ));
    }
    let interval_cases = [
        "2026-11-08T00:00:00Z/2026-11-01T00:00:00Z",
        "2026-11-01T00:00:00Z/2026-11-01T00:00:00Z",
        "2026-11-01T00:00:00/2026-11-08T00:00:00",
        "2026-11-01T00:00:00Z",
        "last week",
        "2026-13-01/2026-14-01",
    ];
    for bad in interval_cases {
        cases.push((
            format!("Interval {bad:?}"),
            "interval",
            bad.parse::<Interval>().map(drop),
        ));
    }
    for days in [0, Days::MAX + 1, u32::MAX] {
        cases.push((format!("Days {days}"), "days", Days::new(days).map(drop)));
        cases.push((
            format!("last_full_days({days})"),
            "days",
            Interval::last_full_days(days).map(drop),
        ));
    }
    let no_metrics: [Metric; 0] = [];
    cases.extend([
        (
            "empty metrics".into(),
            "metrics",
            OrganizationQuery::builder(good())
                .metrics(no_metrics)
                .build()
                .map(drop),
        ),
        (
            "metrics twice".into(),
            "metrics",
            OAuthClientQuery::builder(good())
                .metrics([Metric::Requests, Metric::Requests])
                .build()
                .map(drop),
        ),
        (
            "UserId in a client query".into(),
            "groupBy",
            OAuthClientQuery::builder(good())
                .group_by([GroupBy::UserId])
                .build()
                .map(drop),
        ),
        (
            "groupBy twice".into(),
            "groupBy",
            OrganizationQuery::builder(good())
                .group_by([GroupBy::HttpMethod, GroupBy::HttpMethod])
                .build()
                .map(drop),
        ),
        (
            "unknown metric".into(),
            "metrics",
            "Status201".parse::<Metric>().map(drop),
        ),
        (
            "plain http base URL off loopback".into(),
            "base_url",
            Config::builder()
                .base_url("http://api.example.com")
                .access_token(TOKEN)
                .build()
                .map(drop),
        ),
        (
            "plain http token URL off loopback".into(),
            "token_url",
            Config::builder()
                .base_url("https://api.example.com")
                .token_url("http://login.example.com/oauth/token")
                .client_credentials("bot", SECRET)
                .build()
                .map(drop),
        ),
        (
            "token URL with a query".into(),
            "token_url",
            Config::builder()
                .token_url("https://login.example.com/oauth/token?x=1")
                .access_token(TOKEN)
                .build()
                .map(drop),
        ),
        (
            "empty client id".into(),
            "client_id",
            Config::builder()
                .base_url(&base)
                .client_credentials(" ", SECRET)
                .build()
                .map(drop),
        ),
        (
            "empty client secret".into(),
            "client_secret",
            Config::builder()
                .base_url(&base)
                .client_credentials("bot", "")
                .build()
                .map(drop),
        ),
        (
            "access token with a newline".into(),
            "access_token",
            Config::builder()
                .base_url(&base)
                .access_token("tok\nen")
                .build()
                .map(drop),
        ),
        (
            "no credentials".into(),
            "credentials",
            Config::builder().base_url(&base).build().map(drop),
        ),
    ]);
    for (what, field, result) in cases {
        match result {
            Err(Error::InvalidInput(invalid)) => {
                assert_eq!(invalid.field, field, "{what}: {invalid}");
                assert!(!invalid.problem.is_empty(), "{what}");
                let shown = Error::InvalidInput(invalid).to_string();
                assert!(
                    shown.starts_with(&format!("invalid {field}: ")),
                    "{what}: {shown}"
                );
                assert!(!shown.contains(SECRET), "{what}: {shown}");
            }
            other => panic!("{what}: expected InvalidInput({field}), got {other:?}"),
        }
    }
    assert!(
        server.requests().is_empty(),
        "the server saw {:?}",
        server.requests()
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets, redirects and path encoding.
// ---------------------------------------------------------------------------------------------

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn secrets_stay_out_of_debug_display_errors_and_trace_logs_on_every_path() {
    const RENEWED: &str = "renewed-token-8d2f11";
    let logs = crate::logs::global();
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
    let good = client(builder.clone());
    good.fetch_results(&org_execution()).await.unwrap();
    assert_eq!(good.token_requests(), 2, "renewed after the 401");
    let mut shown = vec![
        format!("{builder:?}"),
        format!("{:?} {:?}", good.config(), good.config().credentials()),
        format!("{good:?}"),
        format!(
            "{:?} {}",
            usage_sdk::Secret::new(SECRET),
            usage_sdk::Secret::new(SECRET)
        ),
    ];
    let failing: Vec<(&str, UsageClient)> = vec![
        ("500", client(builder.clone())),
        (
            "rejected",
            client(
                builder
                    .clone()
                    .token_url(format!("{}/bad/oauth/token", server.base_url)),
            ),
        ),
        (
            "malformed",
            client(
                builder
                    .clone()
                    .token_url(format!("{}/shape/oauth/token", server.base_url)),
            ),
        ),
        (
            "refused",
            client(
                builder
                    .clone()
                    .base_url(format!("http://127.0.0.1:{}", unused_port())),
            ),
        ),
        ("static", client(config(&server.base_url, &clock))),
    ];
    for (what, client) in failing {
        let err = bounded(client.submit_organization_query(&org_query()))
            .await
            .0
            .unwrap_err();
        shown.push(format!(
            "{what}: {err} / {err:?} / {:?}",
            std::error::Error::source(&err)
        ));
    }
    let basic = base64(format!("bot:{SECRET}").as_bytes());
    let log = logs.text();
    assert!(
        log.contains("usage_sdk.attempt") && log.contains("oauth_token"),
        "nothing logged"
    );
    shown.push(log);
    for text in shown {
        for secret in [SECRET, TOKEN, RENEWED, basic.as_str()] {
            assert!(!text.contains(secret), "{secret:?} shown in:\n{text}");
        }
    }
}

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
        bounded(client(config(&server.base_url, &clock)).fetch_results(&org_execution())).await;
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

    let token_client = client(config(&server.base_url, &clock).client_credentials("bot", SECRET));
    let (token, took) = bounded(token_client.fetch_results(&org_execution())).await;
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

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn every_path_parameter_is_encoded_so_an_id_cannot_change_the_path_or_query() {
    let server = ScriptedServer::start(|request, _| match request.method.as_str() {
        "GET" if request.path().ends_with("/summary") => {
            Reply::json(202, json!({"executionId": EXECUTION}))
        }
        "GET" => Reply::json(200, json!({"queryStatus": "Running"})),
        _ => Reply::json(202, json!({"executionId": EXECUTION})),
    })
    .await;
    let clock = ManualClock::new();
    let client = client(config(&server.base_url, &clock));
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
            .submit_oauth_client_query(&client_id, &query)
            .await
            .unwrap();
        client
            .submit_oauth_client_usage_summary(&client_id, Days::new(7).unwrap())
            .await
            .unwrap();
        client
            .fetch_results(&Execution::oauth_client(
                client_id.clone(),
                execution_id.clone(),
            ))
            .await
            .unwrap();
        client
            .fetch_results(&Execution::organization(execution_id))
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
