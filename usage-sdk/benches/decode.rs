//! Large results: 100,000 rows (~30 MB of JSON) through the SDK's decode path (progenitor's
//! `ResponseValue::from_response` into the generated `ApiUsageQueryResult`) versus
//! `serde_json::from_slice` into a hand-written struct of the same shape; time, and peak heap
//! bytes allocated during the decode (the harness's counting allocator), the JSON buffer
//! itself excluded (both sides hold it before decoding starts). 9 paired rounds; the target
//! is on the median of their ratios, the range their spread.
//!
//! ```text
//! cargo bench -p usage-sdk --bench decode
//! ```
//!
//! With `USAGE_SDK_BENCH_ONLY=sdk|base N` it decodes the 100,000 rows `N` times on one side
//! only, untimed (for instruction counts: see benches/HISTORY.md).

mod harness;

use std::process::ExitCode;
use std::time::Instant;

use harness::alloc::peak_during;
use harness::data::XorShift;
use harness::plain::PlainResult;
use harness::stats::{mb, median, summary};
use harness::{Row, Side};
use hyper::body::Bytes;
use usage_sdk::raw::types::{ApiUsageQueryResult, ErrorBody};

fn main() -> ExitCode {
    if let Some((side, times)) = harness::only() {
        decode_only(side, times);
        return ExitCode::SUCCESS;
    }
    harness::run(bench_decode)
}

fn decode_only(side: Side, times: usize) {
    let json = large_result(ROWS);
    let runtime = harness::current_thread_runtime();
    for _ in 0..times {
        let rows = match side {
            Side::Sdk => runtime.block_on(sdk_decode(&json)).results.len(),
            Side::Base => serde_json::from_slice::<PlainResult>(&json)
                .expect("a valid result")
                .results
                .len(),
        };
        assert_eq!(rows, ROWS);
    }
}

const ROWS: usize = 100_000;

/// 100,000 rows grouped by OAuth client, template URI and HTTP method per day; the
/// dimensions not grouped by (organization, user) are "" as the API sends them.
fn large_result(rows: usize) -> Bytes {
    let mut rng = XorShift::new(0x2545_F491_4F6C_DD1D);
    let clients: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                rng.uuid(i),
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
        let s200 = rng.next_u64() % 100_000;
        let s300 = rng.next_u64() % 100;
        let s429 = rng.next_u64() % 50;
        let s400 = s429 + rng.next_u64() % 500;
        let s500 = rng.next_u64() % 20;
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
    let json = large_result(ROWS);
    let runtime = harness::current_thread_runtime();
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
    // Paired: each round's ratio, so that a slow spell of the machine (2 shared vCPUs) during
    // one round weighs on both of its sides; the target is on their median.
    let ratios: Vec<f64> = sdk_times
        .iter()
        .zip(&base_times)
        .map(|(s, b)| s / b)
        .collect();
    let (ratio, ratio_min, ratio_max) = summary(&ratios);
    let (sdk, base) = (median(&mut sdk_times), median(&mut base_times));
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
            format!("{ratio:.2}x ({ratio_min:.2}-{ratio_max:.2})"),
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
