//! The local Usage API stand-in, driven over HTTP with plain reqwest:
//! the token flow, the asynchronous executions, the data semantics, validation, rate
//! limiting, fault injection and correlation ids, as the reference describes the real API.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};
use usage_sdk_stand_in::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Fault, FaultSettings, Route, RunningStandIn, StandIn,
    StandInBuilder,
};

/// A fixed "today", so intervals in these tests always fall inside the data.
pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

/// Seven full days well inside the data window.
const WEEK: &str = "2026-11-02T00:00:00Z/2026-11-09T00:00:00Z";

/// Instant executions and a pinned date: the common starting point.
fn builder() -> StandInBuilder {
    StandIn::builder()
        .today(today())
        .execution_time(Duration::ZERO)
}

pub(crate) async fn start(builder: StandInBuilder) -> RunningStandIn {
    builder.start().await.expect("the stand-in binds 127.0.0.1")
}

fn http() -> reqwest::Client {
    crate::plain_http()
}

/// `POST /oauth/token` as the Python SDK sends it.
async fn token_response(
    si: &RunningStandIn,
    id: &str,
    secret: &str,
    form: &str,
) -> reqwest::Response {
    http()
        .post(format!("{}/oauth/token", si.base_url()))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept-encoding", "identity")
        .body(form.to_string())
        .send()
        .await
        .expect("the token request is answered")
}

/// A token for the demo client.
pub(crate) async fn demo_token(si: &RunningStandIn) -> String {
    let response = token_response(
        si,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// A response read out: status, correlation id, headers and JSON body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Answer {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {bytes:?}"));
        Self {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn correlation_id(&self) -> &str {
        self.header("inin-correlation-id")
            .expect("every response has an ININ-Correlation-Id")
    }

    /// Asserts an ErrorBody with `status` and `code`, whose contextId is the correlation id.
    pub(crate) fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(self.body["code"], code, "{:?}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(self.body["contextId"], self.correlation_id());
    }
}

pub(crate) async fn get(si: &RunningStandIn, token: Option<&str>, path: &str) -> Answer {
    // The Python SDK sends Content-Type on body-less GETs and asks for identity encoding.
    let mut request = http()
        .get(format!("{}{path}", si.base_url()))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("accept-encoding", "identity");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::from(request.send().await.unwrap()).await
}

pub(crate) async fn post(
    si: &RunningStandIn,
    token: Option<&str>,
    path: &str,
    body: &str,
) -> Answer {
    let mut request = http()
        .post(format!("{}{path}", si.base_url()))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::from(request.send().await.unwrap()).await
}

fn client_path(client_id: &str, rest: &str) -> String {
    format!("/api/v2/oauth/clients/{client_id}/usage/{rest}")
}

/// Submits `query` (to `path`), expects a 202 handle, and returns its resultsUri.
async fn submit(si: &RunningStandIn, token: &str, path: &str, query: Value) -> String {
    let answer = post(si, Some(token), path, &query.to_string()).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let id = answer.body["executionId"].as_str().unwrap();
    let uri = answer.body["resultsUri"].as_str().unwrap().to_string();
    assert!(uri.contains(id), "{uri} names {id}");
    uri
}

/// The Complete rows of an instant execution.
async fn complete_rows(si: &RunningStandIn, token: &str, results_uri: &str) -> Vec<Value> {
    let answer = get(si, Some(token), results_uri).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["queryStatus"], "Complete", "{:?}", answer.body);
    answer.body["results"].as_array().unwrap().clone()
}

async fn org_rows(si: &RunningStandIn, token: &str, query: Value) -> Vec<Value> {
    let uri = submit(si, token, "/api/v2/usage/query", query).await;
    complete_rows(si, token, &uri).await
}

pub(crate) fn int(row: &Value, field: &str) -> i64 {
    row[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {row}"))
}

const METRICS: [&str; 6] = [
    "status200",
    "status300",
    "status400",
    "status500",
    "status429",
    "requests",
];
const DIMENSIONS: [&str; 6] = [
    "clientId",
    "clientName",
    "organizationId",
    "userId",
    "templateUri",
    "httpMethod",
];

mod auth {
    use super::*;

    #[tokio::test]
    async fn the_demo_client_gets_a_bearer_token_with_the_configured_lifetime() {
        let si = start(builder()).await;
        assert_eq!(si.demo_client().id, DEMO_CLIENT_ID);
        assert_eq!(si.demo_client().secret, DEMO_CLIENT_SECRET);

        let response = token_response(
            &si,
            DEMO_CLIENT_ID,
            DEMO_CLIENT_SECRET,
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key("inin-correlation-id"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 86_399);
        assert!(body["access_token"].as_str().is_some_and(|t| t.len() >= 32));

        // Every seeded client can log in too.
        let other = si.oauth_clients()[2].clone();
        let response = token_response(
            &si,
            &other.id,
            &other.secret,
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);

        let stats = si.stats();
        assert_eq!(stats.token_requests(), 2);
        assert_eq!(stats.tokens_issued, 2);
    }

    #[tokio::test]
    async fn bad_credentials_and_grants_get_oauth_errors() {
        let si = start(builder()).await;
        let cases = [
            (
                DEMO_CLIENT_ID,
                "wrong",
                "grant_type=client_credentials",
                401,
                "invalid_client",
            ),
            (
                "no-such-client",
                "x",
                "grant_type=client_credentials",
                401,
                "invalid_client",
            ),
            (
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                "grant_type=password",
                400,
                "unsupported_grant_type",
            ),
            (
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                "",
                400,
                "invalid_request",
            ),
        ];
        for (id, secret, form, status, error) in cases {
            let response = token_response(&si, id, secret, form).await;
            assert_eq!(response.status().as_u16(), status, "{id} {form}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], error, "{id} {form}");
            assert!(body["description"].is_string());
            assert_eq!(body["description"], body["error_description"]);
        }
        let no_auth = http()
            .post(format!("{}/oauth/token", si.base_url()))
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        assert_eq!(no_auth.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(si.stats().tokens_issued, 0);

        let refusing = start(builder().unauthorized_client(true)).await;
        let response = token_response(
            &refusing,
            DEMO_CLIENT_ID,
            DEMO_CLIENT_SECRET,
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized_client");
    }

    #[tokio::test]
    async fn api_calls_need_a_valid_unexpired_bearer_token() {
        // Sub-second, but long enough that a loaded machine still uses the token in time.
        let si = start(builder().token_lifetime(Duration::from_millis(900))).await;
        let results = "/api/v2/usage/query/00000000-0000-4000-8000-000000000000/results";

        get(&si, None, results)
            .await
            .assert_error(401, "authentication.required");
        post(
            &si,
            None,
            "/api/v2/usage/query",
            &json!({"interval": WEEK}).to_string(),
        )
        .await
        .assert_error(401, "authentication.required");
        get(&si, Some("never-issued"), results)
            .await
            .assert_error(401, "bad.credentials");

        let response = token_response(
            &si,
            DEMO_CLIENT_ID,
            DEMO_CLIENT_SECRET,
            "grant_type=client_credentials",
        )
        .await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["expires_in"], 1, "sub-second lifetimes round up");
        let token = body["access_token"].as_str().unwrap().to_string();
        let valid = get(&si, Some(&token), results).await;
        valid.assert_error(404, "not.found");

        tokio::time::sleep(Duration::from_millis(1_000)).await;
        get(&si, Some(&token), results)
            .await
            .assert_error(401, "bad.credentials");
        assert_eq!(si.stats().responses_with(401), 4);
    }

    #[tokio::test]
    async fn expire_tokens_invalidates_every_issued_token() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let uri = submit(
            &si,
            &token,
            "/api/v2/usage/query",
            json!({"interval": WEEK}),
        )
        .await;
        si.expire_tokens();
        get(&si, Some(&token), &uri)
            .await
            .assert_error(401, "bad.credentials");
        let fresh = demo_token(&si).await;
        assert_eq!(get(&si, Some(&fresh), &uri).await.status, StatusCode::OK);
    }
}

mod executions {
    use super::*;

    #[tokio::test]
    async fn an_org_query_reports_running_then_complete() {
        // A second-long execution: a loaded machine still polls while it runs, and the
        // second poll waits from when the submit returned, after the execution started.
        let si = start(builder().execution_time(Duration::from_secs(1))).await;
        let token = demo_token(&si).await;

        let answer = post(
            &si,
            Some(&token),
            "/api/v2/usage/query",
            &json!({"interval": WEEK}).to_string(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        let id = answer.body["executionId"].as_str().unwrap();
        assert_eq!(id.len(), 36, "UUID-shaped: {id}");
        assert_eq!(
            answer.body["resultsUri"],
            format!("/api/v2/usage/query/{id}/results")
        );
        let uri = answer.body["resultsUri"].as_str().unwrap();
        let submitted = tokio::time::Instant::now();

        let running = get(&si, Some(&token), uri).await;
        assert_eq!(running.status, StatusCode::OK);
        assert_eq!(running.body, json!({"queryStatus": "Running"}));

        tokio::time::sleep_until(submitted + Duration::from_millis(1_100)).await;
        let rows = complete_rows(&si, &token, uri).await;
        assert!(!rows.is_empty());
        assert_eq!(si.stats().executions_started, 1);
        assert_eq!(si.stats().requests_to(Route::GetUsageQueryResults), 2);
    }

    #[tokio::test]
    async fn a_queued_status_outside_the_spec_comes_first_when_configured() {
        // Second-long phases, polled at their middles counted from when the submit returned:
        // a loaded machine may delay each poll by up to ~0.7 s and still see the right phase.
        let phase = Duration::from_secs(1);
        let si = start(builder().queued_for(phase).execution_time(phase)).await;
        let token = demo_token(&si).await;
        let uri = submit(
            &si,
            &token,
            "/api/v2/usage/query",
            json!({"interval": WEEK}),
        )
        .await;
        let submitted = tokio::time::Instant::now();
        let status = |a: Answer| a.body["queryStatus"].as_str().unwrap().to_string();
        assert_eq!(status(get(&si, Some(&token), &uri).await), "Queued");
        tokio::time::sleep_until(submitted + phase.mul_f64(1.25)).await;
        assert_eq!(status(get(&si, Some(&token), &uri).await), "Running");
        tokio::time::sleep_until(submitted + phase.mul_f64(2.25)).await;
        assert_eq!(status(get(&si, Some(&token), &uri).await), "Complete");
    }

    #[tokio::test]
    async fn failing_executions_report_failed_without_results() {
        let si = start(builder().fail_every_execution(true)).await;
        let token = demo_token(&si).await;
        let uri = submit(
            &si,
            &token,
            "/api/v2/usage/query",
            json!({"interval": WEEK}),
        )
        .await;
        assert_eq!(
            get(&si, Some(&token), &uri).await.body,
            json!({"queryStatus": "Failed"})
        );

        // A predicate picks which executions fail: here, only client queries and summaries.
        let si = start(builder().fail_executions_when(|request| request.client_id.is_some())).await;
        let token = demo_token(&si).await;
        let org = submit(
            &si,
            &token,
            "/api/v2/usage/query",
            json!({"interval": WEEK}),
        )
        .await;
        assert_eq!(
            get(&si, Some(&token), &org).await.body["queryStatus"],
            "Complete"
        );
        let client = submit(
            &si,
            &token,
            &client_path(DEMO_CLIENT_ID, "query"),
            json!({"interval": WEEK}),
        )
        .await;
        assert_eq!(
            get(&si, Some(&token), &client).await.body,
            json!({"queryStatus": "Failed"})
        );

        si.set_fail_every_execution(true);
        let org = submit(
            &si,
            &token,
            "/api/v2/usage/query",
            json!({"interval": WEEK}),
        )
        .await;
        assert_eq!(
            get(&si, Some(&token), &org).await.body["queryStatus"],
            "Failed"
        );
    }
}

mod data {
    use super::*;

    #[tokio::test]
    async fn no_group_by_means_per_client_with_all_six_metrics_and_no_date() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let rows = org_rows(&si, &token, json!({"interval": WEEK})).await;
        let ids: BTreeSet<&str> = rows
            .iter()
            .map(|r| r["clientId"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), rows.len(), "one row per client");
        assert!(ids.contains(DEMO_CLIENT_ID));
        for row in &rows {
            assert!(row.get("date").is_none(), "no granularity, no date: {row}");
            let client = si
                .oauth_clients()
                .iter()
                .find(|c| c.id == row["clientId"])
                .expect("a seeded client");
            assert_eq!(row["clientName"], client.name.as_str());
            for dim in ["organizationId", "userId", "templateUri", "httpMethod"] {
                assert_eq!(
                    row[dim], "",
                    "ungrouped {dim} is an empty string, not omitted"
                );
            }
            for metric in METRICS {
                assert!(row[metric].is_i64(), "{metric} in {row}");
            }
            assert_eq!(
                int(row, "requests"),
                int(row, "status200")
                    + int(row, "status300")
                    + int(row, "status400")
                    + int(row, "status500")
            );
            assert!(int(row, "status429") <= int(row, "status400"));
        }
    }

    #[tokio::test]
    async fn group_by_granularity_and_metrics_shape_the_rows() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let rows = org_rows(
            &si,
            &token,
            json!({
                "interval": WEEK,
                "granularity": "Day",
                "groupBy": ["TemplateUri", "HttpMethod"],
                "metrics": ["Requests", "Status429"],
            }),
        )
        .await;
        assert!(!rows.is_empty());
        let start: DateTime<Utc> = "2026-11-02T00:00:00Z".parse().unwrap();
        let end: DateTime<Utc> = "2026-11-09T00:00:00Z".parse().unwrap();
        let mut dates = BTreeSet::new();
        for row in &rows {
            let date: DateTime<Utc> = row["date"].as_str().unwrap().parse().unwrap();
            assert!(start <= date && date < end, "{date}");
            assert_eq!(
                date.time(),
                chrono::NaiveTime::MIN,
                "first instant of the day"
            );
            dates.insert(date);
            let template = row["templateUri"].as_str().unwrap();
            assert!(
                template.starts_with("api/v2/"),
                "no leading slash: {template}"
            );
            assert!(
                ["GET", "POST", "PUT", "PATCH", "DELETE"]
                    .contains(&row["httpMethod"].as_str().unwrap())
            );
            for dim in ["clientId", "clientName", "organizationId", "userId"] {
                assert_eq!(row[dim], "");
            }
            let present: BTreeSet<&str> = METRICS
                .iter()
                .copied()
                .filter(|m| row.get(*m).is_some())
                .collect();
            assert_eq!(present, BTreeSet::from(["requests", "status429"]));
        }
        assert!(dates.len() >= 5, "a week of daily buckets: {dates:?}");

        // Weekly buckets start on Monday; totals do not depend on the granularity.
        let total = |rows: &[Value]| rows.iter().map(|r| int(r, "requests")).sum::<i64>();
        let month = "2026-09-01T00:00:00Z/2026-11-01T00:00:00Z";
        let weekly = org_rows(
            &si,
            &token,
            json!({"interval": month, "granularity": "Week", "groupBy": ["OrganizationId"]}),
        )
        .await;
        for row in &weekly {
            let date: DateTime<Utc> = row["date"].as_str().unwrap().parse().unwrap();
            assert_eq!(date.weekday(), Weekday::Mon);
            assert_eq!(row["organizationId"], si.organization_id());
        }
        let monthly = org_rows(
            &si,
            &token,
            json!({"interval": month, "granularity": "Month", "groupBy": ["OrganizationId"]}),
        )
        .await;
        assert_eq!(monthly.len(), 2);
        let whole = org_rows(
            &si,
            &token,
            json!({"interval": month, "groupBy": ["OrganizationId"]}),
        )
        .await;
        assert_eq!(whole.len(), 1);
        assert_eq!(total(&weekly), total(&whole));
        assert_eq!(total(&monthly), total(&whole));

        // Date-only intervals mean the same instants as the RFC 3339 form.
        let date_only = org_rows(
            &si,
            &token,
            json!({"interval": "2026-09-01/2026-11-01", "groupBy": ["OrganizationId"]}),
        )
        .await;
        assert_eq!(date_only, whole);
    }

    #[tokio::test]
    async fn user_grouping_and_all_dimensions() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let rows = org_rows(
            &si,
            &token,
            json!({"interval": WEEK, "groupBy": ["OAuthClientId", "OrganizationId", "UserId", "TemplateUri", "HttpMethod"]}),
        )
        .await;
        assert!(
            rows.iter()
                .any(|r| r["userId"].as_str().unwrap().len() == 36),
            "some calls act for users"
        );
        for row in &rows {
            for dim in [
                "clientId",
                "clientName",
                "organizationId",
                "templateUri",
                "httpMethod",
            ] {
                assert_ne!(row[dim], "", "{dim} grouped in {row}");
            }
            for dim in DIMENSIONS {
                assert!(row[dim].is_string());
            }
        }
    }

    #[tokio::test]
    async fn client_queries_and_the_summary_cover_only_that_client() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let other = si.oauth_clients()[1].id.clone();

        let answer = post(
            &si,
            Some(&token),
            &client_path(&other, "query"),
            &json!({"interval": WEEK, "groupBy": ["OAuthClientId", "TemplateUri"]}).to_string(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        let id = answer.body["executionId"].as_str().unwrap();
        assert_eq!(
            answer.body["resultsUri"],
            client_path(&other, &format!("query/results/{id}"))
        );
        let rows = complete_rows(&si, &token, answer.body["resultsUri"].as_str().unwrap()).await;
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r["clientId"] == other.as_str()));

        // Summary: the last N full UTC days (today excluded), one row for the client.
        let answer = get(&si, Some(&token), &client_path(&other, "summary?days=3")).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        let id = answer.body["executionId"].as_str().unwrap();
        assert_eq!(
            answer.body["resultsUri"],
            client_path(&other, &format!("query/results/{id}"))
        );
        let summary = complete_rows(&si, &token, answer.body["resultsUri"].as_str().unwrap()).await;
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0]["clientId"], other.as_str());
        let same_days = submit(
            &si,
            &token,
            &client_path(&other, "query"),
            json!({"interval": "2026-11-23/2026-11-26"}),
        )
        .await;
        assert_eq!(complete_rows(&si, &token, &same_days).await, summary);

        // Without days, 7.
        let answer = get(&si, Some(&token), &client_path(&other, "summary")).await;
        let seven = complete_rows(&si, &token, answer.body["resultsUri"].as_str().unwrap()).await;
        assert!(int(&seven[0], "requests") > int(&summary[0], "requests"));
    }

    #[tokio::test]
    async fn the_same_seed_serves_the_same_data() {
        let query = json!({"interval": WEEK, "groupBy": ["TemplateUri"], "granularity": "Day"});
        let a = start(builder().seed(11)).await;
        let b = start(builder().seed(11)).await;
        let c = start(builder().seed(12)).await;
        async fn rows(si: &RunningStandIn, query: &Value) -> Vec<Value> {
            let token = demo_token(si).await;
            org_rows(si, &token, query.clone()).await
        }
        assert_eq!(rows(&a, &query).await, rows(&b, &query).await);
        assert_ne!(rows(&a, &query).await, rows(&c, &query).await);
        assert_eq!(a.oauth_clients(), b.oauth_clients());
    }
}

mod validation {
    use super::*;

    #[tokio::test]
    async fn bad_queries_get_400s_with_the_real_codes() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let org = "/api/v2/usage/query";
        let client = client_path(DEMO_CLIENT_ID, "query");
        let cases: [(&str, &str, &str); 12] = [
            (org, r#"{"interval":"not an interval"}"#, "invalid.date"),
            (
                org,
                r#"{"interval":"2026-11-09T00:00:00Z/2026-11-02T00:00:00Z"}"#,
                "invalid.date",
            ),
            (
                org,
                r#"{"interval":"2026-11-02/2026-11-02"}"#,
                "invalid.date",
            ),
            (org, r#"{"granularity":"Day"}"#, "invalid.date"),
            (
                org,
                r#"{"interval":"2026-11-02/2026-11-09","granularity":"Hour"}"#,
                "invalid.value",
            ),
            (
                org,
                r#"{"interval":"2026-11-02/2026-11-09","metrics":["Status201"]}"#,
                "invalid.value",
            ),
            (
                org,
                r#"{"interval":"2026-11-02/2026-11-09","groupBy":["TemplateURI"]}"#,
                "invalid.value",
            ),
            (
                &client,
                r#"{"interval":"2026-11-02/2026-11-09","groupBy":["UserId"]}"#,
                "invalid.value",
            ),
            (org, r#"{"interval":"2026-11-02/2026-11-09""#, "bad.request"),
            (org, "", "bad.request"),
            (org, r#"["interval"]"#, "bad.request"),
            (
                org,
                r#"{"interval":"2026-11-02/2026-11-09","metrics":"Requests"}"#,
                "bad.request",
            ),
        ];
        for (path, body, code) in cases {
            let answer = post(&si, Some(&token), path, body).await;
            assert_eq!(
                answer.body["code"], code,
                "{path} {body}: {:?}",
                answer.body
            );
            answer.assert_error(400, code);
        }
        for days in ["abc", "0", "-1", "1.5"] {
            get(
                &si,
                Some(&token),
                &client_path(DEMO_CLIENT_ID, &format!("summary?days={days}")),
            )
            .await
            .assert_error(400, "invalid.value");
        }
        assert_eq!(si.stats().executions_started, 0);
    }

    #[tokio::test]
    async fn unknown_executions_clients_and_paths_are_404() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let other = si.oauth_clients()[1].id.clone();
        let unknown_client = "00000000-0000-4000-8000-0000000000ff";

        get(&si, Some(&token), "/api/v2/usage/query/nope/results")
            .await
            .assert_error(404, "not.found");
        post(
            &si,
            Some(&token),
            &client_path(unknown_client, "query"),
            &json!({"interval": WEEK}).to_string(),
        )
        .await
        .assert_error(404, "not.found");
        get(&si, Some(&token), &client_path(unknown_client, "summary"))
            .await
            .assert_error(404, "not.found");

        // An execution is only found under the path (and client) it was created for.
        let org_uri = submit(
            &si,
            &token,
            "/api/v2/usage/query",
            json!({"interval": WEEK}),
        )
        .await;
        let org_id = org_uri.split('/').nth(5).unwrap().to_string();
        get(
            &si,
            Some(&token),
            &client_path(DEMO_CLIENT_ID, &format!("query/results/{org_id}")),
        )
        .await
        .assert_error(404, "not.found");
        let client_uri = submit(
            &si,
            &token,
            &client_path(DEMO_CLIENT_ID, "query"),
            json!({"interval": WEEK}),
        )
        .await;
        let client_exec = client_uri.rsplit('/').next().unwrap().to_string();
        get(
            &si,
            Some(&token),
            &client_path(&other, &format!("query/results/{client_exec}")),
        )
        .await
        .assert_error(404, "not.found");
        get(
            &si,
            Some(&token),
            &client_path(unknown_client, &format!("query/results/{client_exec}")),
        )
        .await
        .assert_error(404, "not.found");
        get(
            &si,
            Some(&token),
            &format!("/api/v2/usage/query/{client_exec}/results"),
        )
        .await
        .assert_error(404, "not.found");
        assert_eq!(
            get(&si, Some(&token), &client_uri).await.status,
            StatusCode::OK
        );

        // Unknown paths (and wrong methods), with or without a token.
        get(&si, None, "/api/v2/usage/queries")
            .await
            .assert_error(404, "not.found");
        get(&si, Some(&token), "/api/v2/usage/query")
            .await
            .assert_error(404, "not.found");
        assert_eq!(si.stats().requests_to(Route::Unknown), 2);
    }
}

mod rate_limit {
    use super::*;

    #[tokio::test]
    async fn each_token_has_a_bucket_and_a_429_says_when_to_retry() {
        // 2 requests, refilled at 1 per second: the first three requests meet an empty bucket
        // as long as they come within a second, even on a loaded machine.
        let si = start(builder().rate_limit(2, Duration::from_secs(2))).await;
        let token = demo_token(&si).await;
        let path = "/api/v2/usage/query/x/results";

        let first = get(&si, Some(&token), path).await;
        assert_eq!(first.header("inin-ratelimit-count"), Some("1"));
        assert_eq!(first.header("inin-ratelimit-allowed"), Some("2"));
        assert_eq!(first.header("inin-ratelimit-reset"), Some("1"));
        let second = get(&si, Some(&token), path).await;
        assert_eq!(second.header("inin-ratelimit-count"), Some("2"));

        let limited = get(&si, Some(&token), path).await;
        limited.assert_error(429, "too.many.requests.retry.after");
        assert_eq!(limited.header("retry-after"), Some("1"));
        assert_eq!(limited.header("inin-ratelimit-count"), Some("2"));
        assert_eq!(limited.header("inin-ratelimit-allowed"), Some("2"));
        assert_eq!(limited.body["limit"]["value"], 2);
        assert_eq!(si.stats().rate_limited, 1);

        // Another token is not affected; the token endpoint is not limited.
        let other = demo_token(&si).await;
        get(&si, Some(&other), path)
            .await
            .assert_error(404, "not.found");

        // The bucket refills smoothly: one request fits again after a second.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        get(&si, Some(&token), path)
            .await
            .assert_error(404, "not.found");
    }

    #[tokio::test]
    async fn the_default_is_300_per_minute() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let answer = get(&si, Some(&token), "/api/v2/usage/query/x/results").await;
        assert_eq!(answer.header("inin-ratelimit-allowed"), Some("300"));
        assert_eq!(answer.header("inin-ratelimit-count"), Some("1"));

        let unlimited = start(builder().no_rate_limit()).await;
        let token = demo_token(&unlimited).await;
        let answer = get(&unlimited, Some(&token), "/api/v2/usage/query/x/results").await;
        assert_eq!(answer.header("inin-ratelimit-allowed"), None);
    }
}

mod faults {
    use super::*;

    #[tokio::test]
    async fn a_503_share_answers_service_unavailable() {
        let si = start(builder().unavailable_share(1.0)).await;
        // The token endpoint is spared unless asked for.
        let token = demo_token(&si).await;
        let answer = post(
            &si,
            Some(&token),
            "/api/v2/usage/query",
            &json!({"interval": WEEK}).to_string(),
        )
        .await;
        answer.assert_error(503, "service.unavailable");
        assert_eq!(si.stats().executions_started, 0);

        // A seeded share in between: the same seed faults the same requests.
        let pattern = |seed| async move {
            let si = start(builder().seed(seed).unavailable_share(0.5)).await;
            let token = demo_token(&si).await;
            let mut statuses = Vec::new();
            for _ in 0..20 {
                statuses.push(
                    get(&si, Some(&token), "/api/v2/usage/query/x/results")
                        .await
                        .status
                        .as_u16(),
                );
            }
            statuses
        };
        let a = pattern(3).await;
        assert_eq!(a, pattern(3).await);
        assert!(a.contains(&503) && a.contains(&404), "{a:?}");
    }

    #[tokio::test]
    async fn dropped_connections_close_without_an_answer() {
        let si = start(builder().drop_share(1.0)).await;
        let token = demo_token(&si).await;
        let error = http()
            .get(format!("{}/api/v2/usage/query/x/results", si.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .expect_err("the connection is closed without a response");
        assert!(!error.is_status() && !error.is_timeout(), "{error:?}");
        assert_eq!(si.stats().dropped, 1);

        si.set_fault_settings(FaultSettings::default());
        assert_eq!(
            get(&si, Some(&token), "/api/v2/usage/query/x/results")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn injected_faults_hit_the_next_requests_in_order() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        si.inject(Fault::Unavailable, 1);
        si.inject(Fault::RateLimited, 1);
        si.inject(Fault::InternalError, 1);
        si.inject(Fault::Drop, 1);
        let path = "/api/v2/usage/query/x/results";
        get(&si, Some(&token), path)
            .await
            .assert_error(503, "service.unavailable");
        let limited = get(&si, Some(&token), path).await;
        limited.assert_error(429, "too.many.requests.retry.after");
        assert_eq!(limited.header("retry-after"), Some("1"));
        get(&si, Some(&token), path)
            .await
            .assert_error(500, "internal.server.error");
        assert!(
            http()
                .get(format!("{}{path}", si.base_url()))
                .bearer_auth(&token)
                .send()
                .await
                .is_err()
        );
        get(&si, Some(&token), path)
            .await
            .assert_error(404, "not.found");
    }

    #[tokio::test]
    async fn latency_delays_every_response() {
        let si = start(builder().latency(Duration::from_millis(150))).await;
        let began = Instant::now();
        get(&si, None, "/nowhere")
            .await
            .assert_error(404, "not.found");
        assert!(began.elapsed() >= Duration::from_millis(150));
    }
}

mod http {
    use super::*;

    #[tokio::test]
    async fn every_response_has_a_fresh_correlation_id_equal_to_the_context_id() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let ok = post(
            &si,
            Some(&token),
            "/api/v2/usage/query",
            &json!({"interval": WEEK}).to_string(),
        )
        .await;
        let error = get(&si, None, "/api/v2/usage/query/x/results").await;
        error.assert_error(401, "authentication.required");
        let other = get(&si, None, "/api/v2/usage/query/x/results").await;
        let ids: BTreeSet<&str> = [
            ok.correlation_id(),
            error.correlation_id(),
            other.correlation_id(),
        ]
        .into();
        assert_eq!(ids.len(), 3, "unique per response");
        assert_eq!(ok.header("content-type"), Some("application/json"));
    }

    #[tokio::test]
    async fn the_server_listens_on_loopback_and_stops_on_drop() {
        let si = start(builder()).await;
        let url = si.base_url();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert_eq!(si.local_addr().ip().to_string(), "127.0.0.1");
        assert!(si.stats().connections == 0);
        drop(si);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = http().get(format!("{url}/oauth/token")).send().await;
        assert!(refused.is_err(), "nothing listens after drop");
    }
}
