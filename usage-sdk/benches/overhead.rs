//! Per-call overhead: a submit + results cycle (3 rows) through [`UsageClient`] against a
//! local server that answers at once, versus plain reqwest + serde_json making the same two
//! requests to the same server; one connection, sequential; 31 paired rounds (each times both
//! sides back to back), target on the median per-round ratio, spread as its IQR.
//!
//! ```text
//! cargo bench -p usage-sdk --bench overhead
//! ```
//!
//! With `USAGE_SDK_BENCH_ONLY=sdk|base N` it runs `N` cycles of one side only, untimed (for
//! instruction counts: see benches/HISTORY.md).

mod harness;

use std::process::ExitCode;
use std::time::Instant;

use harness::plain::{PlainResult, plain_client};
use harness::serve::{json_response, serve_on_own_thread};
use harness::stats::median;
use harness::{Row, Side};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use serde::Deserialize;
use usage_sdk::{Granularity, GroupBy, Interval, Metric, OrganizationQuery, UsageClient};

fn main() -> ExitCode {
    if let Some(only) = harness::only() {
        bench_overhead(&mut Vec::new(), Some(only));
        return ExitCode::SUCCESS;
    }
    harness::run(|rows| bench_overhead(rows, None))
}

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

fn bench_overhead(rows: &mut Vec<Row>, only: Option<(Side, usize)>) {
    // The server gets its own thread so that it does not share the client's runtime.
    let results = three_rows();
    let submitted = Bytes::from(format!(
        r#"{{"executionId":"{EXECUTION_ID}","resultsUri":"/api/v2/usage/query/{EXECUTION_ID}/results"}}"#
    ));
    let addr = serve_on_own_thread(move |request: Request<Incoming>| {
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
    });
    let base_url = format!("http://{addr}");

    let runtime = harness::current_thread_runtime();
    let timed = runtime.block_on(async {
        let sdk = UsageClient::builder()
            .base_url(&base_url)
            .access_token("bench-access-token")
            .build()
            .expect("a client");
        let query = overhead_query();
        let plain = plain_client(sdk.config().user_agent());

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

        if let Some((side, cycles)) = only {
            for _ in 0..cycles {
                match side {
                    Side::Sdk => sdk_cycle().await,
                    Side::Base => base_cycle().await,
                }
            }
            return None;
        }
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
        Some((
            median(&mut sdk_times),
            median(&mut base_times),
            median(&mut ratios),
            quartiles,
        ))
    });
    let Some((sdk_cycle, base_cycle, ratio, quartiles)) = timed else {
        return;
    };
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
