//! Every wait follows the client's injected clock, HTTP dates included, so tests can assert
//! waits exactly without waiting.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use usage_sdk::time::{Clock, ManualClock};
use usage_sdk::{Config, OrganizationQuery, RetryPolicy, UsageClient};

use crate::scripted::{Reply, ScriptedServer};

#[tokio::test]
async fn a_retry_after_http_date_is_counted_from_the_injected_clock() {
    let clock = ManualClock::new();
    let server_clock = clock.clone();
    let server = ScriptedServer::start(move |_, n| {
        if n == 0 {
            // Seven seconds after the client's own "now", as an HTTP-date.
            let at = chrono::DateTime::<chrono::Utc>::from(server_clock.wall_now())
                + chrono::Duration::seconds(7);
            let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            Reply::error(503, "service.unavailable", "busy").header("Retry-After", &date)
        } else {
            Reply::json(202, json!({"executionId": "e-date"}))
        }
    })
    .await;
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token("token-date")
            .retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_rate_limit_pacing(false),
            )
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let interval = "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap();
    let execution = client
        .submit_organization_query(&OrganizationQuery::builder(interval).build().unwrap())
        .await
        .unwrap();
    assert_eq!(execution.id.as_str(), "e-date");
    assert_eq!(clock.sleeps(), [Duration::from_secs(7)]);
}
