//! Fixtures shared by the test modules.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use httpmock::{Mock, MockServer};
use serde_json::{Value, json};
use usage_sdk::raw::types::ErrorBody;
use usage_sdk::raw::{Error, ResponseValue};
use usage_sdk::time::{Clock, ManualClock};
use usage_sdk::{
    ApiError, Config, ConfigBuilder, Execution, ExecutionId, GroupBy, Interval, Metric,
    OAuthClientId, OrganizationQuery, PollPolicy, RetryPolicy, UsageClient,
};
use usage_sdk_stand_in::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, RunningStandIn, StandIn, StandInBuilder,
};

use crate::scripted::{Recorded, Reply, ScriptedServer};

/// The access token every fixture client presents.
pub const TOKEN: &str = "test-access-token-0f3c";

/// The `Authorization` value the server must see for [`TOKEN`].
pub const BEARER: &str = "Bearer test-access-token-0f3c";

/// A realistic execution id, shaped like the ones in the Genesys API-usage blog post.
pub const EXECUTION_ID: &str = "9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1";

/// A realistic OAuth client id.
pub const CLIENT_ID: &str = "6f1d5a3e-2c4b-4e8a-9a7d-0b1c2d3e4f50";

/// The generated raw client, pointed at `server` and authenticated with [`TOKEN`], as
/// `UsageClient::raw` gives it: its requests carry the token; retries and pacing are off here
/// so each test sees exactly one request per call, sent at once (a 429's `Retry-After` would
/// otherwise hold back the next operation's request).
pub fn raw_client(server: &MockServer) -> usage_sdk::raw::Client {
    usage_sdk::UsageClient::new(
        usage_sdk::Config::builder()
            .base_url(server.base_url())
            .access_token(TOKEN)
            .retry(usage_sdk::RetryPolicy::disabled().with_rate_limit_pacing(false))
            .build()
            .expect("a valid config"),
    )
    .expect("a client")
    .raw()
}

/// Awaits `call`, then checks that `mock` matched it exactly once, before the caller looks at
/// the result.
///
/// An unmatched request makes httpmock answer `404 {"message":"Request did not match any route
/// or mock"}`, which the generated client happily parses as an `ErrorBody`; checking the mock
/// first turns that into httpmock's report of the closest mock and a diff of what differed.
pub async fn answered_by<T>(mock: &Mock<'_>, call: impl Future<Output = T>) -> T {
    let outcome = call.await;
    mock.assert_async().await;
    outcome
}

/// The success value of a raw call, or a panic that says what came back instead.
pub async fn expect_ok<T: Debug>(
    result: Result<ResponseValue<T>, Error<ErrorBody>>,
) -> ResponseValue<T> {
    match result {
        Ok(value) => value,
        Err(e) => panic!("expected a success, got {}", describe(e).await),
    }
}

/// The `ErrorResponse` of a raw call, or a panic that says what came back instead.
pub async fn expect_error_response<T: Debug>(
    result: Result<ResponseValue<T>, Error<ErrorBody>>,
) -> ResponseValue<ErrorBody> {
    match result {
        Ok(value) => panic!(
            "expected Error::ErrorResponse, got success {} {:?}",
            value.status(),
            value.into_inner()
        ),
        Err(Error::ErrorResponse(body)) => body,
        Err(e) => panic!("expected Error::ErrorResponse, got {}", describe(e).await),
    }
}

/// A progenitor error as one line, with the body of an undeclared response read out.
pub async fn describe(error: Error<ErrorBody>) -> String {
    match error {
        Error::UnexpectedResponse(response) => {
            let status = response.status();
            let body = response
                .text()
                .await
                .unwrap_or_else(|e| format!("<unreadable: {e}>"));
            format!("UnexpectedResponse {status} with body {body:?}")
        }
        Error::InvalidResponsePayload(bytes, e) => format!(
            "InvalidResponsePayload ({e}) for body {:?}",
            String::from_utf8_lossy(&bytes)
        ),
        other => format!("{other:?}"),
    }
}

/// One declared error status with a machine code and message Genesys documents for it.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCase {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

/// Every error status the spec declares for each of the fifteen operations (raw_client.rs holds
/// this equal to the spec), with a code from its `x-inin-error-codes` (reference §3).
pub const DECLARED_ERRORS: [ErrorCase; 12] = [
    ErrorCase {
        status: 400,
        code: "invalid.date",
        message: "The interval is not a valid ISO-8601 interval",
    },
    ErrorCase {
        status: 401,
        code: "bad.credentials",
        message: "Invalid login credentials.",
    },
    ErrorCase {
        status: 403,
        code: "missing.any.permissions",
        message: "Unable to perform the requested action. You must have at least one of the following permissions assigned: [oauth:client:view, usage:organization:view]",
    },
    ErrorCase {
        status: 404,
        code: "not.found",
        message: "The requested resource was not found.",
    },
    ErrorCase {
        status: 408,
        code: "client.timeout",
        message: "The client did not produce a request within the server timeout limit.",
    },
    ErrorCase {
        status: 409,
        code: "request.conflict",
        message: "The request conflicts with the current state of the target resource.",
    },
    ErrorCase {
        status: 413,
        code: "request.entity.too.large",
        message: "The request is over the size limit. Maximum bytes: 1048576",
    },
    ErrorCase {
        status: 415,
        code: "unsupported.media.type",
        message: "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect Content-Type value in the header.",
    },
    ErrorCase {
        status: 429,
        code: "too.many.requests.retry.after",
        message: "Rate limit exceeded the maximum. Retry the request in [17] seconds",
    },
    ErrorCase {
        status: 500,
        code: "internal.server.error",
        message: "The server encountered an unexpected condition which prevented it from fulfilling the request.",
    },
    ErrorCase {
        status: 503,
        code: "service.unavailable",
        message: "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).",
    },
    ErrorCase {
        status: 504,
        code: "request.timeout",
        message: "The request timed out.",
    },
];

impl ErrorCase {
    /// A correlation id unique to this case, sent both as `contextId` and as the
    /// `ININ-Correlation-Id` header (Genesys uses the same value for both).
    pub fn correlation_id(&self) -> String {
        format!("c0ffee00-0000-4000-8000-000000000{}", self.status)
    }

    /// Whether Genesys sends `Retry-After` with this status (429, and 503 when overloaded).
    pub fn retry_after(&self) -> Option<&'static str> {
        matches!(self.status, 429 | 503).then_some("17")
    }

    /// The `ErrorBody` JSON Genesys sends for this case.
    pub fn body(&self) -> Value {
        json!({
            "message": self.message,
            "code": self.code,
            "status": self.status,
            "messageParams": {},
            "contextId": self.correlation_id(),
            "details": [],
            "errors": []
        })
    }
}

// ---------------------------------------------------------------------------------------------
// `UsageClient` fixtures: one set of credentials, one query, one execution, one config.
// ---------------------------------------------------------------------------------------------

/// The OAuth client name the credential fixtures use.
pub const BOT: &str = "reporting-bot";

/// The client secret the credential fixtures use.
pub const SECRET: &str = "client-secret-3f9a";

/// The organization query endpoint.
pub const ORG_QUERY: &str = "/api/v2/usage/query";

/// The organization results endpoint of [`EXECUTION_ID`].
pub const ORG_RESULTS: &str = "/api/v2/usage/query/9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1/results";

/// No scenario may take longer than this, whatever the server does.
pub const BOUND: Duration = Duration::from_secs(10);

pub fn interval() -> Interval {
    "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap()
}

/// An organization query that sets every field a caller usually sets.
pub fn org_query() -> OrganizationQuery {
    OrganizationQuery::builder(interval())
        .group_by([GroupBy::OAuthClientId])
        .metrics([Metric::Requests, Metric::Status200])
        .build()
        .unwrap()
}

/// The organization execution [`EXECUTION_ID`].
pub fn org_execution() -> Execution {
    Execution::organization(ExecutionId::new(EXECUTION_ID).unwrap())
}

/// A config for `base_url` with the static [`TOKEN`], retry waits and polls on `clock`, no
/// jitter, and a 5 s request timeout.
pub fn config(base_url: &str, clock: &ManualClock) -> ConfigBuilder {
    Config::builder()
        .base_url(base_url)
        .access_token(TOKEN)
        .retry(RetryPolicy::default().with_jitter(false))
        .poll(PollPolicy::default().with_jitter(false))
        .request_timeout(Duration::from_secs(5))
        .clock(Arc::new(clock.clone()))
}

/// [`config`] with client credentials ([`BOT`], [`SECRET`]) instead of a static token.
pub fn credentials_config(base_url: &str, clock: &ManualClock) -> ConfigBuilder {
    config(base_url, clock).client_credentials(BOT, SECRET)
}

pub fn build(builder: ConfigBuilder) -> UsageClient {
    UsageClient::new(builder.build().unwrap()).unwrap()
}

/// A client with credentials for `server`, waiting on `clock`.
pub fn scripted_client(server: &ScriptedServer, clock: &ManualClock) -> UsageClient {
    build(credentials_config(&server.base_url, clock))
}

/// Awaits `call` within [`BOUND`]; returns its output and how long it took.
pub async fn bounded<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = tokio::time::timeout(BOUND, call)
        .await
        .expect("the call must end within the bound, whatever the server does");
    (out, started.elapsed())
}

/// One line of the fault-scenario table (run with `--nocapture` to see them).
pub fn report(scenario: &str, outcome: &str, requests: usize, took: Duration) {
    eprintln!("scenario | {scenario} | {outcome} | {requests} | {took:.2?}");
}

/// Whole seconds as durations, for comparing with `ManualClock::sleeps`.
pub fn secs(values: &[u64]) -> Vec<Duration> {
    values.iter().copied().map(Duration::from_secs).collect()
}

/// Fractional seconds as durations, for comparing with `ManualClock::sleeps`.
pub fn secs_f64(values: &[f64]) -> Vec<Duration> {
    values.iter().map(|s| Duration::from_secs_f64(*s)).collect()
}

/// A loopback port nothing listens on (bound, then released).
pub fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

// Scripted answers of the organization query flow.

pub fn submitted(results_uri: &str) -> Reply {
    Reply::json(
        202,
        json!({"executionId": EXECUTION_ID, "resultsUri": results_uri}),
    )
}

pub fn running() -> Reply {
    Reply::json(200, json!({"queryStatus": "Running"}))
}

pub fn complete() -> Reply {
    Reply::json(
        200,
        json!({"queryStatus": "Complete", "results": [
            {"clientId": "c1", "clientName": "Reporting bot", "organizationId": "", "userId": "",
             "templateUri": "", "httpMethod": "", "status200": 110, "status300": 0, "status400": 9,
             "status429": 5, "status500": 1, "requests": 120, "date": "2026-11-01T00:00:00Z"}
        ]}),
    )
}

/// The org query flow (token, submit, results) with `results` deciding each poll's answer.
pub fn org_flow(
    results: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Recorded, usize) -> Reply {
    move |request, n| match request.path() {
        "/oauth/token" => Reply::token(TOKEN, 86_399),
        ORG_QUERY => submitted(ORG_RESULTS),
        ORG_RESULTS => results(n),
        other => Reply::error(404, "not.found", &format!("no route {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The stand-in, for the typed client end to end.
// ---------------------------------------------------------------------------------------------

/// One seed for every stand-in of the typed-client tests, so a twin stand-in can reproduce
/// the tokens issued (see [`secrets_of`]).
pub const SEED: u64 = 0xE2E0_5EED;

/// A fixed "today", so intervals in these tests always fall inside the data.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

/// Seven full days (Monday to Sunday) well inside the stand-in's data window.
pub fn week() -> Interval {
    "2026-11-02T00:00:00Z/2026-11-09T00:00:00Z".parse().unwrap()
}

/// Instant executions, a pinned date and the default rate limit (300 per minute).
pub fn stand_in() -> StandInBuilder {
    StandIn::builder()
        .seed(SEED)
        .today(today())
        .execution_time(Duration::ZERO)
}

pub async fn start(builder: StandInBuilder) -> RunningStandIn {
    builder.start().await.expect("the stand-in binds 127.0.0.1")
}

/// A stand-in with no rate limit whose executions complete at once: faults come only from
/// what a test injects.
pub async fn instant_stand_in() -> RunningStandIn {
    start(
        StandIn::builder()
            .no_rate_limit()
            .execution_time(Duration::ZERO),
    )
    .await
}

/// The demo client's credentials on `si`, no jitter, and `clock` for every wait.
pub fn si_config(si: &RunningStandIn, clock: Arc<dyn Clock>) -> ConfigBuilder {
    Config::builder()
        .base_url(si.base_url())
        .client_credentials(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        .retry(RetryPolicy::default().with_jitter(false))
        .poll(PollPolicy::default().with_jitter(false))
        .clock(clock)
}

pub fn si_client(si: &RunningStandIn, clock: &ManualClock) -> UsageClient {
    build(si_config(si, Arc::new(clock.clone())))
}

pub fn demo() -> OAuthClientId {
    OAuthClientId::new(DEMO_CLIENT_ID).unwrap()
}

/// Requests the stand-in received on `/api/v2/…` (everything but the token endpoint).
pub fn api_requests(si: &RunningStandIn) -> u64 {
    let stats = si.stats();
    stats.total_requests() - stats.token_requests()
}

/// The `ApiError` inside `err`, or a panic that shows what came back instead.
pub fn api_error(err: &usage_sdk::Error) -> &ApiError {
    match err {
        usage_sdk::Error::Api(api) => api,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

/// Asserts an API error's status and code, and that the correlation id the client reports
/// is the one the stand-in put in both the header and the body's `contextId`.
pub fn assert_api_error(err: &usage_sdk::Error, operation: &str, status: u16, code: &str) {
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

/// A plain reqwest client for the tests' own requests. reqwest is built without a crypto
/// provider of its own (as in the library, which passes ring to its clients in tls.rs), so
/// ring is installed as the process's provider first: the tests build no second crypto library.
pub fn plain_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A token for the demo client, fetched with plain reqwest.
pub async fn fetch_token(si: &RunningStandIn) -> String {
    let response = plain_http()
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
pub async fn secrets_of(si: &RunningStandIn) -> Vec<String> {
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
pub async fn assert_secret_free(si: &RunningStandIn, errors: &[&usage_sdk::Error]) {
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

// ---------------------------------------------------------------------------------------------
// Child processes: resident memory is per process, and this test binary runs many tests at
// once, so a memory bound is checked in a child that runs one ignored test alone.
// ---------------------------------------------------------------------------------------------

/// Runs this test binary again with only the ignored test `test` (its full path), `env` set,
/// within `limit`; echoes the child's stderr lines that start with one of `echo`, and fails
/// unless the child ran that one test and it passed.
pub fn run_alone_in_a_child_process(test: &str, env: (&str, &str), limit: Duration, echo: &[&str]) {
    let started = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env.0, env.1)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a hung child is killed, and the test fails.
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("{test} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    for line in stderr
        .lines()
        .filter(|l| echo.iter().any(|prefix| l.starts_with(prefix)))
    {
        eprintln!("{line}");
    }
    assert!(status.success(), "{test} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{test} did not run:\n{stdout}");
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`, …).
pub fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A typed client with the demo credentials of a stand-in.
pub async fn stand_in_client(stand_in: &RunningStandIn, clock: &ManualClock) -> UsageClient {
    let demo = stand_in.demo_client();
    build(
        config(&stand_in.base_url(), clock)
            .client_credentials(demo.id.clone(), demo.secret.clone()),
    )
}

/// The last seven full days: within the year the aggregates jobs accept.
pub fn recent_week() -> Interval {
    let end = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let start = end - chrono::Days::new(7);
    format!("{start}/{end}").parse().unwrap()
}

/// Every row of a legacy usage query, read through the one waiter and its `Rows` (legacy
/// results are one page).
#[derive(Debug)]
pub struct Report<R> {
    pub rows: Vec<R>,
}

/// `.report()` on a call that gives a row stream: waits, then collects every row.
pub trait CollectReport<R> {
    fn report(self) -> impl Future<Output = Result<Report<R>, usage_sdk::Error>>;
}

impl<R, F> CollectReport<R> for F
where
    R: Send + 'static,
    F: Future<Output = Result<usage_sdk::Rows<R>, usage_sdk::Error>>,
{
    async fn report(self) -> Result<Report<R>, usage_sdk::Error> {
        Ok(Report {
            rows: self.await?.try_collect().await?,
        })
    }
}
