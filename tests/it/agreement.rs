//! The client against the stand-in where each reads the API document on its own: the generated
//! raw client round-trips the stand-in's answers, and the typed client's input checks and the
//! stand-in's validation agree at every documented limit (the stand-in keeps its own limit
//! constants, usage-sdk/stand-in/src/jobs.rs, so that one misreading cannot pass on both sides).
//! The stand-in on its own is tested in its crate (usage-sdk/stand-in/tests).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use usage_sdk::raw::types::{
    ApiUsageOrganizationQuery, ApiUsageOrganizationQueryGranularity as G,
    ApiUsageOrganizationQueryMetricsItem as M,
};
use usage_sdk::{Interval, OAuthClientJobQuery, OrganizationJobQuery, PageSize, QueryStatus};
use usage_sdk_stand_in::{DEMO_CLIENT_ID, StandInBuilder};

use crate::support::{fetch_token as demo_token, plain_http, stand_in, start, today, week};

const ORG_JOBS: &str = "/api/v2/usage/aggregates/query/jobs";

fn client_jobs(client_id: &str) -> String {
    format!("/api/v2/usage/client/{client_id}/aggregates/query/jobs")
}

/// Jobs that are over at once, and no rate limit.
fn instant_jobs() -> StandInBuilder {
    stand_in()
        .job_times(Duration::ZERO, Duration::ZERO)
        .no_rate_limit()
}

/// A status and a JSON body, read with plain reqwest.
struct Answer {
    status: StatusCode,
    body: Value,
}

impl Answer {
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(self.body["code"], code, "{:?}", self.body);
    }
}

async fn send(request: reqwest::RequestBuilder, token: Option<&str>) -> Answer {
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let response = request.send().await.expect("the stand-in answers");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, body }
}

async fn get(si: &usage_sdk_stand_in::RunningStandIn, token: Option<&str>, path: &str) -> Answer {
    send(plain_http().get(format!("{}{path}", si.base_url())), token).await
}

async fn post(
    si: &usage_sdk_stand_in::RunningStandIn,
    token: Option<&str>,
    path: &str,
    body: &str,
) -> Answer {
    let request = plain_http()
        .post(format!("{}{path}", si.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string());
    send(request, token).await
}

/// Submits a job and returns its resultsUri.
async fn submit(
    si: &usage_sdk_stand_in::RunningStandIn,
    token: &str,
    path: &str,
    body: Value,
) -> String {
    let answer = post(si, Some(token), path, &body.to_string()).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    answer.body["resultsUri"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_generated_raw_client_round_trips_against_the_stand_in() {
    let si = start(stand_in()).await;
    let token = demo_token(&si).await;
    let raw = usage_sdk::UsageClient::new(
        usage_sdk::Config::builder()
            .base_url(si.base_url())
            .access_token(token.clone())
            .build()
            .unwrap(),
    )
    .unwrap()
    .raw();
    let query = ApiUsageOrganizationQuery {
        interval: week().to_string(),
        granularity: Some(G::Day),
        group_by: vec![],
        metrics: vec![M::Requests],
    };
    let handle = raw.post_usage_query(&query).await.unwrap();
    assert_eq!(handle.status(), 202);
    let id = handle.into_inner().execution_id.unwrap();
    let result = raw
        .get_usage_query_execution_id_results(&id)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result.query_status, Some(QueryStatus::Complete));
    assert!(!result.results.is_empty());
    for row in &result.results {
        assert!(row.date.is_some());
        assert!(row.requests.is_some() && row.status200.is_none());
        assert_eq!(row.user_id.as_deref(), Some(""));
    }
}

/// The client and the stand-in each read the limits from the API document with their own
/// constants; at each boundary, and one second or one row past it, they must agree.
#[tokio::test]
async fn the_client_and_the_stand_in_agree_at_each_limit_of_intervals_and_page_sizes() {
    let si = start(instant_jobs()).await;
    let token = demo_token(&si).await;
    // The client's "now" at the start of the stand-in's "today": one calendar date for both.
    let now = today().and_hms_opt(0, 0, 0).unwrap().and_utc();
    // (interval, accepted)
    let cases = [
        ("2026-08-01T00:00:00Z/2026-10-30T00:00:00Z", true), // exactly 90 days
        ("2026-08-01T00:00:00Z/2026-10-30T00:00:01Z", false), // 90 days and 1 s
        ("2025-11-26T00:00:00Z/2025-12-03T00:00:00Z", true), // starts exactly a year ago
        ("2025-11-25T23:59:59Z/2025-12-03T00:00:00Z", false), // a second earlier
    ];
    for (interval, accepted) in cases {
        let parsed: Interval = interval.parse().unwrap();
        let org = OrganizationJobQuery::builder(parsed).build_at(now);
        let own = OAuthClientJobQuery::builder(parsed).build_at(now);
        assert_eq!(org.is_ok(), accepted, "client, organization: {interval}");
        assert_eq!(own.is_ok(), accepted, "client, OAuth client: {interval}");
        if !accepted {
            let err = org.unwrap_err();
            assert!(matches!(err, usage_sdk::Error::InvalidInput(_)), "{err:?}");
        }
        for path in [ORG_JOBS.to_string(), client_jobs(DEMO_CLIENT_ID)] {
            let body = json!({ "interval": interval }).to_string();
            let answer = post(&si, Some(&token), &path, &body).await;
            if accepted {
                assert_eq!(
                    answer.status,
                    StatusCode::ACCEPTED,
                    "{interval}: {:?}",
                    answer.body
                );
            } else {
                answer.assert_error(400, "invalid.date");
            }
        }
    }

    let uri = submit(
        &si,
        &token,
        ORG_JOBS,
        json!({ "interval": week().to_string() }),
    )
    .await;
    for (rows, accepted) in [(0, false), (1, true), (1000, true), (1001, false)] {
        assert_eq!(
            PageSize::new(rows).is_ok(),
            accepted,
            "client, pageSize {rows}"
        );
        let answer = get(&si, Some(&token), &format!("{uri}?pageSize={rows}")).await;
        if accepted {
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "pageSize {rows}: {:?}",
                answer.body
            );
        } else {
            answer.assert_error(400, "invalid.query.param.value");
        }
    }

    // The events query's pageSize: "Maximum of 200", a string on the wire.
    let events = json!({ "interval": week().to_string() }).to_string();
    for (events_per_page, accepted) in [(0, false), (1, true), (200, true), (201, false)] {
        assert_eq!(
            usage_sdk::EventPageSize::new(events_per_page).is_ok(),
            accepted,
            "client, events pageSize {events_per_page}"
        );
        let path = format!("/api/v2/usage/events/query?pageSize={events_per_page}");
        let answer = post(&si, Some(&token), &path, &events).await;
        if accepted {
            assert_eq!(answer.status, StatusCode::OK, "{path}: {:?}", answer.body);
        } else {
            answer.assert_error(400, "invalid.query.param.value");
        }
    }
}
