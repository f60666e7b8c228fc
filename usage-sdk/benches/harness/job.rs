//! A loopback server of one finished organization aggregates job, `job-1`, with realistic
//! pages of 1,000 rows pre-rendered once, and the SDK client that reads it (`stream` and
//! `resume`).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use usage_sdk::{PollPolicy, UsageClient};

use super::data::XorShift;
use super::serve::{json_response, serve_on_own_thread};

pub const STREAM_JOB_PATH: &str = "/api/v2/usage/aggregates/query/jobs";
pub const STREAM_PAGE_ROWS: usize = 1000;
/// Distinct blocks of 1,000 rows; page `p` carries block `p % STREAM_BLOCKS`.
pub const STREAM_BLOCKS: usize = 16;
pub const BENCH_TOKEN: &str = "bench-access-token";

/// The entities of `STREAM_BLOCKS` pages (the JSON between `[` and `]`), values varying per
/// row: 40 OAuth clients, 200 users, 8 templates, 5 methods, 3 platforms, dates over a year.
pub fn stream_row_blocks() -> Vec<Bytes> {
    let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
    let clients: Vec<(String, String)> = (0..40)
        .map(|i| (rng.uuid(i), format!("Integration {i:02} connector")))
        .collect();
    let users: Vec<String> = (0..200).map(|i| rng.uuid(i)).collect();
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
                let s200 = rng.next_u64() % 100_000;
                let s300 = rng.next_u64() % 100;
                let s429 = rng.next_u64() % 50;
                let s400 = s429 + rng.next_u64() % 500;
                let s500 = rng.next_u64() % 20;
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
pub fn stream_page(blocks: &[Bytes], page: usize, pages: usize) -> Bytes {
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
pub fn stream_server(blocks: Arc<Vec<Bytes>>, pages: usize) -> String {
    let addr = serve_on_own_thread(move |request: Request<Incoming>| {
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
    });
    format!("http://{addr}")
}

/// The SDK client of the benchmarks on this server: a bench token, polls 1 ms apart.
pub fn stream_client(base_url: &str) -> UsageClient {
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
