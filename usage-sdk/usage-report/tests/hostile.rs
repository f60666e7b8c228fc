//! The program against hostile servers and environments: every run ends within `--timeout`
//! plus a second, with exit 1, whatever the server does with its pages (cursors that cycle, a
//! result that never ends, a page that never comes); server strings never reach the terminal
//! raw; a proxy in the environment never sees a loopback API's token.
//!
//! The server is a few lines of HTTP/1.1 on loopback, so a test can answer anything.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const BIN: &str = env!("CARGO_BIN_EXE_usage-report");
const JOB: &str = "0d7c5a41-93b6-4f4a-8a51-7d2f6b1c9e11";
const JOB_PATH: &str = "/api/v2/usage/aggregates/query/jobs/0d7c5a41-93b6-4f4a-8a51-7d2f6b1c9e11";

/// What the server does with one request.
enum Answer {
    Json(u16, Value),
    /// Never answers (the connection stays open).
    Stall,
}

/// Serves `answer(method, path and query)` on 127.0.0.1 until the test ends; counts requests.
async fn serve(
    answer: impl Fn(&str, &str) -> Answer + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (answer, counted) = (answer.clone(), counted.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&head).into_owned();
                let mut words = head.split_whitespace();
                let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                match answer(method, target) {
                    Answer::Json(status, body) => {
                        let body = body.to_string();
                        let response = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(response.as_bytes()).await;
                    }
                    Answer::Stall => {
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    }
                }
            });
        }
    });
    (base, requests)
}

fn row(n: usize) -> Value {
    json!({"date": "2026-11-30", "oauthClient": {"id": format!("c{n}"), "name": "bot"},
           "requestCount": 1, "status200": 1})
}

/// A succeeded job's page: one row and, when given, the cursor of the next page.
fn page(rows: usize, after: Option<&str>) -> Answer {
    let mut body = json!({
        "queryStatus": "Succeeded",
        "entities": (0..rows).map(row).collect::<Vec<_>>(),
    });
    if let Some(after) = after {
        body["nextUri"] = json!(format!("{JOB_PATH}?pageSize=1000&after={after}"));
    }
    Answer::Json(200, body)
}

fn cursor(target: &str) -> Option<String> {
    target
        .split_once("after=")
        .map(|(_, rest)| rest.split('&').next().unwrap_or("").to_string())
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// `usage-report --resume JOB ARGS` against `base`, with a token (no token request), in a
/// clean environment; killed after 60 s so a run that never ends fails the test.
async fn resume(base: &str, args: &[&str]) -> Run {
    resume_with(base, args, &[]).await
}

async fn resume_with(base: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let child = std::process::Command::new(BIN)
        .args(["--resume", JOB])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GENESYSCLOUD_API_REGION", base)
        .env("GENESYSCLOUD_ACCESS_TOKEN", "test-token-5b1e")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    let pid = child.id();
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await
    .unwrap_or_else(|_| {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
        panic!("the program (pid {pid}) did not end within 60 s")
    })
    .unwrap()
    .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// Exit 1 within the timeout plus a second (plus the program's start on a loaded machine).
fn assert_ended_by_deadline(run: &Run, timeout: Duration) {
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.took < timeout + Duration::from_secs(1) + Duration::from_millis(1500),
        "took {:?} with --timeout {timeout:?}; stderr: {}",
        run.took,
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cursors_that_cycle_end_the_report_with_exit_1_in_every_format() {
    // p0 → c1 → c0 → c1 → …: the server of issue 18, which kept the report reading forever.
    let (base, requests) = serve(|_, target| match cursor(target).as_deref() {
        None => page(1, Some("c1")),
        Some("c1") => page(1, Some("c0")),
        Some(_) => page(1, Some("c1")),
    })
    .await;
    for format in ["table", "csv", "json"] {
        let before = requests.load(Ordering::SeqCst);
        let run = resume(&base, &["--format", format, "--timeout", "5"]).await;
        assert_eq!(run.code, Some(1), "{format}: {}", run.stderr);
        assert!(
            run.stderr.contains("cycle") && run.stderr.contains("\"c1\""),
            "{format}: {}",
            run.stderr
        );
        // Three pages, each read once; no fourth request.
        assert_eq!(requests.load(Ordering::SeqCst) - before, 3, "{format}");
        if format == "csv" {
            // The rows read before the cycle showed were written as they came.
            assert_eq!(run.stdout.lines().count(), 1 + 3, "{}", run.stdout);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_result_ends_at_the_timeout_with_exit_1_and_the_resume_command() {
    // Every page points at a new cursor: no cycle, no end.
    let (base, requests) = serve(|_, target| {
        let n: u64 = cursor(target).map_or(0, |c| c.parse().unwrap_or(0));
        page(1, Some(&(n + 1).to_string()))
    })
    .await;
    let timeout = Duration::from_secs(3);
    let run = resume(&base, &["--format", "csv", "--timeout", "3"]).await;
    assert_ended_by_deadline(&run, timeout);
    assert!(
        run.stderr
            .contains("--timeout of 3 s passed while reading the rows of job")
            && run.stderr.contains(&format!("--resume {JOB}")),
        "{}",
        run.stderr
    );
    // It really was reading all along: many pages, every row written.
    let pages = requests.load(Ordering::SeqCst);
    assert!(pages > 10, "{pages} pages");
    assert!(run.stdout.lines().count() > 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_page_ends_at_the_timeout_with_exit_1() {
    let (base, _) = serve(|_, target| match cursor(target) {
        None => page(2, Some("next")),
        Some(_) => Answer::Stall,
    })
    .await;
    for format in ["csv", "table"] {
        let run = resume(&base, &["--format", format, "--timeout", "2"]).await;
        assert_ended_by_deadline(&run, Duration::from_secs(2));
        assert!(
            run.stderr
                .contains("--timeout of 2 s passed while reading the rows")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_reads_at_most_max_rows_and_says_how_to_get_the_rest() {
    let (base, _) = serve(|_, target| {
        let n: u64 = cursor(target).map_or(0, |c| c.parse().unwrap_or(0));
        page(10, (n < 9).then(|| (n + 1).to_string()).as_deref())
    })
    .await;
    // 100 rows exist: 100 is enough, 99 is not.
    let run = resume(&base, &["--max-rows", "100"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = resume(&base, &["--max-rows", "99"]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("more than 99 row(s)"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no partial table: {}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_strings_reach_stderr_escaped() {
    // An error message and code with terminal escapes and a right-to-left override.
    let (base, _) = serve(|_, _| {
        Answer::Json(
            400,
            json!({"status": 400, "code": "bad.\u{1b}[31mcode",
                   "message": "evil\u{1b}]0;owned\u{7}\u{202e}txt.exe"}),
        )
    })
    .await;
    let run = resume(&base, &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        !run.stderr.contains('\u{1b}')
            && !run.stderr.contains('\u{7}')
            && !run.stderr.contains('\u{202e}'),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains("bad.\\u{1b}[31mcode") && run.stderr.contains("\\u{202e}txt.exe"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_in_the_environment_never_carries_a_loopback_apis_token() {
    let (base, requests) = serve(|_, _| page(2, None)).await;
    // A "proxy" that counts connections and answers none.
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let proxied = Arc::new(AtomicUsize::new(0));
    let counted = proxied.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = proxy.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
    ];
    let run = resume_with(&base, &["--format", "csv"], &env).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1 + 2, "{}", run.stdout);
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        0,
        "the proxy saw a connection"
    );
}
