//! `usage-report serve` as an operator runs it: the built binary on a loopback port, a
//! stand-in in this test process as the organization, scraped over HTTP. The figures are
//! compared with the store's own SQL; a failing sync keeps the last figures and says so;
//! SIGTERM exits 0; demo mode says demo.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use rusqlite::Connection;
use usage_sdk_stand_in::{RunningStandIn, StandIn};

const BIN: &str = env!("CARGO_BIN_EXE_usage-report");

/// A folder for one test's files, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "usage-report-serve-{name}-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The exporter, killed when dropped; its stderr collected on a thread.
struct Server {
    child: Child,
    pub address: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `serve` with `args` on a free loopback port and waits for its address.
    fn start(args: &[&str], env: &[(&str, String)], dir: &TempDir) -> Self {
        let mut command = std::process::Command::new(BIN);
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_clear();
        for name in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.env("XDG_DATA_HOME", dir.0.join("data"));
        command.env("XDG_CONFIG_HOME", dir.0.join("config"));
        command.envs(env.iter().map(|(name, value)| (*name, value)));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the exporter starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap());
        let kept = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let rest = &line[at + "listening on http://".len()..];
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no address; stderr: {}", stderr.lock().unwrap()));
        Self {
            child,
            address,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// GETs `path`: the status line and the body.
    fn get(&self, path: &str) -> (String, String) {
        get(&self.address, path)
    }

    /// Scrapes until `ready` holds, at most 60 s (off the async threads: the stand-in
    /// serves on them).
    async fn scrape_until(&self, ready: impl Fn(&str) -> bool + Send + 'static) -> String {
        let (address, stderr) = (self.address.clone(), self.stderr.clone());
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            loop {
                let (_, body) = get(&address, "/metrics");
                if ready(&body) {
                    return body;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "not ready in 60 s:\n{body}\n--- stderr\n{}",
                    stderr.lock().unwrap()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .await
        .unwrap()
    }
}

/// GETs `path` from `address`: the status line and the body.
fn get(address: &str, path: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the series `name{labels}` (labels as written, in order), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn stand_in(seed: u64) -> RunningStandIn {
    StandIn::builder()
        .seed(seed)
        .job_times(Duration::from_millis(10), Duration::from_millis(30))
        .no_rate_limit()
        .start()
        .await
        .expect("the stand-in starts")
}

/// A profiles file (mode 600) with one organization on `api`, a license allowance and a
/// store in `dir`.
fn profiles(dir: &TempDir, api: &RunningStandIn) -> String {
    use std::os::unix::fs::PermissionsExt;
    let client = api.demo_client();
    let path = dir.file("profiles.toml");
    std::fs::write(
        &path,
        format!(
            "[profile.acme]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
             license = \"cx1\"\nusers = 1\nstore = \"{}\"\n",
            api.base_url(),
            client.id,
            client.secret,
            dir.file("acme.sqlite3")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn scalar(store: &str, sql: &str) -> i64 {
    Connection::open(store)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

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
    let today = Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let first = yesterday.with_day(1).unwrap();
    let end = if yesterday.month() == today.month() {
        today
    } else {
        today.with_day(1).unwrap()
    };
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
