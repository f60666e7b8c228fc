//! `UsageClient` end to end against the stand-in: the five operations over real HTTP on
//! loopback, through the stand-in's token endpoint, rate limiter, fault injection and
//! execution timelines. Each test asserts what the stand-in received (`stats()`) and what
//! came back to the caller.
//!
//! Time: the client waits on a [`ManualClock`] (sleeps return at once and are recorded), so
//! poll schedules and backoffs cost nothing and can be asserted exactly. The stand-in runs on
//! real time (token expiry, execution time, rate-limit refill); where a test needs the two to
//! meet, it says how.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use usage_sdk::raw::types::ApiUsageRow;
use usage_sdk::stand_in::{
    DEMO_CLIENT_ID, DEMO_CLIENT_NAME, DEMO_CLIENT_SECRET, Fault, Route, RunningStandIn, StandIn,
    StandInBuilder,
};
use usage_sdk::time::{Clock, ManualClock, Sleep};
use usage_sdk::{
    ApiError, Config, ConfigBuilder, Days, Error, Execution, ExecutionId, Granularity, GroupBy,
    Interval, Metric, OAuthClientId, OAuthClientQuery, OrganizationQuery, PollPolicy, QueryStatus,
    RetryPolicy, UsageClient,
};

/// One seed for every stand-in here, so a twin stand-in can reproduce the tokens issued
/// (see [`secrets_of`]).
const SEED: u64 = 0xE2E0_5EED;

/// A client id the stand-in does not know.
const UNKNOWN_CLIENT: &str = "00000000-0000-4000-8000-000000000000";

/// A fixed "today", so intervals in these tests always fall inside the data.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

/// Seven full days (Monday to Sunday) well inside the data window.
fn week() -> Interval {
    "2026-11-02T00:00:00Z/2026-11-09T00:00:00Z".parse().unwrap()
}

/// Instant executions, a pinned date and the default rate limit (300 per minute).
fn stand_in() -> StandInBuilder {
    StandIn::builder()
        .seed(SEED)
        .today(today())
        .execution_time(Duration::ZERO)
}

async fn start(builder: StandInBuilder) -> RunningStandIn {
    builder.start().await.expect("the stand-in binds 127.0.0.1")
}

/// The demo client's credentials, no jitter, and `clock` for every wait.
fn config(si: &RunningStandIn, clock: Arc<dyn Clock>) -> ConfigBuilder {
    Config::builder()
        .base_url(si.base_url())
        .client_credentials(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        .retry(RetryPolicy::default().with_jitter(false))
        .poll(PollPolicy::default().with_jitter(false))
        .clock(clock)
}

fn build(config: ConfigBuilder) -> UsageClient {
    UsageClient::new(config.build().unwrap()).unwrap()
}

fn client(si: &RunningStandIn, clock: &ManualClock) -> UsageClient {
    build(config(si, Arc::new(clock.clone())))
}

fn demo() -> OAuthClientId {
    OAuthClientId::new(DEMO_CLIENT_ID).unwrap()
}

fn secs(values: &[u64]) -> Vec<Duration> {
    values.iter().copied().map(Duration::from_secs).collect()
}

/// Requests the stand-in received on `/api/v2/…` (everything but the token endpoint).
fn api_requests(si: &RunningStandIn) -> u64 {
    let stats = si.stats();
    stats.total_requests() - stats.token_requests()
}

/// The `ApiError` inside `err`, or a panic that shows what came back instead.
fn api_error(err: &Error) -> &ApiError {
    match err {
        Error::Api(api) => api,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

/// Asserts an API error's status and code, and that the correlation id the client reports
/// is the one the stand-in put in both the header and the body's `contextId`.
fn assert_api_error(err: &Error, operation: &str, status: u16, code: &str) {
    let api = api_error(err);
    assert_eq!(
        (api.operation, api.status, api.code()),
        (operation, status, Some(code)),
        "{err}"
    );
    let correlation_id = api.correlation_id.as_deref().expect("a correlation id");
    assert_eq!(api.context_id(), Some(correlation_id));
    assert_eq!(err.correlation_id(), Some(correlation_id));
    assert!(
        err.to_string()
            .contains(&format!("[correlation id {correlation_id}]")),
        "{err}"
    );
}

/// A token for the demo client, fetched with plain reqwest.
async fn fetch_token(si: &RunningStandIn) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/oauth/token", si.base_url()))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// Every secret `si` knows: its OAuth client secrets and every access token it issued.
///
/// The client keeps its tokens to itself, so they are recomputed: the stand-in's token
/// generator is seeded and advances only when it issues a token, so a twin with the same seed
/// issues the same tokens in the same order.
async fn secrets_of(si: &RunningStandIn) -> Vec<String> {
    let mut secrets: Vec<String> = si
        .oauth_clients()
        .iter()
        .map(|c| c.secret.clone())
        .collect();
    let twin = start(stand_in()).await;
    for _ in 0..si.stats().tokens_issued {
        secrets.push(fetch_token(&twin).await);
    }
    secrets
}

/// Asserts that no secret of `si` appears in the Display or Debug of `errors` or of their
/// sources.
async fn assert_secret_free(si: &RunningStandIn, errors: &[&Error]) {
    let secrets = secrets_of(si).await;
    assert!(secrets.iter().any(|s| s == DEMO_CLIENT_SECRET));
    for err in errors {
        let mut texts = vec![err.to_string(), format!("{err:?}")];
        let mut source = std::error::Error::source(*err);
        while let Some(inner) = source {
            texts.push(inner.to_string());
            texts.push(format!("{inner:?}"));
            source = inner.source();
        }
        for text in &texts {
            for (n, secret) in secrets.iter().enumerate() {
                assert!(
                    !text.contains(secret.as_str()),
                    "secret #{n} appears in an error: {text}"
                );
            }
            assert!(!text.contains("Bearer "), "{text}");
        }
    }
}

/// What every row the stand-in computes must satisfy, whatever the grouping: counts are
/// non-negative, 429s are a subset of 4xx, and `requests` is the sum of the status classes.
fn assert_counts_add_up(row: &ApiUsageRow) {
    let [s200, s300, s400, s500, s429, requests] = [
        row.status200,
        row.status300,
        row.status400,
        row.status500,
        row.status429,
        row.requests,
    ]
    .map(|v| v.unwrap_or_else(|| panic!("all six metrics are present: {row:?}")));
    assert!(
        [s200, s300, s400, s500, s429].iter().all(|v| *v >= 0),
        "{row:?}"
    );
    assert!(s429 <= s400, "status429 is part of status400: {row:?}");
    assert_eq!(requests, s200 + s300 + s400 + s500, "{row:?}");
    assert!(requests > 0, "rows without requests are left out: {row:?}");
}

/// A `ManualClock` that also lets up to `pace` of real time pass on each sleep.
///
/// For the one case where the client must wait for the stand-in's real-time clock: the rate
/// limiter refills in real time, so a client on a pure manual clock would re-send at once
/// and meet 429 again. The recorded sleeps stay exact.
#[derive(Debug, Clone)]
struct PacedClock {
    manual: ManualClock,
    pace: Duration,
}

impl Clock for PacedClock {
    fn now(&self) -> Instant {
        self.manual.now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let recorded = self.manual.sleep(duration);
        let real = duration.min(self.pace);
        Box::pin(async move {
            recorded.await;
            tokio::time::sleep(real).await;
        })
    }
}

/// Sleeps in real time until `since + at_least` has passed.
async fn real_time_passes(since: Instant, at_least: Duration) {
    let until = since + at_least;
    tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
}

mod operations {
    use super::*;

    #[tokio::test]
    async fn organization_query_submits_once_polls_once_and_returns_rows_that_add_up() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        let query = OrganizationQuery::builder(week())
            .granularity(Granularity::Day)
            .group_by([GroupBy::OAuthClientId])
            .build()
            .unwrap();

        let daily = client.organization_usage(&query).await.unwrap();

        assert_eq!(daily.polls, 1);
        assert_eq!(clock.sleeps(), secs(&[1]), "first poll a second after");
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::Token), 1);
        assert_eq!(stats.requests_to(Route::PostUsageQuery), 1);
        assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 1);
        assert_eq!(stats.executions_started, 1);
        assert_eq!(stats.total_requests(), 3);

        let clients: BTreeMap<&str, &str> = si
            .oauth_clients()
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str()))
            .collect();
        let days: BTreeSet<DateTime<Utc>> = (2..9)
            .map(|d| {
                NaiveDate::from_ymd_opt(2026, 11, d)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
            })
            .collect();
        assert!(!daily.rows.is_empty());
        let mut seen_days = BTreeSet::new();
        let mut daily_totals: BTreeMap<String, i64> = BTreeMap::new();
        for row in &daily.rows {
            assert_counts_add_up(row);
            let date = row.date.expect("a date with a granularity");
            assert!(days.contains(&date), "{date} is a midnight in the week");
            seen_days.insert(date);
            let id = row.client_id.as_deref().unwrap();
            assert_eq!(
                clients.get(id).copied(),
                row.client_name.as_deref(),
                "{row:?}"
            );
            for ungrouped in [&row.organization_id, &row.user_id, &row.template_uri] {
                assert_eq!(ungrouped.as_deref(), Some(""), "{row:?}");
            }
            assert_eq!(row.http_method.as_deref(), Some(""), "{row:?}");
            *daily_totals.entry(id.to_string()).or_default() += row.requests.unwrap();
        }
        assert_eq!(seen_days, days, "one bucket per day of the week");

        // Without a granularity: no date, and each client's total is its daily rows summed.
        let totals = client
            .organization_usage(
                &OrganizationQuery::builder(week())
                    .group_by([GroupBy::OAuthClientId])
                    .metrics([Metric::Requests, Metric::Status429])
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
        let mut summed = BTreeMap::new();
        for row in &totals.rows {
            assert_eq!(row.date, None, "no date without a granularity: {row:?}");
            assert_eq!(
                (row.status200, row.status300, row.status400, row.status500),
                (None, None, None, None),
                "only the metrics asked for: {row:?}"
            );
            assert!(row.status429.unwrap() <= row.requests.unwrap());
            summed.insert(row.client_id.clone().unwrap(), row.requests.unwrap());
        }
        assert_eq!(summed, daily_totals);
        assert_eq!(si.stats().requests_to(Route::PostUsageQuery), 2);
        assert_eq!(
            si.stats().requests_to(Route::Token),
            1,
            "the token is reused"
        );
    }

    #[tokio::test]
    async fn client_query_covers_only_that_client_and_matches_the_organization_view() {
        let si = start(stand_in()).await;
        let client = client(&si, &ManualClock::new());
        let query = OAuthClientQuery::builder(week())
            .group_by([GroupBy::TemplateUri, GroupBy::HttpMethod])
            .build()
            .unwrap();

        let report = client.oauth_client_usage(&demo(), &query).await.unwrap();

        assert_eq!(
            report.execution.scope,
            usage_sdk::ExecutionScope::OAuthClient(demo())
        );
        assert!(!report.rows.is_empty());
        let mut pairs = BTreeSet::new();
        for row in &report.rows {
            assert_counts_add_up(row);
            assert_eq!(row.date, None);
            // OAuthClientId is not grouped by: "" even though the query is for one client.
            assert_eq!(row.client_id.as_deref(), Some(""), "{row:?}");
            assert_eq!(row.user_id.as_deref(), Some(""), "{row:?}");
            let template = row.template_uri.clone().unwrap();
            let method = row.http_method.clone().unwrap();
            assert!(
                !template.is_empty() && !template.starts_with('/'),
                "{row:?}"
            );
            assert!(!method.is_empty(), "{row:?}");
            assert!(pairs.insert((template, method)), "one row per group");
        }
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::PostClientUsageQuery), 1);
        assert_eq!(stats.requests_to(Route::GetClientUsageQueryResults), 1);
        assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 0);

        // The same week seen by the organization: the demo client's row has the same total.
        let org = client
            .organization_usage(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        let demo_row = org
            .rows
            .iter()
            .find(|r| r.client_id.as_deref() == Some(DEMO_CLIENT_ID))
            .expect("the demo client made requests that week");
        let client_total: i64 = report.rows.iter().map(|r| r.requests.unwrap()).sum();
        assert_eq!(demo_row.requests, Some(client_total));
        assert!(org.rows.len() > 1, "other clients appear only for the org");
    }

    #[tokio::test]
    async fn client_usage_summary_sends_days_and_equals_a_client_query_over_the_last_full_days() {
        let si = start(stand_in()).await;
        let client = client(&si, &ManualClock::new());

        let week = client
            .oauth_client_usage_summary(&demo(), Days::new(7).unwrap())
            .await
            .unwrap();

        assert_eq!(
            week.rows.len(),
            1,
            "one client, no grouping: {:?}",
            week.rows
        );
        let row = &week.rows[0];
        assert_counts_add_up(row);
        assert_eq!(row.client_id.as_deref(), Some(DEMO_CLIENT_ID));
        assert_eq!(row.client_name.as_deref(), Some(DEMO_CLIENT_NAME));
        assert_eq!(row.date, None);
        assert_eq!(
            week.execution.scope,
            usage_sdk::ExecutionScope::OAuthClient(demo()),
            "summary results come from the client results endpoint"
        );

        // ?days=7 means the seven full UTC days before today.
        let noon = today().and_hms_opt(12, 0, 0).unwrap().and_utc();
        let same = client
            .oauth_client_usage(
                &demo(),
                &OAuthClientQuery::builder(Interval::last_full_days_before(7, noon).unwrap())
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(same.rows, week.rows);

        let month = client
            .oauth_client_usage_summary(&demo(), Days::new(30).unwrap())
            .await
            .unwrap();
        assert!(
            month.rows[0].requests > row.requests,
            "30 days cover more than 7: {month:?}"
        );

        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::GetClientUsageSummary), 2);
        assert_eq!(stats.requests_to(Route::PostClientUsageQuery), 1);
        assert_eq!(stats.requests_to(Route::GetClientUsageQueryResults), 3);
        assert_eq!(stats.executions_started, 3);
    }

    #[tokio::test]
    async fn fetch_results_reads_each_results_endpoint_once_and_executions_are_scoped() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        let org = client
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        let own = client
            .submit_oauth_client_query(&demo(), &OAuthClientQuery::builder(week()).build().unwrap())
            .await
            .unwrap();

        let org_result = client.fetch_results(&org).await.unwrap();
        let own_result = client.fetch_results(&own).await.unwrap();

        assert_eq!(org_result.query_status, Some(QueryStatus::Complete));
        assert!(org_result.results.len() > 1);
        assert_eq!(own_result.query_status, Some(QueryStatus::Complete));
        assert_eq!(own_result.results.len(), 1);
        assert_eq!(
            own_result.results[0].client_id.as_deref(),
            Some(DEMO_CLIENT_ID)
        );
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 1);
        assert_eq!(stats.requests_to(Route::GetClientUsageQueryResults), 1);
        assert!(clock.sleeps().is_empty(), "fetch_results does not wait");

        // An execution is found only on its own results endpoint.
        let crossed = [
            Execution::oauth_client(demo(), org.id.clone()),
            Execution::organization(own.id.clone()),
        ];
        let mut errors = Vec::new();
        for execution in &crossed {
            errors.push(client.fetch_results(execution).await.unwrap_err());
        }
        assert_api_error(
            &errors[0],
            "get_oauth_client_usage_query_result",
            404,
            "not.found",
        );
        assert_api_error(
            &errors[1],
            "get_usage_query_execution_id_results",
            404,
            "not.found",
        );

        // Still computing: one fetch says Running with no rows, and nothing waits.
        si.set_execution_time(Duration::from_secs(60));
        let slow = client
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        let running = client.fetch_results(&slow).await.unwrap();
        assert_eq!(running.query_status, Some(QueryStatus::Running));
        assert!(running.results.is_empty());
        assert!(clock.sleeps().is_empty());
        assert_secret_free(&si, &errors.iter().collect::<Vec<_>>()).await;
    }
}

mod waiting {
    use super::*;

    /// Polls at 1, 3, 7 and 10 s on the client's clock, then gives up.
    fn ten_second_deadline(si: &RunningStandIn, clock: &ManualClock) -> UsageClient {
        build(
            config(si, Arc::new(clock.clone())).poll(
                PollPolicy::default()
                    .with_jitter(false)
                    .with_deadline(Duration::from_secs(10)),
            ),
        )
    }

    #[tokio::test]
    async fn queued_is_not_finished_and_resume_after_the_deadline_gets_the_rows() {
        // Queued for 300 ms of real time; the four polls on the manual clock take a few ms.
        let queued = Duration::from_millis(300);
        let si = start(stand_in().queued_for(queued)).await;
        let clock = ManualClock::new();
        let client = ten_second_deadline(&si, &clock);
        let query = OrganizationQuery::builder(week()).build().unwrap();
        let submitted_before = Instant::now();

        let err = client.organization_usage(&query).await.unwrap_err();

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

        real_time_passes(submitted_before, queued + Duration::from_millis(50)).await;
        let report = client
            .resume_organization_query(execution_id.clone())
            .await
            .unwrap();
        assert_eq!(&report.execution.id, execution_id);
        assert_eq!(report.polls, 1);
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
        let running = Duration::from_millis(300);
        let si = start(stand_in().execution_time(running)).await;
        let clock = ManualClock::new();
        let client = ten_second_deadline(&si, &clock);
        let query = OAuthClientQuery::builder(week()).build().unwrap();
        let submitted_before = Instant::now();

        let err = client
            .oauth_client_usage(&demo(), &query)
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

        real_time_passes(submitted_before, running + Duration::from_millis(50)).await;
        let report = client
            .resume_oauth_client_query(demo(), execution_id.clone())
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
        let si =
            start(stand_in().fail_executions_when(|request| request.client_id.is_some())).await;
        let client = client(&si, &ManualClock::new());
        let org = client
            .organization_usage(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        assert!(!org.rows.is_empty());

        let execution = client
            .submit_oauth_client_query(&demo(), &OAuthClientQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        let failed = client.wait_for(&execution).await.unwrap_err();
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
            .oauth_client_usage_summary(&demo(), Days::default())
            .await
            .unwrap_err();
        assert!(matches!(summary, Error::QueryFailed { .. }), "{summary:?}");
        assert_eq!(si.stats().executions_started, 3);
        assert_secret_free(&si, &[&failed, &summary]).await;
    }
}

mod rate_limits {
    use super::*;

    #[tokio::test]
    async fn rate_limited_calls_wait_retry_after_and_succeed_in_a_bounded_number_of_requests() {
        // A bucket of 2 refilled at 10 per second: the third request in quick succession is
        // refused with Retry-After: 1 (the smallest the stand-in sends).
        let si = start(stand_in().rate_limit(2, Duration::from_millis(200))).await;
        let clock = PacedClock {
            manual: ManualClock::new(),
            pace: Duration::from_millis(60),
        };
        // Pacing off: this test pins the per-request rule (each 429 waits exactly its
        // Retry-After); client-wide pacing is the next test.
        let client = build(
            config(&si, Arc::new(clock.clone()))
                .retry(
                    RetryPolicy::default()
                        .with_jitter(false)
                        .with_rate_limit_pacing(false),
                )
                .poll(
                    PollPolicy::default()
                        .with_jitter(false)
                        .with_delays(Duration::from_millis(10), Duration::from_millis(10)),
                ),
        );

        let org = client
            .organization_usage(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        let own = client
            .oauth_client_usage(&demo(), &OAuthClientQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        let summary = client
            .oauth_client_usage_summary(&demo(), Days::default())
            .await
            .unwrap();

        assert!(!org.rows.is_empty() && !own.rows.is_empty() && !summary.rows.is_empty());
        let stats = si.stats();
        let refused = stats.rate_limited;
        assert!(refused >= 1, "the client met the limiter: {stats:?}");
        assert_eq!(stats.responses_with(429), refused);
        // Six calls succeeded; every other API request was a 429 that was re-sent.
        assert_eq!(api_requests(&si), 6 + refused, "{stats:?}");
        assert!(refused <= 6 * 4, "at most max_attempts per call: {stats:?}");
        // Each 429 was waited out exactly as Retry-After said; the polls waited 10 ms.
        let sleeps = clock.manual.sleeps();
        let retry_waits = sleeps.iter().filter(|d| **d == Duration::from_secs(1));
        assert_eq!(retry_waits.count() as u64, refused, "{sleeps:?}");
        assert_eq!(sleeps.len() as u64, refused + 3, "{sleeps:?}");
        assert_eq!(stats.tokens_issued, 1, "a 429 is not an auth problem");
    }

    /// 12 concurrent polls against a bucket of 4 (refilled at 40/s), in real time: returns
    /// the number of 429s the stand-in sent.
    async fn concurrent_polls_refused(pacing: bool) -> u64 {
        let si = start(stand_in().rate_limit(4, Duration::from_millis(100))).await;
        let client = build(
            config(&si, Arc::new(usage_sdk::time::TokioClock)).retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_max_attempts(10)
                    .with_rate_limit_pacing(pacing),
            ),
        );
        let execution = client
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        // Let the bucket refill after the submit.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let polls: Vec<_> = (0..12)
            .map(|_| {
                let (client, execution) = (client.clone(), execution.clone());
                tokio::spawn(async move { client.fetch_results(&execution).await })
            })
            .collect();
        for poll in polls {
            poll.await.unwrap().expect("every poll succeeds in the end");
        }
        si.stats().rate_limited
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pacing_after_a_429_spares_the_requests_that_would_come_back_together() {
        // Without pacing, the 8 refused polls all return after Retry-After: 1 into a bucket
        // of 4, and half are refused again. With pacing (the default), one Retry-After gates
        // the whole client and the rest go out spaced at the rate the server admitted.
        let (paced, unpaced) = tokio::join!(
            concurrent_polls_refused(true),
            concurrent_polls_refused(false)
        );
        assert!(paced >= 1, "the burst met the limiter");
        assert!(
            paced < unpaced,
            "pacing should cut the 429s: paced {paced}, unpaced {unpaced}"
        );
    }

    #[tokio::test]
    async fn forced_429s_are_retried_after_exactly_retry_after() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        si.inject(Fault::RateLimited, 2);

        let report = client
            .oauth_client_usage_summary(&demo(), Days::default())
            .await
            .unwrap();

        assert_eq!(report.rows.len(), 1);
        // Retry-After: 1 twice, then the first poll.
        assert_eq!(clock.sleeps(), secs(&[1, 1, 1]));
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::GetClientUsageSummary), 3);
        assert_eq!(stats.rate_limited, 2);
        assert_eq!(stats.executions_started, 1);
    }

    #[tokio::test]
    async fn retry_after_above_the_cap_is_a_typed_429_without_a_retry() {
        // One request per minute: the submit takes it, the poll is told to wait ~60 s.
        let si = start(stand_in().rate_limit(1, Duration::from_secs(60))).await;
        let clock = ManualClock::new();
        let client = build(
            config(&si, Arc::new(clock.clone())).retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_retry_after_cap(Duration::from_secs(30)),
            ),
        );

        let err = client
            .organization_usage(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap_err();

        assert_api_error(
            &err,
            "get_usage_query_execution_id_results",
            429,
            "too.many.requests.retry.after",
        );
        let api = api_error(&err);
        assert_eq!(api.retry_after, Some(Duration::from_secs(60)));
        assert_eq!(api.retry_after_cap, Some(Duration::from_secs(30)));
        assert_eq!(api.attempts, 1);
        assert_eq!(
            api.body.as_ref().and_then(|b| b.limit.as_ref()?.value),
            Some(1)
        );
        assert!(
            err.to_string().contains("longer than the 30 s cap"),
            "{err}"
        );
        assert_eq!(clock.sleeps(), secs(&[1]), "the poll's wait only, no retry");
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 1);
        assert_eq!(stats.rate_limited, 1);
        assert_secret_free(&si, &[&err]).await;
    }
}

mod tokens {
    use super::*;

    #[tokio::test]
    async fn a_token_that_expired_on_the_server_is_renewed_once_and_the_call_succeeds() {
        // The stand-in expires tokens after 150 ms of real time but says expires_in 1 s; the
        // client's clock does not move, so only the server's 401 tells it.
        let si = start(stand_in().token_lifetime(Duration::from_millis(150))).await;
        let client = client(&si, &ManualClock::new());
        let execution = client
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;

        let result = client.fetch_results(&execution).await.unwrap();

        assert_eq!(result.query_status, Some(QueryStatus::Complete));
        let stats = si.stats();
        assert_eq!(stats.responses_with(401), 1);
        assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 2);
        assert_eq!(stats.tokens_issued, 2);
        assert_eq!(client.token_requests(), 2);
    }

    #[tokio::test]
    async fn expire_tokens_mid_wait_costs_one_401_and_one_renewal() {
        let si = start(stand_in()).await;
        let client = client(&si, &ManualClock::new());
        let execution = client
            .submit_oauth_client_query(&demo(), &OAuthClientQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        si.expire_tokens();

        let report = client.wait_for(&execution).await.unwrap();

        assert_eq!(report.rows.len(), 1);
        let stats = si.stats();
        assert_eq!(stats.responses_with(401), 1);
        assert_eq!(stats.requests_to(Route::GetClientUsageQueryResults), 2);
        assert_eq!(stats.tokens_issued, 2);
    }

    #[tokio::test]
    async fn a_token_near_expiry_on_the_client_clock_is_renewed_before_it_is_sent() {
        // expires_in 10 s: the client renews a tenth early, at 9 s on its clock. The server
        // would still accept the old token (no real time passed): no 401 is involved.
        let si = start(stand_in().token_lifetime(Duration::from_secs(10))).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        let execution = client
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        clock.advance(Duration::from_millis(8_900));
        client.fetch_results(&execution).await.unwrap();
        assert_eq!(si.stats().tokens_issued, 1, "still fresh at 8.9 s");

        clock.advance(Duration::from_millis(200));
        client.fetch_results(&execution).await.unwrap();

        let stats = si.stats();
        assert_eq!(stats.tokens_issued, 2, "renewed at 9.1 s");
        assert_eq!(stats.responses_with(401), 0);
        assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 2);
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
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        si.expire_tokens();

        let err = client.fetch_results(&execution).await.unwrap_err();

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
}

mod faults {
    use super::*;

    #[tokio::test]
    async fn injected_503s_on_a_submit_are_retried_with_backoff_and_it_succeeds() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        si.inject(Fault::Unavailable, 2);

        let report = client
            .organization_usage(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();

        assert!(!report.rows.is_empty());
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::PostUsageQuery), 3);
        assert_eq!(stats.responses_with(503), 2);
        assert_eq!(stats.executions_started, 1, "the 503s started nothing");
        // Backoff 0.5 s and 1 s (no Retry-After on these 503s), then the first poll.
        assert_eq!(
            clock.sleeps(),
            [
                Duration::from_millis(500),
                Duration::from_secs(1),
                Duration::from_secs(1)
            ]
        );
    }

    #[tokio::test]
    async fn a_share_of_503s_across_all_five_operations_is_absorbed_by_retries() {
        let si = start(stand_in().unavailable_share(0.3)).await;
        // Ten attempts a call: the seeded draws include a run of four 503s in a row, and the
        // point here is that every operation goes through the retry layer, not the budget.
        let client = build(
            config(&si, Arc::new(ManualClock::new())).retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_max_attempts(10),
            ),
        );
        let org_query = OrganizationQuery::builder(week()).build().unwrap();
        let client_query = OAuthClientQuery::builder(week()).build().unwrap();

        let org = client.organization_usage(&org_query).await.unwrap();
        client
            .oauth_client_usage(&demo(), &client_query)
            .await
            .unwrap();
        client
            .oauth_client_usage_summary(&demo(), Days::default())
            .await
            .unwrap();
        let fetched = client.fetch_results(&org.execution).await.unwrap();
        let resumed = client
            .resume_oauth_client_query(demo(), {
                let own = client
                    .submit_oauth_client_query(&demo(), &client_query)
                    .await
                    .unwrap();
                own.id
            })
            .await
            .unwrap();

        assert_eq!(fetched.results, org.rows);
        assert_eq!(resumed.rows.len(), 1);
        let stats = si.stats();
        let unavailable = stats.responses_with(503);
        assert!(unavailable > 0, "the share hit some requests: {stats:?}");
        // Nine calls succeeded on their last attempt; every other request was a 503.
        assert_eq!(api_requests(&si), 9 + unavailable, "{stats:?}");
        assert_eq!(stats.executions_started, 4);
    }

    #[tokio::test]
    async fn with_retries_disabled_a_503_surfaces_with_its_code_and_correlation_id() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = build(config(&si, Arc::new(clock.clone())).retry(RetryPolicy::disabled()));
        si.inject(Fault::Unavailable, 1);

        let err = client
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap_err();

        assert_api_error(&err, "post_usage_query", 503, "service.unavailable");
        assert_eq!(api_error(&err).attempts, 1);
        assert_eq!(si.stats().requests_to(Route::PostUsageQuery), 1);
        assert_eq!(si.stats().executions_started, 0);
        assert!(clock.sleeps().is_empty());
        assert_secret_free(&si, &[&err]).await;
    }

    #[tokio::test]
    async fn dropped_connections_on_gets_are_retried() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        let execution = client
            .submit_organization_query(&OrganizationQuery::builder(week()).build().unwrap())
            .await
            .unwrap();
        si.inject(Fault::Drop, 1);

        let report = client.wait_for(&execution).await.unwrap();

        assert!(!report.rows.is_empty());
        assert_eq!(report.polls, 1, "one poll, sent twice");
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 2);
        assert_eq!(stats.dropped, 1);
        // The poll's wait, then the first backoff step.
        assert_eq!(
            clock.sleeps(),
            [Duration::from_secs(1), Duration::from_millis(500)]
        );

        // The summary is a GET too, though it starts an execution: the dropped one did not.
        si.inject(Fault::Drop, 1);
        client
            .oauth_client_usage_summary(&demo(), Days::default())
            .await
            .unwrap();
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::GetClientUsageSummary), 2);
        assert_eq!(stats.dropped, 2);
        assert_eq!(stats.executions_started, 2);
    }

    #[tokio::test]
    async fn a_post_whose_connection_dropped_after_sending_is_not_sent_again() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        let query = OrganizationQuery::builder(week()).build().unwrap();
        si.inject(Fault::Drop, 1);

        let err = client.submit_organization_query(&query).await.unwrap_err();

        assert!(
            matches!(
                &err,
                Error::Transport {
                    operation: "post_usage_query",
                    attempts: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        let stats = si.stats();
        assert_eq!(stats.requests_to(Route::PostUsageQuery), 1, "not re-sent");
        assert_eq!(stats.dropped, 1);
        assert_eq!(stats.executions_started, 0);
        assert!(clock.sleeps().is_empty());

        // The same for a client query; the caller decides whether to submit again.
        si.inject(Fault::Drop, 1);
        let client_err = client
            .submit_oauth_client_query(&demo(), &OAuthClientQuery::builder(week()).build().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(&client_err, Error::Transport { attempts: 1, .. }),
            "{client_err:?}"
        );
        assert_eq!(si.stats().requests_to(Route::PostClientUsageQuery), 1);

        client.submit_organization_query(&query).await.unwrap();
        assert_eq!(si.stats().requests_to(Route::PostUsageQuery), 2);
        assert_eq!(si.stats().executions_started, 1);
        assert_secret_free(&si, &[&err, &client_err]).await;
    }
}

mod validation {
    use super::*;

    #[tokio::test]
    async fn ids_unknown_to_the_server_are_404_not_found_and_nothing_waits() {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let client = client(&si, &clock);
        let unknown = OAuthClientId::new(UNKNOWN_CLIENT).unwrap();

        let submit = client
            .submit_oauth_client_query(
                &unknown,
                &OAuthClientQuery::builder(week()).build().unwrap(),
            )
            .await
            .unwrap_err();
        let summary = client
            .oauth_client_usage_summary(&unknown, Days::default())
            .await
            .unwrap_err();
        let execution = ExecutionId::new("5b0e8a61-1c4e-4d7a-9d9b-000000000404").unwrap();
        let resume = client
            .resume_organization_query(execution.clone())
            .await
            .unwrap_err();

        assert_api_error(&submit, "post_oauth_client_usage_query", 404, "not.found");
        assert!(
            api_error(&submit)
                .message()
                .is_some_and(|m| m.contains(UNKNOWN_CLIENT)),
            "{submit}"
        );
        assert_api_error(&summary, "get_oauth_client_usage_summary", 404, "not.found");
        assert_api_error(
            &resume,
            "get_usage_query_execution_id_results",
            404,
            "not.found",
        );
        let stats = si.stats();
        assert_eq!(stats.executions_started, 0);
        assert_eq!(
            stats.requests_to(Route::GetUsageQueryResults),
            1,
            "a 404 ends the wait"
        );
        assert_eq!(api_requests(&si), 3, "4xx are not retried");
        assert_eq!(clock.sleeps(), secs(&[1]), "the resumed poll's wait only");
        assert_secret_free(&si, &[&submit, &summary, &resume]).await;
    }
}
