//! Access tokens: fetched with client credentials once for many concurrent calls, renewed a
//! tenth of their lifetime early, renewed once after a 401, and a token endpoint that refuses,
//! fails or answers nonsense ends in a typed `Error::Auth` before any API request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use usage_sdk::time::ManualClock;
use usage_sdk::{
    AuthError, Config, Error, ExecutionId, OAuthClientQuery, OrganizationQuery, QueryStatus,
    RetryPolicy,
};
use usage_sdk_stand_in::Route;

use crate::scripted::{Act, RawServer, head};
use crate::scripted::{Reply, ScriptedServer};
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// Renewal.
// ---------------------------------------------------------------------------------------------

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
    let client = scripted_client(&server, &ManualClock::new());
    client.submit(&org_query()).await.unwrap();
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
    let client = scripted_client(&server, &ManualClock::new());
    let err = client.submit(&org_query()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 2);
    // Both sends count, the resend after the renewal included.
    assert_eq!(api_error(&err).attempts, 2);
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
    let client = scripted_client(&server, &ManualClock::new());
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION_ID).unwrap());
    let calls = (0..50).map(|_| {
        let (client, execution) = (client.clone(), execution.clone());
        tokio::spawn(async move { client.fetch_page(&execution, None).await })
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
    let client = scripted_client(&server, &clock);
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION_ID).unwrap());
    client.fetch_page(&execution, None).await.unwrap();
    clock.advance(Duration::from_secs(530));
    client.fetch_page(&execution, None).await.unwrap();
    assert_eq!(client.token_requests(), 1, "still well within the lifetime");
    // 600 s lifetime, renewed 60 s early.
    clock.advance(Duration::from_secs(15));
    client.fetch_page(&execution, None).await.unwrap();
    assert_eq!(client.token_requests(), 2);
    let auth: Vec<_> = server
        .requests_to("GET", ORG_RESULTS)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(auth, ["Bearer token-0", "Bearer token-0", "Bearer token-1"]);
}

#[tokio::test]
async fn expire_tokens_mid_wait_costs_one_401_and_one_renewal() {
    let si = start(stand_in()).await;
    let client = si_client(&si, &ManualClock::new());
    let execution = client
        .oauth_client(&demo())
        .submit(&OAuthClientQuery::builder(week()).build().unwrap())
        .await
        .unwrap();
    si.expire_tokens();

    let report = client.wait(&execution).report().await.unwrap();

    assert_eq!(report.rows.len(), 1);
    let stats = si.stats();
    assert_eq!(stats.responses_with(401), 1);
    assert_eq!(stats.requests_to(Route::GetClientUsageQueryResults), 2);
    assert_eq!(stats.tokens_issued, 2);
}

#[tokio::test]
async fn an_expired_static_access_token_surfaces_as_a_401_with_its_code() {
    let si = start(stand_in()).await;
    let token = fetch_token(&si).await;
    let clock = ManualClock::new();
    let client = build(
        Config::builder()
            .base_url(si.base_url())
            .access_token(token.clone())
            .retry(RetryPolicy::default().with_jitter(false))
            .clock(Arc::new(clock.clone())),
    );
    let execution = client
        .submit(&OrganizationQuery::builder(week()).build().unwrap())
        .await
        .unwrap();
    si.expire_tokens();

    let err = client.fetch_page(&execution, None).await.unwrap_err();

    assert_api_error(
        &err,
        "get_usage_query_execution_id_results",
        401,
        "bad.credentials",
    );
    assert_eq!(api_error(&err).attempts, 1);
    let stats = si.stats();
    assert_eq!(
        stats.requests_to(Route::GetUsageQueryResults),
        1,
        "no retry"
    );
    assert_eq!(stats.tokens_issued, 1, "only the test's own token request");
    assert_eq!(client.token_requests(), 0);
    assert!(clock.sleeps().is_empty());
    // The twin stand-in reproduces the token: the secret check below covers it.
    assert!(secrets_of(&si).await.contains(&token));
    assert_secret_free(&si, &[&err]).await;
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
    let client = build(config(&server.base_url, &clock).client_credentials("bot", SECRET));
    for _ in 0..3 {
        let (result, _) = bounded(client.fetch_page(&org_execution(), None)).await;
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
// The token endpoint failing.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_endpoint_errors_surface_error_and_description() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(
            400,
            json!({"error": "unauthorized_client", "description": "client is not authorized", "error_description": "client is not authorized"}),
        )
    })
    .await;
    let err = scripted_client(&server, &ManualClock::new())
        .submit(&org_query())
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
    assert_eq!(
        server.requests_to("POST", "/oauth/token").len(),
        1,
        "a 400 is not retried"
    );
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 0);
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
        let client = build(
            config(&server.base_url, &clock)
                .client_credentials("bot", SECRET)
                .token_url(format!("{}/{path}/oauth/token", server.base_url)),
        );
        let before = server.requests().len();
        let (result, took) = bounded(client.fetch_page(&org_execution(), None)).await;
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
        let client = build(config(&server.base_url, &clock).client_credentials("bot", SECRET));
        let (result, _) = bounded(client.fetch_page(&org_execution(), None)).await;
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

/// A client with client credentials (no jitter), for calls through `UsageClient::raw()`.
fn raw_caller(server: &ScriptedServer, clock: &ManualClock) -> usage_sdk::UsageClient {
    usage_sdk::UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .client_credentials("raw-caller", "raw-secret-55e1")
            .retry(RetryPolicy::default().with_jitter(false))
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn raw_query_body() -> usage_sdk::raw::types::ApiUsageOrganizationQuery {
    usage_sdk::raw::types::ApiUsageOrganizationQuery {
        interval: "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".into(),
        granularity: None,
        group_by: vec![],
        metrics: vec![],
    }
}

/// The `Authorization` header of each `POST /api/v2/usage/query`, in order.
fn query_authorizations(server: &ScriptedServer) -> Vec<String> {
    server
        .requests_to("POST", "/api/v2/usage/query")
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect()
}

/// `UsageClient::raw()` is on the same path as every typed call.
#[tokio::test]
async fn the_raw_client_sends_the_token_retries_and_renews_it_once_after_a_401() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let issued = tokens.clone();
    let server = ScriptedServer::start(move |request, n| match request.path() {
        "/oauth/token" => {
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::token(&format!("token-{n}"), 86_399)
        }
        "/api/v2/usage/query" => match (request.header("authorization"), n) {
            (Some("Bearer token-1"), _) => Reply::error(401, "bad.credentials", "revoked"),
            (Some("Bearer token-2"), 1) => Reply::error(503, "service.unavailable", "busy"),
            (Some("Bearer token-2"), _) => Reply::json(202, json!({"executionId": "e-1"})),
            _ => Reply::error(500, "unexpected", "no token"),
        },
        other => Reply::error(404, "not.found", other),
    })
    .await;
    let client = raw_caller(&server, &ManualClock::new());
    let body = raw_query_body();
    let submitted = client.raw().post_usage_query(&body).await.unwrap();
    assert_eq!(submitted.status().as_u16(), 202);
    assert_eq!(submitted.into_inner().execution_id.as_deref(), Some("e-1"));

    let sent = query_authorizations(&server);
    assert_eq!(sent, ["Bearer token-1", "Bearer token-2", "Bearer token-2"]);
    assert_eq!(tokens.load(Ordering::SeqCst), 2, "one renewal");
    assert!(
        server
            .requests_to("POST", "/api/v2/usage/query")
            .iter()
            .all(|r| r.header("api-version").is_none())
    );
}

/// A kept raw client renews its token ahead of expiry like the typed calls do, rather than
/// holding its first token until the server rejects it.
#[tokio::test]
async fn a_kept_raw_client_renews_its_token_before_it_expires() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let issued = tokens.clone();
    let server = ScriptedServer::start(move |request, _| match request.path() {
        "/oauth/token" => {
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            // Renewed 60 s early: from 540 s on.
            Reply::token(&format!("token-{n}"), 600)
        }
        "/api/v2/usage/query" => Reply::json(202, json!({"executionId": "e-1"})),
        other => Reply::error(404, "not.found", other),
    })
    .await;
    let clock = ManualClock::new();
    let client = raw_caller(&server, &clock);
    let raw = client.raw();
    let body = raw_query_body();
    raw.post_usage_query(&body).await.unwrap();
    clock.advance(Duration::from_secs(30));
    raw.post_usage_query(&body).await.unwrap();
    clock.advance(Duration::from_secs(550));
    raw.post_usage_query(&body).await.unwrap();
    let sent = query_authorizations(&server);
    assert_eq!(sent, ["Bearer token-1", "Bearer token-1", "Bearer token-2"]);
    assert_eq!(
        tokens.load(Ordering::SeqCst),
        2,
        "renewed once, with no 401"
    );
}
