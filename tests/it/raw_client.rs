//! The fifteen generated operations against httpmock: what is sent and what comes back.
//!
//! One table, [`operations`], holds every operation of the spec (the five legacy ones, simple
//! search's two, the aggregates jobs' four and the operational events' four; a test holds it
//! equal to the spec) with its method, path, query parameters, exact
//! JSON body and a 200 answer; the first tests iterate it: every operation sends the right
//! request (with every optional input set, and with none), returns each declared success
//! status with the body parsed, hands back undeclared statuses unread, maps every declared
//! error status to its `ErrorBody`, and keeps hostile ids in one path segment. The tests after
//! them pin shapes particular to one kind of answer (reference §2.6, §7.1).

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use httpmock::{HttpMockRequest, MockServer, When};
use serde_json::{Value, json};
use usage_sdk::QueryStatus;
use usage_sdk::raw::types::{ApiUsageQueryResult, ErrorBody};
use usage_sdk::raw::{Client, Error, ResponseValue};

use crate::support::{
    BEARER, CLIENT_ID, DECLARED_ERRORS, EXECUTION_ID, answered_by, describe, expect_error_response,
    expect_ok, raw_client,
};

/// An aggregates job id.
const JOB_ID: &str = "5b0f9a3c-7d1e-4e1a-8c3b-1d2e3f405060";
/// An operational event definition id.
const EVENT_DEFINITION_ID: &str = "c7d2a0e4-5b6f-4a1c-9e8d-3f2a1b0c9d8e";
/// The interval of the legacy queries' bodies.
const LEGACY_INTERVAL: &str = "2020-01-01T00:00:00/2020-07-01T00:00:00";
/// The interval of the jobs' and the search's bodies.
const RECENT_INTERVAL: &str = "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z";

/// What every operation sends: the bearer token exactly once, `Accept: application/json`, and
/// no progenitor `api-version` header (usage-sdk-codegen generates the client without it).
fn common_headers(when: When) -> When {
    when.header("authorization", BEARER)
        .header_count("authorization", ".*", 1)
        .header("accept", "application/json")
        .header_missing("api-version")
}

/// A GET sends no body and so no `Content-Type`.
fn bodiless(when: When) -> When {
    when.header_missing("content-type")
        .is_true(|req: &HttpMockRequest| req.body_ref().is_empty())
}

/// The request URI has no query string at all (no `?` leaked out of a path parameter).
fn no_query(req: &HttpMockRequest) -> bool {
    req.uri().query().is_none()
}

// ---------------------------------------------------------------------------------------------
// The table.
// ---------------------------------------------------------------------------------------------

/// What a call came back with: the status and the parsed body serialised again, or the error.
type Outcome = Result<(u16, Value), Error<ErrorBody>>;
type Call<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// What a table call passes to its operation.
#[derive(Clone, Copy)]
struct Args<'a> {
    client_id: &'a str,
    /// The execution id or the job id.
    id: &'a str,
    /// The JSON of the request body, for the operations that have one.
    body: Option<&'a Value>,
    /// Whether to set every optional query parameter.
    full: bool,
}

struct Operation {
    name: &'static str,
    method: &'static str,
    /// The path, with `{clientId}` and `{id}` (the execution or job id) still to fill in.
    path: &'static str,
    /// The query string sent when every optional parameter is set (`None`: no parameters).
    query: Option<&'static str>,
    /// The request body with every optional field set, and with only the required ones.
    body: Option<(Value, Value)>,
    /// The success statuses the spec declares.
    success: &'static [u16],
    /// A success body as the server sends it, every field of which the client must keep.
    answer: Value,
    call: for<'a> fn(&'a Client, Args<'a>) -> Call<'a>,
}

impl Operation {
    /// The path with `client_id` and `id` filled in as they appear on the wire (encoded).
    fn path_with(&self, client_id: &str, id: &str) -> String {
        self.path
            .replace("{clientId}", client_id)
            .replace("{id}", id)
    }

    fn args<'a>(&'a self, client_id: &'a str, id: &'a str, full: bool) -> Args<'a> {
        let body = self
            .body
            .as_ref()
            .map(|(all, required)| if full { all } else { required });
        Args {
            client_id,
            id,
            body,
            full,
        }
    }

    fn call<'a>(&'a self, client: &'a Client, args: Args<'a>) -> Call<'a> {
        (self.call)(client, args)
    }
}

/// The request body of a table call, typed as the operation takes it.
macro_rules! body {
    ($args:expr) => {
        serde_json::from_value($args.body.expect("a body").clone())
            .expect("the table's body fits the generated type")
    };
}

/// Awaits a raw call and turns its success into an [`Outcome`].
macro_rules! outcome {
    ($call:expr) => {
        $call.await.map(|response| {
            let status = response.status().as_u16();
            (status, serde_json::to_value(response.into_inner()).unwrap())
        })
    };
}

fn post_usage_query<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move {
        let body = body!(a);
        outcome!(c.post_usage_query(&body))
    })
}

fn get_usage_query_execution_id_results<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move { outcome!(c.get_usage_query_execution_id_results(a.id)) })
}

fn post_oauth_client_usage_query<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move {
        let body = body!(a);
        outcome!(c.post_oauth_client_usage_query(a.client_id, &body))
    })
}

fn get_oauth_client_usage_query_result<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move { outcome!(c.get_oauth_client_usage_query_result(a.client_id, a.id)) })
}

fn get_oauth_client_usage_summary<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    let days = a.full.then_some("30");
    Box::pin(async move { outcome!(c.get_oauth_client_usage_summary(a.client_id, days)) })
}

fn post_usage_simplesearch<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move {
        let body = body!(a);
        outcome!(c.post_usage_simplesearch(&body))
    })
}

fn get_usage_simplesearch_execution_id_results<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    let (after, page_size) = page(a);
    Box::pin(async move {
        outcome!(c.get_usage_simplesearch_execution_id_results(a.id, after, page_size,))
    })
}

fn post_usage_aggregates_query_jobs<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move {
        let body = body!(a);
        outcome!(c.post_usage_aggregates_query_jobs(&body))
    })
}

fn get_usage_aggregates_query_job<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    let (after, page_size) = page(a);
    Box::pin(async move { outcome!(c.get_usage_aggregates_query_job(a.id, after, page_size)) })
}

fn post_usage_client_client_id_aggregates_query_jobs<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move {
        let body = body!(a);
        outcome!(c.post_usage_client_client_id_aggregates_query_jobs(a.client_id, &body))
    })
}

fn get_usage_client_client_id_aggregates_query_job<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    let (after, page_size) = page(a);
    Box::pin(async move {
        outcome!(c.get_usage_client_client_id_aggregates_query_job(
            a.client_id,
            a.id,
            after,
            page_size,
        ))
    })
}

fn get_usage_events_definitions<'a>(c: &'a Client, _: Args<'a>) -> Call<'a> {
    Box::pin(async move { outcome!(c.get_usage_events_definitions()) })
}

fn get_usage_events_definition<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move { outcome!(c.get_usage_events_definition(a.id)) })
}

fn post_usage_events_query<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    // pageSize is a string parameter upstream.
    let (after, before, page_size) = if a.full {
        (Some("cursor-2"), Some("cursor-1"), Some("25"))
    } else {
        (None, None, None)
    };
    Box::pin(async move {
        let body = body!(a);
        outcome!(c.post_usage_events_query(after, before, page_size, &body))
    })
}

fn post_usage_events_aggregates_query<'a>(c: &'a Client, a: Args<'a>) -> Call<'a> {
    Box::pin(async move {
        let body = body!(a);
        outcome!(c.post_usage_events_aggregates_query(&body))
    })
}

/// The paging parameters of the paged GETs: `after` and `pageSize` when every optional input
/// is set.
fn page(a: Args<'_>) -> (Option<&'static str>, Option<i32>) {
    if a.full {
        (Some("cursor-1"), Some(25))
    } else {
        (None, None)
    }
}

/// The query string [`page`] sends.
const PAGE_QUERY: &str = "after=cursor-1&pageSize=25";

/// A results answer of the legacy queries and the search.
fn results_answer() -> Value {
    json!({
        "queryStatus": "Complete",
        "results": [{ "clientId": CLIENT_ID, "clientName": "Nightly export", "templateUri": "", "requests": 3 }],
        "cursors": { "after": "cursor-2" }
    })
}

/// A job's page as the server sends it.
fn job_page(row: Value) -> Value {
    json!({
        "queryStatus": "Succeeded",
        "entities": [row],
        "nextUri": format!("/api/v2/usage/aggregates/query/jobs/{JOB_ID}?pageSize=25&after=cursor-2"),
        "selfUri": format!("/api/v2/usage/aggregates/query/jobs/{JOB_ID}")
    })
}

/// Every operation the spec declares.
fn operations() -> Vec<Operation> {
    vec![
        Operation {
            name: "post_usage_query",
            method: "POST",
            path: "/api/v2/usage/query",
            query: None,
            body: Some((
                json!({
                    "interval": LEGACY_INTERVAL,
                    "granularity": "Day",
                    "groupBy": ["OAuthClientId", "OrganizationId", "UserId", "TemplateUri", "HttpMethod"],
                    "metrics": ["Requests", "Status200", "Status300", "Status400", "Status429", "Status500"]
                }),
                json!({ "interval": LEGACY_INTERVAL }),
            )),
            success: &[200, 202],
            answer: execution_handle(),
            call: post_usage_query,
        },
        Operation {
            name: "get_usage_query_execution_id_results",
            method: "GET",
            path: "/api/v2/usage/query/{id}/results",
            query: None,
            body: None,
            success: &[200],
            answer: results_answer(),
            call: get_usage_query_execution_id_results,
        },
        Operation {
            name: "post_oauth_client_usage_query",
            method: "POST",
            path: "/api/v2/oauth/clients/{clientId}/usage/query",
            query: None,
            body: Some((
                json!({
                    "interval": "2020-01/2020-06",
                    "granularity": "Month",
                    "groupBy": ["TemplateUri", "HttpMethod"],
                    "metrics": ["Status429", "Requests"]
                }),
                json!({ "interval": "2020-01/2020-06" }),
            )),
            success: &[200, 202],
            answer: execution_handle(),
            call: post_oauth_client_usage_query,
        },
        Operation {
            name: "get_oauth_client_usage_query_result",
            method: "GET",
            // The spec declares executionId before clientId; the path order must still be
            // clients/{clientId}/…/results/{executionId}.
            path: "/api/v2/oauth/clients/{clientId}/usage/query/results/{id}",
            query: None,
            body: None,
            success: &[200],
            answer: results_answer(),
            call: get_oauth_client_usage_query_result,
        },
        Operation {
            name: "get_oauth_client_usage_summary",
            method: "GET",
            path: "/api/v2/oauth/clients/{clientId}/usage/summary",
            // Without `days` nothing is sent and the server applies its default of "7".
            query: Some("days=30"),
            body: None,
            success: &[200, 202],
            answer: execution_handle(),
            call: get_oauth_client_usage_summary,
        },
        Operation {
            name: "post_usage_simplesearch",
            method: "POST",
            path: "/api/v2/usage/simplesearch",
            query: None,
            body: Some((
                json!({
                    "interval": RECENT_INTERVAL,
                    "metrics": ["Date", "ClientName", "HttpMethod", "TemplateUri", "Status200", "Status429"],
                    "oauthClientNames": ["Nightly export"],
                    "httpMethods": ["GET", "DELETE"],
                    "templateUris": ["api/v2/routing/queues"]
                }),
                json!({ "interval": RECENT_INTERVAL }),
            )),
            success: &[200, 202],
            answer: execution_handle(),
            call: post_usage_simplesearch,
        },
        Operation {
            name: "get_usage_simplesearch_execution_id_results",
            method: "GET",
            path: "/api/v2/usage/simplesearch/{id}/results",
            query: Some(PAGE_QUERY),
            body: None,
            success: &[200],
            answer: results_answer(),
            call: get_usage_simplesearch_execution_id_results,
        },
        Operation {
            name: "post_usage_aggregates_query_jobs",
            method: "POST",
            path: "/api/v2/usage/aggregates/query/jobs",
            query: None,
            body: Some((
                json!({
                    "interval": RECENT_INTERVAL,
                    "granularity": "Week",
                    "metrics": ["Requests", "Status429"],
                    "groupBy": ["OauthClientName", "OauthClientId", "UserId", "HttpMethod", "TemplateUri", "Platform"],
                    "httpMethods": ["GET", "DELETE"],
                    "oauthClientIds": [CLIENT_ID],
                    "platforms": ["PureCloud"],
                    "templateUris": ["/api/v2/routing/queues"],
                    "userIds": ["5e2b7c1a-0000-4000-8000-0000000000u1"],
                    "sortBy": [{ "fieldName": "requestCount", "order": "Desc" }]
                }),
                json!({ "interval": RECENT_INTERVAL }),
            )),
            success: &[200, 202],
            answer: json!({ "id": JOB_ID, "selfUri": format!("/api/v2/usage/aggregates/query/jobs/{JOB_ID}") }),
            call: post_usage_aggregates_query_jobs,
        },
        Operation {
            name: "get_usage_aggregates_query_job",
            method: "GET",
            path: "/api/v2/usage/aggregates/query/jobs/{id}",
            query: Some(PAGE_QUERY),
            body: None,
            success: &[200, 202],
            answer: job_page(json!({
                "date": "2026-11-02", "platform": "PureCloud", "httpMethod": "GET",
                "templateUri": "/api/v2/routing/queues", "requestCount": 4_294_967_303_i64,
                "status429": 2, "oauthClient": { "id": CLIENT_ID, "name": "Nightly export" }
            })),
            call: get_usage_aggregates_query_job,
        },
        Operation {
            name: "post_usage_client_client_id_aggregates_query_jobs",
            method: "POST",
            path: "/api/v2/usage/client/{clientId}/aggregates/query/jobs",
            query: None,
            body: Some((
                json!({
                    "interval": RECENT_INTERVAL,
                    "granularity": "Month",
                    "metrics": ["Status200", "Status500"],
                    "groupBy": ["OrganizationId", "HttpMethod", "TemplateUri", "Platform"],
                    "httpMethods": ["PUT"],
                    "organizationIds": ["org-1", "org-2"],
                    "platforms": ["PureCloud"],
                    "templateUris": ["/api/v2/users"],
                    "sortBy": [{ "fieldName": "status500", "order": "Asc" }]
                }),
                json!({ "interval": RECENT_INTERVAL }),
            )),
            success: &[200, 202],
            answer: json!({ "id": JOB_ID, "resultsUri": format!("/api/v2/usage/client/{CLIENT_ID}/aggregates/query/jobs/{JOB_ID}") }),
            call: post_usage_client_client_id_aggregates_query_jobs,
        },
        Operation {
            name: "get_usage_client_client_id_aggregates_query_job",
            method: "GET",
            path: "/api/v2/usage/client/{clientId}/aggregates/query/jobs/{id}",
            query: Some(PAGE_QUERY),
            body: None,
            success: &[200, 202],
            answer: job_page(json!({
                "date": "2026-11-02", "platform": "PureCloud", "httpMethod": "PUT",
                "templateUri": "/api/v2/users", "requestCount": 9, "status200": 8, "status500": 1,
                "organizationId": "org-1"
            })),
            call: get_usage_client_client_id_aggregates_query_job,
        },
        Operation {
            name: "get_usage_events_definitions",
            method: "GET",
            path: "/api/v2/usage/events/definitions",
            query: None,
            body: None,
            success: &[200],
            answer: json!({
                "entities": [
                    { "id": EVENT_DEFINITION_ID, "name": "Data action failed",
                      "description": "A data action returned an error" },
                    { "id": "d1e2f3a4-0000-4000-8000-000000000002", "name": "Flow error",
                      "category": "Architect" }
                ],
                "total": 2
            }),
            call: get_usage_events_definitions,
        },
        Operation {
            name: "get_usage_events_definition",
            method: "GET",
            path: "/api/v2/usage/events/definitions/{id}",
            query: None,
            body: None,
            success: &[200],
            answer: json!({
                "id": EVENT_DEFINITION_ID, "name": "Data action failed",
                "description": "A data action returned an error",
                "selfUri": format!("/api/v2/usage/events/definitions/{EVENT_DEFINITION_ID}")
            }),
            call: get_usage_events_definition,
        },
        Operation {
            name: "post_usage_events_query",
            method: "POST",
            path: "/api/v2/usage/events/query",
            query: Some("after=cursor-2&before=cursor-1&pageSize=25"),
            body: Some((
                json!({
                    "interval": RECENT_INTERVAL,
                    "eventDefinitionIds": [EVENT_DEFINITION_ID, "d1e2f3a4-0000-4000-8000-000000000002"],
                    "searchTerm": "timeout",
                    "sortOrder": "ASC"
                }),
                json!({ "interval": RECENT_INTERVAL }),
            )),
            success: &[200],
            answer: json!({
                "entities": [{
                    "eventDefinition": {
                        "id": EVENT_DEFINITION_ID,
                        "selfUri": format!("/api/v2/usage/events/definitions/{EVENT_DEFINITION_ID}")
                    },
                    "entityId": "a1b2c3d4-0000-4000-8000-00000000da01",
                    "entityName": "Look up account",
                    "entityVersion": "3",
                    "errorCode": "timeout",
                    "previousValue": "",
                    "currentValue": "failed",
                    "conversation": { "id": "e5f6a7b8-0000-4000-8000-0000000000c1" },
                    "dateCreated": "2026-11-03T08:15:42.123Z",
                    "severity": "warning"
                }],
                "nextUri": "/api/v2/usage/events/query?after=cursor-3&pageSize=25",
                "previousUri": "/api/v2/usage/events/query?before=cursor-2&pageSize=25",
                "selfUri": "/api/v2/usage/events/query?after=cursor-2&pageSize=25"
            }),
            call: post_usage_events_query,
        },
        Operation {
            name: "post_usage_events_aggregates_query",
            method: "POST",
            path: "/api/v2/usage/events/aggregates/query",
            query: None,
            // The interval is the only field, and required.
            body: Some((
                json!({ "interval": RECENT_INTERVAL }),
                json!({ "interval": RECENT_INTERVAL }),
            )),
            success: &[200],
            answer: json!({
                "interval": RECENT_INTERVAL,
                "eventDefinitionAggregates": [
                    { "eventDefinition": { "id": EVENT_DEFINITION_ID }, "eventCount": 12 },
                    { "eventDefinition": { "id": "d1e2f3a4-0000-4000-8000-000000000002" },
                      "eventCount": 0 }
                ]
            }),
            call: post_usage_events_aggregates_query,
        },
    ]
}

/// The table is the spec's operations, each once: a new operation in the spec fails here until
/// it has a row.
#[test]
fn the_table_holds_every_operation_of_the_spec() {
    let spec: Value = serde_json::from_str(include_str!("../../spec/usage-api.json")).unwrap();
    let mut in_spec: Vec<(String, String, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            in_spec.push((snake(id), method.to_uppercase(), path.clone()));
        }
    }
    in_spec.sort();
    let mut here: Vec<(String, String, String)> = operations()
        .iter()
        .map(|op| {
            // The table writes each path parameter as {clientId} or {id}.
            let spec_path = in_spec
                .iter()
                .find(|(name, ..)| name == op.name)
                .map(|(_, _, path)| path.clone())
                .unwrap_or_default();
            let generic = spec_path
                .split('/')
                .map(|segment| match segment {
                    "{clientId}" => "{clientId}",
                    s if s.starts_with('{') => "{id}",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            assert_eq!(op.path, generic, "{}", op.name);
            (op.name.to_string(), op.method.to_string(), spec_path)
        })
        .collect();
    here.sort();
    assert_eq!(here, in_spec);
    assert_eq!(here.len(), 15);

    // And the statuses each declares are the table's successes and DECLARED_ERRORS.
    for op in operations() {
        let (_, _, path) = in_spec.iter().find(|(name, ..)| name == op.name).unwrap();
        let responses = &spec["paths"][path][op.method.to_lowercase()]["responses"];
        let mut declared: Vec<u16> = responses
            .as_object()
            .unwrap()
            .keys()
            .map(|code| code.parse().unwrap())
            .collect();
        declared.sort();
        let mut here: Vec<u16> = op.success.to_vec();
        here.extend(DECLARED_ERRORS.iter().map(|case| case.status));
        here.sort();
        assert_eq!(declared, here, "{}", op.name);
    }
}

/// progenitor's method name for an operationId.
fn snake(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The id the table passes for `{id}`: a job id for the jobs, an event definition id for the
/// event definition, an execution id otherwise.
fn id_of(op: &Operation) -> &'static str {
    if op.path.contains("/jobs/") {
        JOB_ID
    } else if op.path.contains("/events/definitions/") {
        EVENT_DEFINITION_ID
    } else {
        EXECUTION_ID
    }
}

/// A mock for `op`'s request, with every optional input set (`full`) or none, answering
/// `status` with `op.answer`.
async fn mock_request<'a>(
    server: &'a MockServer,
    op: &Operation,
    full: bool,
    status: u16,
) -> httpmock::Mock<'a> {
    let path = op.path_with(CLIENT_ID, id_of(op));
    let query = if full { op.query } else { None };
    let body = op
        .body
        .as_ref()
        .map(|(all, required)| if full { all.clone() } else { required.clone() });
    let method = op.method;
    let answer = op.answer.clone();
    server
        .mock_async(move |when, then| {
            let when = common_headers(when.method(method).path(path));
            let when = match query {
                Some(query) => {
                    when.is_true(move |req: &HttpMockRequest| req.uri().query() == Some(query))
                }
                None => when.is_true(no_query),
            };
            match body {
                Some(body) => {
                    when.header("content-type", "application/json")
                        .json_body(body)
                        .body_excludes("null")
                        .body_excludes("[]");
                }
                None => {
                    bodiless(when);
                }
            }
            then.status(status)
                .header("content-type", "application/json")
                .json_body(answer);
        })
        .await
}

// ---------------------------------------------------------------------------------------------
// Every operation.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_operation_sends_its_method_path_query_headers_and_exact_json_body() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    for op in operations() {
        let mock = mock_request(&server, &op, true, op.success[0]).await;

        let outcome = answered_by(
            &mock,
            op.call(&client, op.args(CLIENT_ID, id_of(&op), true)),
        )
        .await;

        assert!(
            outcome.is_ok(),
            "{}: {}",
            op.name,
            describe(outcome.unwrap_err()).await
        );
        mock.delete_async().await;
    }
}

/// Unset optional fields are left out rather than sent as `null` or `[]`, and unset query
/// parameters leave no query string at all.
#[tokio::test]
async fn every_operation_leaves_out_unset_optional_fields_and_query_parameters() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    for op in operations() {
        let mock = mock_request(&server, &op, false, op.success[0]).await;

        let outcome = answered_by(
            &mock,
            op.call(&client, op.args(CLIENT_ID, id_of(&op), false)),
        )
        .await;

        assert!(
            outcome.is_ok(),
            "{}: {}",
            op.name,
            describe(outcome.unwrap_err()).await
        );
        mock.delete_async().await;
    }
}

/// Each declared success status (200, and 202 where the spec declares it) is a success that
/// keeps its status, and no field of the answer is lost in parsing.
#[tokio::test]
async fn every_operation_returns_each_declared_success_status_with_the_whole_body_parsed() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    let mut checked = 0;
    for op in operations() {
        for &status in op.success {
            let mock = mock_request(&server, &op, true, status).await;

            let outcome = answered_by(
                &mock,
                op.call(&client, op.args(CLIENT_ID, id_of(&op), true)),
            )
            .await;

            match outcome {
                Ok((got, parsed)) => {
                    assert_eq!(got, status, "{}", op.name);
                    assert_eq!(
                        parsed, op.answer,
                        "{} {status}: parsed and written back",
                        op.name
                    );
                }
                Err(e) => panic!("{} {status}: {}", op.name, describe(e).await),
            }
            mock.delete_async().await;
            checked += 1;
        }
    }
    assert_eq!(checked, 15 + 8, "fifteen 200s, eight 202s");
}

/// The raw client only knows the declared statuses: 502 (which Genesys calls transient,
/// reference §5.1), and 202 where only 200 is declared ("not ready" is `queryStatus` there),
/// are handed back unparsed, for the hand-written layer to classify.
#[tokio::test]
async fn every_undeclared_status_comes_back_unexpected_with_its_headers_and_body_unread() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    for op in operations() {
        let undeclared: &[u16] = if op.success.contains(&202) {
            &[502]
        } else {
            &[502, 202]
        };
        for &status in undeclared {
            let (method, path) = (op.method, op.path_with(CLIENT_ID, id_of(&op)));
            let mock = server
                .mock_async(|when, then| {
                    when.method(method).path(path);
                    then.status(status)
                        .header("ININ-Correlation-Id", "bad-gateway-1")
                        .body("<html><body>502 Bad Gateway</body></html>");
                })
                .await;

            match answered_by(
                &mock,
                op.call(&client, op.args(CLIENT_ID, id_of(&op), true)),
            )
            .await
            {
                Err(Error::UnexpectedResponse(response)) => {
                    assert_eq!(response.status().as_u16(), status, "{}", op.name);
                    assert_eq!(response.headers()["inin-correlation-id"], "bad-gateway-1");
                    assert_eq!(
                        response.text().await.unwrap(),
                        "<html><body>502 Bad Gateway</body></html>",
                        "{}",
                        op.name
                    );
                }
                Err(other) => panic!(
                    "{} {status}: expected UnexpectedResponse, got {}",
                    op.name,
                    describe(other).await
                ),
                Ok(value) => panic!(
                    "{} {status}: expected UnexpectedResponse, got {value:?}",
                    op.name
                ),
            }
            mock.delete_async().await;
        }
    }
}

/// Every error status the spec declares comes back as `Error::ErrorResponse` carrying the
/// status, the parsed `ErrorBody` and the response headers, for every operation.
#[tokio::test]
async fn every_declared_error_status_of_every_operation_is_an_error_response_with_body_and_headers()
{
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    for op in operations() {
        for case in DECLARED_ERRORS {
            let (method, path) = (op.method, op.path_with(CLIENT_ID, id_of(&op)));
            let mock = server
                .mock_async(|when, then| {
                    when.method(method).path(path);
                    let then = then
                        .status(case.status)
                        .header("content-type", "application/json")
                        .header("ININ-Correlation-Id", case.correlation_id())
                        .json_body(case.body());
                    if let Some(seconds) = case.retry_after() {
                        then.header("Retry-After", seconds);
                    }
                })
                .await;

            let outcome = answered_by(
                &mock,
                op.call(&client, op.args(CLIENT_ID, id_of(&op), true)),
            )
            .await;
            let error = match outcome {
                Err(Error::ErrorResponse(error)) => error,
                Err(other) => panic!("{} {case:?}: {}", op.name, describe(other).await),
                Ok(value) => panic!("{} {case:?}: expected an error, got {value:?}", op.name),
            };

            let what = format!("{} {case:?}", op.name);
            assert_eq!(error.status().as_u16(), case.status, "{what}");
            let body = error.as_ref();
            assert_eq!(body.code.as_deref(), Some(case.code), "{what}");
            assert_eq!(body.message.as_deref(), Some(case.message), "{what}");
            assert_eq!(body.status, Some(i32::from(case.status)), "{what}");
            assert_eq!(
                body.context_id.as_deref(),
                Some(case.correlation_id().as_str()),
                "{what}"
            );
            let header = |name: &str| {
                error
                    .headers()
                    .get(name)
                    .map(|v| v.to_str().expect("ASCII header").to_owned())
            };
            assert_eq!(
                header("inin-correlation-id"),
                Some(case.correlation_id()),
                "{what}"
            );
            assert_eq!(
                header("retry-after").as_deref(),
                case.retry_after(),
                "{what}"
            );
            mock.delete_async().await;
        }
    }
}

/// Reserved characters in an id are percent-encoded: the id stays one path segment and adds
/// no query string.
#[tokio::test]
async fn every_path_parameter_of_every_operation_stays_one_segment() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    let (client_id, encoded_client_id) = ("a/b?x=1#y", "a%2Fb%3Fx=1%23y");
    let (id, encoded_id) = ("../../users", "..%2F..%2Fusers");
    let mut checked = 0;
    for op in operations().into_iter().filter(|op| op.path.contains('{')) {
        let (method, path) = (op.method, op.path_with(encoded_client_id, encoded_id));
        let answer = op.answer.clone();
        let mock = server
            .mock_async(|when, then| {
                when.method(method).path(path).is_true(no_query);
                then.status(op.success[0]).json_body(answer);
            })
            .await;

        let outcome = answered_by(&mock, op.call(&client, op.args(client_id, id, false))).await;

        assert!(
            outcome.is_ok(),
            "{}: {}",
            op.name,
            describe(outcome.unwrap_err()).await
        );
        mock.delete_async().await;
        checked += 1;
    }
    assert_eq!(checked, 9, "every operation with a path parameter");
}

// ---------------------------------------------------------------------------------------------
// Shapes particular to one kind of answer.
// ---------------------------------------------------------------------------------------------

/// 2^32 + 7: does not fit in an i32 or a u32.
const ABOVE_U32: i64 = 4_294_967_303;
/// 2^53 + 1: not representable as an f64, so it only survives if nobody goes through floats.
const ABOVE_F64_MANTISSA: i64 = 9_007_199_254_740_993;

/// An `UsageExecutionResult` as the legacy POSTs, the summary and the search submit return it
/// (reference §2.4).
fn execution_handle() -> Value {
    json!({ "executionId": EXECUTION_ID, "resultsUri": format!("/api/v2/usage/query/{EXECUTION_ID}/results") })
}

/// A completed result as the server sends it: ungrouped dimensions as `""` (reference §2.6,
/// BLOG-USAGE), counters beyond 32 bits, fields this spec does not know, and both `date`
/// spellings `yyyy-MM-ddTHH:mm:ss[.mmm]Z`.
fn complete_result() -> Value {
    json!({
        "results": [
            {
                "clientId": CLIENT_ID,
                "clientName": "Nightly export",
                "organizationId": "",
                "userId": "",
                "templateUri": "api/v2/routing/queues",
                "httpMethod": "GET",
                "status200": ABOVE_U32,
                "status300": 0,
                "status400": 12,
                "status429": 5,
                "status500": 1,
                "requests": ABOVE_F64_MANTISSA,
                "date": "2020-02-02T00:00:00Z",
                "billable": true,
                "apiFamily": { "name": "routing" }
            },
            {
                "clientId": CLIENT_ID,
                "clientName": "Nightly export",
                "organizationId": "",
                "userId": "",
                "templateUri": "",
                "httpMethod": "",
                "requests": 3,
                "date": "2020-02-03T00:00:00.000Z"
            }
        ],
        "queryStatus": "Complete",
        "pageSize": 2
    })
}

fn assert_complete_result(result: &ApiUsageQueryResult) {
    assert_eq!(result.query_status, Some(QueryStatus::Complete));
    assert_eq!(result.results.len(), 2, "{result:?}");

    let first = &result.results[0];
    assert_eq!(first.client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(first.client_name.as_deref(), Some("Nightly export"));
    // Not grouped by these: the server sends "" and that must not turn into None.
    assert_eq!(first.organization_id.as_deref(), Some(""));
    assert_eq!(first.user_id.as_deref(), Some(""));
    assert_eq!(first.template_uri.as_deref(), Some("api/v2/routing/queues"));
    assert_eq!(first.http_method.as_deref(), Some("GET"));
    assert_eq!(first.status200, Some(ABOVE_U32));
    assert_eq!(first.status300, Some(0));
    assert_eq!(first.status400, Some(12));
    assert_eq!(first.status429, Some(5));
    assert_eq!(first.status500, Some(1));
    assert_eq!(first.requests, Some(ABOVE_F64_MANTISSA));
    let expected: DateTime<Utc> = "2020-02-02T00:00:00Z".parse().unwrap();
    assert_eq!(
        first.date.as_ref().and_then(|d| d.date_time()),
        Some(expected)
    );

    let second = &result.results[1];
    assert_eq!(second.template_uri.as_deref(), Some(""));
    assert_eq!(second.http_method.as_deref(), Some(""));
    assert_eq!(second.requests, Some(3));
    assert_eq!(second.status200, None, "absent counters stay None, not 0");
    let expected: DateTime<Utc> = "2020-02-03T00:00:00Z".parse().unwrap();
    assert_eq!(
        second.date.as_ref().and_then(|d| d.date_time()),
        Some(expected)
    );
}

/// A call to one of the operations that answer an `ApiUsageQueryResult`.
type ResultsCall<'a> = Pin<
    Box<dyn Future<Output = Result<ResponseValue<ApiUsageQueryResult>, Error<ErrorBody>>> + 'a>,
>;

/// The three operations that answer an `ApiUsageQueryResult`, with their paths.
fn results_operations(client: &Client) -> Vec<(&'static str, ResultsCall<'_>)> {
    vec![
        (
            "/api/v2/usage/query/{EXECUTION_ID}/results",
            Box::pin(client.get_usage_query_execution_id_results(EXECUTION_ID)),
        ),
        (
            "/api/v2/oauth/clients/{CLIENT_ID}/usage/query/results/{EXECUTION_ID}",
            Box::pin(client.get_oauth_client_usage_query_result(CLIENT_ID, EXECUTION_ID)),
        ),
        (
            "/api/v2/usage/simplesearch/{EXECUTION_ID}/results",
            Box::pin(client.get_usage_simplesearch_execution_id_results(EXECUTION_ID, None, None)),
        ),
    ]
}

fn fill(path: &str) -> String {
    path.replace("{EXECUTION_ID}", EXECUTION_ID)
        .replace("{CLIENT_ID}", CLIENT_ID)
}

#[tokio::test]
async fn complete_rows_keep_empty_dimensions_big_counters_and_utc_dates() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    for (path, call) in results_operations(&client) {
        let mock = server
            .mock_async(|when, then| {
                when.method("GET").path(fill(path));
                then.status(200).json_body(complete_result());
            })
            .await;

        let response = expect_ok(answered_by(&mock, call).await).await;

        assert_complete_result(&response.into_inner());
        mock.delete_async().await;
    }
}

/// Running is signalled in the body, with 200 and no rows (reference §7.1); Failed and any
/// status the spec does not list are kept.
#[tokio::test]
async fn running_failed_and_unknown_query_statuses_are_kept() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);
    for (wire, expected) in [
        ("Running", QueryStatus::Running),
        ("Failed", QueryStatus::Failed),
        ("Queued", QueryStatus::Unknown("Queued".into())),
    ] {
        for (path, call) in results_operations(&client) {
            let mock = server
                .mock_async(|when, then| {
                    when.method("GET").path(fill(path));
                    then.status(200).json_body(json!({ "queryStatus": wire }));
                })
                .await;

            let result = expect_ok(answered_by(&mock, call).await).await.into_inner();

            assert_eq!(result.query_status.as_ref(), Some(&expected), "{path}");
            assert_eq!(
                expected.is_terminal(),
                wire != "Running" && wire != "Queued"
            );
            assert!(result.results.is_empty());
            assert_eq!(result.cursors, None);
            mock.delete_async().await;
        }
    }
}

#[tokio::test]
async fn a_rate_limit_error_keeps_its_limit_params_and_nested_errors() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/api/v2/usage/query");
            then.status(429)
                .header("content-type", "application/json")
                .header("Retry-After", "61")
                .header("ININ-Correlation-Id", "3b6f0e1a-5d2c-4f7b-8e9a-1c2d3e4f5a6b")
                .header("inin-ratelimit-count", "301")
                .header("inin-ratelimit-allowed", "300")
                .header("inin-ratelimit-reset", "61")
                .json_body(json!({
                    "message": "Rate limit exceeded the maximum. Retry the request in [61] seconds",
                    "code": "too.many.requests.retry.after",
                    "status": 429,
                    "messageWithParams": "Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds",
                    // The spec says string values; the Go SDK decodes any JSON, and so must we.
                    "messageParams": { "seconds": 61, "unit": "s" },
                    "contextId": "3b6f0e1a-5d2c-4f7b-8e9a-1c2d3e4f5a6b",
                    "details": [{ "errorCode": "rate.limit", "fieldName": "requests" }],
                    "errors": [{ "code": "too.many.requests", "status": 429 }],
                    "limit": { "key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": 300 }
                }));
        })
        .await;
    let client = raw_client(&server);

    let error = expect_error_response(
        answered_by(
            &mock,
            client.post_usage_query(
                &serde_json::from_value(json!({ "interval": LEGACY_INTERVAL })).unwrap(),
            ),
        )
        .await,
    )
    .await;

    assert_eq!(error.headers()["retry-after"], "61");
    assert_eq!(error.headers()["inin-ratelimit-allowed"], "300");
    let body = error.into_inner();
    assert_eq!(body.code.as_deref(), Some("too.many.requests.retry.after"));
    assert_eq!(body.message_params["seconds"], json!(61));
    assert_eq!(body.message_params["unit"], json!("s"));
    assert_eq!(body.details[0].error_code.as_deref(), Some("rate.limit"));
    assert_eq!(body.errors[0].code.as_deref(), Some("too.many.requests"));
    let limit = body.limit.expect("limit parsed");
    assert_eq!(
        limit.key.as_deref(),
        Some("client.credentials.token.rate.per.minute")
    );
    assert_eq!(
        limit.namespace.as_ref().map(|n| n.as_str()),
        Some("platform.api")
    );
    assert!(limit.namespace.unwrap().is_known());
    assert_eq!(limit.value, Some(300));
}

/// A declared error status whose body is not JSON (a proxy's HTML page) does not become
/// `ErrorResponse`: progenitor fails to parse it and returns `InvalidResponsePayload`, which
/// carries only the bytes; the status and the headers are lost.
#[tokio::test]
async fn a_declared_error_status_with_a_non_json_body_loses_its_status() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/api/v2/usage/query");
            then.status(503)
                .header("content-type", "text/html")
                .header("Retry-After", "5")
                .body("<html>Service Unavailable</html>");
        })
        .await;
    let client = raw_client(&server);

    let result = answered_by(
        &mock,
        client.post_usage_query(
            &serde_json::from_value(json!({ "interval": LEGACY_INTERVAL })).unwrap(),
        ),
    )
    .await;

    match result {
        Err(error @ Error::InvalidResponsePayload(..)) => {
            assert_eq!(error.status(), None);
            let Error::InvalidResponsePayload(bytes, _) = error else {
                unreachable!()
            };
            assert_eq!(&bytes[..], b"<html>Service Unavailable</html>");
        }
        Err(other) => panic!(
            "expected InvalidResponsePayload, got {}",
            describe(other).await
        ),
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

/// progenitor's `encode_path` leaves `.` alone, and the URL parser would resolve an id of
/// `.` or `..` as a dot segment (and read `\` as `/`), sending the request to another route
/// with the caller's token. The raw client refuses such a request before sending it.
#[tokio::test]
async fn ids_that_would_leave_their_path_segment_are_refused_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(404)
                .json_body(json!({ "code": "not.found", "status": 404 }));
        })
        .await;
    let client = raw_client(&server);

    for id in ["..", ".", "a\\b", "\\..\\..", ""] {
        refused(id, client.get_usage_query_execution_id_results(id).await);
        refused(
            id,
            client
                .get_oauth_client_usage_query_result(CLIENT_ID, id)
                .await,
        );
        refused(
            id,
            client.get_usage_aggregates_query_job(id, None, None).await,
        );
        refused(id, client.get_usage_events_definition(id).await);
    }
    // Nothing reached the server; an ordinary id still does.
    assert_eq!(any.calls_async().await, 0);
    let _ = client
        .get_usage_query_execution_id_results(EXECUTION_ID)
        .await;
    assert_eq!(any.calls_async().await, 1);
}

fn refused<T: std::fmt::Debug, E: std::fmt::Debug>(id: &str, outcome: Result<T, Error<E>>) {
    match outcome {
        Err(Error::InvalidRequest(message)) => assert!(
            message.contains("left its path segment") && message.contains("not sent"),
            "{id:?}: {message}"
        ),
        Err(other) => panic!("{id:?}: expected InvalidRequest, got {other:?}"),
        Ok(value) => panic!("{id:?}: expected an error, got {value:?}"),
    }
}

/// `days` is a free string (reference §1); reserved characters in it are form-encoded
/// into the one parameter rather than starting a second one.
#[tokio::test]
async fn a_days_value_with_reserved_characters_stays_one_parameter() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(format!("/api/v2/oauth/clients/{CLIENT_ID}/usage/summary"))
                .query_param("days", "7&x=1#y")
                .query_param_missing("x");
            then.status(200).json_body(execution_handle());
        })
        .await;
    let client = raw_client(&server);

    expect_ok(
        answered_by(
            &mock,
            client.get_oauth_client_usage_summary(CLIENT_ID, Some("7&x=1#y")),
        )
        .await,
    )
    .await;
}
