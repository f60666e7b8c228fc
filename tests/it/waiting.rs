//! The waiters: the poll schedule, `Running`/`Queued` (or any status not in the spec) as not
//! finished, `Failed` as a typed error, deadlines over the whole wait whatever the transport
//! is doing and safe for any duration a caller can pass, resuming by execution id without
//! resubmitting, and no polling once a waiter is dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use usage_sdk::time::ManualClock;
use usage_sdk::{
    Config, Days, Error, Execution, OAuthClientQuery, OrganizationJobQuery, OrganizationQuery,
    PollPolicy, QueryStatus, UsageClient,
};
use usage_sdk_stand_in::{DEMO_CLIENT_ID, Route, RunningStandIn};

use crate::scripted::{Reply, ScriptedServer};
use crate::support::*;

const EXECUTION: &str = "0d5c2f9e-wait-4c1b-9a7e-5f6a7b8c9d0e";
const JOB: &str = "0d5c2f9e-job-4c1b-9a7e-5f6a7b8c9d0e";

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
    let query = OrganizationQuery::builder(recent_week()).build().unwrap();
    let started = Instant::now();
    let err = client.rows(&query).report().await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&err, Error::DeadlineExceeded { execution_id, .. } if execution_id.as_str() == EXECUTION),
        "{err:?}"
    );
    // 3 s plus the final poll's grace (0.3 s) and scheduling; the bound is generous for a
    // loaded machine and still far below the 60 s stall that must not hold the waiter.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(took >= Duration::from_secs(3), "took {took:?}");
}

#[tokio::test]
async fn a_stalled_job_poll_ends_in_a_job_deadline_error_carrying_the_job_id() {
    let server = stalling_server(Duration::from_secs(60)).await;
    let client = real_time_client(&server, Duration::from_secs(1));
    let query = OrganizationJobQuery::builder(recent_week())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.rows(&query).await.unwrap_err();
    assert!(
        matches!(&err, Error::JobDeadlineExceeded { job_id, .. } if job_id.as_str() == JOB),
        "{err:?}"
    );
    // Generous for a loaded machine, far below the 60 s stall.
    assert!(
        started.elapsed() < Duration::from_secs(20),
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
        let query = OrganizationQuery::builder(recent_week()).build().unwrap();
        let result = client.rows(&query).report().await;
        if deadline == Duration::ZERO {
            assert!(
                matches!(result, Err(Error::DeadlineExceeded { .. })),
                "{result:?}"
            );
        } else {
            result.unwrap();
            let polls =
                server.requests_to("GET", &format!("/api/v2/usage/query/{EXECUTION}/results"));
            assert_eq!(polls.len(), 3, "{deadline:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The schedule, terminal statuses and resuming.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn waiter_polls_running_running_complete_on_the_default_schedule() {
    let server =
        ScriptedServer::start(org_flow(|n| if n < 2 { running() } else { complete() })).await;
    let clock = ManualClock::new();
    let report = scripted_client(&server, &clock)
        .rows(&org_query())
        .report()
        .await
        .unwrap();

    assert_eq!(
        server.requests_to("GET", ORG_RESULTS).len(),
        3,
        "three polls"
    );
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
    // Dropped once it has polled twice, however long that takes on a loaded machine.
    let polled_twice = async {
        while server.requests_to("GET", ORG_RESULTS).len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let query = org_query();
    let waited = tokio::time::timeout(BOUND, async {
        tokio::select! {
            done = client.rows(&query).report() => Some(done),
            () = polled_twice => None,
        }
    })
    .await
    .expect("two polls within the bound");
    assert!(waited.is_none(), "still Running: the waiter was cut off");
    let polls_at_drop = server.requests_to("GET", ORG_RESULTS).len();
    assert!(polls_at_drop >= 2, "it was polling: {polls_at_drop}");
    // A poll already on the wire when the waiter was dropped may still reach the server and
    // be counted after this point; none may be sent later (at a 20 ms interval, 200 ms would
    // be ten more).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let settled = server.requests_to("GET", ORG_RESULTS).len();
    assert!(
        settled <= polls_at_drop + 1,
        "{polls_at_drop} at drop, {settled} after"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), settled);
}

/// Polls at 1, 3, 7 and 10 s on the client's clock, then gives up.
fn ten_second_deadline(si: &RunningStandIn, clock: &ManualClock) -> UsageClient {
    build(
        si_config(si, Arc::new(clock.clone())).poll(
            PollPolicy::default()
                .with_jitter(false)
                .with_deadline(Duration::from_secs(10)),
        ),
    )
}

/// Sleeps in real time until `since + at_least` has passed.
async fn real_time_passes(since: Instant, at_least: Duration) {
    let until = since + at_least;
    tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
}

#[tokio::test]
async fn queued_is_not_finished_and_resume_after_the_deadline_gets_the_rows() {
    // Queued for 2 s of real time; the four polls on the manual clock take a few ms, and
    // well under 2 s on a loaded machine.
    let queued = Duration::from_secs(2);
    let si = start(stand_in().queued_for(queued)).await;
    let clock = ManualClock::new();
    let client = ten_second_deadline(&si, &clock);
    let query = OrganizationQuery::builder(week()).build().unwrap();
    let submitted_before = Instant::now();

    let err = client.rows(&query).report().await.unwrap_err();

    let Error::DeadlineExceeded {
        execution_id,
        waited,
        last_status,
    } = &err
    else {
        panic!("expected a deadline error, got {err:?}");
    };
    assert_eq!(*waited, Duration::from_secs(10));
    assert_eq!(last_status, &Some(QueryStatus::Unknown("Queued".into())));
    assert_eq!(clock.sleeps(), secs(&[1, 2, 4, 3]));
    assert_eq!(si.stats().requests_to(Route::GetUsageQueryResults), 4);
    let text = err.to_string();
    assert!(text.contains(execution_id.as_str()), "{text}");
    assert!(text.contains("last status Queued"), "{text}");

    // Counted from before the submit (and its token request) reached the stand-in: a second
    // of slack, so the execution has surely finished when the resumed waiter's one poll goes.
    real_time_passes(submitted_before, queued + Duration::from_secs(1)).await;
    let report = client
        .wait(&Execution::organization(execution_id.clone()))
        .report()
        .await
        .unwrap();
    assert!(!report.rows.is_empty());
    let stats = si.stats();
    assert_eq!(
        stats.requests_to(Route::PostUsageQuery),
        1,
        "not resubmitted"
    );
    assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 5);
    assert_eq!(stats.executions_started, 1);
    assert_secret_free(&si, &[&err]).await;
}

#[tokio::test]
async fn resume_client_query_after_the_deadline_polls_the_client_results_endpoint() {
    // Running for 2 s of real time: the four polls on the manual clock end well before.
    let running = Duration::from_secs(2);
    let si = start(stand_in().execution_time(running)).await;
    let clock = ManualClock::new();
    let client = ten_second_deadline(&si, &clock);
    let query = OAuthClientQuery::builder(week()).build().unwrap();
    let submitted_before = Instant::now();

    let err = client
        .oauth_client(&demo())
        .rows(&query)
        .report()
        .await
        .unwrap_err();

    let Error::DeadlineExceeded {
        execution_id,
        last_status,
        ..
    } = &err
    else {
        panic!("expected a deadline error, got {err:?}");
    };
    assert_eq!(last_status, &Some(QueryStatus::Running));
    assert_eq!(err.execution_id(), Some(execution_id));
    assert_eq!(si.stats().requests_to(Route::GetClientUsageQueryResults), 4);

    real_time_passes(submitted_before, running + Duration::from_secs(1)).await;
    let report = client
        .wait(&Execution::oauth_client(demo(), execution_id.clone()))
        .report()
        .await
        .unwrap();
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].client_id.as_deref(), Some(DEMO_CLIENT_ID));
    let stats = si.stats();
    assert_eq!(stats.requests_to(Route::PostClientUsageQuery), 1);
    assert_eq!(stats.requests_to(Route::GetClientUsageQueryResults), 5);
    assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 0);
    assert_secret_free(&si, &[&err]).await;
}

#[tokio::test]
async fn a_failed_execution_is_query_failed_with_its_execution_id() {
    // Only executions for an OAuth client fail: the organization query still completes.
    let si = start(stand_in().fail_executions_when(|request| request.client_id.is_some())).await;
    let client = si_client(&si, &ManualClock::new());
    let org = client
        .rows(&OrganizationQuery::builder(week()).build().unwrap())
        .report()
        .await
        .unwrap();
    assert!(!org.rows.is_empty());

    let execution = client
        .oauth_client(&demo())
        .submit(&OAuthClientQuery::builder(week()).build().unwrap())
        .await
        .unwrap();
    let failed = client.wait(&execution).report().await.unwrap_err();
    assert!(
        matches!(&failed, Error::QueryFailed { execution_id } if *execution_id == execution.id),
        "{failed:?}"
    );
    assert!(
        failed.to_string().contains(execution.id.as_str()),
        "{failed}"
    );
    assert_eq!(
        si.stats().requests_to(Route::GetClientUsageQueryResults),
        1,
        "Failed is final: no more polls"
    );

    let summary = client
        .oauth_client(&demo())
        .rows(&Days::default())
        .report()
        .await
        .unwrap_err();
    assert!(matches!(summary, Error::QueryFailed { .. }), "{summary:?}");
    assert_eq!(si.stats().executions_started, 3);
    assert_secret_free(&si, &[&failed, &summary]).await;
}
