//! `UsageClient` against scripted loopback servers: auth, retries, waiters, typed errors,
//! and secrets kept out of Debug output and logs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use usage_sdk::time::ManualClock;
use usage_sdk::{
    Config, Days, Error, ExecutionId, GroupBy, Interval, Metric, OAuthClientId, OAuthClientQuery,
    OrganizationQuery, PollPolicy, QueryStatus, RetryPolicy, UsageClient,
};

use crate::scripted::{Recorded, Reply, ScriptedServer};

const SECRET: &str = "client-secret-3f9a";
const TOKEN: &str = "access-token-77c1";
const EXECUTION: &str = "9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1";
const ORG_QUERY: &str = "/api/v2/usage/query";
const ORG_RESULTS: &str = "/api/v2/usage/query/9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1/results";

fn config(server: &ScriptedServer, clock: &ManualClock) -> usage_sdk::ConfigBuilder {
    Config::builder()
        .base_url(&server.base_url)
        .client_credentials("reporting-bot", SECRET)
        .retry(RetryPolicy::default().with_jitter(false))
        .poll(PollPolicy::default().with_jitter(false))
        .clock(Arc::new(clock.clone()))
}

fn client(server: &ScriptedServer, clock: &ManualClock) -> UsageClient {
    UsageClient::new(config(server, clock).build().unwrap()).unwrap()
}

fn interval() -> Interval {
    "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap()
}

fn org_query() -> OrganizationQuery {
    OrganizationQuery::builder(interval())
        .group_by([GroupBy::OAuthClientId])
        .metrics([Metric::Requests, Metric::Status200])
        .build()
        .unwrap()
}

fn submitted(results_uri: &str) -> Reply {
    Reply::json(
        202,
        json!({"executionId": EXECUTION, "resultsUri": results_uri}),
    )
}

fn running() -> Reply {
    Reply::json(200, json!({"queryStatus": "Running"}))
}

fn complete() -> Reply {
    Reply::json(
        200,
        json!({"queryStatus": "Complete", "results": [
            {"clientId": "c1", "clientName": "Reporting bot", "organizationId": "", "userId": "",
             "templateUri": "", "httpMethod": "", "status200": 110, "status300": 0, "status400": 9,
             "status429": 5, "status500": 1, "requests": 120, "date": "2026-11-01T00:00:00Z"}
        ]}),
    )
}

/// The org query flow with `results` deciding each poll's answer.
fn org_flow(
    results: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Recorded, usize) -> Reply {
    move |request, n| match request.path() {
        "/oauth/token" => Reply::token(TOKEN, 86_399),
        ORG_QUERY => submitted(ORG_RESULTS),
        ORG_RESULTS => results(n),
        other => Reply::error(404, "not.found", &format!("no route {other}")),
    }
}

#[tokio::test]
async fn waiter_polls_running_running_complete_on_the_default_schedule() {
    let server =
        ScriptedServer::start(org_flow(|n| if n < 2 { running() } else { complete() })).await;
    let clock = ManualClock::new();
    let report = client(&server, &clock)
        .organization_usage(&org_query())
        .await
        .unwrap();

    assert_eq!(report.polls, 3);
    assert_eq!(report.execution.id.as_str(), EXECUTION);
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].requests, Some(120));
    assert_eq!(report.rows[0].user_id.as_deref(), Some(""));
    // First poll a second after submitting, then doubling.
    assert_eq!(clock.sleeps(), [1, 2, 4].map(Duration::from_secs));

    let posts = server.requests_to("POST", ORG_QUERY);
    assert_eq!(posts.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(
        body,
        json!({"interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z",
               "metrics": ["Requests", "Status200"], "groupBy": ["OAuthClientId"]})
    );
    assert_eq!(
        posts[0].header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
    assert_eq!(posts[0].header("api-version"), None);
    assert!(
        posts[0]
            .header("user-agent")
            .unwrap()
            .starts_with("usage-sdk/")
    );
    assert!(posts[0].header("accept-encoding").unwrap().contains("gzip"));
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 3);
}

#[tokio::test]
async fn failed_execution_is_a_typed_error_carrying_the_execution_id() {
    let server = ScriptedServer::start(org_flow(|n| {
        if n < 1 {
            running()
        } else {
            Reply::json(200, json!({"queryStatus": "Failed"}))
        }
    }))
    .await;
    let err = client(&server, &ManualClock::new())
        .organization_usage(&org_query())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::QueryFailed { execution_id } if execution_id.as_str() == EXECUTION),
        "{err:?}"
    );
    assert!(err.to_string().contains(EXECUTION));
}

#[tokio::test]
async fn unknown_status_counts_as_not_finished_and_is_preserved() {
    let server = ScriptedServer::start(org_flow(|n| match n {
        0 => Reply::json(
            200,
            json!({"queryStatus": "Queued", "brandNewField": {"x": 1}}),
        ),
        _ => complete(),
    }))
    .await;
    let client = client(&server, &ManualClock::new());
    let execution = client
        .submit_organization_query(&org_query())
        .await
        .unwrap();
    let first = client.fetch_results(&execution).await.unwrap();
    assert_eq!(
        first.query_status,
        Some(QueryStatus::Unknown("Queued".into()))
    );
    let report = client.wait_for(&execution).await.unwrap();
    assert_eq!(report.rows.len(), 1);
}

#[tokio::test]
async fn deadline_returns_the_execution_id_and_resume_picks_it_up() {
    let server =
        ScriptedServer::start(org_flow(|n| if n < 6 { running() } else { complete() })).await;
    let clock = ManualClock::new();
    let client = UsageClient::new(
        config(&server, &clock)
            .poll(
                PollPolicy::default()
                    .with_jitter(false)
                    .with_deadline(Duration::from_secs(10)),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = client.organization_usage(&org_query()).await.unwrap_err();
    let Error::DeadlineExceeded {
        execution_id,
        waited,
        last_status,
    } = &err
    else {
        panic!("expected a deadline error, got {err:?}");
    };
    assert_eq!(execution_id.as_str(), EXECUTION);
    assert_eq!(*waited, Duration::from_secs(10));
    assert_eq!(last_status, &Some(QueryStatus::Running));
    // 1 + 2 + 4 s, then the last wait cut to the deadline: polls at 1, 3, 7 and 10 s.
    assert_eq!(clock.sleeps(), [1, 2, 4, 3].map(Duration::from_secs));

    let report = client
        .resume_organization_query(execution_id.clone())
        .await
        .unwrap();
    assert_eq!(report.rows.len(), 1);
    assert_eq!(
        server.requests_to("POST", ORG_QUERY).len(),
        1,
        "resume must not resubmit"
    );
}

#[tokio::test]
async fn dropping_a_waiter_stops_polling() {
    let server = ScriptedServer::start(org_flow(|_| running())).await;
    // Real time, short waits: the waiter polls every 20 ms until it is dropped.
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token(TOKEN)
            .poll(
                PollPolicy::default()
                    .with_jitter(false)
                    .with_delays(Duration::from_millis(20), Duration::from_millis(20)),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    let waited = tokio::time::timeout(
        Duration::from_millis(200),
        client.organization_usage(&org_query()),
    )
    .await;
    assert!(waited.is_err(), "still Running: the waiter was cut off");
    let polls_at_drop = server.requests_to("GET", ORG_RESULTS).len();
    assert!(polls_at_drop >= 2, "it was polling: {polls_at_drop}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), polls_at_drop);
}

#[tokio::test]
async fn retry_after_is_waited_before_the_request_is_sent_again() {
    let server = ScriptedServer::start(org_flow(|n| match n {
        0 => Reply::error(
            429,
            "too.many.requests.retry.after",
            "Retry the request in [1] seconds",
        )
        .header("Retry-After", "1"),
        _ => complete(),
    }))
    .await;
    // Real time here: the point is when the second request reaches the server.
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token(TOKEN)
            .build()
            .unwrap(),
    )
    .unwrap();
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION).unwrap());
    let result = client.fetch_results(&execution).await.unwrap();
    assert_eq!(result.query_status, Some(QueryStatus::Complete));
    let gets = server.requests_to("GET", ORG_RESULTS);
    assert_eq!(gets.len(), 2);
    let gap = gets[1].at - gets[0].at;
    assert!(
        gap >= Duration::from_millis(990),
        "re-sent after {gap:?}, before Retry-After: 1"
    );
}

#[tokio::test]
async fn post_is_retried_after_429_and_503_with_the_server_given_waits() {
    let server = ScriptedServer::start(move |request, n| match (request.path(), n) {
        ("/oauth/token", _) => Reply::token(TOKEN, 86_399),
        (ORG_QUERY, 0) => Reply::error(429, "too.many.requests.retry.after", "slow down")
            .header("Retry-After", "3"),
        (ORG_QUERY, 1) => Reply::error(503, "service.unavailable", "down"),
        (ORG_QUERY, _) => submitted(ORG_RESULTS),
        _ => Reply::error(404, "not.found", "no"),
    })
    .await;
    let clock = ManualClock::new();
    let execution = client(&server, &clock)
        .submit_organization_query(&org_query())
        .await
        .unwrap();
    assert_eq!(execution.id.as_str(), EXECUTION);
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 3);
    // Retry-After: 3, then the first exponential backoff step (attempt 2 → 1 s).
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(3), Duration::from_secs(1)]
    );
}

#[tokio::test]
async fn gateway_errors_retry_gets_but_500_and_posts_are_not_retried() {
    let server = ScriptedServer::start(move |request, n| match (request.path(), n) {
        ("/oauth/token", _) => Reply::token(TOKEN, 86_399),
        (ORG_RESULTS, 0) => Reply::error(502, "bad.gateway", "proxy"),
        (ORG_RESULTS, 1) => Reply::error(504, "request.timeout", "slow"),
        (ORG_RESULTS, _) => complete(),
        (ORG_QUERY, _) => Reply::error(502, "bad.gateway", "proxy"),
        _ => Reply::error(500, "internal.server.error", "boom"),
    })
    .await;
    let clock = ManualClock::new();
    let client = client(&server, &clock);
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION).unwrap());
    client.fetch_results(&execution).await.unwrap();
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 3);

    let err = client
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(
        server.requests_to("POST", ORG_QUERY).len(),
        1,
        "a POST is not re-sent after a 502"
    );

    let summary = client
        .submit_oauth_client_usage_summary(&OAuthClientId::new("c1").unwrap(), Days::default())
        .await
        .unwrap_err();
    assert_eq!(summary.status(), Some(500));
    assert_eq!(
        server
            .requests_to("GET", "/api/v2/oauth/clients/c1/usage/summary")
            .len(),
        1
    );
}

#[tokio::test]
async fn retry_after_longer_than_the_cap_gives_up_at_once_with_a_clear_error() {
    let server = ScriptedServer::start(|request, _| match request.path() {
        "/oauth/token" => Reply::token(TOKEN, 86_399),
        _ => Reply::error(429, "too.many.requests.retry.after", "daily limit")
            .header("Retry-After", "3600"),
    })
    .await;
    let clock = ManualClock::new();
    let err = client(&server, &clock)
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 429);
    assert_eq!(api.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(api.retry_after_cap, Some(Duration::from_secs(180)));
    assert_eq!(api.code(), Some("too.many.requests.retry.after"));
    assert_eq!(api.correlation_id.as_deref(), Some("corr-1"));
    assert!(
        err.to_string().contains("longer than the 180 s cap"),
        "{err}"
    );
    assert!(clock.sleeps().is_empty());
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 1);
}

#[tokio::test]
async fn retries_stop_at_the_attempt_budget_and_report_the_count() {
    let server = ScriptedServer::start(|request, _| match request.path() {
        "/oauth/token" => Reply::token(TOKEN, 86_399),
        _ => Reply::error(503, "service.unavailable", "down"),
    })
    .await;
    let clock = ManualClock::new();
    let client = UsageClient::new(
        config(&server, &clock)
            .retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_max_attempts(3),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = client
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((api.status, api.attempts), (503, 3));
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 3);
    assert_eq!(
        clock.sleeps(),
        [Duration::from_millis(500), Duration::from_secs(1)]
    );

    let disabled = UsageClient::new(
        config(&server, &clock)
            .retry(RetryPolicy::disabled())
            .build()
            .unwrap(),
    )
    .unwrap();
    disabled
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    assert_eq!(
        server.requests_to("POST", ORG_QUERY).len(),
        4,
        "disabled retries send once"
    );
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_retries_once() {
    let server = ScriptedServer::start(|request, n| match request.path() {
        "/oauth/token" => Reply::token(&format!("token-{}", n + 1), 86_399),
        _ if request.header("authorization") == Some("Bearer token-1") => {
            Reply::error(401, "bad.credentials", "Invalid login credentials.")
        }
        _ => submitted(ORG_RESULTS),
    })
    .await;
    let client = client(&server, &ManualClock::new());
    client
        .submit_organization_query(&org_query())
        .await
        .unwrap();
    assert_eq!(client.token_requests(), 2);
    let posts = server.requests_to("POST", ORG_QUERY);
    let sent: Vec<_> = posts
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    assert_eq!(sent, ["Bearer token-1", "Bearer token-2"]);

    let token_request = &server.requests_to("POST", "/oauth/token")[0];
    assert_eq!(
        std::str::from_utf8(&token_request.body).unwrap(),
        "grant_type=client_credentials"
    );
    assert_eq!(
        token_request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // Basic base64("reporting-bot:client-secret-3f9a")
    assert_eq!(
        token_request.header("authorization"),
        Some("Basic cmVwb3J0aW5nLWJvdDpjbGllbnQtc2VjcmV0LTNmOWE=")
    );
}

#[tokio::test]
async fn a_second_401_is_returned_not_retried_forever() {
    let server = ScriptedServer::start(|request, n| match request.path() {
        "/oauth/token" => Reply::token(&format!("token-{n}"), 86_399),
        _ => Reply::error(
            401,
            "authentication.required",
            "No authentication bearer token specified",
        ),
    })
    .await;
    let client = client(&server, &ManualClock::new());
    let err = client
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 2);
    assert_eq!(client.token_requests(), 2);
}

#[tokio::test]
async fn fifty_concurrent_calls_on_a_cold_client_make_one_token_request() {
    let server = ScriptedServer::start(|request, _| match request.path() {
        // A slow token endpoint, so the 50 calls really overlap.
        "/oauth/token" => Reply::token(TOKEN, 86_399).after(Duration::from_millis(200)),
        _ => complete(),
    })
    .await;
    let client = client(&server, &ManualClock::new());
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION).unwrap());
    let calls = (0..50).map(|_| {
        let (client, execution) = (client.clone(), execution.clone());
        tokio::spawn(async move { client.fetch_results(&execution).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(server.requests_to("POST", "/oauth/token").len(), 1);
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 50);
}

#[tokio::test]
async fn token_is_renewed_before_it_expires() {
    let server = ScriptedServer::start(|request, n| match request.path() {
        "/oauth/token" => Reply::token(&format!("token-{n}"), 600),
        _ => complete(),
    })
    .await;
    let clock = ManualClock::new();
    let client = client(&server, &clock);
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION).unwrap());
    client.fetch_results(&execution).await.unwrap();
    clock.advance(Duration::from_secs(530));
    client.fetch_results(&execution).await.unwrap();
    assert_eq!(client.token_requests(), 1, "still well within the lifetime");
    // 600 s lifetime, renewed 60 s early.
    clock.advance(Duration::from_secs(15));
    client.fetch_results(&execution).await.unwrap();
    assert_eq!(client.token_requests(), 2);
    let auth: Vec<_> = server
        .requests_to("GET", ORG_RESULTS)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(auth, ["Bearer token-0", "Bearer token-0", "Bearer token-1"]);
}

#[tokio::test]
async fn token_endpoint_errors_surface_error_and_description() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(
            400,
            json!({"error": "unauthorized_client", "description": "client is not authorized", "error_description": "client is not authorized"}),
        )
    })
    .await;
    let err = client(&server, &ManualClock::new())
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    let Error::Auth(usage_sdk::AuthError::Rejected {
        status,
        error,
        description,
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 400);
    assert_eq!(error.as_deref(), Some("unauthorized_client"));
    assert_eq!(description.as_deref(), Some("client is not authorized"));
    assert!(!err.to_string().contains(SECRET));
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 0);
}

#[tokio::test]
async fn client_query_and_summary_use_their_paths_and_the_client_results_endpoint() {
    let client_results = "/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/query/results/9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1";
    let server = ScriptedServer::start(move |request, n| match request.path() {
        "/oauth/token" => Reply::token(TOKEN, 86_399),
        "/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/query"
        | "/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/summary" => {
            submitted("/api/v2/oauth/clients/x/usage/query/results/y")
        }
        p if p == client_results => {
            if n % 2 == 0 {
                running()
            } else {
                complete()
            }
        }
        other => Reply::error(404, "not.found", other),
    })
    .await;
    let client = client(&server, &ManualClock::new());
    let odd_id = OAuthClientId::new("a/b?x=1#y").unwrap();
    let query = OAuthClientQuery::builder(interval())
        .group_by([GroupBy::TemplateUri, GroupBy::HttpMethod])
        .build()
        .unwrap();
    let report = client.oauth_client_usage(&odd_id, &query).await.unwrap();
    assert_eq!(report.polls, 2);
    let summary = client
        .oauth_client_usage_summary(&odd_id, Days::new(30).unwrap())
        .await
        .unwrap();
    assert_eq!(summary.rows.len(), 1);
    let summary_request =
        &server.requests_to("GET", "/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/summary")[0];
    assert_eq!(
        summary_request.target,
        "/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/summary?days=30"
    );
}

#[tokio::test]
async fn an_html_error_page_keeps_its_status_and_a_200_with_html_is_a_decode_error() {
    let server = ScriptedServer::start(|request, _| match request.path() {
        "/oauth/token" => Reply::token(TOKEN, 86_399),
        ORG_QUERY => Reply {
            status: 500,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: "<html>oops</html>".into(),
            delay: Duration::ZERO,
        },
        _ => Reply {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "text/html".into()),
                ("ININ-Correlation-Id".into(), "corr-9".into()),
            ],
            body: "<html>maintenance</html>".into(),
            delay: Duration::ZERO,
        },
    })
    .await;
    let client = client(&server, &ManualClock::new());
    let err = client
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 500 && api.body.is_none()),
        "{err:?}"
    );
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION).unwrap());
    let err = client.fetch_results(&execution).await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(decode.status, 200);
    assert_eq!(decode.snippet, "<html>maintenance</html>");
    assert_eq!(decode.correlation_id.as_deref(), Some("corr-9"));
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_the_attempt_budget() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = ManualClock::new();
    let client = UsageClient::new(
        Config::builder()
            .base_url(format!("http://127.0.0.1:{port}"))
            .access_token(TOKEN)
            .retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_max_attempts(3),
            )
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let err = client
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(clock.sleeps().len(), 2, "a refused POST is safe to retry");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_post_is_not_re_sent_after_a_read_timeout_but_a_get_is() {
    let server = ScriptedServer::start(|request, n| match (request.path(), n) {
        (ORG_RESULTS, 0) | (ORG_QUERY, _) => {
            submitted(ORG_RESULTS).after(Duration::from_millis(600))
        }
        (ORG_RESULTS, _) => complete(),
        _ => Reply::error(404, "not.found", "no"),
    })
    .await;
    let clock = ManualClock::new();
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token(TOKEN)
            .request_timeout(Duration::from_millis(200))
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = client
        .submit_organization_query(&org_query())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport { source, .. } if source.is_timeout()),
        "{err:?}"
    );
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 1);

    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION).unwrap());
    client.fetch_results(&execution).await.unwrap();
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 2);
}

#[tokio::test]
async fn secrets_are_absent_from_debug_output_errors_and_trace_logs() {
    let server = ScriptedServer::start(org_flow(|n| match n {
        0 => Reply::error(401, "bad.credentials", "expired"),
        1 => running(),
        _ => complete(),
    }))
    .await;
    // Shared with the other tests that read logs (one global subscriber per process). Other
    // tests' SDK logs land here too, and must be clean as well.
    let logs = crate::logs::global();

    let clock = ManualClock::new();
    let client = client(&server, &clock);
    let report = client.organization_usage(&org_query()).await.unwrap();
    let static_client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token(TOKEN)
            .build()
            .unwrap(),
    )
    .unwrap();

    let text = logs.text();
    assert!(
        text.contains("usage_sdk.call") && text.contains("usage_sdk.attempt"),
        "{text}"
    );
    assert!(text.contains("post_usage_query"));
    for (what, shown) in [
        ("trace log", text),
        ("client Debug", format!("{client:?} {static_client:?}")),
        ("config Debug", format!("{:?}", client.config())),
        ("report Debug", format!("{report:?}")),
    ] {
        assert!(!shown.contains(SECRET), "{what} shows the client secret");
        assert!(!shown.contains(TOKEN), "{what} shows the access token");
        assert!(
            !shown.contains("cmVwb3J0aW5nLWJvdDpjbGllbnQtc2VjcmV0LTNmOWE"),
            "{what} shows Basic credentials"
        );
    }
}
