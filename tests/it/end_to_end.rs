//! The five legacy operations through `UsageClient` against the stand-in, over real HTTP on
//! loopback: the data that comes back is right (rows add up, groupings and metrics shape them,
//! the client view matches the organization view, the summary equals a client query over the
//! last full days), each operation reads its own endpoint, and ids unknown to the server are
//! typed 404s. Retries, tokens and waiting against the stand-in live in `retries`, `auth` and
//! `waiting`.
//!
//! Time: the client waits on a [`ManualClock`] (sleeps return at once and are recorded); the
//! stand-in runs on real time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use usage_sdk::raw::types::ApiUsageRow;
use usage_sdk::time::ManualClock;
use usage_sdk::{
    Days, Execution, ExecutionId, Granularity, GroupBy, Interval, Metric, OAuthClientId,
    OAuthClientQuery, OrganizationQuery, QueryStatus,
};
use usage_sdk_stand_in::{DEMO_CLIENT_ID, DEMO_CLIENT_NAME, Route};

use crate::support::*;

/// A client id the stand-in does not know.
const UNKNOWN_CLIENT: &str = "00000000-0000-4000-8000-000000000000";

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

#[tokio::test]
async fn organization_query_submits_once_polls_once_and_returns_rows_that_add_up() {
    let si = start(stand_in()).await;
    let clock = ManualClock::new();
    let client = si_client(&si, &clock);
    let query = OrganizationQuery::builder(week())
        .granularity(Granularity::Day)
        .group_by([GroupBy::OAuthClientId])
        .build()
        .unwrap();

    let daily = client.rows(&query).report().await.unwrap();

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
        let date = row.date.as_ref().and_then(|d| d.date_time());
        let date = date.expect("a date with a granularity");
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
        .rows(
            &OrganizationQuery::builder(week())
                .group_by([GroupBy::OAuthClientId])
                .metrics([Metric::Requests, Metric::Status429])
                .build()
                .unwrap(),
        )
        .report()
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
    let client = si_client(&si, &ManualClock::new());
    let query = OAuthClientQuery::builder(week())
        .group_by([GroupBy::TemplateUri, GroupBy::HttpMethod])
        .build()
        .unwrap();

    let execution = client.oauth_client(&demo()).submit(&query).await.unwrap();
    assert_eq!(
        execution.scope,
        usage_sdk::ExecutionScope::OAuthClient(demo())
    );
    let report = client.wait(&execution).report().await.unwrap();

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
        .rows(&OrganizationQuery::builder(week()).build().unwrap())
        .report()
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
    let client = si_client(&si, &ManualClock::new());

    let summary = client
        .oauth_client(&demo())
        .submit(&Days::new(7).unwrap())
        .await
        .unwrap();
    assert_eq!(
        summary.scope,
        usage_sdk::ExecutionScope::OAuthClient(demo()),
        "summary results come from the client results endpoint"
    );
    let week = client.wait(&summary).report().await.unwrap();

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

    // ?days=7 means the seven full UTC days before today.
    let noon = today().and_hms_opt(12, 0, 0).unwrap().and_utc();
    let same = client
        .oauth_client(&demo())
        .rows(
            &OAuthClientQuery::builder(Interval::last_full_days_before(7, noon).unwrap())
                .build()
                .unwrap(),
        )
        .report()
        .await
        .unwrap();
    assert_eq!(same.rows, week.rows);

    let month = client
        .oauth_client(&demo())
        .rows(&Days::new(30).unwrap())
        .report()
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
    let client = si_client(&si, &clock);
    let org = client
        .submit(&OrganizationQuery::builder(week()).build().unwrap())
        .await
        .unwrap();
    let own = client
        .oauth_client(&demo())
        .submit(&OAuthClientQuery::builder(week()).build().unwrap())
        .await
        .unwrap();

    let org_result = client.fetch_page(&org, None).await.unwrap();
    let own_result = client.fetch_page(&own, None).await.unwrap();

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
        errors.push(client.fetch_page(execution, None).await.unwrap_err());
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
        .submit(&OrganizationQuery::builder(week()).build().unwrap())
        .await
        .unwrap();
    let running = client.fetch_page(&slow, None).await.unwrap();
    assert_eq!(running.query_status, Some(QueryStatus::Running));
    assert!(running.results.is_empty());
    assert!(clock.sleeps().is_empty());
    assert_secret_free(&si, &errors.iter().collect::<Vec<_>>()).await;
}

#[tokio::test]
async fn ids_unknown_to_the_server_are_404_not_found_and_nothing_waits() {
    let si = start(stand_in()).await;
    let clock = ManualClock::new();
    let client = si_client(&si, &clock);
    let unknown = OAuthClientId::new(UNKNOWN_CLIENT).unwrap();

    let submit = client
        .oauth_client(&unknown)
        .submit(&OAuthClientQuery::builder(week()).build().unwrap())
        .await
        .unwrap_err();
    let summary = client
        .oauth_client(&unknown)
        .rows(&Days::default())
        .report()
        .await
        .unwrap_err();
    let execution = ExecutionId::new("5b0e8a61-1c4e-4d7a-9d9b-000000000404").unwrap();
    let resume = client
        .wait(&Execution::organization(execution.clone()))
        .report()
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
    assert!(
        clock.sleeps().is_empty(),
        "a resumed handle is polled at once: {:?}",
        clock.sleeps()
    );
    assert_secret_free(&si, &[&submit, &summary, &resume]).await;
}
