//! Benchmarks with targets (issue #5), each against a baseline measured in the same run.
//!
//! ```text
//! cargo bench -p usage-sdk --bench targets            # all five, ~25 min (build ~20)
//! cargo bench -p usage-sdk --bench targets -- overhead decode
//! cargo bench -p usage-sdk --bench targets -- stream
//! ```
//!
//! Names: `overhead`, `decode`, `fanout`, `build`, `stream`, `resume`. With no name all run; the last line is a
//! table (benchmark, SDK figure, baseline figure, ratio, target, pass/fail) and the exit code
//! is 1 if a target was missed. Not part of `cargo test`: bench targets are not built there.
//!
//! 1. `overhead`: a submit + results cycle (3 rows) through [`UsageClient`] against a local
//!    server that answers at once, versus plain reqwest + serde_json making the same two
//!    requests to the same server; one connection, sequential; 31 paired rounds (each times
//!    both sides back to back), target on the median per-round ratio, spread as its IQR.
//! 2. `decode`: 100,000 rows (~30 MB of JSON) through the SDK's decode path (progenitor's
//!    `ResponseValue::from_response` into the generated `ApiUsageQueryResult`) versus
//!    `serde_json::from_slice` into a hand-written struct of the same shape; time, and peak
//!    heap bytes allocated during the decode (a counting global allocator), the JSON buffer
//!    itself excluded (both sides hold it before decoding starts).
//! 3. `fanout`: 200 concurrent client usage queries against the stand-in limited to 50
//!    requests/s (bucket of 50 refilled at 50/s) with executions taking 1 s, through a
//!    recording proxy that checks no request was re-sent before a `Retry-After` it was given
//!    had passed. Ideal = (400 requests (a submit and one results fetch per query) - the 50
//!    the full bucket admits at once) / 50 per s = 7.0 s.
//!    The stand-in seeds at most 8 OAuth clients, so the 200 queries cycle over 8 client ids
//!    (25 each), each with its own interval. Run with rate-limit pacing on
//!    (the default; the measured row) and off (for comparison).
//! 4. `build`: a clean `cargo build -p usage-sdk --features build-time-codegen` and a no-op
//!    rebuild (which must not re-run the generator) in their own target directory under the
//!    system temp dir (the shared `target/` is left alone), and the size of a release
//!    `usage-report` program. Then what a consumer pays: the clean dev build of a scratch
//!    crate outside the workspace making one call through usage-sdk (default features, and
//!    with `build-time-codegen`), versus the same call on plain reqwest + serde + tokio with
//!    the same reqwest features and TLS stack, each in a fresh target directory, interleaved
//!    over 3 rounds (`USAGE_SDK_BENCH_BUILD_ROUNDS`); targets on the medians: <= 75 s and
//!    <= 1.3x.
//! 5. `stream`: an organization aggregates job of 1,000,000 rows (1,000 pages of 1,000 rows,
//!    ~0.5 MB of JSON a page, served from pre-rendered blocks by a loopback server on its own
//!    thread) read with `UsageClient::rows` + `Rows::try_next` and written as CSV lines
//!    into a counting sink, versus plain reqwest + serde_json following `nextUri` into a
//!    hand-written struct of the same shape and writing the same lines (the byte counts are
//!    checked equal). Rows/s of 7 paired rounds (`USAGE_SDK_BENCH_STREAM_ROUNDS` changes
//!    it); target >= 0.9x on the median of the per-round ratios, their range the spread. Then peak RSS:
//!    this binary re-runs itself as a child (`USAGE_SDK_BENCH_STREAM_CHILD=sdk|base URL ROWS`)
//!    that streams 100,000 or 1,000,000 rows from the server in this process (so the child's
//!    RSS is the client's alone) and prints its `VmHWM` from `/proc/self/status`; targets:
//!    the 1M-row peak within 1.1x of the 100k-row peak, and under 64 MB.
//! 6. `resume`: a stored handle (`aggregates-job:organization:job-1`) of a finished job of
//!    1,000 rows parsed, waited for and read to its first row by a fresh client, versus a
//!    fresh plain reqwest client GETting and decoding the same first page; 15 paired rounds;
//!    target: the SDK's median at most 50 ms (a resume used to wait about a second before its
//!    first poll).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use usage_sdk::raw::types::{ApiUsageQueryResult, ErrorBody};
use usage_sdk::{
    Granularity, GroupBy, Interval, Metric, OAuthClientId, OAuthClientQuery, OrganizationJob,
    OrganizationJobQuery, OrganizationQuery, PageSize, PollPolicy, UsageClient,
};
use usage_sdk_stand_in::StandIn;

// ---------------------------------------------------------------------------------------------
// A counting allocator: current and peak live heap bytes.

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Allocations made (`alloc` calls; a `realloc` is not counted).
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result and the peak of live heap bytes above the level at the
/// start (what `f` needed at most, on top of what was already allocated).
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let value = f();
    (value, PEAK.load(Ordering::Relaxed).saturating_sub(start))
}

// ---------------------------------------------------------------------------------------------
// The table.

struct Row {
    name: String,
    sdk: String,
    baseline: String,
    ratio: String,
    target: String,
    pass: Option<bool>,
}

impl Row {
    fn new(name: &str, sdk: String, baseline: String, ratio: String, target: &str) -> Self {
        Self {
            name: name.into(),
            sdk,
            baseline,
            ratio,
            target: target.into(),
            pass: None,
        }
    }

    fn pass(mut self, pass: bool) -> Self {
        self.pass = Some(pass);
        self
    }
}

fn print_table(rows: &[Row]) {
    let header = [
        "benchmark",
        "SDK",
        "baseline",
        "ratio",
        "target",
        "pass/fail",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.sdk.clone(),
                r.baseline.clone(),
                r.ratio.clone(),
                r.target.clone(),
                match r.pass {
                    Some(true) => "pass".into(),
                    Some(false) => "FAIL".into(),
                    None => "info".into(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    println!();
    line(&header.map(String::from));
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in &cells {
        line(row);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Serves HTTP/1.1 on 127.0.0.1 (TCP_NODELAY, keep-alive) with `handler`, on the current
/// runtime.
async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header(
            "inin-correlation-id",
            "5d1c7d8e-3b8f-4f5e-9c47-0e2b3a6f9a10",
        )
        .body(Full::new(body))
        .expect("a valid response")
}

// ---------------------------------------------------------------------------------------------
// 1. Per-call overhead.

const EXECUTION_ID: &str = "9f4c6f0e-4b2a-4c2e-8a0f-2f6d9b1d7c31";

fn three_rows() -> Bytes {
    let row = |client: &str, name: &str, requests: u32| {
        format!(
            r#"{{"clientId":"{client}","clientName":"{name}","organizationId":"","userId":"","templateUri":"","httpMethod":"","date":"2026-01-05T00:00:00.000Z","requests":{requests},"status200":{},"status300":0,"status400":12,"status429":3,"status500":1}}"#,
            requests - 13
        )
    };
    Bytes::from(format!(
        r#"{{"results":[{},{},{}],"queryStatus":"Complete"}}"#,
        row("0f8fad5b-d9cb-469f-a165-70867728950e", "Reporting", 1234),
        row("7c9e6679-7425-40de-944b-e07fc1f90ae7", "WFM sync", 98765),
        row("16fd2706-8baf-433b-82eb-8c7fada847da", "CRM bridge", 4321),
    ))
}

fn overhead_query() -> OrganizationQuery {
    let end = chrono::DateTime::parse_from_rfc3339("2026-01-12T00:00:00Z")
        .expect("valid")
        .to_utc();
    let interval = Interval::new(end - chrono::Duration::days(7), end).expect("valid interval");
    OrganizationQuery::builder(interval)
        .granularity(Granularity::Day)
        .group_by([GroupBy::OAuthClientId])
        .metrics([Metric::Requests, Metric::Status429])
        .build()
        .expect("valid query")
}

#[derive(Deserialize)]
struct PlainExecution {
    #[serde(rename = "executionId")]
    execution_id: Option<String>,
}

/// The baseline's row: the same fields and types as the generated `ApiUsageRow`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainRow {
    #[serde(rename = "clientId")]
    client_id: Option<String>,
    #[serde(rename = "clientName")]
    client_name: Option<String>,
    date: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(rename = "httpMethod")]
    http_method: Option<String>,
    #[serde(rename = "organizationId")]
    organization_id: Option<String>,
    requests: Option<i64>,
    status200: Option<i64>,
    status300: Option<i64>,
    status400: Option<i64>,
    status429: Option<i64>,
    status500: Option<i64>,
    #[serde(rename = "templateUri")]
    template_uri: Option<String>,
    #[serde(rename = "userId")]
    user_id: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainResult {
    #[serde(rename = "queryStatus")]
    query_status: Option<String>,
    #[serde(default)]
    results: Vec<PlainRow>,
}

fn bench_overhead(rows: &mut Vec<Row>) {
    // The server gets its own thread so that it does not share the client's runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let results = three_rows();
            let submitted = Bytes::from(format!(
                r#"{{"executionId":"{EXECUTION_ID}","resultsUri":"/api/v2/usage/query/{EXECUTION_ID}/results"}}"#
            ));
            let addr = serve(move |request: Request<Incoming>| {
                let (results, submitted) = (results.clone(), submitted.clone());
                async move {
                    let is_post = request.method() == hyper::Method::POST;
                    // Read the body so the connection stays usable.
                    let _ = request.into_body().collect().await;
                    if is_post {
                        json_response(StatusCode::ACCEPTED, submitted)
                    } else {
                        json_response(StatusCode::OK, results)
                    }
                }
            })
            .await;
            tx.send(addr).expect("the bench waits");
            std::future::pending::<()>().await;
        });
    });
    let addr = rx.recv().expect("the server started");
    let base_url = format!("http://{addr}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (sdk_cycle, base_cycle, ratio, quartiles) = runtime.block_on(async {
        let sdk = UsageClient::builder()
            .base_url(&base_url)
            .access_token("bench-access-token")
            .build()
            .expect("a client");
        let user_agent = sdk.config().user_agent().to_string();
        let query = overhead_query();
        let plain = reqwest::Client::builder()
            .tcp_nodelay(true)
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");

        let sdk_cycle = || async {
            let execution = sdk.submit(&query).await.expect("submit");
            let result = sdk.fetch_page(&execution, None).await.expect("results");
            assert_eq!(result.results.len(), 3);
        };
        let base_cycle = || async {
            let body = serde_json::to_vec(&query.to_raw()).expect("serialisable");
            let response = plain
                .post(format!("{base_url}/api/v2/usage/query"))
                .bearer_auth("bench-access-token")
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(body)
                .send()
                .await
                .expect("submit");
            assert!(response.status().is_success());
            let bytes = response.bytes().await.expect("body");
            let execution: PlainExecution = serde_json::from_slice(&bytes).expect("json");
            let id = execution.execution_id.expect("an id");
            let response = plain
                .get(format!("{base_url}/api/v2/usage/query/{id}/results"))
                .bearer_auth("bench-access-token")
                .header("accept", "application/json")
                .send()
                .await
                .expect("results");
            assert!(response.status().is_success());
            let bytes = response.bytes().await.expect("body");
            let result: PlainResult = serde_json::from_slice(&bytes).expect("json");
            assert_eq!(result.results.len(), 3);
        };

        for _ in 0..300 {
            sdk_cycle().await;
            base_cycle().await;
        }
        // Paired rounds: each round times the SDK and the baseline back to back (alternating
        // which goes first) and yields one ratio, so drift in the machine's speed (2 shared
        // vCPUs) affects both sides of a ratio alike. The target is checked on the median
        // ratio; the spread is the interquartile range of the per-round ratios.
        const ROUNDS: usize = 31;
        const CYCLES: usize = 300;
        let (mut sdk_times, mut base_times, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let mut pair = [0.0; 2];
            for which in [round % 2, 1 - round % 2] {
                let started = Instant::now();
                for _ in 0..CYCLES {
                    if which == 0 {
                        sdk_cycle().await;
                    } else {
                        base_cycle().await;
                    }
                }
                pair[which] = started.elapsed().as_secs_f64() / CYCLES as f64;
            }
            sdk_times.push(pair[0]);
            base_times.push(pair[1]);
            ratios.push(pair[0] / pair[1]);
        }
        ratios.sort_by(f64::total_cmp);
        let quartiles = (ratios[ROUNDS / 4], ratios[3 * ROUNDS / 4]);
        (
            median(&mut sdk_times),
            median(&mut base_times),
            median(&mut ratios),
            quartiles,
        )
    });
    println!(
        "overhead: SDK {:.1} µs/cycle ({:.0} cycles/s), baseline {:.1} µs/cycle ({:.0} cycles/s), median ratio {ratio:.3} (interquartile {:.3}-{:.3})",
        sdk_cycle * 1e6,
        1.0 / sdk_cycle,
        base_cycle * 1e6,
        1.0 / base_cycle,
        quartiles.0,
        quartiles.1
    );
    rows.push(
        Row::new(
            "1. submit+results cycle (3 rows)",
            format!("{:.0} µs ({:.0}/s)", sdk_cycle * 1e6, 1.0 / sdk_cycle),
            format!("{:.0} µs ({:.0}/s)", base_cycle * 1e6, 1.0 / base_cycle),
            format!("{ratio:.2}x (IQR {:.2}-{:.2})", quartiles.0, quartiles.1),
            "<= 1.15x",
        )
        .pass(ratio <= 1.15),
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Large results.

/// 100,000 rows grouped by OAuth client, template URI and HTTP method per day; the
/// dimensions not grouped by (organization, user) are "" as the API sends them.
fn large_result(rows: usize) -> Bytes {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let clients: Vec<(String, String)> = (0..40)
        .map(|i| {
            let n = next();
            (
                format!(
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    n as u32,
                    (n >> 32) as u16,
                    (n >> 48) & 0xfff,
                    i * 7 % 0xfff,
                    next() & 0xffff_ffff_ffff
                ),
                format!("Integration {i:02} (client credentials)"),
            )
        })
        .collect();
    let templates: Vec<String> = [
        "api/v2/analytics/conversations/details/query",
        "api/v2/conversations/{conversationId}",
        "api/v2/users/{userId}/presences/{sourceId}",
        "api/v2/routing/queues/{queueId}/members",
        "api/v2/usage/query/{executionId}/results",
        "api/v2/architect/flows/{flowId}/versions",
        "api/v2/recording/jobs/{jobId}/failedrecordings",
        "api/v2/externalcontacts/contacts/{contactId}",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let mut json = String::with_capacity(rows * 330);
    json.push_str(r#"{"results":["#);
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date");
    for i in 0..rows {
        if i > 0 {
            json.push(',');
        }
        let (client_id, client_name) = &clients[i % clients.len()];
        let template = &templates[(i / clients.len()) % templates.len()];
        let method = methods[(i / 7) % methods.len()];
        let day = start + chrono::Days::new((i / 320) as u64 % 365);
        let s200 = next() % 100_000;
        let s300 = next() % 100;
        let s429 = next() % 50;
        let s400 = s429 + next() % 500;
        let s500 = next() % 20;
        json.push_str(&format!(
            r#"{{"clientId":"{client_id}","clientName":"{client_name}","organizationId":"","userId":"","templateUri":"{template}","httpMethod":"{method}","date":"{day}T00:00:00.000Z","requests":{},"status200":{s200},"status300":{s300},"status400":{s400},"status429":{s429},"status500":{s500}}}"#,
            s200 + s300 + s400 + s500
        ));
    }
    json.push_str(r#"],"queryStatus":"Complete"}"#);
    Bytes::from(json)
}

/// The SDK's decode path: what the generated client does with a 200 response.
async fn sdk_decode(json: &Bytes) -> ApiUsageQueryResult {
    let response = reqwest::Response::from(hyper::Response::new(reqwest::Body::from(json.clone())));
    progenitor_client::ResponseValue::<ApiUsageQueryResult>::from_response::<ErrorBody>(response)
        .await
        .expect("a valid result")
        .into_inner()
}

fn bench_decode(rows: &mut Vec<Row>) {
    const ROWS: usize = 100_000;
    let json = large_result(ROWS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (mut sdk_times, mut base_times) = (Vec::new(), Vec::new());
    let (mut sdk_peak, mut base_peak) = (0, 0);
    for round in 0..9 {
        for which in [round % 2, 1 - round % 2] {
            let started = Instant::now();
            if which == 0 {
                let (result, peak) = peak_during(|| runtime.block_on(sdk_decode(&json)));
                let elapsed = started.elapsed().as_secs_f64();
                assert_eq!(result.results.len(), ROWS);
                drop(result);
                sdk_times.push(elapsed);
                sdk_peak = sdk_peak.max(peak);
            } else {
                let (result, peak) = peak_during(|| {
                    serde_json::from_slice::<PlainResult>(&json).expect("a valid result")
                });
                let elapsed = started.elapsed().as_secs_f64();
                assert_eq!(result.results.len(), ROWS);
                drop(result);
                base_times.push(elapsed);
                base_peak = base_peak.max(peak);
            }
        }
    }
    let (sdk, base) = (median(&mut sdk_times), median(&mut base_times));
    let ratio = sdk / base;
    let size = json.len();
    println!(
        "decode: {ROWS} rows, {} of JSON; SDK {:.0} ms, peak {}; baseline {:.0} ms, peak {}",
        mb(size),
        sdk * 1e3,
        mb(sdk_peak),
        base * 1e3,
        mb(base_peak)
    );
    rows.push(
        Row::new(
            "2a. decode 100k rows: time",
            format!("{:.0} ms", sdk * 1e3),
            format!("{:.0} ms", base * 1e3),
            format!("{ratio:.2}x"),
            "<= 1.2x",
        )
        .pass(ratio <= 1.2),
    );
    let memory_ratio = sdk_peak as f64 / size as f64;
    rows.push(
        Row::new(
            "2b. decode 100k rows: peak heap",
            mb(sdk_peak),
            mb(base_peak),
            format!("{memory_ratio:.2}x JSON ({})", mb(size)),
            "<= 2x JSON size",
        )
        .pass(memory_ratio <= 2.0),
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Fan-out under a rate limit.

/// One request the proxy saw: its identity (method, path, body), when it arrived, and what
/// the stand-in answered.
#[derive(Clone, Debug)]
struct Seen {
    key: String,
    arrived: Instant,
    answered: Instant,
    status: u16,
    retry_after: Option<Duration>,
}

fn bench_fanout(rows: &mut Vec<Row>, pacing: bool) {
    const QUERIES: usize = 200;
    const RATE: f64 = 50.0;
    // The stand-in's bucket holds RATE requests and starts full (refilled before timing).
    const BURST: f64 = RATE;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let outcome = runtime.block_on(async {
        let stand_in = StandIn::builder()
            .oauth_clients(8)
            .execution_time(Duration::from_secs(1))
            .rate_limit(RATE as u32, Duration::from_secs(1))
            .start()
            .await
            .expect("the stand-in starts");
        let upstream = stand_in.base_url();
        let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let forward = reqwest::Client::builder()
            .tcp_nodelay(true)
            .build()
            .expect("a client");
        let proxy_log = log.clone();
        let addr = serve(move |request: Request<Incoming>| {
            let (forward, upstream, log) = (forward.clone(), upstream.clone(), proxy_log.clone());
            async move {
                let arrived = Instant::now();
                let (parts, body) = request.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let key = format!("{} {path} {}", parts.method, String::from_utf8_lossy(&body));
                let mut outgoing =
                    forward.request(parts.method.clone(), format!("{upstream}{path}"));
                for (name, value) in &parts.headers {
                    if name != hyper::header::HOST {
                        outgoing = outgoing.header(name, value);
                    }
                }
                let response = outgoing
                    .body(body)
                    .send()
                    .await
                    .expect("the stand-in answers");
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await.unwrap_or_default();
                let retry_after = headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(Duration::from_secs);
                let mut reply = Response::builder().status(status);
                for (name, value) in &headers {
                    if name != hyper::header::TRANSFER_ENCODING
                        && name != hyper::header::CONTENT_LENGTH
                    {
                        reply = reply.header(name, value);
                    }
                }
                let reply = reply.body(Full::new(body)).expect("a valid response");
                log.lock().unwrap().push(Seen {
                    key,
                    arrived,
                    answered: Instant::now(),
                    status: status.as_u16(),
                    retry_after,
                });
                reply
            }
        })
        .await;

        let demo = stand_in.demo_client();
        let client = UsageClient::builder()
            .base_url(format!("http://{addr}"))
            .client_credentials(demo.id.clone(), demo.secret.clone())
            .retry(usage_sdk::RetryPolicy::default().with_rate_limit_pacing(pacing))
            .build()
            .expect("a client");
        let clients: Vec<OAuthClientId> = stand_in
            .oauth_clients()
            .iter()
            .map(|c| OAuthClientId::new(c.id.clone()).expect("a valid id"))
            .collect();
        // Warm the token cache so the measured run is the fan-out alone.
        let _ = client
            .oauth_client(&clients[0])
            .submit(&usage_sdk::Days::new(1).expect("valid"))
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await; // let the bucket refill
        log.lock().unwrap().clear();
        stand_in.reset_stats();

        let now = chrono::Utc::now();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..QUERIES {
            let client = client.clone();
            let client_id = clients[i % clients.len()].clone();
            // A distinct interval per query makes each request body unique, so the proxy can
            // tell retries of one request from other requests.
            let interval =
                Interval::last_full_days_before(7, now - chrono::Duration::days(i as i64))
                    .expect("valid interval");
            tasks.push(tokio::spawn(async move {
                let query = OAuthClientQuery::builder(interval)
                    .build()
                    .expect("valid query");
                client.oauth_client(&client_id).rows(&query).await
            }));
        }
        let mut errors = Vec::new();
        for task in tasks {
            if let Err(e) = task.await.expect("the task ran") {
                errors.push(e.to_string());
            }
        }
        let elapsed = started.elapsed();
        let stats = stand_in.stats();
        let seen = log.lock().unwrap().clone();
        (elapsed, errors, stats, seen)
    });
    let (elapsed, errors, stats, seen) = outcome;

    let mut not_before: HashMap<&str, Instant> = HashMap::new();
    let mut early = 0;
    let mut sorted: Vec<&Seen> = seen.iter().collect();
    sorted.sort_by_key(|s| s.arrived);
    for s in &sorted {
        if let Some(at) = not_before.get(s.key.as_str())
            && s.arrived < *at
        {
            early += 1;
        }
        if s.status == 429
            && let Some(wait) = s.retry_after
        {
            not_before.insert(s.key.as_str(), s.answered + wait);
        }
    }
    let limited = seen.iter().filter(|s| s.status == 429).count();
    let api_requests = seen
        .iter()
        .filter(|s| !s.key.starts_with("POST /oauth/token"))
        .count();
    // The fastest any client can go: the first BURST requests at once, the rest at RATE.
    let ideal = ((2 * QUERIES) as f64 - BURST) / RATE;
    let ratio = elapsed.as_secs_f64() / ideal;
    println!(
        "fanout (pacing {}): {QUERIES} queries in {:.2} s (ideal {ideal:.1} s), {api_requests} API requests, {limited} 429s, {early} sent before their Retry-After, {} errors; stand-in: {:?}",
        if pacing { "on" } else { "off" },
        elapsed.as_secs_f64(),
        errors.len(),
        stats.responses
    );
    for e in errors.iter().take(3) {
        println!("  error: {e}");
    }
    let row = Row::new(
        if pacing {
            "3. fan-out 200 queries @ 50 req/s (pacing on)"
        } else {
            "3'. same, pacing off"
        },
        format!(
            "{:.2} s, {limited} x 429, {api_requests} req, {} errors",
            elapsed.as_secs_f64(),
            errors.len()
        ),
        format!("{ideal:.1} s ideal (400 req, 50 at once)"),
        format!("{ratio:.2}x"),
        "<= 1.15x, 0 early, 0 errors",
    );
    let pass = ratio <= 1.15 && early == 0 && errors.is_empty();
    // Without pacing the figure is for comparison only.
    rows.push(if pacing { row.pass(pass) } else { row });
}

// ---------------------------------------------------------------------------------------------
// 4. Build cost.

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("usage-sdk is in the workspace")
        .to_path_buf()
}

/// Runs cargo in the workspace with its own target directory; returns (seconds, stderr).
fn cargo(target_dir: &Path, args: &[&str]) -> (f64, String) {
    cargo_in(&workspace_root(), target_dir, args)
}

/// Runs cargo in `dir` with its own target directory; returns (seconds, stderr).
fn cargo_in(dir: &Path, target_dir: &Path, args: &[&str]) -> (f64, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let output = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_NET_OFFLINE", "true")
        // Not the jobserver of the `cargo bench` that started us: a build of its own.
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "cargo {} failed:\n{stderr}",
        args.join(" ")
    );
    (seconds, stderr)
}

/// The generated file in the target dir and when it was written.
fn generated_file(target_dir: &Path) -> Option<(PathBuf, SystemTime)> {
    let build = target_dir.join("debug").join("build");
    std::fs::read_dir(build)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("usage-sdk-"))
        .map(|e| e.path().join("out").join("usage_api.rs"))
        .filter_map(|p| {
            let modified = std::fs::metadata(&p).ok()?.modified().ok()?;
            Some((p, modified))
        })
        .max_by_key(|(_, t)| *t)
}

/// A consumer's one call through the SDK: a client usage summary, built without the
/// stand-in (what an application pays to depend on usage-sdk).
const SDK_CONSUMER_MAIN: &str = r#"use usage_sdk::{Config, Days, OAuthClientId, UsageClient};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("USAGE_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into());
    let config = Config::builder()
        .base_url(&base)
        .token_url(format!("{base}/oauth/token"))
        .client_credentials("id", "secret")
        .build()?;
    let client = UsageClient::new(config)?;
    let id = OAuthClientId::new("6f1c2b1e-0000-4000-8000-00000000c1d0")?;
    let rows = client.oauth_client(&id).rows(&Days::new(7)?).await?.try_collect().await?;
    println!("{} rows", rows.len());
    Ok(())
}
"#;

/// The same call written against plain reqwest + serde + tokio with the SDK's TLS stack
/// (rustls, ring, platform verifier): the baseline a hand-written client would cost.
const PLAIN_CONSUMER_MAIN: &str = r#"use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Execution {
    execution_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    client_id: Option<String>,
    requests: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Results {
    query_status: String,
    #[serde(default)]
    results: Vec<Row>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("USAGE_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let http = reqwest::Client::builder().tls_backend_preconfigured(tls).build()?;
    let id = "6f1c2b1e-0000-4000-8000-00000000c1d0";
    let execution: Execution = http
        .get(format!("{base}/api/v2/oauth/clients/{id}/usage/summary"))
        .query(&[("days", "7")])
        .bearer_auth("token")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let results: Results = http
        .get(format!(
            "{base}/api/v2/oauth/clients/{id}/usage/query/results/{}",
            execution.execution_id
        ))
        .bearer_auth("token")
        .send()
        .await?
        .json()
        .await?;
    let first = results.results.first().map(|r| (&r.client_id, r.requests));
    println!("{} {} rows {first:?}", results.query_status, results.results.len());
    Ok(())
}
"#;

/// Writes a scratch consumer crate (its own workspace, the repository's lock file as the
/// starting point so both consumers get the versions CI tests) and returns its directory.
fn scratch_consumer(base: &Path, name: &str, dependencies: &str, main: &str) -> PathBuf {
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).expect("a consumer directory");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{dependencies}\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("a manifest");
    std::fs::write(dir.join("src").join("main.rs"), main).expect("a main.rs");
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock"))
        .expect("a lock file");
    dir
}

/// Clean dev builds of an SDK consumer (default features: the reviewed snapshot compiled, no
/// build dependencies), of the same consumer with `build-time-codegen` (progenitor run by the
/// build script, as every build did before the snapshot became the default), and of the same
/// call on plain reqwest; each in a fresh target directory, the three interleaved in every
/// round (same machine load), rounds from `USAGE_SDK_BENCH_BUILD_ROUNDS` (default 3).
/// Targets on the medians.
fn bench_consumers(base: &Path, rows: &mut Vec<Row>) {
    let rounds: usize = std::env::var("USAGE_SDK_BENCH_BUILD_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let sdk_path = workspace_root().join("usage-sdk").display().to_string();
    let tokio = "tokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n";
    let consumers = [
        scratch_consumer(
            base,
            "sdk-consumer",
            &format!("usage-sdk = {{ path = {sdk_path:?} }}\n{tokio}"),
            SDK_CONSUMER_MAIN,
        ),
        scratch_consumer(
            base,
            "sdk-codegen-consumer",
            &format!(
                "usage-sdk = {{ path = {sdk_path:?}, features = [\"build-time-codegen\"] }}\n{tokio}"
            ),
            SDK_CONSUMER_MAIN,
        ),
        // reqwest with the library's features and TLS stack (the workspace Cargo.toml).
        scratch_consumer(
            base,
            "plain-consumer",
            &format!(
                "reqwest = {{ version = \"0.13.5\", default-features = false, features = [\"json\", \"gzip\", \"rustls-no-provider\", \"query\"] }}\n\
                 rustls = {{ version = \"0.23.46\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }}\n\
                 rustls-platform-verifier = \"0.7.1\"\n\
                 serde = {{ version = \"1\", features = [\"derive\"] }}\n\
                 serde_json = \"1\"\n{tokio}"
            ),
            PLAIN_CONSUMER_MAIN,
        ),
    ];
    let mut seconds: [Vec<f64>; 3] = Default::default();
    for round in 1..=rounds {
        for (dir, times) in consumers.iter().zip(seconds.iter_mut()) {
            let target = dir.join("target");
            let _ = std::fs::remove_dir_all(&target);
            let (s, _) = cargo_in(dir, &target, &["build"]);
            println!("build: round {round}/{rounds}: {} {s:.1} s", dir.display());
            times.push(s);
        }
    }
    let ratios = |i: usize| -> Vec<f64> {
        seconds[i]
            .iter()
            .zip(&seconds[2])
            .map(|(s, p)| s / p)
            .collect()
    };
    let (plain, plain_lo, plain_hi) = summary(&seconds[2]);
    for (i, name, target) in [
        (0, "4d. consumer clean dev build", "<= 75 s and <= 1.3x"),
        (1, "4e. same, build-time-codegen", "report"),
    ] {
        let (sdk, lo, hi) = summary(&seconds[i]);
        let (ratio, ratio_lo, ratio_hi) = summary(&ratios(i));
        println!(
            "build: {name}: {sdk:.1} s ({lo:.1}-{hi:.1}) vs plain reqwest {plain:.1} s \
             ({plain_lo:.1}-{plain_hi:.1}); median ratio {ratio:.2}x ({ratio_lo:.2}-{ratio_hi:.2}), \
             {rounds} rounds"
        );
        let row = Row::new(
            name,
            format!("{sdk:.0} s ({lo:.0}-{hi:.0})"),
            format!("{plain:.0} s ({plain_lo:.0}-{plain_hi:.0}) plain reqwest"),
            format!("{ratio:.2}x ({ratio_lo:.2}-{ratio_hi:.2})"),
            target,
        );
        rows.push(if i == 0 {
            row.pass(sdk <= 75.0 && ratio <= 1.3)
        } else {
            row
        });
    }
}

fn bench_build(rows: &mut Vec<Row>) {
    let base = std::env::temp_dir().join("usage-sdk-bench");
    let clean_dir = base.join("clean");
    let _ = std::fs::remove_dir_all(&clean_dir);
    // The maintainers' build: progenitor runs in the build script, which must not re-run on a
    // no-op build.
    let args = [
        "build",
        "-p",
        "usage-sdk",
        "--features",
        "build-time-codegen",
    ];
    println!(
        "build: clean `cargo {}` in {} ...",
        args.join(" "),
        clean_dir.display()
    );
    let (clean, _) = cargo(&clean_dir, &args);
    let before = generated_file(&clean_dir);
    let (noop, log) = cargo(&clean_dir, &[&args[..], &["-vv"]].concat());
    let after = generated_file(&clean_dir);
    // -vv prints "Running `…/build-script-build`" for a build script that runs, and
    // "Fresh usage-sdk" when nothing was rebuilt.
    let script_ran = log.lines().any(|l| {
        l.contains("Running") && l.contains("usage-sdk-") && l.contains("build-script-build")
    });
    let regenerated = before.is_none() || before.map(|b| b.1) != after.map(|a| a.1);
    let fresh = log.lines().any(|l| l.contains("Fresh usage-sdk"));
    println!(
        "build: clean {clean:.1} s; no-op {noop:.2} s (usage-sdk fresh: {fresh}, build script re-ran: {script_ran}, usage_api.rs rewritten: {regenerated})"
    );
    rows.push(
        Row::new(
            "4a. clean build -p usage-sdk, build-time-codegen",
            format!("{clean:.0} s"),
            "-".into(),
            "-".into(),
            "report (<= 180 s)",
        )
        .pass(clean <= 180.0),
    );
    rows.push(
        Row::new(
            "4b. no-op rebuild",
            format!("{noop:.2} s, codegen re-ran: {}", script_ran || regenerated),
            "-".into(),
            "-".into(),
            "no codegen, <= 2 s",
        )
        .pass(fresh && !script_ran && !regenerated && noop <= 2.0),
    );

    // The release program is built incrementally in a directory kept between runs: its size
    // does not depend on a clean build.
    let release_dir = base.join("release");
    println!(
        "build: release usage-report program in {} ...",
        release_dir.display()
    );
    let (seconds, _) = cargo(
        &release_dir,
        &[
            "build",
            "--release",
            "-p",
            "usage-report",
            "--bin",
            "usage-report",
        ],
    );
    let binary = release_dir
        .join("release")
        .join(format!("usage-report{}", std::env::consts::EXE_SUFFIX));
    let size = std::fs::metadata(&binary)
        .expect("the program was built")
        .len() as usize;
    println!("build: release usage-report {} ({seconds:.0} s)", mb(size));
    rows.push(
        Row::new(
            "4c. release usage-report binary",
            mb(size),
            "25 MB (JS SDK package)".into(),
            format!("{:.2}x", size as f64 / 25e6),
            "report (<= 25 MB)",
        )
        .pass(size as f64 <= 25e6),
    );

    bench_consumers(&base, rows);
}

// ---------------------------------------------------------------------------------------------
// 5. Streaming a large aggregates job.

const STREAM_JOB_PATH: &str = "/api/v2/usage/aggregates/query/jobs";
const STREAM_PAGE_ROWS: usize = 1000;
/// Distinct blocks of 1,000 rows; page `p` carries block `p % STREAM_BLOCKS`.
const STREAM_BLOCKS: usize = 16;
/// Set (to `sdk|base <base_url> <rows>`) in the child process that measures peak RSS.
const STREAM_CHILD_ENV: &str = "USAGE_SDK_BENCH_STREAM_CHILD";
const BENCH_TOKEN: &str = "bench-access-token";

/// The entities of `STREAM_BLOCKS` pages (the JSON between `[` and `]`), values varying per
/// row: 40 OAuth clients, 200 users, 8 templates, 5 methods, 3 platforms, dates over a year.
fn stream_row_blocks() -> Vec<Bytes> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut uuid = |i: u64| {
        let n = next();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            n as u32,
            (n >> 32) as u16,
            (n >> 48) & 0xfff,
            i * 7 % 0xfff,
            next() & 0xffff_ffff_ffff
        )
    };
    let clients: Vec<(String, String)> = (0..40)
        .map(|i| (uuid(i), format!("Integration {i:02} connector")))
        .collect();
    let users: Vec<String> = (0..200).map(&mut uuid).collect();
    let templates = [
        "/api/v2/analytics/conversations/details/query",
        "/api/v2/conversations/{conversationId}",
        "/api/v2/users/{userId}/presences/{sourceId}",
        "/api/v2/routing/queues/{queueId}/members",
        "/api/v2/usage/aggregates/query/jobs/{jobId}",
        "/api/v2/architect/flows/{flowId}/versions",
        "/api/v2/recording/jobs/{jobId}/failedrecordings",
        "/api/v2/externalcontacts/contacts/{contactId}",
    ];
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let platforms = ["PureCloud", "PureCloud", "Platform API"];
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
    (0..STREAM_BLOCKS)
        .map(|block| {
            let mut json = String::with_capacity(STREAM_PAGE_ROWS * 520);
            for i in 0..STREAM_PAGE_ROWS {
                if i > 0 {
                    json.push(',');
                }
                let n = block * STREAM_PAGE_ROWS + i;
                let (client_id, client_name) = &clients[n % clients.len()];
                let user = &users[(n / 3) % users.len()];
                let template = templates[(n / clients.len()) % templates.len()];
                let method = methods[(n / 7) % methods.len()];
                let platform = platforms[(n / 11) % platforms.len()];
                let day = start + chrono::Days::new((n / 50) as u64 % 365);
                let s200 = next() % 100_000;
                let s300 = next() % 100;
                let s429 = next() % 50;
                let s400 = s429 + next() % 500;
                let s500 = next() % 20;
                json.push_str(&format!(
                    r#"{{"date":"{day}","platform":"{platform}","httpMethod":"{method}","templateUri":"{template}","requestCount":{},"status200":{s200},"status300":{s300},"status400":{s400},"status429":{s429},"status500":{s500},"oauthClient":{{"id":"{client_id}","name":"{client_name}","selfUri":"/api/v2/oauth/clients/{client_id}"}},"user":{{"id":"{user}","selfUri":"/api/v2/users/{user}"}}}}"#,
                    s200 + s300 + s400 + s500
                ));
            }
            Bytes::from(json)
        })
        .collect()
}

/// Page `page` (from 0) of a job of `pages` pages: one copy of a pre-rendered block between
/// a fixed head and a tail with the next page's URI.
fn stream_page(blocks: &[Bytes], page: usize, pages: usize) -> Bytes {
    const HEAD: &str = r#"{"queryStatus":"Succeeded","entities":["#;
    let block = &blocks[page % blocks.len()];
    let mut body = Vec::with_capacity(HEAD.len() + block.len() + 128);
    body.extend_from_slice(HEAD.as_bytes());
    body.extend_from_slice(block);
    body.push(b']');
    if page + 1 < pages {
        body.extend_from_slice(
            format!(
                r#","nextUri":"{STREAM_JOB_PATH}/job-1?pageSize={STREAM_PAGE_ROWS}&after=c{:06}""#,
                page + 1
            )
            .as_bytes(),
        );
    }
    body.push(b'}');
    Bytes::from(body)
}

/// A loopback server on its own thread (and runtime) serving one organization aggregates
/// job, `job-1`, of `pages` pages of 1,000 rows: `POST …/jobs` answers 202 `{"id":"job-1"}`,
/// `GET …/jobs/job-1?pageSize=1000[&after=cNNNNNN]` the page, `Succeeded` at once.
fn stream_server(blocks: Arc<Vec<Bytes>>, pages: usize) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let addr = serve(move |request: Request<Incoming>| {
                let blocks = blocks.clone();
                async move {
                    let is_post = request.method() == hyper::Method::POST;
                    let path = request.uri().path().to_string();
                    let query = request.uri().query().unwrap_or("").to_string();
                    let _ = request.into_body().collect().await;
                    if is_post && path == STREAM_JOB_PATH {
                        return json_response(
                            StatusCode::ACCEPTED,
                            Bytes::from_static(br#"{"id":"job-1"}"#),
                        );
                    }
                    if is_post || path != format!("{STREAM_JOB_PATH}/job-1") {
                        return json_response(StatusCode::NOT_FOUND, Bytes::from_static(b"{}"));
                    }
                    let mut page = Some(0);
                    let mut page_size = None;
                    for pair in query.split('&') {
                        match pair.split_once('=') {
                            Some(("after", cursor)) => {
                                page = cursor.strip_prefix('c').and_then(|n| n.parse().ok());
                            }
                            Some(("pageSize", size)) => page_size = size.parse::<usize>().ok(),
                            _ => {}
                        }
                    }
                    match page {
                        Some(page) if page < pages && page_size == Some(STREAM_PAGE_ROWS) => {
                            json_response(StatusCode::OK, stream_page(&blocks, page, pages))
                        }
                        _ => json_response(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
                    }
                }
            })
            .await;
            tx.send(addr).expect("the bench waits");
            std::future::pending::<()>().await;
        });
    });
    format!("http://{}", rx.recv().expect("the server started"))
}

/// Counts the bytes written to it (the CSV "file").
#[derive(Default)]
struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Shows an `Option` as its value or nothing, like a CSV cell.
struct Cell<T>(Option<T>);

impl<T: std::fmt::Display> std::fmt::Display for Cell<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(value) => value.fmt(f),
            None => Ok(()),
        }
    }
}

/// One CSV line, the same code for both sides.
#[allow(clippy::too_many_arguments)]
fn write_csv_line(
    out: &mut impl std::io::Write,
    date: Option<&impl std::fmt::Display>,
    platform: Option<&str>,
    method: Option<&str>,
    template: Option<&str>,
    counts: [Option<i64>; 6],
    client: (Option<&str>, Option<&str>),
    user: Option<&str>,
) {
    let [requests, s200, s300, s400, s429, s500] = counts.map(Cell);
    writeln!(
        out,
        "{},{},{},{},{requests},{s200},{s300},{s400},{s429},{s500},{},{},{}",
        Cell(date),
        Cell(platform),
        Cell(method),
        Cell(template),
        Cell(client.0),
        Cell(client.1),
        Cell(user)
    )
    .expect("the sink takes everything");
}

fn stream_query() -> OrganizationJobQuery {
    OrganizationJobQuery::builder(Interval::last_full_days(30).expect("valid interval"))
        .page_size(PageSize::MAX)
        .build()
        .expect("valid query")
}

fn stream_client(base_url: &str) -> UsageClient {
    UsageClient::builder()
        .base_url(base_url)
        .access_token(BENCH_TOKEN)
        .poll(
            PollPolicy::default()
                .with_delays(Duration::from_millis(1), Duration::from_millis(1))
                .with_jitter(false),
        )
        .build()
        .expect("a client")
}

/// The SDK side: submit, wait, and write every row of the stream as a CSV line; returns the
/// rows and bytes written.
async fn sdk_stream(client: &UsageClient, query: &OrganizationJobQuery) -> (u64, u64) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, CountingSink::default());
    let mut rows = client.rows(query).await.expect("the job succeeds");
    let mut count = 0;
    while let Some(row) = rows.try_next().await.expect("a row") {
        write_csv_line(
            &mut out,
            row.date.as_ref(),
            row.platform.as_deref(),
            row.http_method.as_ref().map(|m| m.as_str()),
            row.template_uri.as_deref(),
            [
                row.request_count,
                row.status200,
                row.status300,
                row.status400,
                row.status429,
                row.status500,
            ],
            row.oauth_client
                .as_ref()
                .map_or((None, None), |c| (c.id.as_deref(), c.name.as_deref())),
            row.user.as_ref().and_then(|u| u.id.as_deref()),
        );
        count += 1;
    }
    let out = out.into_inner().map_err(|_| ()).expect("flushed");
    (count, out.0)
}

#[derive(Deserialize)]
struct PlainJob {
    id: String,
}

/// The baseline's `httpMethod`: the five known methods without allocating, like the SDK's
/// open enum for known values.
#[derive(Deserialize)]
enum PlainMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
    Delete,
}

impl PlainMethod {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainEntityRef {
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "selfUri")]
    self_uri: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainUserRef {
    id: Option<String>,
    #[serde(rename = "selfUri")]
    self_uri: Option<String>,
}

/// The baseline's row: the same fields and types as the generated `OrganizationPublicApiUsage`.
#[derive(Deserialize)]
struct PlainJobRow {
    date: Option<chrono::NaiveDate>,
    platform: Option<String>,
    #[serde(rename = "httpMethod")]
    http_method: Option<PlainMethod>,
    #[serde(rename = "templateUri")]
    template_uri: Option<String>,
    #[serde(rename = "requestCount")]
    request_count: Option<i64>,
    status200: Option<i64>,
    status300: Option<i64>,
    status400: Option<i64>,
    status429: Option<i64>,
    status500: Option<i64>,
    #[serde(rename = "oauthClient")]
    oauth_client: Option<PlainEntityRef>,
    user: Option<PlainUserRef>,
}

#[derive(Deserialize)]
struct PlainJobPage {
    #[serde(rename = "queryStatus")]
    query_status: String,
    #[serde(default)]
    entities: Vec<PlainJobRow>,
    #[serde(rename = "nextUri")]
    next_uri: Option<String>,
}

/// The baseline: plain reqwest + serde_json submitting the same job, waiting the same 1 ms,
/// following `nextUri` and writing the same CSV lines.
async fn base_stream(http: &reqwest::Client, base_url: &str, body: &[u8]) -> (u64, u64) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, CountingSink::default());
    let response = http
        .post(format!("{base_url}{STREAM_JOB_PATH}"))
        .bearer_auth(BENCH_TOKEN)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("submit");
    assert!(response.status().is_success());
    let job: PlainJob =
        serde_json::from_slice(&response.bytes().await.expect("body")).expect("json");
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut uri = format!("{STREAM_JOB_PATH}/{}?pageSize={STREAM_PAGE_ROWS}", job.id);
    let mut count = 0;
    loop {
        let response = http
            .get(format!("{base_url}{uri}"))
            .bearer_auth(BENCH_TOKEN)
            .header("accept", "application/json")
            .send()
            .await
            .expect("a page");
        assert!(response.status().is_success());
        let bytes = response.bytes().await.expect("body");
        let page: PlainJobPage = serde_json::from_slice(&bytes).expect("json");
        drop(bytes);
        assert_eq!(page.query_status, "Succeeded");
        for row in &page.entities {
            write_csv_line(
                &mut out,
                row.date.as_ref(),
                row.platform.as_deref(),
                row.http_method.as_ref().map(PlainMethod::as_str),
                row.template_uri.as_deref(),
                [
                    row.request_count,
                    row.status200,
                    row.status300,
                    row.status400,
                    row.status429,
                    row.status500,
                ],
                row.oauth_client
                    .as_ref()
                    .map_or((None, None), |c| (c.id.as_deref(), c.name.as_deref())),
                row.user.as_ref().and_then(|u| u.id.as_deref()),
            );
            count += 1;
        }
        match page.next_uri {
            Some(next) if !page.entities.is_empty() => uri = next,
            _ => break,
        }
    }
    let out = out.into_inner().map_err(|_| ()).expect("flushed");
    (count, out.0)
}

fn plain_client(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a kB figure")
}

/// The child process: streams `rows` rows from the parent's server with the SDK (or the
/// baseline) and prints its peak RSS (`VmHWM`) and heap figures on one line.
fn stream_child(spec: &str) -> ExitCode {
    let mut parts = spec.split_whitespace();
    let (Some(side), Some(base_url), Some(rows)) = (parts.next(), parts.next(), parts.next())
    else {
        eprintln!("{STREAM_CHILD_ENV}: expected `sdk|base <base_url> <rows>`, got {spec:?}");
        return ExitCode::FAILURE;
    };
    let rows: u64 = rows.parse().expect("a row count");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let hwm_before = status_kib("VmHWM:");
    let (live_before, allocs_before) =
        (LIVE.load(Ordering::Relaxed), ALLOCS.load(Ordering::Relaxed));
    PEAK.store(live_before, Ordering::Relaxed);
    let started = Instant::now();
    let (count, bytes) = runtime.block_on(async {
        if side == "sdk" {
            let client = stream_client(base_url);
            sdk_stream(&client, &stream_query()).await
        } else {
            let config = usage_sdk::Config::builder()
                .base_url(base_url)
                .access_token(BENCH_TOKEN)
                .build()
                .expect("valid config");
            let body = serde_json::to_vec(&stream_query().to_raw()).expect("serialisable");
            base_stream(&plain_client(config.user_agent()), base_url, &body).await
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(count, rows, "the child streamed every row");
    println!(
        "stream-child side={side} rows={count} csv_bytes={bytes} seconds={seconds:.3} vmhwm_kib={} vmhwm_before_kib={hwm_before} vmrss_kib={} heap_peak={} heap_end={} allocs={}",
        status_kib("VmHWM:"),
        status_kib("VmRSS:"),
        PEAK.load(Ordering::Relaxed).saturating_sub(live_before),
        LIVE.load(Ordering::Relaxed).saturating_sub(live_before),
        ALLOCS.load(Ordering::Relaxed) - allocs_before,
    );
    ExitCode::SUCCESS
}

/// Runs the child for `side` and `rows` against `base_url`; returns its figures by name.
fn run_stream_child(side: &str, base_url: &str, rows: usize) -> HashMap<String, f64> {
    let output = Command::new(std::env::current_exe().expect("this bench binary"))
        .env(STREAM_CHILD_ENV, format!("{side} {base_url} {rows}"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the stream child failed: {stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("stream-child "))
        .expect("the child printed its figures");
    println!("stream: {line}");
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

fn spread(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// The median, minimum and maximum of `values`.
fn summary(values: &[f64]) -> (f64, f64, f64) {
    let (min, max) = spread(values);
    (median(&mut values.to_vec()), min, max)
}

fn bench_stream(rows: &mut Vec<Row>) {
    const BIG: usize = 1_000_000;
    const SMALL: usize = 100_000;
    let rounds: usize = std::env::var("USAGE_SDK_BENCH_STREAM_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
        .max(1);
    let blocks = Arc::new(stream_row_blocks());
    let page_bytes = stream_page(&blocks, 0, 2).len();
    // One server per job size, in this process: the children's RSS is the client's alone.
    let big_url = stream_server(blocks.clone(), BIG / STREAM_PAGE_ROWS);
    let small_url = stream_server(blocks, SMALL / STREAM_PAGE_ROWS);
    println!(
        "stream: pages of {STREAM_PAGE_ROWS} rows, {} each; {BIG} rows = {} of JSON",
        mb(page_bytes),
        mb(page_bytes * (BIG / STREAM_PAGE_ROWS))
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let query = stream_query();
    let body = serde_json::to_vec(&query.to_raw()).expect("serialisable");
    let (mut sdk_rates, mut base_rates) = (Vec::new(), Vec::new());
    let mut ratios = Vec::new();
    let (mut sdk_allocs, mut base_allocs) = (0.0, 0.0);
    runtime.block_on(async {
        let sdk = stream_client(&big_url);
        let small_sdk = stream_client(&small_url);
        let plain = plain_client(sdk.config().user_agent());
        // Warm-up on the small job: connections, allocator arenas.
        let (n, sdk_bytes) = sdk_stream(&small_sdk, &query).await;
        assert_eq!(n, SMALL as u64);
        let (n, base_bytes) = base_stream(&plain, &small_url, &body).await;
        assert_eq!(n, SMALL as u64);
        assert_eq!(sdk_bytes, base_bytes, "both sides write the same CSV");
        for round in 0..rounds {
            // Alternate which goes first, so drift affects both alike.
            for which in [round % 2, 1 - round % 2] {
                let allocs = ALLOCS.load(Ordering::Relaxed);
                let started = Instant::now();
                let (n, _) = if which == 0 {
                    sdk_stream(&sdk, &query).await
                } else {
                    base_stream(&plain, &big_url, &body).await
                };
                let seconds = started.elapsed().as_secs_f64();
                let per_row = (ALLOCS.load(Ordering::Relaxed) - allocs) as f64 / n as f64;
                assert_eq!(n, BIG as u64);
                let rate = n as f64 / seconds;
                println!(
                    "stream: round {} {}: {seconds:.2} s, {rate:.0} rows/s, {per_row:.1} allocations/row",
                    round + 1,
                    if which == 0 { "SDK     " } else { "baseline" },
                );
                if which == 0 {
                    sdk_rates.push(rate);
                    sdk_allocs = per_row;
                } else {
                    base_rates.push(rate);
                    base_allocs = per_row;
                }
            }
            // The round's paired ratio: both sides measured back to back.
            ratios.push(sdk_rates[round] / base_rates[round]);
        }
    });
    let (sdk, sdk_min, sdk_max) = summary(&sdk_rates);
    let (base, base_min, base_max) = summary(&base_rates);
    // The target is checked on the median of the paired per-round ratios (drift between
    // rounds on the shared 2-vCPU machine cancels within a pair); their range is the spread.
    let (ratio, ratio_min, ratio_max) = summary(&ratios);
    let krows = |r: f64| format!("{:.0}k", r / 1e3);
    println!(
        "stream: {rounds} rounds of {BIG} rows; SDK median {sdk:.0} rows/s ({sdk_min:.0}-{sdk_max:.0}), {sdk_allocs:.1} allocations/row; baseline median {base:.0} rows/s ({base_min:.0}-{base_max:.0}), {base_allocs:.1} allocations/row; median paired ratio {ratio:.3} ({ratio_min:.3}-{ratio_max:.3})"
    );
    rows.push(
        Row::new(
            "5a. stream 1M rows to CSV: rows/s",
            format!(
                "{} rows/s ({}-{})",
                krows(sdk),
                krows(sdk_min),
                krows(sdk_max)
            ),
            format!(
                "{} rows/s ({}-{})",
                krows(base),
                krows(base_min),
                krows(base_max)
            ),
            format!("{ratio:.2}x ({ratio_min:.2}-{ratio_max:.2})"),
            ">= 0.9x",
        )
        .pass(ratio >= 0.9),
    );

    let sdk_small = run_stream_child("sdk", &small_url, SMALL);
    let sdk_big = run_stream_child("sdk", &big_url, BIG);
    let base_big = run_stream_child("base", &big_url, BIG);
    let hwm = |figures: &HashMap<String, f64>| figures["vmhwm_kib"] * 1024.0;
    let growth = hwm(&sdk_big) / hwm(&sdk_small);
    rows.push(
        Row::new(
            "5b. stream peak RSS: 1M vs 100k rows",
            format!(
                "{} vs {}",
                mb(hwm(&sdk_big) as usize),
                mb(hwm(&sdk_small) as usize)
            ),
            "-".into(),
            format!("{growth:.2}x"),
            "<= 1.1x",
        )
        .pass(growth <= 1.1),
    );
    rows.push(
        Row::new(
            "5c. stream peak RSS, 1M rows",
            mb(hwm(&sdk_big) as usize),
            mb(hwm(&base_big) as usize),
            format!("{:.2}x", hwm(&sdk_big) / hwm(&base_big)),
            "< 64 MB",
        )
        .pass(hwm(&sdk_big) < 64e6),
    );
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// 6. resume: a stored handle of a finished job to its first row.

/// Rounds of the resume benchmark (each times both sides, fresh clients, back to back).
const RESUME_ROUNDS: usize = 15;

fn bench_resume(rows: &mut Vec<Row>) {
    let blocks = Arc::new(stream_row_blocks());
    let base_url = stream_server(blocks, 1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (mut sdk, mut base) = (Vec::new(), Vec::new());
    for _ in 0..RESUME_ROUNDS {
        runtime.block_on(async {
            // A new process would start with a new client and the handle it stored.
            let started = Instant::now();
            let client = stream_client(&base_url);
            let job: OrganizationJob = "aggregates-job:organization:job-1"
                .parse::<OrganizationJob>()
                .expect("a handle")
                .with_page_size(PageSize::new(STREAM_PAGE_ROWS as u32).expect("valid"));
            let mut stream = client.wait(&job).await.expect("the job succeeded");
            let first = stream.try_next().await.expect("a page").expect("a row");
            sdk.push(started.elapsed().as_secs_f64());
            drop((first, stream));

            let started = Instant::now();
            let http = plain_client("bench");
            let page: PlainJobPage = http
                .get(format!(
                    "{base_url}{STREAM_JOB_PATH}/job-1?pageSize={STREAM_PAGE_ROWS}"
                ))
                .bearer_auth(BENCH_TOKEN)
                .send()
                .await
                .expect("a response")
                .json()
                .await
                .expect("a page");
            assert!(!page.entities.is_empty());
            base.push(started.elapsed().as_secs_f64());
        });
    }
    let (sdk_median, sdk_min, sdk_max) = summary(&sdk);
    let (base_median, base_min, base_max) = summary(&base);
    let ratios: Vec<f64> = sdk.iter().zip(&base).map(|(s, b)| s / b).collect();
    let (ratio, ratio_min, ratio_max) = summary(&ratios);
    rows.push(
        Row::new(
            "resume: stored job handle to first row",
            format!(
                "{:.1} ms ({:.1}-{:.1})",
                sdk_median * 1e3,
                sdk_min * 1e3,
                sdk_max * 1e3
            ),
            format!(
                "{:.1} ms ({:.1}-{:.1}) plain GET",
                base_median * 1e3,
                base_min * 1e3,
                base_max * 1e3
            ),
            format!("{ratio:.2}x ({ratio_min:.2}-{ratio_max:.2})"),
            "<= 50 ms",
        )
        .pass(sdk_median <= 0.050),
    );
}

fn main() -> ExitCode {
    // The baselines' plain reqwest clients take the process's rustls provider: ring, as the
    // library's own (tls.rs), so the tree has one crypto library.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Ok(spec) = std::env::var(STREAM_CHILD_ENV) {
        return stream_child(&spec);
    }
    // `cargo bench` passes `--bench`; anything else not starting with `-` names a benchmark.
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| names.is_empty() || names.iter().any(|n| n == name);
    let mut rows = Vec::new();
    if wanted("overhead") {
        bench_overhead(&mut rows);
    }
    if wanted("decode") {
        bench_decode(&mut rows);
    }
    if wanted("fanout") {
        bench_fanout(&mut rows, true);
        bench_fanout(&mut rows, false);
    }
    if wanted("build") {
        bench_build(&mut rows);
    }
    if wanted("stream") {
        bench_stream(&mut rows);
    }
    if wanted("resume") {
        bench_resume(&mut rows);
    }
    print_table(&rows);
    if rows.iter().any(|r| r.pass == Some(false)) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
