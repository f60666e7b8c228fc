//! Aggregates query jobs and simple search through `UsageClient`, against scripted loopback
//! servers: what is sent, every job status, paging to the end, a page retried mid-stream.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use usage_sdk::time::ManualClock;
use usage_sdk::{
    Error, Granularity, HttpMethod, JobGroupBy, JobId, JobQueryStatus, Metric, OAuthClientId,
    OAuthClientJob, OAuthClientJobQuery, OrganizationJob, OrganizationJobQuery,
    OrganizationPublicApiUsage, PageSize, PollPolicy, SearchColumn, SimpleSearchQuery, SortBy,
    UsageDate, UsageHttpMethod,
};

use crate::scripted::{Recorded, Reply, ScriptedServer};
use crate::support::{TOKEN, build, config, recent_week};

const JOB: &str = "5b0f9a3c-jobs-4e1a-8c3b-1d2e3f405060";
const ORG_JOBS: &str = "/api/v2/usage/aggregates/query/jobs";
const ORG_JOB: &str = "/api/v2/usage/aggregates/query/jobs/5b0f9a3c-jobs-4e1a-8c3b-1d2e3f405060";
const OAUTH_CLIENT: &str = "6f1c2b1e-0000-4000-8000-00000000c1d0";

fn org_query(page_size: u32) -> OrganizationJobQuery {
    OrganizationJobQuery::builder(recent_week())
        .granularity(Granularity::Day)
        .metrics([Metric::Requests, Metric::Status429])
        .group_by([JobGroupBy::OauthClientName, JobGroupBy::HttpMethod])
        .http_methods([HttpMethod::Get])
        .oauth_client_ids(["c-1", "c-2"])
        .sort_by([SortBy::descending("requestCount")])
        .page_size(PageSize::new(page_size).unwrap())
        .build()
        .unwrap()
}

/// Submits `org_query(10)` to `server` and reads every row.
async fn all_org_rows(
    server: &ScriptedServer,
    clock: &ManualClock,
) -> Vec<OrganizationPublicApiUsage> {
    build(config(&server.base_url, clock))
        .rows(&org_query(10))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

fn row(n: usize) -> Value {
    json!({"date": "2026-11-01", "platform": "PureCloud", "httpMethod": "GET",
           "templateUri": format!("/api/v2/thing/{n}"), "requestCount": n, "status429": 0,
           "oauthClient": {"id": "c-1", "name": "Reporting bot"}, "brandNewField": n})
}

/// The query string parameter `name` of a request, if present.
fn param(request: &Recorded, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://x{}", request.target)).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A job of `total` rows served `page` rows at a time, after `pending` polls answered with
/// `Queued`, then `Running`. Cursors are opaque strings that encode the offset.
fn job_flow(total: usize, pending: usize) -> impl Fn(&Recorded, usize) -> Reply {
    move |request, n| match (request.method.as_str(), request.path()) {
        ("POST", ORG_JOBS) => Reply::json(202, json!({"id": JOB, "selfUri": ORG_JOB})),
        ("GET", ORG_JOB) if param(request, "after").is_none() && n < pending => {
            let status = if n == 0 { "Queued" } else { "Running" };
            Reply::json(202, json!({"queryStatus": status}))
        }
        ("GET", ORG_JOB) => {
            let size: usize = param(request, "pageSize").unwrap().parse().unwrap();
            let from = param(request, "after")
                .map(|c| c.trim_start_matches("cur-").parse().unwrap())
                .unwrap_or(0);
            let to = (from + size).min(total);
            let mut body = json!({
                "queryStatus": "Succeeded",
                "entities": (from..to).map(row).collect::<Vec<_>>(),
            });
            if to < total {
                body["nextUri"] = json!(format!("{ORG_JOB}?pageSize={size}&after=cur-{to}"));
            }
            Reply::json(200, body)
        }
        (_, other) => Reply::error(404, "not.found", &format!("no route {other}")),
    }
}

#[tokio::test]
async fn an_organization_job_is_submitted_polled_and_read_to_the_last_row_of_the_last_page() {
    let server = ScriptedServer::start(job_flow(23, 2)).await;
    let clock = ManualClock::new();
    let rows = all_org_rows(&server, &clock).await;

    let uris: Vec<String> = rows
        .iter()
        .map(|r| r.template_uri.clone().unwrap())
        .collect();
    let expected: Vec<String> = (0..23).map(|n| format!("/api/v2/thing/{n}")).collect();
    assert_eq!(uris, expected, "every row once, in order");
    assert_eq!(rows[0].http_method, Some(UsageHttpMethod::Get));
    assert_eq!(
        rows[0].oauth_client.as_ref().unwrap().name.as_deref(),
        Some("Reporting bot")
    );
    // Queued, Running, then Succeeded: polls after 1, 2 and 4 s.
    assert_eq!(clock.sleeps(), [1, 2, 4].map(Duration::from_secs));

    let posts = server.requests_to("POST", ORG_JOBS);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    let body: Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(
        body,
        json!({"interval": recent_week().to_string(), "granularity": "Day",
               "metrics": ["Requests", "Status429"], "groupBy": ["OauthClientName", "HttpMethod"],
               "httpMethods": ["GET"], "oauthClientIds": ["c-1", "c-2"],
               "sortBy": [{"fieldName": "requestCount", "order": "Desc"}]})
    );
    let gets: Vec<(Option<String>, Option<String>)> = server
        .requests_to("GET", ORG_JOB)
        .iter()
        .map(|r| (param(r, "pageSize"), param(r, "after")))
        .collect();
    let page = |after: Option<&str>| (Some("10".to_string()), after.map(str::to_string));
    assert_eq!(
        gets,
        [
            page(None),
            page(None),
            page(None),
            page(Some("cur-10")),
            page(Some("cur-20"))
        ]
    );
}

#[tokio::test]
async fn the_stream_fetches_a_page_only_when_its_rows_are_wanted() {
    let server = ScriptedServer::start(job_flow(25, 0)).await;
    let client = build(config(&server.base_url, &ManualClock::new()));
    let mut rows = client.rows(&org_query(10)).await.unwrap();
    for _ in 0..10 {
        rows.try_next().await.unwrap().unwrap();
    }
    assert_eq!(
        server.requests_to("GET", ORG_JOB).len(),
        1,
        "page 2 not yet wanted"
    );
    rows.try_next().await.unwrap().unwrap();
    assert_eq!(server.requests_to("GET", ORG_JOB).len(), 2);
    drop(rows);
    // Time for any prefetch running in the background to reach the server.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.requests_to("GET", ORG_JOB).len(),
        2,
        "dropping stops paging"
    );
}

#[tokio::test]
async fn a_page_that_fails_transiently_is_retried_without_duplicating_or_dropping_rows() {
    let inner = job_flow(30, 0);
    // The second page answers 503, then 502, then its rows.
    let failures = Arc::new(std::sync::Mutex::new(0));
    let server = ScriptedServer::start(move |request, n| {
        if param(request, "after").as_deref() == Some("cur-10") {
            let mut failed = failures.lock().unwrap();
            if *failed < 2 {
                *failed += 1;
                let status = if *failed == 1 { 503 } else { 502 };
                return Reply::error(status, "service.unavailable", "try again");
            }
        }
        inner(request, n)
    })
    .await;
    let rows = all_org_rows(&server, &ManualClock::new()).await;
    let counts: Vec<i64> = rows.iter().map(|r| r.request_count.unwrap()).collect();
    assert_eq!(counts, (0..30).collect::<Vec<i64>>());
    let second_page = server
        .requests_to("GET", ORG_JOB)
        .iter()
        .filter(|r| param(r, "after").as_deref() == Some("cur-10"))
        .count();
    assert_eq!(second_page, 3);
}

#[tokio::test]
async fn a_failed_job_carries_its_error_body_and_a_cancelled_job_is_its_own_error() {
    let failed = ScriptedServer::start(|request, _| match request.path() {
        ORG_JOBS => Reply::json(202, json!({"id": JOB})),
        _ => Reply::json(
            200,
            json!({"queryStatus": "Failed", "errorBody": {"code": "query.too.long",
                   "message": "The query took too long", "status": 400}}),
        ),
    })
    .await;
    let err = build(config(&failed.base_url, &ManualClock::new()))
        .rows(&org_query(10))
        .await
        .unwrap_err();
    let Error::JobFailed { job_id, error_body } = &err else {
        panic!("expected JobFailed, got {err:?}");
    };
    assert_eq!(job_id.as_str(), JOB);
    assert_eq!(
        error_body.as_ref().unwrap().code.as_deref(),
        Some("query.too.long")
    );
    assert!(err.to_string().contains("query.too.long"), "{err}");
    assert_eq!(err.job_id().map(JobId::as_str), Some(JOB));

    let cancelled = ScriptedServer::start(|request, _| match request.path() {
        ORG_JOBS => Reply::json(202, json!({"id": JOB})),
        _ => Reply::json(200, json!({"queryStatus": "Cancelled"})),
    })
    .await;
    let err = build(config(&cancelled.base_url, &ManualClock::new()))
        .rows(&org_query(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::JobCancelled { job_id } if job_id.as_str() == JOB),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unknown_job_status_is_not_finished_and_a_deadline_keeps_the_job_id_for_resuming() {
    let server = ScriptedServer::start(|request, n| match request.path() {
        ORG_JOBS => Reply::json(202, json!({"id": JOB})),
        _ if n < 5 => Reply::json(202, json!({"queryStatus": "Paused"})),
        _ => Reply::json(
            200,
            json!({"queryStatus": "Succeeded", "entities": [row(7)]}),
        ),
    })
    .await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));
    let job = client.submit(&org_query(10)).await.unwrap();
    let policy = PollPolicy::default()
        .with_jitter(false)
        .with_deadline(Duration::from_secs(10));
    let mut seen = Vec::new();
    let err = client
        .wait_observed(&job, &policy, |event| {
            seen.push(event.status.map(str::to_string))
        })
        .await
        .unwrap_err();
    let Error::JobDeadlineExceeded {
        job_id,
        waited,
        last_status,
    } = &err
    else {
        panic!("expected JobDeadlineExceeded, got {err:?}");
    };
    assert_eq!(*waited, Duration::from_secs(10));
    assert_eq!(last_status, &Some(JobQueryStatus::Unknown("Paused".into())));
    assert_eq!(seen.len(), 4);

    // Picked up later by its id alone.
    let resumed = OrganizationJob::new(job_id.clone());
    let rows = client
        .wait(&resumed)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].request_count, Some(7));
}

#[tokio::test]
async fn an_oauth_client_job_uses_its_own_paths_and_row_type() {
    let submit = format!("/api/v2/usage/client/{OAUTH_CLIENT}/aggregates/query/jobs");
    let results = format!("{submit}/{JOB}");
    let (submit_path, results_path) = (submit.clone(), results.clone());
    let server = ScriptedServer::start(move |request, _| {
        if request.path() == submit_path {
            Reply::json(202, json!({"id": JOB}))
        } else if request.path() == results_path {
            Reply::json(
                200,
                json!({"queryStatus": "Succeeded", "entities": [
                    {"organizationId": "org-1", "httpMethod": "OPTIONS", "requestCount": 3,
                     "date": "2026-11-02"}]}),
            )
        } else {
            Reply::error(404, "not.found", request.path())
        }
    })
    .await;
    let client = build(config(&server.base_url, &ManualClock::new()));
    let id: OAuthClientId = OAUTH_CLIENT.parse().unwrap();
    let query = OAuthClientJobQuery::builder(recent_week())
        .group_by([JobGroupBy::OrganizationId])
        .organization_ids(["org-1"])
        .page_size(PageSize::MAX)
        .build()
        .unwrap();
    let job = client.oauth_client(&id).submit(&query).await.unwrap();
    assert_eq!(
        job,
        OAuthClientJob::new(id, JobId::new(JOB).unwrap()).with_page_size(PageSize::MAX)
    );
    let rows = client
        .wait(&job)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows[0].organization_id.as_deref(), Some("org-1"));
    // A method the spec does not list is kept, not an error.
    assert_eq!(
        rows[0].http_method,
        Some(UsageHttpMethod::Unknown("OPTIONS".into()))
    );
    assert_eq!(
        rows[0].date.as_ref().and_then(UsageDate::date),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
    );
    let get = &server.requests_to("GET", &results)[0];
    assert_eq!(param(get, "pageSize").as_deref(), Some("1000"));
    let body: Value = serde_json::from_slice(&server.requests_to("POST", &submit)[0].body).unwrap();
    assert_eq!(body["organizationIds"], json!(["org-1"]));
}

/// Dimensions a job does not group by may come back as `""` (the reference's observation of
/// the legacy rows); a `date` that is `""`, a date-time or missing must not fail the page.
#[tokio::test]
async fn a_row_date_that_is_empty_or_a_date_time_still_reads() {
    let server = ScriptedServer::start(|request, _| match request.method.as_str() {
        "POST" => Reply::json(202, json!({"id": JOB})),
        _ => Reply::json(
            200,
            json!({"queryStatus": "Succeeded", "entities": [
                {"date": "", "requestCount": 1},
                {"date": "2026-11-02T00:00:00Z", "requestCount": 2},
                {"requestCount": 3},
                {"date": "2026-11-03", "requestCount": 4}]}),
        ),
    })
    .await;
    let rows = all_org_rows(&server, &ManualClock::new()).await;
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let dates: Vec<_> = rows.iter().map(|r| r.date.clone()).collect();
    assert_eq!(
        dates,
        [
            Some(UsageDate::Unparsed(String::new())),
            Some(UsageDate::Day(day(2))),
            None,
            Some(UsageDate::Day(day(3))),
        ]
    );
    let counts: Vec<_> = rows.iter().map(|r| r.request_count).collect();
    assert_eq!(
        counts,
        [Some(1), Some(2), Some(3), Some(4)],
        "every row read"
    );
}

#[tokio::test]
async fn a_simple_search_is_polled_to_complete_and_paged_by_its_after_cursor() {
    const SEARCH: &str = "/api/v2/usage/simplesearch";
    const EXECUTION: &str = "a1b2c3d4-search";
    let results = format!("{SEARCH}/{EXECUTION}/results");
    let results_path = results.clone();
    let server = ScriptedServer::start(move |request, n| {
        if request.path() == SEARCH {
            return Reply::json(202, json!({"executionId": EXECUTION, "resultsUri": results_path}));
        }
        let row = |name: &str| json!({"clientName": name, "status200": 5, "date": "2026-11-01T00:00:00Z"});
        match (n, param(request, "after").as_deref()) {
            (0, None) => Reply::json(200, json!({"queryStatus": "Running"})),
            (_, None) => Reply::json(200, json!({"queryStatus": "Complete",
                "results": [row("a"), row("b")], "cursors": {"after": "c2"}})),
            (_, Some("c2")) => Reply::json(200, json!({"queryStatus": "Complete",
                "results": [row("c")], "cursors": {"after": "c3"}})),
            // The last page: no rows, so the stream ends.
            (_, Some(_)) => Reply::json(200, json!({"queryStatus": "Complete", "results": []})),
        }
    })
    .await;
    let client = build(config(&server.base_url, &ManualClock::new()));
    let query = SimpleSearchQuery::builder(recent_week())
        .columns([SearchColumn::ClientName, SearchColumn::Status200])
        .oauth_client_names(["a", "b", "c"])
        .page_size(PageSize::new(2).unwrap())
        .build()
        .unwrap();
    let rows = client
        .rows(&query)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.client_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    let body: Value = serde_json::from_slice(&server.requests_to("POST", SEARCH)[0].body).unwrap();
    assert_eq!(
        body,
        json!({"interval": recent_week().to_string(), "metrics": ["ClientName", "Status200"],
               "oauthClientNames": ["a", "b", "c"]})
    );
    let afters: Vec<Option<String>> = server
        .requests_to("GET", &results)
        .iter()
        .map(|r| {
            assert_eq!(param(r, "pageSize").as_deref(), Some("2"));
            param(r, "after")
        })
        .collect();
    assert_eq!(afters, [None, None, Some("c2".into()), Some("c3".into())]);
}

// ---------------------------------------------------------------------------------------------
// Handles: stored as strings and resumed; the page view and a stream restarted at a cursor.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_handle_stored_as_a_string_resumes_with_its_first_poll_at_once() {
    let server = ScriptedServer::start(job_flow(23, 2)).await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));
    let submitted = client.submit(&org_query(10)).await.unwrap();
    let stored = submitted.to_string();
    assert_eq!(stored, format!("aggregates-job:organization:{JOB}"));
    assert_eq!(
        serde_json::to_value(&submitted).unwrap(),
        json!(format!("aggregates-job:organization:{JOB}"))
    );

    // Resumed from the string, as another process would: no wait before the first poll.
    // The string names the operation, scope and id; the page size is the reader's choice.
    let resumed: OrganizationJob = stored.parse().unwrap();
    let resumed = resumed.with_page_size(PageSize::new(10).unwrap());
    assert_eq!(resumed, submitted);
    let rows = client
        .wait(&resumed)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 23);
    let polls: Vec<Duration> = clock.sleeps();
    assert_eq!(
        polls,
        [1, 2].map(Duration::from_secs),
        "polled at once, then on the schedule while Queued and Running"
    );

    // A fresh submit still waits about a second before its first poll, as Genesys asks.
    let fresh = ManualClock::new();
    let server = ScriptedServer::start(job_flow(3, 0)).await;
    let _rows = build(config(&server.base_url, &fresh))
        .rows(&org_query(10))
        .await
        .unwrap();
    assert_eq!(fresh.sleeps(), [Duration::from_secs(1)]);
}

#[tokio::test]
async fn the_page_view_gives_a_cursor_that_a_new_stream_resumes_after_without_repeating_a_row() {
    let server = ScriptedServer::start(job_flow(23, 0)).await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));
    let job = client.submit(&org_query(10)).await.unwrap();
    let mut rows = client.wait(&job).await.unwrap();
    let first = rows.try_next_page().await.unwrap().unwrap();
    assert_eq!(first.rows.len(), 10);
    let cursor = first.next.expect("more pages");
    drop(rows);

    // A checkpointing reader restarts after the cursor, in a new stream (a parsed handle).
    let job: OrganizationJob = job.to_string().parse().unwrap();
    let job = job.with_page_size(PageSize::new(10).unwrap());
    let rest = client
        .rows_after(&job, &cursor)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let uris: Vec<_> = first
        .rows
        .iter()
        .chain(&rest)
        .map(|r| r.template_uri.clone().unwrap())
        .collect();
    let expected: Vec<_> = (0..23).map(|n| format!("/api/v2/thing/{n}")).collect();
    assert_eq!(uris, expected, "every row once, in order");
}
