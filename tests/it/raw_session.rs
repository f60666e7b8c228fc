//! `UsageClient::raw()`: the generated client on the same path as every typed call (one
//! session: the token, retries, the 401 renewal), for operations this layer does not wrap.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use usage_sdk::raw::types::ApiUsageOrganizationQuery;
use usage_sdk::time::ManualClock;
use usage_sdk::{Config, RetryPolicy, UsageClient};

use crate::scripted::{Reply, ScriptedServer};

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
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .client_credentials("raw-caller", "raw-secret-55e1")
            .retry(RetryPolicy::default().with_jitter(false))
            .clock(Arc::new(ManualClock::new()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let body = ApiUsageOrganizationQuery {
        interval: "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".into(),
        granularity: None,
        group_by: vec![],
        metrics: vec![],
    };
    let submitted = client.raw().post_usage_query(&body).await.unwrap();
    assert_eq!(submitted.status().as_u16(), 202);
    assert_eq!(submitted.into_inner().execution_id.as_deref(), Some("e-1"));

    let sent: Vec<String> = server
        .requests_to("POST", "/api/v2/usage/query")
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect();
    assert_eq!(sent, ["Bearer token-1", "Bearer token-2", "Bearer token-2"]);
    assert_eq!(tokens.load(Ordering::SeqCst), 2, "one renewal");
    assert!(
        server
            .requests_to("POST", "/api/v2/usage/query")
            .iter()
            .all(|r| r.header("api-version").is_none())
    );
}
