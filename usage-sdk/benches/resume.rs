//! Resume: a stored handle (`aggregates-job:organization:job-1`) of a finished job of 1,000
//! rows parsed, waited for and read to its first row by a fresh client, versus a fresh plain
//! reqwest client GETting and decoding the same first page; 15 paired rounds; target: the
//! SDK's median at most 50 ms (a resume used to wait about a second before its first poll).
//!
//! ```text
//! cargo bench -p usage-sdk --bench resume
//! ```

mod harness;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use harness::Row;
use harness::job::{
    BENCH_TOKEN, STREAM_JOB_PATH, STREAM_PAGE_ROWS, stream_client, stream_row_blocks, stream_server,
};
use harness::plain::{PlainJobPage, plain_client};
use harness::stats::summary;
use usage_sdk::{OrganizationJob, PageSize};

fn main() -> ExitCode {
    harness::run(bench_resume)
}

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
