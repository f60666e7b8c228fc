//! Reading operational events: 200,000 events (1,000 pages of 200, the largest page the API
//! serves) from a loopback server on its own thread, through `client.events().rows(&query)` +
//! `Rows::try_next`, versus plain reqwest + serde_json POSTing the same query, following the
//! `after` cursor of each `nextUri` into a hand-written struct of the same shape. Both sides
//! sum the bytes of each event's `entityName` and `errorCode` (checked equal), and both are
//! timed from the moment the first page is in hand to the last event, as the target says
//! ("after the first page"). Events/s of 7 paired rounds (`USAGE_SDK_BENCH_EVENTS_ROUNDS`);
//! target >= 0.9x on the median per-round ratio, their range the spread. Then peak RSS: this
//! binary re-runs itself as a child (`USAGE_SDK_BENCH_EVENTS_CHILD=URL EVENTS`) that reads
//! 20,000 or 200,000 events with the SDK and prints its `VmHWM`; target: flat (the 200k peak
//! within 1.1x of the 20k peak).
//!
//! With `USAGE_SDK_BENCH_ONLY=sdk|base N` it reads `N` events (whole pages of 200) on one
//! side only, untimed (for instruction counts: see benches/HISTORY.md).
//!
//! ```text
//! cargo bench -p usage-sdk --bench events
//! ```

mod harness;

use std::process::ExitCode;
use std::time::Instant;

use harness::job::BENCH_TOKEN;
use harness::plain::plain_client;
use harness::rss::{run_child, status_kib};
use harness::serve::{json_response, serve_on_own_thread};
use harness::stats::{mb, summary};
use harness::{Row, Side};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use serde::Deserialize;
use usage_sdk::{EventPageSize, EventQuery, Interval, UsageClient};

const QUERY_PATH: &str = "/api/v2/usage/events/query";
const PAGE: usize = 200;
const CHILD_ENV: &str = "USAGE_SDK_BENCH_EVENTS_CHILD";

fn main() -> ExitCode {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        harness::install_ring_provider();
        return child(&spec);
    }
    if let Some((side, events)) = harness::only() {
        events_only(side, events);
        return ExitCode::SUCCESS;
    }
    harness::run(bench_events)
}

fn events_only(side: Side, events: usize) {
    let url = server(events / PAGE);
    let runtime = harness::current_thread_runtime();
    let query = query();
    let (count, _, _) = runtime.block_on(async {
        match side {
            Side::Sdk => sdk_read(&client(&url), &query).await,
            Side::Base => {
                let body = serde_json::to_vec(&query.to_raw()).expect("serialisable");
                let plain = plain_client(client(&url).config().user_agent());
                base_read(&plain, &url, &body).await
            }
        }
    });
    assert_eq!(count as usize, events / PAGE * PAGE);
}

/// Event `n` as Genesys writes one (every field the spec names, plausible lengths).
fn event(n: usize) -> String {
    format!(
        concat!(
            r#"{{"eventDefinition":{{"id":"0f8fad5b-d9cb-469f-a165-70867728950e","selfUri":"/api/v2/usage/events/definitions/0f8fad5b-d9cb-469f-a165-70867728950e"}},"#,
            r#""entityId":"7c9e6679-7425-40de-944b-e07fc1f90a{n:02}","entityToken":"tok-{n}","entityName":"Data action {n}","#,
            r#""previousValue":"","currentValue":"","errorCode":"action.remote.endpoint.failure","#,
            r#""parentEntityId":"16fd2706-8baf-433b-82eb-8c7fada847da","conversation":{{"id":"c-{n}","selfUri":"/api/v2/conversations/c-{n}"}},"#,
            r#""dateCreated":"2026-11-02T10:{m:02}:00.000Z","entityVersion":"3","phoneNumber":"+15550100{m:02}","externalContactId":"x-{n}"}}"#
        ),
        n = n % 100,
        m = n % 60,
    )
}

/// Page `page` of `pages`, with a `nextUri` on all but the last.
fn page_body(events: &[String], page: usize, pages: usize) -> Bytes {
    let mut body = String::from(r#"{"entities":["#);
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(event);
    }
    body.push(']');
    if page + 1 < pages {
        body.push_str(&format!(
            r#","nextUri":"{QUERY_PATH}?pageSize={PAGE}&after=p{}""#,
            page + 1
        ));
    }
    body.push_str(&format!(r#","selfUri":"{QUERY_PATH}?pageSize={PAGE}"}}"#));
    Bytes::from(body)
}

/// A server of `pages` pages of [`PAGE`] events (pre-rendered: the server costs little).
fn server(pages: usize) -> String {
    let events: Vec<String> = (0..PAGE).map(event).collect();
    let bodies: std::sync::Arc<Vec<Bytes>> =
        std::sync::Arc::new((0..pages).map(|p| page_body(&events, p, pages)).collect());
    let addr = serve_on_own_thread(move |request: Request<Incoming>| {
        let bodies = bodies.clone();
        async move {
            let ok = request.method() == hyper::Method::POST && request.uri().path() == QUERY_PATH;
            let query = request.uri().query().unwrap_or("").to_string();
            let _ = request.into_body().collect().await;
            let page = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("after=p"))
                .map_or(Some(0), |n| n.parse::<usize>().ok());
            match page {
                Some(page) if ok && page < bodies.len() => {
                    json_response(StatusCode::OK, bodies[page].clone())
                }
                _ => json_response(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
            }
        }
    });
    format!("http://{addr}")
}

fn query() -> EventQuery {
    EventQuery::builder(Interval::last_full_days(7).expect("valid interval"))
        .page_size(EventPageSize::MAX)
        .build()
        .expect("valid query")
}

fn client(base_url: &str) -> UsageClient {
    UsageClient::builder()
        .base_url(base_url)
        .access_token(BENCH_TOKEN)
        .build()
        .expect("a client")
}

/// What both sides compute from each event, so neither can skip decoding it.
fn touch(name: Option<&str>, code: Option<&str>) -> u64 {
    (name.map_or(0, str::len) + code.map_or(0, str::len)) as u64
}

/// The SDK side: (events, checksum, seconds after the first page).
async fn sdk_read(client: &UsageClient, query: &EventQuery) -> (u64, u64, f64) {
    let mut rows = client.events().rows(query).await.expect("the first page");
    let started = Instant::now();
    let (mut count, mut sum) = (0, 0);
    while let Some(event) = rows.try_next().await.expect("an event") {
        sum += touch(event.entity_name.as_deref(), event.error_code.as_deref());
        count += 1;
    }
    (count, sum, started.elapsed().as_secs_f64())
}

#[derive(Deserialize)]
struct PlainRef {
    #[allow(dead_code)]
    id: Option<String>,
    #[serde(rename = "selfUri")]
    #[allow(dead_code)]
    self_uri: Option<String>,
}

/// The same shape as `OperationalEvent`, without the catch-all for unknown fields.
#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainEvent {
    #[serde(rename = "eventDefinition")]
    event_definition: Option<PlainRef>,
    #[serde(rename = "entityId")]
    entity_id: Option<String>,
    #[serde(rename = "entityToken")]
    entity_token: Option<String>,
    #[serde(rename = "entityName")]
    entity_name: Option<String>,
    #[serde(rename = "previousValue")]
    previous_value: Option<String>,
    #[serde(rename = "currentValue")]
    current_value: Option<String>,
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
    #[serde(rename = "parentEntityId")]
    parent_entity_id: Option<String>,
    conversation: Option<PlainRef>,
    #[serde(rename = "dateCreated")]
    date_created: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(rename = "entityVersion")]
    entity_version: Option<String>,
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
    #[serde(rename = "externalContactId")]
    external_contact_id: Option<String>,
}

#[derive(Deserialize)]
struct PlainPage {
    #[serde(default)]
    entities: Vec<PlainEvent>,
    #[serde(rename = "nextUri")]
    next_uri: Option<String>,
}

/// The baseline: the same POSTs, `after` taken from each `nextUri`.
async fn base_read(http: &reqwest::Client, base_url: &str, body: &[u8]) -> (u64, u64, f64) {
    let mut after: Option<String> = None;
    let (mut count, mut sum) = (0, 0);
    let mut started = None;
    loop {
        let mut url = reqwest::Url::parse(&format!("{base_url}{QUERY_PATH}")).expect("a URL");
        url.query_pairs_mut()
            .append_pair("pageSize", &PAGE.to_string());
        if let Some(after) = &after {
            url.query_pairs_mut().append_pair("after", after);
        }
        let response = http
            .post(url)
            .bearer_auth(BENCH_TOKEN)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .expect("a page");
        assert!(response.status().is_success());
        let bytes = response.bytes().await.expect("body");
        let page: PlainPage = serde_json::from_slice(&bytes).expect("json");
        drop(bytes);
        started.get_or_insert_with(Instant::now);
        for event in &page.entities {
            sum += touch(event.entity_name.as_deref(), event.error_code.as_deref());
            count += 1;
        }
        after = page.next_uri.and_then(|uri| {
            let url = reqwest::Url::parse("http://x/").ok()?.join(&uri).ok()?;
            url.query_pairs()
                .find(|(k, _)| k == "after")
                .map(|(_, v)| v.into_owned())
        });
        if after.is_none() {
            break;
        }
    }
    let seconds = started.map_or(0.0, |s| s.elapsed().as_secs_f64());
    (count, sum, seconds)
}

/// The child: reads every event of the server at `URL` with the SDK, prints its peak RSS.
fn child(spec: &str) -> ExitCode {
    let Some((base_url, events)) = spec.split_once(' ') else {
        eprintln!("{CHILD_ENV}: expected `URL EVENTS`, got {spec:?}");
        return ExitCode::FAILURE;
    };
    let events: u64 = events.trim().parse().expect("an event count");
    let runtime = harness::current_thread_runtime();
    let (count, _, _) = runtime.block_on(sdk_read(&client(base_url), &query()));
    assert_eq!(count, events, "the child read every event");
    println!(
        "events-child events={count} vmhwm_kib={}",
        status_kib("VmHWM:")
    );
    ExitCode::SUCCESS
}

fn child_peak(base_url: &str, events: usize) -> f64 {
    let figures = run_child(
        "events",
        CHILD_ENV,
        &format!("{base_url} {events}"),
        "events-child ",
    );
    figures["vmhwm_kib"] * 1024.0
}

fn bench_events(rows: &mut Vec<Row>) {
    const BIG: usize = 200_000;
    const SMALL: usize = 20_000;
    let rounds: usize = std::env::var("USAGE_SDK_BENCH_EVENTS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
        .max(1);
    let big_url = server(BIG / PAGE);
    let small_url = server(SMALL / PAGE);
    let runtime = harness::current_thread_runtime();
    let query = query();
    let body = serde_json::to_vec(&query.to_raw()).expect("serialisable");
    let (mut sdk_rates, mut base_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    runtime.block_on(async {
        let sdk = client(&big_url);
        let plain = plain_client(sdk.config().user_agent());
        // Warm-up on the small server; both sides see the same events.
        let small = client(&small_url);
        let (n, sdk_sum, _) = sdk_read(&small, &query).await;
        let (m, base_sum, _) = base_read(&plain, &small_url, &body).await;
        assert_eq!(
            (n, sdk_sum),
            (m, base_sum),
            "both sides read the same events"
        );
        assert_eq!(n, SMALL as u64);
        for round in 0..rounds {
            for which in [round % 2, 1 - round % 2] {
                let (n, _, seconds) = if which == 0 {
                    sdk_read(&sdk, &query).await
                } else {
                    base_read(&plain, &big_url, &body).await
                };
                assert_eq!(n, BIG as u64);
                // The first page is not timed: n minus its events over the time after it.
                let rate = (n as usize - PAGE) as f64 / seconds;
                println!(
                    "events: round {} {}: {seconds:.2} s, {rate:.0} events/s",
                    round + 1,
                    if which == 0 { "SDK     " } else { "baseline" }
                );
                if which == 0 {
                    sdk_rates.push(rate);
                } else {
                    base_rates.push(rate);
                }
            }
            ratios.push(sdk_rates[round] / base_rates[round]);
        }
    });
    let (sdk, sdk_min, sdk_max) = summary(&sdk_rates);
    let (base, base_min, base_max) = summary(&base_rates);
    let (ratio, ratio_min, ratio_max) = summary(&ratios);
    let k = |r: f64| format!("{:.0}k", r / 1e3);
    rows.push(
        Row::new(
            "6a. 200k events through Rows: events/s",
            format!("{} events/s ({}-{})", k(sdk), k(sdk_min), k(sdk_max)),
            format!("{} events/s ({}-{})", k(base), k(base_min), k(base_max)),
            format!("{ratio:.2}x ({ratio_min:.2}-{ratio_max:.2})"),
            ">= 0.9x",
        )
        .pass(ratio >= 0.9),
    );
    let (small_peak, big_peak) = (child_peak(&small_url, SMALL), child_peak(&big_url, BIG));
    let growth = big_peak / small_peak;
    rows.push(
        Row::new(
            "6b. events peak RSS: 200k vs 20k events",
            format!("{} vs {}", mb(big_peak as usize), mb(small_peak as usize)),
            "-".into(),
            format!("{growth:.2}x"),
            "<= 1.1x (flat)",
        )
        .pass(growth <= 1.1),
    );
}
