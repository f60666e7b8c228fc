//! The stand-in's newer Usage operations, driven over HTTP with plain reqwest: the
//! aggregates query jobs (organization and client) and simple search. Submission, the
//! Queued → Running → Succeeded lifecycle, paging with `nextUri` and `cursors.after`,
//! validation, forced outcomes, filters and sorting, and the built-in Genesys client that only
//! the jobs see (reference §10).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use usage_sdk_stand_in::{
    BUILTIN_CLIENT_ID, BUILTIN_CLIENT_NAME, DEMO_CLIENT_ID, Fault, JobOutcome, RunningStandIn,
    StandIn, StandInBuilder,
};

use super::server::{Answer, demo_token, get, int, post, start, today};

/// Seven full days well inside the data window (and within a year of the pinned today).
const WEEK: &str = "2026-11-02T00:00:00Z/2026-11-09T00:00:00Z";
const ORG_JOBS: &str = "/api/v2/usage/aggregates/query/jobs";
const SIMPLE_SEARCH: &str = "/api/v2/usage/simplesearch";

/// Instant jobs and executions, a pinned date, no rate limit.
fn builder() -> StandInBuilder {
    StandIn::builder()
        .today(today())
        .job_times(Duration::ZERO, Duration::ZERO)
        .execution_time(Duration::ZERO)
        .no_rate_limit()
}

fn client_jobs(client_id: &str) -> String {
    format!("/api/v2/usage/client/{client_id}/aggregates/query/jobs")
}

/// Submits a job, expects 202 with an id, and returns its resultsUri.
async fn submit(si: &RunningStandIn, token: &str, path: &str, body: Value) -> String {
    let answer = post(si, Some(token), path, &body.to_string()).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let id = answer.body["id"].as_str().expect("the job id");
    let uri = answer.body["resultsUri"].as_str().unwrap().to_string();
    assert_eq!(uri, format!("{path}/{id}"));
    assert_eq!(answer.body["selfUri"], uri.as_str());
    uri
}

/// Every entity of a succeeded job, following `nextUri` from a first page of `page_size`;
/// also the number of pages.
async fn all_entities(
    si: &RunningStandIn,
    token: &str,
    uri: &str,
    page_size: usize,
) -> (Vec<Value>, usize) {
    let mut next = Some(format!("{uri}?pageSize={page_size}"));
    let mut rows = Vec::new();
    let mut pages = 0;
    while let Some(path) = next.take() {
        let answer = get(si, Some(token), &path).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.body["queryStatus"], "Succeeded");
        let page = answer.body["entities"].as_array().unwrap();
        assert!(page.len() <= page_size);
        rows.extend(page.iter().cloned());
        pages += 1;
        if let Some(uri) = answer.body.get("nextUri") {
            let uri = uri.as_str().unwrap();
            assert!(
                uri.starts_with(&format!(
                    "{}?pageSize={page_size}&after=",
                    path.split('?').next().unwrap()
                )),
                "{uri}"
            );
            assert_eq!(page.len(), page_size, "only the last page is short");
            next = Some(uri.to_string());
        }
    }
    (rows, pages)
}

async fn job_rows(si: &RunningStandIn, token: &str, path: &str, body: Value) -> Vec<Value> {
    let uri = submit(si, token, path, body).await;
    all_entities(si, token, &uri, 1000).await.0
}

mod jobs {
    use super::*;

    #[tokio::test]
    async fn a_job_is_queued_then_running_then_succeeded() {
        // Second-long phases, polled at their middles counted from when the submit returned
        // (after the job started): a loaded machine may delay each poll by ~0.7 s.
        let phase = Duration::from_secs(1);
        let si = start(builder().job_times(phase, phase)).await;
        let token = demo_token(&si).await;
        let uri = submit(&si, &token, ORG_JOBS, json!({ "interval": WEEK })).await;
        let t0 = Instant::now();

        let queued = get(&si, Some(&token), &uri).await;
        assert_eq!(queued.status, StatusCode::ACCEPTED);
        assert_eq!(queued.body["queryStatus"], "Queued");
        assert!(queued.body.get("entities").is_none());

        tokio::time::sleep((t0 + phase.mul_f64(1.25)).saturating_duration_since(Instant::now()))
            .await;
        let running = get(&si, Some(&token), &uri).await;
        assert_eq!(running.status, StatusCode::ACCEPTED);
        assert_eq!(running.body["queryStatus"], "Running");
        assert!(running.body.get("entities").is_none());

        tokio::time::sleep((t0 + phase.mul_f64(2.25)).saturating_duration_since(Instant::now()))
            .await;
        let done = get(&si, Some(&token), &uri).await;
        assert_eq!(done.status, StatusCode::OK);
        assert_eq!(done.body["queryStatus"], "Succeeded");
        assert!(!done.body["entities"].as_array().unwrap().is_empty());
        assert!(
            done.body.get("nextUri").is_none(),
            "one client per row fits one page"
        );
    }

    #[tokio::test]
    async fn paging_by_7_yields_exactly_the_rows_of_one_page_of_1000() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let body = json!({
            "interval": WEEK,
            "granularity": "Day",
            "groupBy": ["OauthClientId", "UserId", "TemplateUri", "HttpMethod", "Platform"],
        });
        let uri = submit(&si, &token, ORG_JOBS, body).await;
        let (whole, pages) = all_entities(&si, &token, &uri, 1000).await;
        assert_eq!(pages, 1);
        assert!(whole.len() > 50, "{} rows", whole.len());
        let (paged, pages) = all_entities(&si, &token, &uri, 7).await;
        assert_eq!(pages, whole.len().div_ceil(7));
        assert_eq!(
            paged, whole,
            "same rows, same order, none twice, none dropped"
        );
        let distinct: BTreeSet<String> = paged.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), paged.len());

        // The default page is 100 rows, and the cursor is not a bare offset.
        let first = get(&si, Some(&token), &uri).await;
        assert_eq!(
            first.body["entities"].as_array().unwrap().len(),
            100.min(whole.len())
        );
        let second = get(&si, Some(&token), &format!("{uri}?pageSize=7")).await;
        let next = second.body["nextUri"].as_str().unwrap();
        let cursor = next.split("after=").nth(1).unwrap();
        assert!(cursor.parse::<u64>().is_err() && cursor != "7", "{cursor}");
    }

    #[tokio::test]
    async fn page_size_and_cursor_are_validated() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let uri = submit(&si, &token, ORG_JOBS, json!({ "interval": WEEK })).await;
        for bad in [
            "pageSize=0",
            "pageSize=1001",
            "pageSize=abc",
            "after=7",
            "after=zzz",
        ] {
            get(&si, Some(&token), &format!("{uri}?{bad}"))
                .await
                .assert_error(400, "invalid.query.param.value");
        }
        // A cursor of another job is refused too.
        let other = submit(
            &si,
            &token,
            ORG_JOBS,
            json!({ "interval": WEEK, "groupBy": ["TemplateUri"] }),
        )
        .await;
        let next = get(&si, Some(&token), &format!("{other}?pageSize=1"))
            .await
            .body["nextUri"]
            .as_str()
            .unwrap()
            .to_string();
        let cursor = next.split("after=").nth(1).unwrap();
        get(
            &si,
            Some(&token),
            &format!("{uri}?pageSize=1&after={cursor}"),
        )
        .await
        .assert_error(400, "invalid.query.param.value");
    }

    #[tokio::test]
    async fn intervals_are_required_ordered_within_a_year_and_at_most_90_days_long() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        for body in [
            json!({}),
            json!({ "interval": "last week" }),
            json!({ "interval": "2026-11-09T00:00:00Z/2026-11-02T00:00:00Z" }),
            json!({ "interval": "2025-11-01T00:00:00Z/2025-11-08T00:00:00Z" }),
            json!({ "interval": "2026-06-01T00:00:00Z/2026-09-01T00:00:00Z" }),
        ] {
            post(&si, Some(&token), ORG_JOBS, &body.to_string())
                .await
                .assert_error(400, "invalid.date");
        }
        // Exactly 90 days is fine.
        submit(
            &si,
            &token,
            ORG_JOBS,
            json!({ "interval": "2026-08-01T00:00:00Z/2026-10-30T00:00:00Z" }),
        )
        .await;
        for body in [
            json!({ "interval": WEEK, "granularity": "Hour" }),
            json!({ "interval": WEEK, "groupBy": ["OAuthClientId"] }),
            json!({ "interval": WEEK, "metrics": ["Requests", "Status404"] }),
            json!({ "interval": WEEK, "httpMethods": ["OPTIONS"] }),
            json!({ "interval": WEEK, "sortBy": [{ "fieldName": "colour", "order": "Asc" }] }),
        ] {
            post(&si, Some(&token), ORG_JOBS, &body.to_string())
                .await
                .assert_error(400, "invalid.value");
        }
    }

    #[tokio::test]
    async fn unknown_jobs_and_jobs_of_another_scope_are_not_found() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        get(
            &si,
            Some(&token),
            &format!("{ORG_JOBS}/00000000-0000-4000-8000-000000000000"),
        )
        .await
        .assert_error(404, "not.found");
        post(
            &si,
            Some(&token),
            &client_jobs("no-such-client"),
            &json!({ "interval": WEEK }).to_string(),
        )
        .await
        .assert_error(404, "not.found");

        let org_job = submit(&si, &token, ORG_JOBS, json!({ "interval": WEEK })).await;
        let id = org_job.rsplit('/').next().unwrap();
        get(
            &si,
            Some(&token),
            &format!("{}/{id}", client_jobs(DEMO_CLIENT_ID)),
        )
        .await
        .assert_error(404, "not.found");

        let other = si.oauth_clients()[1].id.clone();
        let client_job = submit(
            &si,
            &token,
            &client_jobs(DEMO_CLIENT_ID),
            json!({ "interval": WEEK }),
        )
        .await;
        let id = client_job.rsplit('/').next().unwrap();
        get(&si, Some(&token), &format!("{}/{id}", client_jobs(&other)))
            .await
            .assert_error(404, "not.found");
        assert_eq!(
            get(&si, Some(&token), &client_job).await.status,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn forced_outcomes_fail_with_an_error_body_or_cancel_then_jobs_succeed_again() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        si.next_jobs(JobOutcome::Failed, 1);
        si.next_jobs(JobOutcome::Cancelled, 1);
        let failed = submit(&si, &token, ORG_JOBS, json!({ "interval": WEEK })).await;
        let cancelled = submit(
            &si,
            &token,
            &client_jobs(DEMO_CLIENT_ID),
            json!({ "interval": WEEK }),
        )
        .await;
        let succeeded = submit(&si, &token, ORG_JOBS, json!({ "interval": WEEK })).await;

        let answer = get(&si, Some(&token), &failed).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body["queryStatus"], "Failed");
        assert_eq!(answer.body["errorBody"]["code"], "internal.server.error");
        assert_eq!(answer.body["errorBody"]["status"], 500);
        assert!(answer.body.get("entities").is_none());

        let answer = get(&si, Some(&token), &cancelled).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body["queryStatus"], "Cancelled");
        assert!(answer.body.get("entities").is_none() && answer.body.get("errorBody").is_none());

        assert_eq!(
            get(&si, Some(&token), &succeeded).await.body["queryStatus"],
            "Succeeded"
        );
        assert_eq!(si.stats().jobs_started, 3);
    }

    #[tokio::test]
    async fn filters_metrics_and_sort_by_are_honoured() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let rows = job_rows(
            &si,
            &token,
            ORG_JOBS,
            json!({
                "interval": WEEK,
                "groupBy": ["TemplateUri", "HttpMethod"],
                "httpMethods": ["GET"],
                "sortBy": [{ "fieldName": "requestCount", "order": "Desc" }],
            }),
        )
        .await;
        assert!(rows.len() > 2);
        assert!(rows.iter().all(|r| r["httpMethod"] == "GET"), "{rows:?}");
        let counts: Vec<i64> = rows.iter().map(|r| int(r, "requestCount")).collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        // Ungrouped dimensions are absent.
        assert!(rows.iter().all(|r| r.get("oauthClient").is_none()
            && r.get("platform").is_none()
            && r.get("date").is_none()));

        let ascending = job_rows(
            &si,
            &token,
            ORG_JOBS,
            json!({
                "interval": WEEK,
                "groupBy": ["TemplateUri"],
                "sortBy": [{ "fieldName": "templateUri", "order": "Asc" }],
            }),
        )
        .await;
        let uris: Vec<&str> = ascending
            .iter()
            .map(|r| r["templateUri"].as_str().unwrap())
            .collect();
        let mut sorted = uris.clone();
        sorted.sort();
        assert_eq!(uris, sorted);

        let template = uris[0];
        let one = job_rows(
            &si,
            &token,
            ORG_JOBS,
            json!({
                "interval": WEEK,
                "groupBy": ["TemplateUri", "Platform"],
                "templateUris": [template],
                "metrics": ["Status429"],
            }),
        )
        .await;
        assert!(!one.is_empty());
        for row in &one {
            assert_eq!(row["templateUri"], template);
            assert!(["API", "PureCloud"].contains(&row["platform"].as_str().unwrap()));
            assert!(row["status429"].is_i64());
            for absent in [
                "requestCount",
                "status200",
                "status300",
                "status400",
                "status500",
            ] {
                assert!(row.get(absent).is_none(), "{absent} in {row}");
            }
        }

        let mine = job_rows(
            &si,
            &token,
            ORG_JOBS,
            json!({
                "interval": WEEK,
                "groupBy": ["OauthClientId", "Platform"],
                "oauthClientIds": [DEMO_CLIENT_ID],
                "platforms": ["API"],
            }),
        )
        .await;
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["oauthClient"]["id"], DEMO_CLIENT_ID);
        assert_eq!(mine[0]["oauthClient"]["name"], "Reporting bot");
        assert_eq!(
            mine[0]["oauthClient"]["selfUri"],
            format!("/api/v2/oauth/clients/{DEMO_CLIENT_ID}")
        );
        assert_eq!(mine[0]["platform"], "API");
        let sum = int(&mine[0], "status200")
            + int(&mine[0], "status300")
            + int(&mine[0], "status400")
            + int(&mine[0], "status500");
        assert_eq!(int(&mine[0], "requestCount"), sum);
    }

    #[tokio::test]
    async fn weekly_dates_are_mondays_written_as_dates() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let rows = job_rows(
            &si,
            &token,
            ORG_JOBS,
            json!({
                "interval": "2026-10-01T00:00:00Z/2026-11-01T00:00:00Z",
                "granularity": "Week",
                "groupBy": ["UserId"],
                "sortBy": [{ "fieldName": "date", "order": "Desc" }],
            }),
        )
        .await;
        let dates: Vec<&str> = rows.iter().map(|r| r["date"].as_str().unwrap()).collect();
        assert_eq!(dates.first(), Some(&"2026-10-26"));
        assert!(
            !dates.contains(&"2026-09-29") && dates.contains(&"2026-09-28"),
            "{dates:?}"
        );
        for date in &dates {
            let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
            assert_eq!(chrono::Datelike::weekday(&day), chrono::Weekday::Mon);
        }
        let with_user = rows
            .iter()
            .find(|r| r.get("user").is_some())
            .expect("some user traffic");
        let id = with_user["user"]["id"].as_str().unwrap();
        assert_eq!(with_user["user"]["selfUri"], format!("/api/v2/users/{id}"));
    }

    #[tokio::test]
    async fn client_jobs_group_by_organization_and_refuse_user_id() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let path = client_jobs(DEMO_CLIENT_ID);
        post(
            &si,
            Some(&token),
            &path,
            &json!({ "interval": WEEK, "groupBy": ["UserId"] }).to_string(),
        )
        .await
        .assert_error(400, "invalid.value");
        let rows = job_rows(
            &si,
            &token,
            &path,
            json!({
                "interval": WEEK,
                "groupBy": ["OrganizationId", "Platform"],
                "organizationIds": [si.organization_id()],
            }),
        )
        .await;
        assert!(!rows.is_empty());
        for row in &rows {
            assert_eq!(row["organizationId"], si.organization_id());
            assert!(row.get("oauthClient").is_none() && row.get("user").is_none());
        }
        let elsewhere = job_rows(
            &si,
            &token,
            &path,
            json!({
                "interval": WEEK,
                "organizationIds": ["another-org"],
            }),
        )
        .await;
        assert!(elsewhere.is_empty());
    }

    #[tokio::test]
    async fn the_builtin_client_is_in_the_jobs_but_not_in_the_legacy_query() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        assert_eq!(si.builtin_clients()[0].id, BUILTIN_CLIENT_ID);
        let jobs = job_rows(
            &si,
            &token,
            ORG_JOBS,
            json!({ "interval": WEEK, "groupBy": ["OauthClientId"] }),
        )
        .await;
        let builtin = jobs
            .iter()
            .find(|r| r["oauthClient"]["id"] == BUILTIN_CLIENT_ID)
            .expect("the built-in client's traffic");
        assert_eq!(builtin["oauthClient"]["name"], BUILTIN_CLIENT_NAME);
        assert!(int(builtin, "requestCount") > 0);

        let legacy = post(
            &si,
            Some(&token),
            "/api/v2/usage/query",
            &json!({ "interval": WEEK }).to_string(),
        )
        .await;
        assert_eq!(legacy.status, StatusCode::ACCEPTED);
        let uri = legacy.body["resultsUri"].as_str().unwrap();
        let legacy = get(&si, Some(&token), uri).await.body["results"]
            .as_array()
            .unwrap()
            .clone();
        assert!(legacy.iter().all(|r| r["clientId"] != BUILTIN_CLIENT_ID));
        assert_eq!(legacy.len() + 1, jobs.len());
        // The other clients count the same in both APIs; only the totals differ.
        for row in &legacy {
            let job = jobs
                .iter()
                .find(|j| j["oauthClient"]["id"] == row["clientId"])
                .unwrap();
            assert_eq!(int(job, "requestCount"), int(row, "requests"));
        }
        let total = |rows: &[Value], field| rows.iter().map(|r| int(r, field)).sum::<i64>();
        assert_eq!(
            total(&jobs, "requestCount"),
            total(&legacy, "requests") + int(builtin, "requestCount")
        );
    }

    #[tokio::test]
    async fn the_new_routes_share_auth_rate_limits_faults_and_correlation_ids() {
        let si = start(builder().rate_limit(300, Duration::from_secs(60))).await;
        let token = demo_token(&si).await;
        post(
            &si,
            None,
            ORG_JOBS,
            &json!({ "interval": WEEK }).to_string(),
        )
        .await
        .assert_error(401, "authentication.required");
        let uri = submit(&si, &token, ORG_JOBS, json!({ "interval": WEEK })).await;
        si.inject(Fault::Unavailable, 1);
        get(&si, Some(&token), &uri)
            .await
            .assert_error(503, "service.unavailable");
        let ok: Answer = get(&si, Some(&token), &uri).await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.header("inin-ratelimit-allowed"), Some("300"));
        assert!(ok.header("inin-correlation-id").is_some());
        si.inject(Fault::RateLimited, 1);
        let limited = post(
            &si,
            Some(&token),
            SIMPLE_SEARCH,
            &json!({ "interval": WEEK }).to_string(),
        )
        .await;
        limited.assert_error(429, "too.many.requests.retry.after");
        assert_eq!(limited.header("retry-after"), Some("1"));
    }
}

mod simple_search {
    use super::*;

    /// Every row of a complete simple search, following `cursors.after`; also the page count.
    async fn all_results(
        si: &RunningStandIn,
        token: &str,
        uri: &str,
        page_size: usize,
    ) -> (Vec<Value>, usize) {
        let mut after: Option<String> = None;
        let mut rows = Vec::new();
        let mut pages = 0;
        loop {
            let path = match &after {
                None => format!("{uri}?pageSize={page_size}"),
                Some(cursor) => format!("{uri}?pageSize={page_size}&after={cursor}"),
            };
            let answer = get(si, Some(token), &path).await;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
            assert_eq!(answer.body["queryStatus"], "Complete");
            let page = answer.body["results"].as_array().unwrap();
            rows.extend(page.iter().cloned());
            pages += 1;
            match answer.body["cursors"]["after"].as_str() {
                Some(cursor) => {
                    assert_eq!(page.len(), page_size);
                    after = Some(cursor.to_string());
                }
                None => return (rows, pages),
            }
        }
    }

    async fn submit_search(si: &RunningStandIn, token: &str, body: Value) -> String {
        let answer = post(si, Some(token), SIMPLE_SEARCH, &body.to_string()).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
        let id = answer.body["executionId"].as_str().unwrap();
        let uri = answer.body["resultsUri"].as_str().unwrap().to_string();
        assert_eq!(uri, format!("{SIMPLE_SEARCH}/{id}/results"));
        uri
    }

    #[tokio::test]
    async fn a_search_runs_then_completes_and_pages_with_cursors_after() {
        // A second-long search: still running at a loaded machine's first poll.
        let si = start(builder().execution_time(Duration::from_secs(1))).await;
        let token = demo_token(&si).await;
        let uri = submit_search(&si, &token, json!({ "interval": WEEK })).await;
        let submitted = Instant::now();
        let running = get(&si, Some(&token), &uri).await;
        assert_eq!(running.status, StatusCode::OK);
        assert_eq!(running.body["queryStatus"], "Running");
        assert!(running.body.get("results").is_none());
        tokio::time::sleep(
            (submitted + Duration::from_millis(1_100)).saturating_duration_since(Instant::now()),
        )
        .await;

        let (whole, pages) = all_results(&si, &token, &uri, 1000).await;
        assert_eq!(pages, 1);
        assert!(whole.len() > 20);
        let (paged, pages) = all_results(&si, &token, &uri, 7).await;
        assert_eq!(pages, whole.len().div_ceil(7));
        assert_eq!(paged, whole);
        // Every column: day, client name, template, method and the five counters.
        let row = &whole[0];
        assert_eq!(row["date"], "2026-11-02T00:00:00Z");
        for field in [
            "clientName",
            "templateUri",
            "httpMethod",
            "status200",
            "status300",
            "status400",
            "status500",
            "status429",
        ] {
            assert!(row.get(field).is_some(), "{field} in {row}");
        }
        assert!(whole.iter().all(|r| r["clientName"] != BUILTIN_CLIENT_NAME));
        // Default page: 100 rows.
        let first = get(&si, Some(&token), &uri).await;
        assert_eq!(
            first.body["results"].as_array().unwrap().len(),
            100.min(whole.len())
        );
        for bad in ["pageSize=0", "pageSize=1001", "pageSize=abc", "after=12"] {
            get(&si, Some(&token), &format!("{uri}?{bad}"))
                .await
                .assert_error(400, "invalid.query.param.value");
        }
    }

    #[tokio::test]
    async fn columns_and_filters_shape_the_rows() {
        let si = start(builder()).await;
        let token = demo_token(&si).await;
        let uri = submit_search(
            &si,
            &token,
            json!({
                "interval": WEEK,
                "metrics": ["ClientName", "Status200"],
                "oauthClientNames": ["Reporting bot"],
            }),
        )
        .await;
        let (rows, _) = all_results(&si, &token, &uri, 1000).await;
        assert_eq!(
            rows.len(),
            1,
            "one client, no date or endpoint column: {rows:?}"
        );
        assert_eq!(rows[0]["clientName"], "Reporting bot");
        assert!(rows[0]["status200"].as_i64().unwrap() > 0);
        for absent in ["date", "templateUri", "httpMethod", "status400", "requests"] {
            assert!(rows[0].get(absent).is_none(), "{absent}");
        }
        for body in [
            json!({ "interval": WEEK, "metrics": ["Requests"] }),
            json!({ "interval": WEEK, "httpMethods": ["FETCH"] }),
        ] {
            post(&si, Some(&token), SIMPLE_SEARCH, &body.to_string())
                .await
                .assert_error(400, "invalid.value");
        }
        post(
            &si,
            Some(&token),
            SIMPLE_SEARCH,
            &json!({ "metrics": ["Date"] }).to_string(),
        )
        .await
        .assert_error(400, "invalid.date");
    }

    #[tokio::test]
    async fn a_search_returns_at_most_20000_rows() {
        let si = start(builder().oauth_clients(8).history_days(1100)).await;
        let token = demo_token(&si).await;
        let uri = submit_search(
            &si,
            &token,
            // The dimension columns only: smaller pages, the same number of rows.
            json!({
                "interval": "2024-03-01T00:00:00Z/2026-11-26T00:00:00Z",
                "metrics": ["Date", "ClientName", "TemplateUri", "HttpMethod"],
            }),
        )
        .await;
        let (rows, pages) = all_results(&si, &token, &uri, 1000).await;
        assert_eq!(rows.len(), 20_000);
        assert_eq!(pages, 20);
        let dates: Vec<&str> = rows.iter().map(|r| r["date"].as_str().unwrap()).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]));
        let last = dates[rows.len() - 1];
        assert!(last < "2026-06-01", "the cap cut the newest months: {last}");
    }
}
