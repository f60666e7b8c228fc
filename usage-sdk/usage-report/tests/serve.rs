//! `usage-report serve` as an operator runs it: the built binary on a loopback port, a
//! stand-in in this test process as the organization, scraped over HTTP. The figures are
//! compared with the store's own SQL; a failing sync keeps the last figures and says so;
//! SIGTERM exits 0; demo mode says demo.

mod program;
mod serving;

use std::time::{Duration, Instant};

use rusqlite::Connection;
use serving::{Server, TempDir, month_to_date, profiles, scalar, stand_in, value};

#[tokio::test(flavor = "multi_thread")]
async fn the_exporter_serves_the_stores_figures_and_keeps_them_while_a_sync_fails() {
    let dir = TempDir::new("figures");
    let api = stand_in(22).await;
    let path = profiles(&dir, &api);
    let server = Server::start(
        &["--profiles", &path, "--all-profiles", "--refresh", "2s"],
        &[],
        &dir,
    );
    let synced = |t: &str| {
        value(
            t,
            "usage_report_last_sync_success_timestamp_seconds{organization=\"acme\"}",
        )
        .is_some()
            && t.contains("usage_report_requests_month_to_date{")
    };
    let text = server.scrape_until(synced).await;
    // The month's 2xx of the busiest client, as the store's SQL has it.
    let store = dir.file("acme.sqlite3");
    let (first, end) = month_to_date();
    let (client_id, client_name, ok): (String, String, i64) = Connection::open(&store)
        .unwrap()
        .query_row(
            "SELECT client_id, client_name, SUM(status200) FROM usage WHERE day >= ?1 AND day < ?2 \
             GROUP BY client_id, client_name ORDER BY SUM(requests) DESC LIMIT 1",
            [first.to_string(), end.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let series = format!(
        "usage_report_requests_month_to_date{{organization=\"acme\",client_id=\"{client_id}\",client_name=\"{client_name}\",status_class=\"2xx\"}}"
    );
    assert_eq!(value(&text, &series), Some(ok as f64), "{series}\n{text}");
    // 429s are counted once: 4xx excludes them, the classes add up to the requests.
    let month_requests = scalar(
        &store,
        &format!("SELECT SUM(requests) FROM usage WHERE day >= '{first}' AND day < '{end}'"),
    );
    let classes: f64 = text
        .lines()
        .filter(|l| l.starts_with("usage_report_requests_month_to_date{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(classes, month_requests as f64);
    // The license's allowance and its forecast (1 CX 1 user: 75,000 requests).
    assert_eq!(
        value(
            &text,
            "usage_report_allowance_requests{organization=\"acme\"}"
        ),
        Some(75_000.0)
    );
    for name in [
        "usage_report_allowance_used_ratio",
        "usage_report_projected_month_end_requests",
        "usage_report_projected_overage_requests",
        "usage_report_sync_duration_seconds",
    ] {
        assert!(
            value(&text, &format!("{name}{{organization=\"acme\"}}")).is_some(),
            "{name}\n{text}"
        );
    }
    assert!(text.contains("usage_report_build_info{version="), "{text}");
    assert!(text.contains("demo=\"false\""), "{text}");
    assert_eq!(server.get("/healthz").0, "HTTP/1.1 200 OK");
    assert_eq!(server.get("/nothing").0, "HTTP/1.1 404 Not Found");

    // The API goes away: the next syncs fail, the figures stay, the errors are counted.
    let last_success = value(
        &text,
        "usage_report_last_sync_success_timestamp_seconds{organization=\"acme\"}",
    )
    .unwrap();
    api.shutdown().await;
    let failed = server
        .scrape_until(|t| {
            value(t, "usage_report_sync_errors_total{organization=\"acme\"}")
                .is_some_and(|n| n >= 1.0)
        })
        .await;
    assert_eq!(value(&failed, &series), Some(ok as f64), "{failed}");
    assert_eq!(
        value(&failed, "usage_report_last_sync_ok{organization=\"acme\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(
            &failed,
            "usage_report_last_sync_success_timestamp_seconds{organization=\"acme\"}"
        ),
        Some(last_success)
    );
    assert!(
        server.stderr().contains("the sync of acme failed"),
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_exporter_with_exit_0_and_demo_mode_says_demo() {
    let dir = TempDir::new("demo");
    // No GENESYSCLOUD_* and no profile: the demo stand-in, into a demo store.
    let mut server = Server::start(&["--refresh", "1h"], &[], &dir);
    let text = server
        .scrape_until(|t| t.contains("usage_report_requests_yesterday{"))
        .await;
    assert!(text.contains("demo=\"true\""), "{text}");
    assert!(text.contains("organization=\"demo\""), "{text}");
    assert!(server.stderr().contains("DEMO DATA"));
    assert!(std::path::Path::new(&dir.file("data/usage-report/demo.sqlite3")).exists());
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert!(
        server.stderr().contains("SIGTERM: stopped"),
        "{}",
        server.stderr()
    );
}
