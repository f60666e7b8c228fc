//! Fan-out under a rate limit: 200 concurrent client usage queries against the stand-in
//! limited to 50 requests/s (bucket of 50 refilled at 50/s) with executions taking 1 s,
//! through a recording proxy that checks no request was re-sent before a `Retry-After` it was
//! given had passed. Ideal = (400 requests (a submit and one results fetch per query) - the
//! 50 the full bucket admits at once) / 50 per s = 7.0 s.
//! The stand-in seeds at most 8 OAuth clients, so the 200 queries cycle over 8 client ids
//! (25 each), each with its own interval. Run with rate-limit pacing on (the default; the
//! measured row) and off (for comparison).
//!
//! ```text
//! cargo bench -p usage-sdk --bench fanout
//! ```

mod harness;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::Row;
use harness::serve::serve;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use usage_sdk::{Interval, OAuthClientId, OAuthClientQuery, UsageClient};
use usage_sdk_stand_in::StandIn;

fn main() -> ExitCode {
    harness::run(|rows| {
        bench_fanout(rows, true);
        bench_fanout(rows, false);
    })
}

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
