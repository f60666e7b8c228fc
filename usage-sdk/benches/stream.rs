//! Streaming a large aggregates job: an organization job of 1,000,000 rows (1,000 pages of
//! 1,000 rows, ~0.5 MB of JSON a page, served from pre-rendered blocks by a loopback server on
//! its own thread) read with `UsageClient::rows` + `Rows::try_next` and written as CSV lines
//! into a counting sink, versus plain reqwest + serde_json following `nextUri` into a
//! hand-written struct of the same shape and writing the same lines (the byte counts are
//! checked equal). Rows/s of 7 paired rounds (`USAGE_SDK_BENCH_STREAM_ROUNDS` changes it);
//! target >= 0.9x on the median of the per-round ratios, their range the spread. Then peak
//! RSS: this binary re-runs itself as a child (`USAGE_SDK_BENCH_STREAM_CHILD=sdk|base URL
//! ROWS`) that streams 100,000 or 1,000,000 rows from the server in this process (so the
//! child's RSS is the client's alone) and prints its `VmHWM` from `/proc/self/status`;
//! targets: the 1M-row peak within 1.1x of the 100k-row peak, and under 64 MB.
//!
//! ```text
//! cargo bench -p usage-sdk --bench stream     # about 1.5 minutes
//! ```
//!
//! With `USAGE_SDK_BENCH_ONLY=sdk|base N` it streams one job of `N` rows (whole pages of
//! 1,000) on one side only, untimed (for instruction counts: see benches/HISTORY.md).

mod harness;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use harness::alloc::{ALLOCS, LIVE, PEAK};
use harness::job::{
    BENCH_TOKEN, STREAM_JOB_PATH, STREAM_PAGE_ROWS, stream_client, stream_page, stream_row_blocks,
    stream_server,
};
use harness::plain::{PlainJobPage, PlainMethod, plain_client};
use harness::rss::{run_child, status_kib};
use harness::stats::{mb, summary};
use harness::{Row, Side};
use serde::Deserialize;
use usage_sdk::{Interval, OrganizationJobQuery, PageSize, UsageClient};

/// Set (to `sdk|base <base_url> <rows>`) in the child process that measures peak RSS.
const STREAM_CHILD_ENV: &str = "USAGE_SDK_BENCH_STREAM_CHILD";

fn main() -> ExitCode {
    if let Ok(spec) = std::env::var(STREAM_CHILD_ENV) {
        harness::install_ring_provider();
        return stream_child(&spec);
    }
    if let Some((side, rows)) = harness::only() {
        stream_only(side, rows);
        return ExitCode::SUCCESS;
    }
    harness::run(bench_stream)
}

fn stream_only(side: Side, rows: usize) {
    let url = stream_server(Arc::new(stream_row_blocks()), rows / STREAM_PAGE_ROWS);
    let runtime = harness::current_thread_runtime();
    let (count, _) = runtime.block_on(async {
        let query = stream_query();
        match side {
            Side::Sdk => sdk_stream(&stream_client(&url), &query).await,
            Side::Base => {
                let body = serde_json::to_vec(&query.to_raw()).expect("serialisable");
                let config = usage_sdk::Config::builder()
                    .base_url(&url)
                    .access_token(BENCH_TOKEN)
                    .build()
                    .expect("valid config");
                base_stream(&plain_client(config.user_agent()), &url, &body).await
            }
        }
    });
    assert_eq!(count as usize, rows / STREAM_PAGE_ROWS * STREAM_PAGE_ROWS);
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

/// One CSV line from a row of either side (the SDK's `OrganizationPublicApiUsage` or the
/// baseline's `PlainJobRow`, whose fields have the same names), `method` turning its
/// `httpMethod` into text.
macro_rules! write_csv_row {
    ($out:expr, $row:ident, $method:expr) => {
        write_csv_line(
            $out,
            $row.date.as_ref(),
            $row.platform.as_deref(),
            $row.http_method.as_ref().map($method),
            $row.template_uri.as_deref(),
            [
                $row.request_count,
                $row.status200,
                $row.status300,
                $row.status400,
                $row.status429,
                $row.status500,
            ],
            $row.oauth_client
                .as_ref()
                .map_or((None, None), |c| (c.id.as_deref(), c.name.as_deref())),
            $row.user.as_ref().and_then(|u| u.id.as_deref()),
        )
    };
}

fn stream_query() -> OrganizationJobQuery {
    OrganizationJobQuery::builder(Interval::last_full_days(30).expect("valid interval"))
        .page_size(PageSize::MAX)
        .build()
        .expect("valid query")
}

/// The SDK side: submit, wait, and write every row of the stream as a CSV line; returns the
/// rows and bytes written.
async fn sdk_stream(client: &UsageClient, query: &OrganizationJobQuery) -> (u64, u64) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, CountingSink::default());
    let mut rows = client.rows(query).await.expect("the job succeeds");
    let mut count = 0;
    while let Some(row) = rows.try_next().await.expect("a row") {
        write_csv_row!(&mut out, row, |m| m.as_str());
        count += 1;
    }
    let out = out.into_inner().map_err(|_| ()).expect("flushed");
    (count, out.0)
}

#[derive(Deserialize)]
struct PlainJob {
    id: String,
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
            write_csv_row!(&mut out, row, PlainMethod::as_str);
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
    let runtime = harness::current_thread_runtime();
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
    let spec = format!("{side} {base_url} {rows}");
    run_child("stream", STREAM_CHILD_ENV, &spec, "stream-child ")
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

    let runtime = harness::current_thread_runtime();
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
