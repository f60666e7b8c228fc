//! `cargo bench -p usage-report --bench serve`: the exporter's targets (issue 22), on the
//! built binary and stand-ins on loopback.
//!
//! 1. `/metrics` with 10,000 series (1,000 OAuth clients x 5 status classes, yesterday and
//!    month to date): p99 of 500 scrapes <= 20 ms; baseline: `/healthz` on the same server
//!    (the HTTP round trip alone), interleaved.
//! 2. The server's peak RSS (VmHWM) after those scrapes < 64 MB.
//! 3. Twenty organizations synced concurrently (`sync --all-profiles`), each against its own
//!    stand-in limited to 50 requests per second: every one completes and none is refused
//!    for its rate (0 429s: each within its own limit). The wall time against one
//!    organization alone (the baseline, same run, interleaved) is printed; 20 in series
//!    would be 20x.
//!
//! Prints one table and exits 1 when a target is missed. The machine's load goes with the
//! figures (`uptime`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use usage_sdk_stand_in::{RunningStandIn, StandIn};

const BIN: &str = env!("CARGO_BIN_EXE_usage-report");

fn temp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("usage-report-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.env("XDG_DATA_HOME", dir.join("data"));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn table(name: &str, api: &RunningStandIn, store: &Path) -> String {
    let client = api.demo_client();
    format!(
        "[profile.{name}]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nstore = \"{}\"\n\n",
        api.base_url(),
        client.id,
        client.secret,
        store.display()
    )
}

fn write_profiles(dir: &Path, text: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("profiles.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.display().to_string()
}

fn get(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Row {
    benchmark: String,
    figure: String,
    baseline: String,
    ratio: String,
    target: String,
    met: bool,
}

async fn scrape_benchmark(rows: &mut Vec<Row>) {
    let dir = temp("scrape");
    let api = StandIn::builder()
        .seed(5)
        .job_times(Duration::from_millis(5), Duration::from_millis(10))
        .no_rate_limit()
        .start()
        .await
        .unwrap();
    let store = dir.join("acme.sqlite3");
    let profiles = write_profiles(&dir, &table("acme", &api, &store));
    // The store as a sync makes it, then 1,000 clients of synthetic rows for yesterday.
    let status = command(
        &dir,
        &["sync", "--profiles", &profiles, "--profile", "acme"],
    )
    .status()
    .unwrap();
    assert!(status.success());
    {
        let conn = rusqlite::Connection::open(&store).unwrap();
        let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();
        let sync_id: i64 = conn
            .query_row("SELECT MAX(id) FROM sync", [], |r| r.get(0))
            .unwrap();
        conn.execute("DELETE FROM usage", []).unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for client in 0..1000 {
            tx.execute(
                "INSERT INTO usage VALUES (?1, ?2, ?3, '', 'api/v2/users', 'GET', 'x', 1000, 900, 10, 60, 20, 10, ?4)",
                rusqlite::params![yesterday, format!("client-{client:04}"), format!("Client \"{client}\""), sync_id],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let address = format!("127.0.0.1:{}", free_port());
    let mut server = command(
        &dir,
        &[
            "serve",
            "--profiles",
            &profiles,
            "--profile",
            "acme",
            "--listen",
            &address,
            "--refresh",
            "7d",
        ],
    )
    .spawn()
    .unwrap();
    // Ready when the figures are in.
    let started = Instant::now();
    let series = loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(&address) {
            let _ = write!(stream, "GET /metrics HTTP/1.0\r\n\r\n");
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            let n = text
                .lines()
                .filter(|l| l.starts_with("usage_report_requests_"))
                .count();
            if n >= 10_000 {
                break n;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "serve not ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let (mut scrapes, mut health) = (Vec::new(), Vec::new());
    for _ in 0..500 {
        let at = Instant::now();
        let body = get(&address, "/metrics");
        scrapes.push(at.elapsed().as_secs_f64() * 1000.0);
        assert!(body.len() > 1_000_000 / 2, "a full scrape");
        let at = Instant::now();
        get(&address, "/healthz");
        health.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    scrapes.sort_by(f64::total_cmp);
    health.sort_by(f64::total_cmp);
    let p99 = percentile(&scrapes, 0.99);
    rows.push(Row {
        benchmark: format!("/metrics, {series} usage series, 500 scrapes"),
        figure: format!("p99 {p99:.2} ms (median {:.2})", percentile(&scrapes, 0.5)),
        baseline: format!(
            "/healthz p99 {:.2} ms (median {:.2})",
            percentile(&health, 0.99),
            percentile(&health, 0.5)
        ),
        ratio: format!("{:.1}x", p99 / percentile(&health, 0.99).max(0.001)),
        target: "p99 <= 20 ms".into(),
        met: p99 <= 20.0,
    });
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.id())).unwrap();
    let hwm_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    rows.push(Row {
        benchmark: "serve peak RSS (VmHWM) after the scrapes".into(),
        figure: format!("{:.1} MB", hwm_kb / 1024.0),
        baseline: "-".into(),
        ratio: "-".into(),
        target: "< 64 MB".into(),
        met: hwm_kb / 1024.0 < 64.0,
    });
    let _ = std::fs::remove_dir_all(&dir);
}

async fn limited_stand_in(seed: u64) -> RunningStandIn {
    StandIn::builder()
        .seed(seed)
        .job_times(Duration::from_millis(50), Duration::from_millis(200))
        .rate_limit(50, Duration::from_secs(1))
        .start()
        .await
        .unwrap()
}

/// Syncs `apis` with `--all-profiles` into fresh stores: the wall time and whether it
/// succeeded.
async fn sync_all(name: &str, apis: &[RunningStandIn]) -> (Duration, bool) {
    let dir = temp(name);
    let text: String = apis
        .iter()
        .enumerate()
        .map(|(i, api)| {
            table(
                &format!("org{i:02}"),
                api,
                &dir.join(format!("org{i:02}.sqlite3")),
            )
        })
        .collect();
    let profiles = write_profiles(&dir, &text);
    let mut command = command(&dir, &["sync", "--all-profiles", "--profiles", &profiles]);
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || command.status().unwrap())
        .await
        .unwrap();
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    (took, status.success())
}

async fn fleet_benchmark(rows: &mut Vec<Row>) {
    let mut twenty = Vec::new();
    for i in 0..20 {
        twenty.push(limited_stand_in(100 + i).await);
    }
    let one = [limited_stand_in(99).await];
    // Interleaved: one, twenty, one, twenty, one; medians.
    let (mut alone, mut together) = (Vec::new(), Vec::new());
    let mut all_ok = true;
    for round in 0..5 {
        if round % 2 == 0 {
            let (took, ok) = sync_all(&format!("one-{round}"), &one).await;
            alone.push(took.as_secs_f64());
            all_ok &= ok;
        } else {
            let (took, ok) = sync_all(&format!("twenty-{round}"), &twenty).await;
            together.push(took.as_secs_f64());
            all_ok &= ok;
        }
    }
    alone.sort_by(f64::total_cmp);
    together.sort_by(f64::total_cmp);
    let (a, t) = (alone[alone.len() / 2], together[together.len() / 2]);
    let limited: Vec<u64> = twenty.iter().map(|api| api.stats().rate_limited).collect();
    rows.push(Row {
        benchmark: "sync --all-profiles, 20 organizations, each 50 req/s".into(),
        figure: format!(
            "{t:.2} s (2 rounds), all completed: {all_ok}; 429s per stand-in {}..{}",
            limited.iter().min().unwrap(),
            limited.iter().max().unwrap()
        ),
        baseline: format!("one organization {a:.2} s (3 rounds)"),
        ratio: format!("{:.2}x", t / a),
        target: "all complete, 0 429s".into(),
        met: all_ok && limited.iter().all(|n| *n == 0),
    });
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let load = Command::new("uptime")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut rows = Vec::new();
    runtime.block_on(scrape_benchmark(&mut rows));
    runtime.block_on(fleet_benchmark(&mut rows));
    let after = Command::new("uptime")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("load before: {load}\nload after:  {after}\n");
    println!(
        "| benchmark | figure | baseline | ratio | target | met? |\n|---|---|---|---|---|---|"
    );
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.benchmark,
            r.figure,
            r.baseline,
            r.ratio,
            r.target,
            if r.met { "yes" } else { "**no**" }
        );
    }
    if rows.iter().any(|r| !r.met) {
        std::process::exit(1);
    }
}
