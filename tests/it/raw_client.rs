//! The five generated operations against httpmock: what is sent and what comes back.
//!
//! One module per operation. Each checks the request on the wire (method, raw path, query,
//! headers, exact JSON body), the success statuses the spec declares, the response shapes the
//! real server produces (reference §2.6, §7.1), and that every declared error status comes
//! back as `Error::ErrorResponse` with the parsed `ErrorBody` and the response headers.

use std::fmt::Debug;
use std::future::Future;

use chrono::{DateTime, Utc};
use httpmock::{HttpMockRequest, MockServer, When};
use serde_json::{Value, json};
use usage_sdk::QueryStatus;
use usage_sdk::raw::types::{ApiUsageQueryResult, ErrorBody};
use usage_sdk::raw::{Error, ResponseValue};

use crate::support::{
    BEARER, CLIENT_ID, DECLARED_ERRORS, EXECUTION_ID, TOKEN, answered_by, describe,
    expect_error_response, expect_ok, raw_client,
};

/// 2^32 + 7: does not fit in an i32 or a u32.
const ABOVE_U32: i64 = 4_294_967_303;
/// 2^53 + 1: not representable as an f64, so it only survives if nobody goes through floats.
const ABOVE_F64_MANTISSA: i64 = 9_007_199_254_740_993;

/// What every operation sends: the bearer token exactly once, `Accept: application/json`, and
/// no progenitor `api-version` header (removed by `ClientHooks::pre` in usage-sdk).
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

/// An `UsageExecutionResult` as the POSTs and the summary return it (reference §2.4).
fn execution_handle(results_uri: &str) -> Value {
    json!({ "executionId": EXECUTION_ID, "resultsUri": results_uri })
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
    assert_eq!(first.date, Some(expected));

    let second = &result.results[1];
    assert_eq!(second.template_uri.as_deref(), Some(""));
    assert_eq!(second.http_method.as_deref(), Some(""));
    assert_eq!(second.requests, Some(3));
    assert_eq!(second.status200, None, "absent counters stay None, not 0");
    let expected: DateTime<Utc> = "2020-02-03T00:00:00Z".parse().unwrap();
    assert_eq!(second.date, Some(expected));
}

/// Answers every declared error status in turn at `method path` and checks that `call` turns
/// each into `Error::ErrorResponse` carrying the status, the parsed `ErrorBody` and the
/// response headers.
async fn assert_declared_errors<T, F, Fut>(
    server: &MockServer,
    method: &'static str,
    path: &str,
    call: F,
) where
    T: Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<ResponseValue<T>, Error<ErrorBody>>>,
{
    for case in DECLARED_ERRORS {
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

        let error = expect_error_response(answered_by(&mock, call()).await).await;

        assert_eq!(error.status().as_u16(), case.status, "{case:?}");
        let body = error.as_ref();
        assert_eq!(body.code.as_deref(), Some(case.code), "{case:?}");
        assert_eq!(body.message.as_deref(), Some(case.message), "{case:?}");
        assert_eq!(body.status, Some(i32::from(case.status)), "{case:?}");
        assert_eq!(
            body.context_id.as_deref(),
            Some(case.correlation_id().as_str()),
            "{case:?}"
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
            "{case:?}"
        );
        assert_eq!(
            header("retry-after").as_deref(),
            case.retry_after(),
            "{case:?}"
        );

        mock.delete_async().await;
    }
}

/// Answers 200 and then 202 with an execution handle and checks both are a success that keeps
/// its status (the POSTs and the summary declare both, with the same body; reference §3).
async fn assert_200_and_202_succeed<F, Fut>(
    server: &MockServer,
    method: &'static str,
    path: &str,
    results_uri: &str,
    call: F,
) where
    F: Fn() -> Fut,
    Fut: Future<
        Output = Result<
            ResponseValue<usage_sdk::raw::types::UsageExecutionResult>,
            Error<ErrorBody>,
        >,
    >,
{
    for status in [200u16, 202] {
        let mock = server
            .mock_async(|when, then| {
                when.method(method).path(path);
                then.status(status)
                    .header("content-type", "application/json")
                    .json_body(execution_handle(results_uri));
            })
            .await;

        let response = expect_ok(answered_by(&mock, call()).await).await;

        assert_eq!(response.status().as_u16(), status);
        let handle = response.into_inner();
        assert_eq!(handle.execution_id.as_deref(), Some(EXECUTION_ID));
        assert_eq!(handle.results_uri.as_deref(), Some(results_uri));
        mock.delete_async().await;
    }
}

/// The raw client from `UsageClient::raw` carries the client's session (its config holds the
/// token as a `Secret`), so `Debug` of the generated client must not print the token.
#[tokio::test]
async fn the_raw_client_debug_output_does_not_show_the_token() {
    let server = MockServer::start_async().await;
    let client = raw_client(&server);

    let debug = format!("{client:?}");

    assert!(debug.contains("Session"), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
    assert!(!debug.contains(TOKEN), "{debug}");
}

mod post_usage_query {
    use super::*;
    use usage_sdk::raw::types::{
        ApiUsageOrganizationQuery, ApiUsageOrganizationQueryGranularity as Granularity,
        ApiUsageOrganizationQueryGroupByItem as GroupBy,
        ApiUsageOrganizationQueryMetricsItem as Metric,
    };

    const PATH: &str = "/api/v2/usage/query";
    const INTERVAL: &str = "2020-01-01T00:00:00/2020-07-01T00:00:00";

    fn results_uri() -> String {
        format!("/api/v2/usage/query/{EXECUTION_ID}/results")
    }

    fn interval_only() -> ApiUsageOrganizationQuery {
        ApiUsageOrganizationQuery {
            interval: INTERVAL.into(),
            granularity: None,
            group_by: vec![],
            metrics: vec![],
        }
    }

    #[tokio::test]
    async fn sends_every_field_as_camel_case_json_with_bearer_and_without_api_version() {
        let server = MockServer::start_async().await;
        let query = ApiUsageOrganizationQuery {
            interval: INTERVAL.into(),
            granularity: Some(Granularity::Day),
            group_by: vec![
                GroupBy::OAuthClientId,
                GroupBy::OrganizationId,
                GroupBy::UserId,
                GroupBy::TemplateUri,
                GroupBy::HttpMethod,
            ],
            metrics: vec![
                Metric::Requests,
                Metric::Status200,
                Metric::Status300,
                Metric::Status400,
                Metric::Status429,
                Metric::Status500,
            ],
        };
        let mock = server
            .mock_async(|when, then| {
                common_headers(when.method("POST").path(PATH))
                    .is_true(no_query)
                    .header("content-type", "application/json")
                    .json_body(json!({
                        "interval": INTERVAL,
                        "granularity": "Day",
                        "groupBy": ["OAuthClientId", "OrganizationId", "UserId", "TemplateUri", "HttpMethod"],
                        "metrics": ["Requests", "Status200", "Status300", "Status400", "Status429", "Status500"]
                    }));
                then.status(202)
                    .header("content-type", "application/json")
                    .json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(answered_by(&mock, client.post_usage_query(&query)).await).await;

        assert_eq!(response.status().as_u16(), 202);
        let handle = response.into_inner();
        assert_eq!(handle.execution_id.as_deref(), Some(EXECUTION_ID));
        assert_eq!(handle.results_uri, Some(results_uri()));
    }

    #[tokio::test]
    async fn omits_unset_optional_fields_instead_of_sending_null_or_empty_arrays() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("POST")
                    .path(PATH)
                    .header("content-type", "application/json")
                    .json_body(json!({ "interval": INTERVAL }))
                    .body_excludes("null")
                    .body_excludes("[]")
                    .body_excludes("groupBy")
                    .body_excludes("granularity")
                    .body_excludes("metrics");
                then.status(200).json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        expect_ok(answered_by(&mock, client.post_usage_query(&interval_only())).await).await;
    }

    #[tokio::test]
    async fn accepts_200_and_202_as_success() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);
        let query = interval_only();

        assert_200_and_202_succeed(&server, "POST", PATH, &results_uri(), || {
            client.post_usage_query(&query)
        })
        .await;
    }

    #[tokio::test]
    async fn every_declared_error_status_is_an_error_response_with_body_and_headers() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);
        let query = interval_only();

        assert_declared_errors(&server, "POST", PATH, || client.post_usage_query(&query)).await;
    }

    #[tokio::test]
    async fn a_rate_limit_error_keeps_its_limit_params_and_nested_errors() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("POST").path(PATH);
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
            answered_by(&mock, client.post_usage_query(&interval_only())).await,
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

    /// The raw client only knows the declared statuses: 502 (which Genesys calls transient,
    /// reference §5.1) is handed back unparsed, for the hand-written layer to classify.
    #[tokio::test]
    async fn an_undeclared_status_is_an_unexpected_response_with_the_body_unread() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("POST").path(PATH);
                then.status(502)
                    .header("ININ-Correlation-Id", "bad-gateway-1")
                    .body("<html><body>502 Bad Gateway</body></html>");
            })
            .await;
        let client = raw_client(&server);

        match answered_by(&mock, client.post_usage_query(&interval_only())).await {
            Err(Error::UnexpectedResponse(response)) => {
                assert_eq!(response.status().as_u16(), 502);
                assert_eq!(response.headers()["inin-correlation-id"], "bad-gateway-1");
                assert_eq!(
                    response.text().await.unwrap(),
                    "<html><body>502 Bad Gateway</body></html>"
                );
            }
            other => panic!("expected UnexpectedResponse, got {other:?}"),
        }
    }

    /// A declared error status whose body is not JSON (a proxy's HTML page) does not become
    /// `ErrorResponse`: progenitor fails to parse it and returns `InvalidResponsePayload`, which
    /// carries only the bytes; the status and the headers are lost.
    #[tokio::test]
    async fn a_declared_error_status_with_a_non_json_body_loses_its_status() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("POST").path(PATH);
                then.status(503)
                    .header("content-type", "text/html")
                    .header("Retry-After", "5")
                    .body("<html>Service Unavailable</html>");
            })
            .await;
        let client = raw_client(&server);

        let result = answered_by(&mock, client.post_usage_query(&interval_only())).await;

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
}

mod get_usage_query_execution_id_results {
    use super::*;

    fn path(execution_id: &str) -> String {
        format!("/api/v2/usage/query/{execution_id}/results")
    }

    #[tokio::test]
    async fn sends_a_bodiless_get_with_bearer_and_without_api_version() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                bodiless(common_headers(when.method("GET").path(path(EXECUTION_ID))))
                    .is_true(no_query);
                then.status(200)
                    .json_body(json!({ "queryStatus": "Running" }));
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(
            answered_by(
                &mock,
                client.get_usage_query_execution_id_results(EXECUTION_ID),
            )
            .await,
        )
        .await;

        // Running is signalled in the body, with 200 and no rows (reference §7.1).
        assert_eq!(response.status().as_u16(), 200);
        let result = response.into_inner();
        assert_eq!(result.query_status, Some(QueryStatus::Running));
        assert!(result.results.is_empty());
        assert_eq!(result.cursors, None);
    }

    #[tokio::test]
    async fn complete_rows_keep_empty_dimensions_big_counters_and_utc_dates() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET").path(path(EXECUTION_ID));
                then.status(200).json_body(complete_result());
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(
            answered_by(
                &mock,
                client.get_usage_query_execution_id_results(EXECUTION_ID),
            )
            .await,
        )
        .await;

        assert_complete_result(&response.into_inner());
    }

    #[tokio::test]
    async fn failed_and_unknown_query_statuses_are_kept() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);

        for (wire, expected) in [
            ("Failed", QueryStatus::Failed),
            ("Queued", QueryStatus::Unknown("Queued".into())),
        ] {
            let mock = server
                .mock_async(|when, then| {
                    when.method("GET").path(path(EXECUTION_ID));
                    then.status(200).json_body(json!({ "queryStatus": wire }));
                })
                .await;

            let response = expect_ok(
                answered_by(
                    &mock,
                    client.get_usage_query_execution_id_results(EXECUTION_ID),
                )
                .await,
            )
            .await;

            assert_eq!(response.into_inner().query_status, Some(expected));
            mock.delete_async().await;
        }
    }

    /// Only 200 is declared for the results: "not ready" is `queryStatus`, not 202.
    #[tokio::test]
    async fn a_202_is_not_declared_and_comes_back_unexpected() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET").path(path(EXECUTION_ID));
                then.status(202)
                    .json_body(json!({ "queryStatus": "Running" }));
            })
            .await;
        let client = raw_client(&server);

        match answered_by(
            &mock,
            client.get_usage_query_execution_id_results(EXECUTION_ID),
        )
        .await
        {
            Err(Error::UnexpectedResponse(response)) => {
                assert_eq!(response.status().as_u16(), 202)
            }
            other => panic!("expected UnexpectedResponse, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn every_declared_error_status_is_an_error_response_with_body_and_headers() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);

        assert_declared_errors(&server, "GET", &path(EXECUTION_ID), || {
            client.get_usage_query_execution_id_results(EXECUTION_ID)
        })
        .await;
    }

    #[tokio::test]
    async fn an_execution_id_with_slashes_stays_one_path_segment() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET")
                    .path("/api/v2/usage/query/..%2F..%2Fusers/results")
                    .is_true(no_query);
                then.status(200)
                    .json_body(json!({ "queryStatus": "Running" }));
            })
            .await;
        let client = raw_client(&server);

        expect_ok(
            answered_by(
                &mock,
                client.get_usage_query_execution_id_results("../../users"),
            )
            .await,
        )
        .await;
    }

    /// Known defect, pinned so a fix shows up here: progenitor's `encode_path` leaves `.`
    /// alone, and the URL parser then resolves an id that is exactly `..` as a dot segment, so
    /// the request leaves its route. Callers must reject `.`/`..` ids before the raw client.
    #[tokio::test]
    async fn known_defect_an_execution_id_of_dot_dot_escapes_its_segment() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET").path("/api/v2/usage/results");
                then.status(404)
                    .json_body(json!({ "code": "not.found", "status": 404 }));
            })
            .await;
        let client = raw_client(&server);

        let error = expect_error_response(
            answered_by(&mock, client.get_usage_query_execution_id_results("..")).await,
        )
        .await;

        assert_eq!(error.status().as_u16(), 404);
    }
}

mod post_oauth_client_usage_query {
    use super::*;
    use usage_sdk::raw::types::{
        ApiUsageClientQuery, ApiUsageClientQueryGranularity as Granularity,
        ApiUsageClientQueryGroupByItem as GroupBy, ApiUsageClientQueryMetricsItem as Metric,
    };

    const INTERVAL: &str = "2020-01/2020-06";

    fn path(client_id: &str) -> String {
        format!("/api/v2/oauth/clients/{client_id}/usage/query")
    }

    fn results_uri() -> String {
        format!("/api/v2/oauth/clients/{CLIENT_ID}/usage/query/results/{EXECUTION_ID}")
    }

    fn interval_only() -> ApiUsageClientQuery {
        ApiUsageClientQuery {
            interval: INTERVAL.into(),
            granularity: None,
            group_by: vec![],
            metrics: vec![],
        }
    }

    #[tokio::test]
    async fn sends_every_field_as_camel_case_json_to_the_client_path() {
        let server = MockServer::start_async().await;
        let query = ApiUsageClientQuery {
            interval: INTERVAL.into(),
            granularity: Some(Granularity::Month),
            group_by: vec![GroupBy::TemplateUri, GroupBy::HttpMethod],
            metrics: vec![Metric::Status429, Metric::Requests],
        };
        let mock = server
            .mock_async(|when, then| {
                common_headers(when.method("POST").path(path(CLIENT_ID)))
                    .is_true(no_query)
                    .header("content-type", "application/json")
                    .json_body(json!({
                        "interval": INTERVAL,
                        "granularity": "Month",
                        "groupBy": ["TemplateUri", "HttpMethod"],
                        "metrics": ["Status429", "Requests"]
                    }));
                then.status(200)
                    .header("content-type", "application/json")
                    .json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(
            answered_by(
                &mock,
                client.post_oauth_client_usage_query(CLIENT_ID, &query),
            )
            .await,
        )
        .await;

        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.into_inner().results_uri, Some(results_uri()));
    }

    #[tokio::test]
    async fn omits_unset_optional_fields_instead_of_sending_null_or_empty_arrays() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("POST")
                    .path(path(CLIENT_ID))
                    .json_body(json!({ "interval": INTERVAL }))
                    .body_excludes("null")
                    .body_excludes("[]");
                then.status(202).json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        expect_ok(
            answered_by(
                &mock,
                client.post_oauth_client_usage_query(CLIENT_ID, &interval_only()),
            )
            .await,
        )
        .await;
    }

    #[tokio::test]
    async fn accepts_200_and_202_as_success() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);
        let query = interval_only();

        assert_200_and_202_succeed(&server, "POST", &path(CLIENT_ID), &results_uri(), || {
            client.post_oauth_client_usage_query(CLIENT_ID, &query)
        })
        .await;
    }

    #[tokio::test]
    async fn every_declared_error_status_is_an_error_response_with_body_and_headers() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);
        let query = interval_only();

        assert_declared_errors(&server, "POST", &path(CLIENT_ID), || {
            client.post_oauth_client_usage_query(CLIENT_ID, &query)
        })
        .await;
    }

    #[tokio::test]
    async fn a_client_id_with_reserved_characters_stays_one_path_segment() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("POST")
                    .path("/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/query")
                    .is_true(no_query)
                    .json_body(json!({ "interval": INTERVAL }));
                then.status(202).json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        expect_ok(
            answered_by(
                &mock,
                client.post_oauth_client_usage_query("a/b?x=1#y", &interval_only()),
            )
            .await,
        )
        .await;
    }
}

mod get_oauth_client_usage_query_result {
    use super::*;

    fn path(client_id: &str, execution_id: &str) -> String {
        format!("/api/v2/oauth/clients/{client_id}/usage/query/results/{execution_id}")
    }

    #[tokio::test]
    async fn sends_a_bodiless_get_with_client_then_execution_id() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                // The spec declares executionId before clientId; the path order must still be
                // clients/{clientId}/…/results/{executionId}.
                bodiless(common_headers(
                    when.method("GET").path(path(CLIENT_ID, EXECUTION_ID)),
                ))
                .is_true(no_query);
                then.status(200)
                    .json_body(json!({ "queryStatus": "Running" }));
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(
            answered_by(
                &mock,
                client.get_oauth_client_usage_query_result(CLIENT_ID, EXECUTION_ID),
            )
            .await,
        )
        .await;

        let result = response.into_inner();
        assert_eq!(result.query_status, Some(QueryStatus::Running));
        assert!(result.results.is_empty());
    }

    #[tokio::test]
    async fn complete_rows_keep_empty_dimensions_big_counters_and_utc_dates() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET").path(path(CLIENT_ID, EXECUTION_ID));
                then.status(200).json_body(complete_result());
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(
            answered_by(
                &mock,
                client.get_oauth_client_usage_query_result(CLIENT_ID, EXECUTION_ID),
            )
            .await,
        )
        .await;

        assert_complete_result(&response.into_inner());
    }

    #[tokio::test]
    async fn an_unknown_query_status_is_kept_verbatim() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET").path(path(CLIENT_ID, EXECUTION_ID));
                then.status(200)
                    .json_body(json!({ "queryStatus": "Queued", "results": [] }));
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(
            answered_by(
                &mock,
                client.get_oauth_client_usage_query_result(CLIENT_ID, EXECUTION_ID),
            )
            .await,
        )
        .await;

        let status = response.into_inner().query_status.expect("status parsed");
        assert_eq!(status, QueryStatus::Unknown("Queued".into()));
        assert!(!status.is_terminal());
    }

    #[tokio::test]
    async fn every_declared_error_status_is_an_error_response_with_body_and_headers() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);

        assert_declared_errors(&server, "GET", &path(CLIENT_ID, EXECUTION_ID), || {
            client.get_oauth_client_usage_query_result(CLIENT_ID, EXECUTION_ID)
        })
        .await;
    }

    #[tokio::test]
    async fn both_ids_stay_one_path_segment_each() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET")
                    .path(
                        "/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/query/results/..%2F..%2Fusers",
                    )
                    .is_true(no_query);
                then.status(200)
                    .json_body(json!({ "queryStatus": "Running" }));
            })
            .await;
        let client = raw_client(&server);

        expect_ok(
            answered_by(
                &mock,
                client.get_oauth_client_usage_query_result("a/b?x=1#y", "../../users"),
            )
            .await,
        )
        .await;
    }
}

mod get_oauth_client_usage_summary {
    use super::*;

    fn path(client_id: &str) -> String {
        format!("/api/v2/oauth/clients/{client_id}/usage/summary")
    }

    fn results_uri() -> String {
        format!("/api/v2/oauth/clients/{CLIENT_ID}/usage/query/results/{EXECUTION_ID}")
    }

    #[tokio::test]
    async fn sends_days_as_the_only_query_parameter() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                bodiless(common_headers(when.method("GET").path(path(CLIENT_ID))))
                    .query_param("days", "30")
                    .is_true(|req: &HttpMockRequest| req.uri().query() == Some("days=30"));
                then.status(202).json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        let response = expect_ok(
            answered_by(
                &mock,
                client.get_oauth_client_usage_summary(CLIENT_ID, Some("30")),
            )
            .await,
        )
        .await;

        assert_eq!(response.status().as_u16(), 202);
        assert_eq!(
            response.into_inner().execution_id.as_deref(),
            Some(EXECUTION_ID)
        );
    }

    /// Without `days` nothing is sent and the server applies its default of "7".
    #[tokio::test]
    async fn omits_days_and_the_query_string_when_unset() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET")
                    .path(path(CLIENT_ID))
                    .query_param_missing("days")
                    .is_true(no_query);
                then.status(200).json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        expect_ok(
            answered_by(
                &mock,
                client.get_oauth_client_usage_summary(CLIENT_ID, None),
            )
            .await,
        )
        .await;
    }

    #[tokio::test]
    async fn accepts_200_and_202_as_success() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);

        assert_200_and_202_succeed(&server, "GET", &path(CLIENT_ID), &results_uri(), || {
            client.get_oauth_client_usage_summary(CLIENT_ID, Some("7"))
        })
        .await;
    }

    #[tokio::test]
    async fn every_declared_error_status_is_an_error_response_with_body_and_headers() {
        let server = MockServer::start_async().await;
        let client = raw_client(&server);

        assert_declared_errors(&server, "GET", &path(CLIENT_ID), || {
            client.get_oauth_client_usage_summary(CLIENT_ID, Some("7"))
        })
        .await;
    }

    #[tokio::test]
    async fn a_client_id_with_reserved_characters_stays_one_segment_and_leaks_no_query() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET")
                    .path("/api/v2/oauth/clients/a%2Fb%3Fx=1%23y/usage/summary")
                    .query_param_missing("x")
                    .is_true(|req: &HttpMockRequest| req.uri().query() == Some("days=7"));
                then.status(200).json_body(execution_handle(&results_uri()));
            })
            .await;
        let client = raw_client(&server);

        expect_ok(
            answered_by(
                &mock,
                client.get_oauth_client_usage_summary("a/b?x=1#y", Some("7")),
            )
            .await,
        )
        .await;
    }

    /// `days` is a free string (reference §1); reserved characters in it are form-encoded
    /// into the one parameter rather than starting a second one.
    #[tokio::test]
    async fn a_days_value_with_reserved_characters_stays_one_parameter() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method("GET")
                    .path(path(CLIENT_ID))
                    .query_param("days", "7&x=1#y")
                    .query_param_missing("x");
                then.status(200).json_body(execution_handle(&results_uri()));
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
}
