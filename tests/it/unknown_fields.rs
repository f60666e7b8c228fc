//! Fields the spec does not name yet (a new metric, a new attribute of a nested object) are
//! kept by the row and result types and written back exactly as the server sent them, so
//! they reach a consumer's exports the day Genesys ships them.

use serde_json::{Value, json};
use usage_sdk::time::ManualClock;
use usage_sdk::{
    Granularity, JobGroupBy, Metric, OrganizationJobQuery, PageSize, SearchColumn,
    SimpleSearchQuery,
};

use crate::scripted::{Reply, ScriptedServer};
use crate::support::{
    CollectReport, EXECUTION_ID, ORG_RESULTS, build, config, org_flow, org_query, recent_week,
    scripted_client,
};

const ORG_JOBS: &str = "/api/v2/usage/aggregates/query/jobs";

/// An aggregates job row with a status class, an object and a nested attribute this SDK's
/// spec does not know, besides the known fields.
fn job_row() -> Value {
    json!({
        "date": "2026-11-01",
        "platform": "PureCloud",
        "httpMethod": "GET",
        "templateUri": "/api/v2/analytics/conversations/details/query",
        "requestCount": 12,
        "status200": 10,
        "status429": 1,
        "status418": 1,
        "brandNewField": {"unit": "tokens", "values": [1, 2.5, "three", null, {"deep": true}]},
        "oauthClient": {
            "id": "c-1",
            "name": "Reporting bot",
            "division": {"id": "d-1", "name": "Home"}
        },
        "user": {"id": "u-1", "selfUri": "/api/v2/users/u-1", "department": "Ops"}
    })
}

/// A legacy (and simple search) row with a status class and an object the spec does not name.
fn legacy_row() -> Value {
    json!({
        "clientId": "c-1",
        "clientName": "Reporting bot",
        "templateUri": "/api/v2/users",
        "httpMethod": "GET",
        "requests": 3,
        "status200": 2,
        "status418": 1,
        "brandNewField": {"unit": "tokens", "value": 7},
        "date": "2026-11-01T00:00:00Z"
    })
}

fn keys(extra: &serde_json::Map<String, Value>) -> Vec<&str> {
    extra.keys().map(String::as_str).collect()
}

#[tokio::test]
async fn a_job_row_keeps_fields_the_spec_does_not_name_and_writes_them_back_unchanged() {
    let job = "5b0f9a3c-jobs-4e1a-8c3b-1d2e3f405060";
    let server = ScriptedServer::start(move |request, _| match request.method.as_str() {
        "POST" => Reply::json(202, json!({"id": job})),
        _ => Reply::json(
            200,
            json!({"queryStatus": "Succeeded", "entities": [job_row()], "pageCount": 1}),
        ),
    })
    .await;
    let query = OrganizationJobQuery::builder(recent_week())
        .granularity(Granularity::Day)
        .metrics([Metric::Requests, Metric::Status200, Metric::Status429])
        .group_by([JobGroupBy::OauthClientId, JobGroupBy::UserId])
        .page_size(PageSize::new(10).unwrap())
        .build()
        .unwrap();
    let rows = build(config(&server.base_url, &ManualClock::new()))
        .rows(&query)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(server.requests_to("POST", ORG_JOBS).len(), 1);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    // Known fields stay typed; only the others land in `extra`.
    assert_eq!(row.request_count, Some(12));
    assert_eq!(keys(&row.extra), ["brandNewField", "status418"]);
    assert_eq!(row.extra["status418"], json!(1));
    let client = row.oauth_client.as_ref().unwrap();
    assert_eq!(client.name.as_deref(), Some("Reporting bot"));
    assert_eq!(
        client.extra["division"],
        json!({"id": "d-1", "name": "Home"})
    );
    assert_eq!(keys(&row.user.as_ref().unwrap().extra), ["department"]);
    assert_eq!(serde_json::to_value(row).unwrap(), job_row());
}

#[tokio::test]
async fn a_simple_search_row_keeps_fields_the_spec_does_not_name() {
    const SEARCH: &str = "/api/v2/usage/simplesearch";
    let server = ScriptedServer::start(|request, _| {
        if request.path() == SEARCH {
            return Reply::json(202, json!({"executionId": "s-1", "resultsUri": "/r"}));
        }
        Reply::json(
            200,
            json!({"queryStatus": "Complete", "results": [legacy_row()]}),
        )
    })
    .await;
    let query = SimpleSearchQuery::builder(recent_week())
        .columns([SearchColumn::ClientName, SearchColumn::Status200])
        .page_size(PageSize::new(1).unwrap())
        .build()
        .unwrap();
    let mut rows = build(config(&server.base_url, &ManualClock::new()))
        .rows(&query)
        .await
        .unwrap();
    // One page of one row: read just the first (the stream would ask for a next page).
    let row = rows.try_next().await.unwrap().unwrap();
    assert_eq!(keys(&row.extra), ["brandNewField", "status418"]);
    assert_eq!(serde_json::to_value(&row).unwrap(), legacy_row());
}

#[tokio::test]
async fn a_legacy_result_and_its_rows_keep_fields_the_spec_does_not_name() {
    let body = json!({"queryStatus": "Complete", "results": [legacy_row()], "totalHits": 1});
    let answer = body.clone();
    let server = ScriptedServer::start(org_flow(move |_| Reply::json(200, answer.clone()))).await;
    let clock = ManualClock::new();
    let client = scripted_client(&server, &clock);
    let execution = client.submit(&org_query()).await.unwrap();
    assert_eq!(execution.id.as_str(), EXECUTION_ID);
    let report = client.wait(&execution).report().await.unwrap();
    assert_eq!(report.rows.len(), 1);
    assert_eq!(serde_json::to_value(&report.rows[0]).unwrap(), legacy_row());

    let result = client.fetch_page(&execution, None).await.unwrap();
    assert_eq!(keys(&result.extra), ["totalHits"]);
    assert_eq!(serde_json::to_value(&result).unwrap(), body);
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 2);
}
