//! Deadlines of the waiters: the whole wait, whatever the transport is doing, and safe for
//! any duration a caller can pass.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use usage_sdk::time::ManualClock;
use usage_sdk::{
    Config, Error, Interval, OrganizationJobQuery, OrganizationQuery, PollPolicy, UsageClient,
};

use crate::scripted::{Reply, ScriptedServer};

const EXECUTION: &str = "0d5c2f9e-wait-4c1b-9a7e-5f6a7b8c9d0e";
const JOB: &str = "0d5c2f9e-job-4c1b-9a7e-5f6a7b8c9d0e";

fn interval() -> Interval {
    let end = chrono::Utc::now().date_naive();
    let start = end - chrono::Days::new(7);
    format!("{start}/{end}").parse().unwrap()
}

/// A server whose submits answer at once and whose results answer after `stall`.
async fn stalling_server(stall: Duration) -> ScriptedServer {
    ScriptedServer::start(move |request, _| match request.path() {
        "/api/v2/usage/query" => Reply::json(202, json!({"executionId": EXECUTION})),
        "/api/v2/usage/aggregates/query/jobs" => Reply::json(202, json!({"id": JOB})),
        _ => Reply::json(200, json!({"queryStatus": "Running"})).after(stall),
    })
    .await
}

fn real_time_client(server: &ScriptedServer, deadline: Duration) -> UsageClient {
    UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token("token-wait")
            .poll(
                PollPolicy::default()
                    .with_delays(Duration::from_millis(100), Duration::from_millis(100))
                    .with_deadline(deadline),
            )
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_stalled_results_response_cannot_hold_a_waiter_past_its_deadline() {
    // The results GET stalls for a minute: within its request timeout and retry budget, so
    // only the waiter's deadline can end the wait.
    let server = stalling_server(Duration::from_secs(60)).await;
    let client = real_time_client(&server, Duration::from_secs(3));
    let query = OrganizationQuery::builder(interval()).build().unwrap();
    let started = Instant::now();
    let err = client.organization_usage(&query).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&err, Error::DeadlineExceeded { execution_id, .. } if execution_id.as_str() == EXECUTION),
        "{err:?}"
    );
    // 3 s, plus at most the final poll's grace (0.3 s) and scheduling.
    assert!(took < Duration::from_millis(4_000), "took {took:?}");
    assert!(took >= Duration::from_secs(3), "took {took:?}");
}

#[tokio::test]
async fn a_stalled_job_poll_ends_in_a_job_deadline_error_carrying_the_job_id() {
    let server = stalling_server(Duration::from_secs(60)).await;
    let client = real_time_client(&server, Duration::from_secs(1));
    let query = OrganizationJobQuery::builder(interval()).build().unwrap();
    let started = Instant::now();
    let err = client.organization_aggregates(&query).await.unwrap_err();
    assert!(
        matches!(&err, Error::JobDeadlineExceeded { job_id, .. } if job_id.as_str() == JOB),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2_000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn any_deadline_is_safe_and_an_unrepresentable_one_means_no_deadline() {
    for deadline in [Duration::MAX, Duration::from_secs(u64::MAX), Duration::ZERO] {
        let server = ScriptedServer::start(|request, n| match request.path() {
            "/api/v2/usage/query" => Reply::json(202, json!({"executionId": EXECUTION})),
            _ if n < 2 => Reply::json(200, json!({"queryStatus": "Running"})),
            _ => Reply::json(200, json!({"queryStatus": "Complete", "results": []})),
        })
        .await;
        let clock = ManualClock::new();
        let client = UsageClient::new(
            Config::builder()
                .base_url(&server.base_url)
                .access_token("token-wait")
                .clock(Arc::new(clock.clone()))
                .poll(
                    PollPolicy::default()
                        .with_jitter(false)
                        .with_delays(Duration::MAX, Duration::MAX)
                        .with_multiplier(f64::MAX)
                        .with_deadline(deadline),
                )
                .build()
                .unwrap(),
        )
        .unwrap();
        let query = OrganizationQuery::builder(interval()).build().unwrap();
        let result = client.organization_usage(&query).await;
        if deadline == Duration::ZERO {
            assert!(
                matches!(result, Err(Error::DeadlineExceeded { .. })),
                "{result:?}"
            );
        } else {
            assert_eq!(result.unwrap().polls, 3, "{deadline:?}");
        }
    }
}
