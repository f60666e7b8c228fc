//! What the exporter's tests share: the built binary as `usage-report serve` on a loopback
//! port, scraped over HTTP, with stand-ins as the organizations. Not every test file uses
//! every helper.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use rusqlite::Connection;
use usage_sdk_stand_in::{RunningStandIn, StandIn};

pub use crate::program::TempDir;
use crate::program::command;

/// The exporter, killed when dropped; its stderr collected on a thread.
pub struct Server {
    pub child: Child,
    pub address: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `serve` with `args` on a free loopback port and waits for its address.
    pub fn start(args: &[&str], env: &[(&str, String)], dir: &TempDir) -> Self {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut child = command(&all, env, dir)
            .stdout(Stdio::null())
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

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// GETs `path`: the status line and the body.
    pub fn get(&self, path: &str) -> (String, String) {
        get(&self.address, path)
    }

    /// Scrapes until `ready` holds, at most 60 s (off the async threads: the stand-in
    /// serves on them).
    pub async fn scrape_until(&self, ready: impl Fn(&str) -> bool + Send + 'static) -> String {
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
pub fn get(address: &str, path: &str) -> (String, String) {
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
pub fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

pub async fn stand_in(seed: u64) -> RunningStandIn {
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
pub fn profiles(dir: &TempDir, api: &RunningStandIn) -> String {
    let client = api.demo_client();
    dir.profiles(&format!(
        "[profile.acme]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
         license = \"cx1\"\nusers = 1\nstore = \"{}\"\n",
        api.base_url(),
        client.id,
        client.secret,
        dir.file("acme.sqlite3")
    ))
}

pub fn scalar(store: &str, sql: &str) -> i64 {
    Connection::open(store)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// The month to date the exporter reports, `[first, end)`: the month of yesterday (UTC).
pub fn month_to_date() -> (NaiveDate, NaiveDate) {
    let today = Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let first = yesterday.with_day(1).unwrap();
    let end = if yesterday.month() == today.month() {
        today
    } else {
        today.with_day(1).unwrap()
    };
    (first, end)
}

/// The path of `program` on PATH. Missing: the test SKIPS with a message, except under CI
/// (`CI` set, as .ci/run runs), where .ci/run installs it and its absence fails the test.
pub fn tool(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is not installed, and CI must run this test: .ci/run installs Debian's \
             prometheus package (apt-get install prometheus)"
        );
        eprintln!(
            "SKIPPED: {program} is not installed (Debian: apt-get install prometheus); CI runs \
             this test"
        );
    }
    found
}
