//! The exporter with Prometheus' own tools (Debian's `prometheus` package): `promtool check
//! rules` and `promtool test rules` on the shipped rules, `promtool check metrics` on a real
//! scrape, and a real Prometheus server on loopback scraping the exporter (a stand-in
//! behind it, through a profile) whose HTTP API answers with the store's figure. Without
//! the tools the tests say SKIPPED, except under CI (`CI` set), where they fail.

mod program;
mod serving;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serving::{Server, TempDir, month_to_date, profiles, scalar, stand_in, tool, value};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/prometheus/rules.yml");
const RULE_TESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/prometheus/rules.test.yml");

#[track_caller]
fn succeeds(command: &mut Command) -> String {
    let output = command.output().expect("the tool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?}:\n{text}");
    text
}

#[test]
fn promtool_checks_and_unit_tests_the_shipped_rules() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let checked = succeeds(Command::new(&promtool).args(["check", "rules", RULES]));
    assert!(checked.contains("SUCCESS: 7 rules found"), "{checked}");
    succeeds(Command::new(&promtool).args(["test", "rules", RULE_TESTS]));
}

#[tokio::test(flavor = "multi_thread")]
async fn promtool_check_metrics_passes_on_a_real_scrape() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = TempDir::new("promtool");
    let api = stand_in(7).await;
    let path = profiles(&dir, &api);
    let server = Server::start(&["--profiles", &path, "--profile", "acme"], &[], &dir);
    let text = server
        .scrape_until(|t| t.contains("usage_report_projected_overage_requests{"))
        .await;
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics:\n{}{}\n--- scrape\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A free loopback port (bound, then let go for the child to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GETs `path` from Prometheus over HTTP/1.0 (no chunked body): the body.
fn http_get(address: &str, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response.split_once("\r\n\r\n")?.1.to_string())
}

fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Prometheus, killed and its data removed when dropped.
struct Prometheus {
    child: std::process::Child,
    address: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// One instant query through the HTTP API: the value of its single sample, if any.
    fn query(&self, promql: &str) -> Option<f64> {
        let body = http_get(
            &self.address,
            &format!("/api/v1/query?query={}", percent_encoded(promql)),
        )?;
        let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
        let result = answer["data"]["result"].as_array()?;
        result.first()?["value"][1].as_str()?.parse().ok()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_prometheus_scrapes_the_exporter_and_answers_with_the_stores_figure() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let dir = TempDir::new("prometheus");
    let api = stand_in(9).await;
    let path = profiles(&dir, &api);
    let server = Server::start(&["--profiles", &path, "--profile", "acme"], &[], &dir);
    // The exporter has synced before Prometheus starts scraping it.
    let text = server
        .scrape_until(|t| t.contains("usage_report_requests_month_to_date{"))
        .await;
    let config = dir.file("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {RULES}\n\
             scrape_configs:\n  - job_name: usage-report\n    static_configs:\n      - targets: ['{}']\n",
            server.address
        ),
    )
    .unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let child = Command::new(&prometheus)
        .arg(format!("--config.file={config}"))
        .arg(format!("--storage.tsdb.path={}", dir.file("tsdb")))
        .arg(format!("--web.listen-address={address}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.file("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus starts");
    let prometheus = Prometheus { child, address };
    // What the store says: the organization's 2xx of the month to date.
    let (first, end) = month_to_date();
    let store = dir.file("acme.sqlite3");
    let expected = scalar(
        &store,
        &format!("SELECT SUM(status200) FROM usage WHERE day >= '{first}' AND day < '{end}'"),
    );
    assert!(expected > 0, "the stand-in has requests this month");
    let promql =
        r#"sum(usage_report_requests_month_to_date{organization="acme",status_class="2xx"})"#;
    let started = Instant::now();
    let log = dir.file("prometheus.log");
    let read = tokio::task::spawn_blocking(move || {
        loop {
            // The series, and the recording rule over it (evaluated every second).
            let value = prometheus.query(promql);
            let recorded = prometheus.query(
                r#"organization:usage_report_requests_month_to_date:sum{organization="acme"}"#,
            );
            if let (Some(value), Some(recorded)) = (value, recorded) {
                return (value, recorded, started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("Prometheus answered nothing in 60 s; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .unwrap();
    let (read_back, recorded, took) = read;
    eprintln!("Prometheus read back {promql} = {read_back} after {took:?} (store: {expected})");
    assert_eq!(read_back, expected as f64);
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with("usage_report_requests_month_to_date{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(recorded, total);
    assert_eq!(
        value(
            &text,
            "usage_report_allowance_requests{organization=\"acme\"}"
        ),
        Some(75_000.0)
    );
}
