//! Response size: a body larger than `max_response_size` (default 128 MiB) is refused with
//! `Error::ResponseTooLarge`, before it is read when announced and as soon as the limit is
//! read when not, on the API and on the token endpoint, and it is never re-requested. The
//! limit counts the body as decompressed, so a small gzip body cannot inflate past it.
//!
//! The memory bound is checked in a child process (this test binary again, running only
//! [`refuse_200_mb_bodies_in_this_process`]): resident memory is per process, and in this one
//! other tests run alongside.

use std::time::Duration;

use usage_sdk::Error;
use usage_sdk::time::ManualClock;

use crate::scripted::{Act, RawServer, head};
use crate::support::*;

const MB_200: u64 = 200 * 1024 * 1024;

#[test]
fn a_200_mb_body_is_refused_with_a_typed_error_instead_of_being_buffered() {
    run_alone_in_a_child_process(
        "limits::refuse_200_mb_bodies_in_this_process",
        ("USAGE_SDK_LIMITS_CHILD", "1"),
        Duration::from_secs(120),
        &["scenario |", "limits |"],
    );
}

#[test]
#[ignore = "run in its own process by a_200_mb_body_is_refused_with_a_typed_error_instead_of_being_buffered"]
fn refuse_200_mb_bodies_in_this_process() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(refuse_200_mb_bodies());
}

async fn refuse_200_mb_bodies() {
    let rss_before = proc_status_kib("VmRSS");
    let server = RawServer::start(|request, _| {
        let json = [("Content-Type", "application/json")];
        match request.path() {
            // Announced: refused on the Content-Length, before any body is read.
            ORG_RESULTS => Act::Flood {
                head: head(200, &json, Some(MB_200)),
                total: MB_200,
                chunked: false,
            },
            // Not announced (chunked): refused once the limit has been read.
            ORG_QUERY => Act::Flood {
                head: head(
                    202,
                    &[
                        ("Content-Type", "application/json"),
                        ("Transfer-Encoding", "chunked"),
                    ],
                    None,
                ),
                total: MB_200,
                chunked: true,
            },
            // The token endpoint is held to the same limit.
            _ => Act::Flood {
                head: head(200, &json, Some(MB_200)),
                total: MB_200,
                chunked: false,
            },
        }
    })
    .await;
    let clock = ManualClock::new();

    let default_limit = build(config(&server.base_url, &clock));
    assert_eq!(default_limit.config().max_response_size(), 128 << 20);
    let (result, took) = bounded(default_limit.fetch_page(&org_execution(), None)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::ResponseTooLarge { operation: "get_usage_query_execution_id_results", status: 200, limit, content_length: Some(MB_200) } if *limit == 128 << 20),
        "{err:?}"
    );
    assert!(err.to_string().contains("max_response_size"), "{err}");
    assert_eq!(err.status(), Some(200));
    report(
        "200 OK announcing 200 MB (GET, default 128 MiB limit)",
        "ResponseTooLarge before reading",
        1,
        took,
    );

    let one_mib = build(config(&server.base_url, &clock).max_response_size(1 << 20));
    let (result, took) = bounded(one_mib.submit(&org_query())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ResponseTooLarge {
                status: 202,
                limit: 1_048_576,
                content_length: None,
                ..
            }
        ),
        "{err:?}"
    );
    report(
        "202 streaming 200 MB chunked (POST, 1 MiB limit)",
        "ResponseTooLarge after 1 MiB",
        1,
        took,
    );

    let token = build(
        config(&server.base_url, &clock)
            .client_credentials("bot", SECRET)
            .max_response_size(1 << 20),
    );
    let (result, took) = bounded(token.fetch_page(&org_execution(), None)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ResponseTooLarge {
                operation: "oauth_token",
                content_length: Some(MB_200),
                ..
            }
        ),
        "{err:?}"
    );
    report(
        "token endpoint announcing 200 MB",
        "ResponseTooLarge",
        1,
        took,
    );

    assert_eq!(
        server.requests().len(),
        3,
        "a too-large body is not re-requested"
    );
    assert!(clock.sleeps().is_empty());
    // The server may have pushed some MB into socket buffers, never 200 MB into the client:
    // the peak of this process (which runs nothing else) stays within 64 MiB of its start.
    let peak = proc_status_kib("VmHWM");
    eprintln!(
        "limits | RSS {} MiB at the start, peak {} MiB",
        rss_before / 1024,
        peak / 1024
    );
    let grown_mib = peak.saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 64, "peak RSS grew by {grown_mib} MiB");
    let sent = server.flood_bytes_sent();
    eprintln!("flood bytes written: {sent}");
    assert!(sent < 64 << 20, "the client kept reading: {sent} bytes");
}

/// A 200 whose JSON is followed by `padding` bytes of whitespace (still valid JSON), gzipped:
/// about a thousandth of its inflated size on the wire.
fn gzipped_results(padding: usize) -> (Vec<u8>, usize) {
    use std::io::Write;
    let mut json = br#"{"queryStatus":"Complete","results":[{"requests":7}]}"#.to_vec();
    json.resize(json.len() + padding, b' ');
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&json).unwrap();
    (encoder.finish().unwrap(), json.len())
}

#[tokio::test]
async fn a_gzip_body_is_held_to_the_limit_as_it_inflates_not_as_it_travels() {
    let (gzipped, inflated) = gzipped_results(8 << 20);
    assert!(
        gzipped.len() < 64 << 10,
        "{} bytes on the wire",
        gzipped.len()
    );
    let server = RawServer::start(move |_, _| {
        Act::respond(
            200,
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            gzipped.clone(),
        )
    })
    .await;
    let clock = ManualClock::new();

    // Within the limit once inflated: the body decodes, so the gzip itself is fine.
    let roomy = build(config(&server.base_url, &clock).max_response_size(16 << 20));
    let (result, _) = bounded(roomy.fetch_page(&org_execution(), None)).await;
    assert_eq!(result.unwrap().results[0].requests, Some(7));

    // Over a 1 MiB limit once inflated, though a few KiB on the wire.
    let tight = build(config(&server.base_url, &clock).max_response_size(1 << 20));
    let (result, took) = bounded(tight.fetch_page(&org_execution(), None)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ResponseTooLarge {
                status: 200,
                limit: 1_048_576,
                content_length: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        server.requests().len(),
        2,
        "a too-large body is not re-requested"
    );
    assert!(clock.sleeps().is_empty());
    report(
        &format!(
            "gzip body inflating to {} MiB (GET, 1 MiB limit)",
            inflated >> 20
        ),
        "ResponseTooLarge",
        1,
        took,
    );
}
