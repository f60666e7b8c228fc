//! `usage-report sync` into the store: one aggregates job of 1,000,000 rows (1,000 pages of
//! 1,000 rows, ~0.5 MB of JSON a page; 20,000 distinct rows a day over 50 days, so every
//! row is kept) served by a loopback job server on its own thread, synced into a new store
//! by the release binary (`sync --per-user`), against the same binary streaming the same
//! job's rows to nowhere (`--format csv` into /dev/null: the same HTTP, decoding and
//! waits, without the store). Rows/s of 5 interleaved rounds
//! (`USAGE_REPORT_BENCH_SYNC_ROUNDS` changes it); target >= 0.5x on the median of the
//! per-round ratios, their range the spread. Peak RSS of the sync (the child's, by wait4):
//! target < 64 MB. Then a sync of the store thus up to date: target one job and <= 2 s.
//! The SDK's own stream of the same job in this process, to nowhere, is shown for scale.
//!
//! ```text
//! cargo bench -p usage-report --bench sync     # about 2.5 minutes
//! ```

#[path = "../../benches/harness/serve.rs"]
#[allow(dead_code)]
mod serve;
#[path = "../../benches/harness/stats.rs"]
#[allow(dead_code)]
mod stats;
#[path = "../../benches/harness/table.rs"]
#[allow(dead_code)]
mod table;

use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use serve::{json_response, serve_on_own_thread};
use stats::summary;
use table::Row;

const BIN: &str = env!("CARGO_BIN_EXE_usage-report");
const JOBS: &str = "/api/v2/usage/aggregates/query/jobs";
const PAGE_ROWS: usize = 1000;
const PAGES: usize = 1000;
/// Pages a day: their rows differ in client, template, method, platform and user.
const PAGES_PER_DAY: usize = 20;
const DAYS: usize = PAGES / PAGES_PER_DAY;
/// The date each row carries, replaced per page.
const DATE_MARK: &str = "0000-00-00";

/// The rows of each page of a day (with [`DATE_MARK`] for the date) and where the mark is.
struct Blocks {
    blocks: Vec<(Vec<u8>, Vec<usize>)>,
    first_day: NaiveDate,
}

fn blocks(first_day: NaiveDate) -> Blocks {
    let clients: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("0b5e{i:04x}-0000-4000-8000-00000000c1{i:02x}"),
                format!("Integration {i:02} connector"),
            )
        })
        .collect();
    let users: Vec<String> = (0..200)
        .map(|i| format!("a5e7{i:04x}-0000-4000-8000-0000000000{:02x}", i % 256))
        .collect();
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
    let platforms = ["PureCloud", "Platform API", "Embedded"];
    let blocks = (0..PAGES_PER_DAY)
        .map(|block| {
            let mut json = String::with_capacity(PAGE_ROWS * 520);
            let mut marks = Vec::with_capacity(PAGE_ROWS);
            for i in 0..PAGE_ROWS {
                if i > 0 {
                    json.push(',');
                }
                // Mixed radix: distinct for every n below 40 x 8 x 5 x 3 x 200.
                let n = block * PAGE_ROWS + i;
                let (client_id, client_name) = &clients[n % 40];
                let template = templates[(n / 40) % 8];
                let method = methods[(n / 320) % 5];
                let platform = platforms[(n / 1600) % 3];
                let user = &users[(n / 4800) % 200];
                let s = (n * 7919) as u64;
                let (s200, s300, s429, s500) = (s % 100_000, s % 100, s % 50, s % 20);
                let s400 = s429 + s % 500;
                json.push_str(r#"{"date":""#);
                marks.push(json.len());
                json.push_str(DATE_MARK);
                json.push_str(&format!(
                    r#"","platform":"{platform}","httpMethod":"{method}","templateUri":"{template}","requestCount":{},"status200":{s200},"status300":{s300},"status400":{s400},"status429":{s429},"status500":{s500},"oauthClient":{{"id":"{client_id}","name":"{client_name}","selfUri":"/api/v2/oauth/clients/{client_id}"}},"user":{{"id":"{user}","selfUri":"/api/v2/users/{user}"}}}}"#,
                    s200 + s300 + s400 + s500
                ));
            }
            (json.into_bytes(), marks)
        })
        .collect();
    Blocks { blocks, first_day }
}

/// Page `page` of job `first-end`: the rows of day `page / PAGES_PER_DAY`.
fn page(blocks: &Blocks, first: usize, end: usize, page: usize) -> Bytes {
    const HEAD: &str = r#"{"queryStatus":"Succeeded","entities":["#;
    let (block, marks) = &blocks.blocks[page % PAGES_PER_DAY];
    let day = blocks.first_day + Days::new((page / PAGES_PER_DAY) as u64);
    let day = day.format("%Y-%m-%d").to_string();
    let mut body = Vec::with_capacity(HEAD.len() + block.len() + 128);
    body.extend_from_slice(HEAD.as_bytes());
    let at = body.len();
    body.extend_from_slice(block);
    for mark in marks {
        body[at + mark..at + mark + DATE_MARK.len()].copy_from_slice(day.as_bytes());
    }
    body.push(b']');
    if page + 1 < end {
        body.extend_from_slice(
            format!(
                r#","nextUri":"{JOBS}/job-{first}-{end}?pageSize={PAGE_ROWS}&after=c{}""#,
                page + 1
            )
            .as_bytes(),
        );
    }
    body.push(b'}');
    Bytes::from(body)
}

/// A job server: `POST …/jobs` answers `job-FIRST-END`, the pages of the days of the body's
/// interval; `GET …/jobs/job-FIRST-END[?after=cN]` the page, `Succeeded` at once. Counts
/// the POSTs.
fn job_server(blocks: Arc<Blocks>, posts: Arc<AtomicU64>) -> String {
    let addr = serve_on_own_thread(move |request: Request<Incoming>| {
        let (blocks, posts) = (blocks.clone(), posts.clone());
        async move {
            let is_post = request.method() == hyper::Method::POST;
            let path = request.uri().path().to_string();
            let query = request.uri().query().unwrap_or("").to_string();
            let body = request
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            if is_post && path == JOBS {
                posts.fetch_add(1, Ordering::Relaxed);
                let interval = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["interval"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let page_of = |instant: &str| {
                    let day: NaiveDate = instant.get(..10)?.parse().ok()?;
                    let days = (day - blocks.first_day).num_days().clamp(0, DAYS as i64);
                    Some(days as usize * PAGES_PER_DAY)
                };
                let Some((first, end)) = interval
                    .split_once('/')
                    .and_then(|(s, e)| Some((page_of(s)?, page_of(e)?)))
                else {
                    return json_response(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}"));
                };
                return json_response(
                    StatusCode::ACCEPTED,
                    Bytes::from(format!(r#"{{"id":"job-{first}-{end}"}}"#)),
                );
            }
            let range = path
                .strip_prefix(&format!("{JOBS}/job-"))
                .and_then(|r| r.split_once('-'))
                .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
            let Some((first, end)) = range.filter(|_| !is_post) else {
                return json_response(StatusCode::NOT_FOUND, Bytes::from_static(b"{}"));
            };
            let mut at = first;
            for pair in query.split('&') {
                if let Some(("after", cursor)) = pair.split_once('=') {
                    at = cursor
                        .strip_prefix('c')
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(usize::MAX);
                }
            }
            if at >= end {
                return json_response(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}"));
            }
            json_response(StatusCode::OK, page(&blocks, first, end, at))
        }
    });
    format!("http://{addr}")
}

/// What a run of the binary took: wall time and the child's peak RSS (bytes).
struct Measured {
    seconds: f64,
    peak_rss: usize,
    stderr: String,
}

/// Runs the binary with `args` against `base`, stdout to /dev/null.
fn measure(base: &str, args: &[&str], data: &std::path::Path) -> Measured {
    let started = Instant::now();
    // Reaped below by wait4, which also reports its peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("XDG_DATA_HOME", data)
        .env("GENESYSCLOUD_API_REGION", base)
        .env("GENESYSCLOUD_ACCESS_TOKEN", "bench-access-token")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child, reaped here once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap_or_default();
    assert_eq!(waited, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?} failed: {stderr}"
    );
    Measured {
        seconds,
        // ru_maxrss is in kilobytes on Linux.
        peak_rss: usage.ru_maxrss as usize * 1024,
        stderr,
    }
}

/// The SDK's own stream of the job in this process, rows to nowhere.
fn sdk_stream(base: &str, first_day: NaiveDate, today: NaiveDate) -> f64 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = usage_sdk::UsageClient::builder()
            .base_url(base)
            .access_token("bench-access-token")
            .poll(
                usage_sdk::PollPolicy::default()
                    .with_delays(Duration::from_millis(1), Duration::from_millis(1))
                    .with_jitter(false),
            )
            .build()
            .expect("a client");
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let query = usage_sdk::OrganizationJobQuery::builder(
            usage_sdk::Interval::new(midnight(first_day), midnight(today)).expect("interval"),
        )
        .page_size(usage_sdk::PageSize::MAX)
        .build()
        .expect("a query");
        let started = Instant::now();
        let mut rows = client.rows(&query).await.expect("the job");
        let mut n = 0u64;
        while let Some(row) = rows.try_next().await.expect("a row") {
            std::hint::black_box(row);
            n += 1;
        }
        assert_eq!(n, (PAGES * PAGE_ROWS) as u64);
        started.elapsed().as_secs_f64()
    })
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rounds: usize = std::env::var("USAGE_REPORT_BENCH_SYNC_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let today = Utc::now().date_naive();
    let first_day = today - Days::new(DAYS as u64);
    let posts = Arc::new(AtomicU64::new(0));
    let base = job_server(Arc::new(blocks(first_day)), posts.clone());
    let rows = (PAGES * PAGE_ROWS) as f64;
    let dir = std::env::temp_dir().join(format!("usage-report-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let since = first_day.to_string();
    let interval = format!("{first_day}/{today}");

    let (mut sync_rates, mut stream_rates, mut ratios, mut peaks) =
        (vec![], vec![], vec![], vec![]);
    let mut store = String::new();
    for round in 0..rounds {
        let stream = measure(
            &base,
            &[
                "--interval",
                &interval,
                "--granularity",
                "Day",
                "--group-by",
                "OauthClientId,OauthClientName,TemplateUri,HttpMethod,Platform,UserId",
                "--format",
                "csv",
            ],
            &dir,
        );
        store = dir
            .join(format!("round-{round}.sqlite3"))
            .display()
            .to_string();
        let sync = measure(
            &base,
            &["sync", "--store", &store, "--since", &since, "--per-user"],
            &dir,
        );
        let kept: i64 = rusqlite::Connection::open(&store)
            .and_then(|c| c.query_row("SELECT count(*) FROM usage", [], |r| r.get(0)))
            .expect("the store");
        assert_eq!(kept as f64, rows, "every row kept: {}", sync.stderr);
        let (s, b) = (rows / sync.seconds, rows / stream.seconds);
        eprintln!(
            "round {round}: sync {:.2} s ({:.0} rows/s, peak {}), stream to nowhere {:.2} s ({:.0} rows/s)",
            sync.seconds,
            s,
            stats::mb(sync.peak_rss),
            stream.seconds,
            b
        );
        sync_rates.push(s);
        stream_rates.push(b);
        ratios.push(s / b);
        peaks.push(sync.peak_rss as f64);
    }
    let sdk = sdk_stream(&base, first_day, today);

    // The last store is up to date: one job (yesterday again), quickly.
    posts.store(0, Ordering::Relaxed);
    // As a daily job runs it: no --since, no --per-user (the store remembers).
    let resync = measure(&base, &["sync", "--store", &store], &dir);
    let resync_posts = posts.load(Ordering::Relaxed);
    let _ = std::fs::remove_dir_all(&dir);

    let (ratio, low, high) = summary(&ratios);
    let (sync_rate, _, _) = summary(&sync_rates);
    let (stream_rate, _, _) = summary(&stream_rates);
    let (_, _, peak) = summary(&peaks);
    let table = vec![
        Row::new(
            "sync 1M rows into the store, rows/s",
            format!("{sync_rate:.0}"),
            format!("{stream_rate:.0} (csv to /dev/null)"),
            format!("{ratio:.2}x ({low:.2}-{high:.2})"),
            ">= 0.5x",
        )
        .pass(ratio >= 0.5),
        Row::new(
            "sync 1M rows, peak RSS (largest round)",
            stats::mb(peak as usize),
            "-".into(),
            "-".into(),
            "< 64 MB",
        )
        .pass(peak < 64e6),
        Row::new(
            "re-sync of an up-to-date store",
            format!("{resync_posts} job, {:.2} s", resync.seconds),
            "-".into(),
            "-".into(),
            "1 job, <= 2 s",
        )
        .pass(resync_posts == 1 && resync.seconds <= 2.0),
        Row::new(
            "for scale: the SDK's stream in-process, rows/s",
            format!("{:.0}", rows / sdk),
            "-".into(),
            "-".into(),
            "-",
        ),
    ];
    table::finish(&table)
}
