//! The `usage-report` program as a user runs it: the built binary, a clean environment, and
//! a Usage API stand-in started in this test process when the test needs a "real" API.
//!
//! Every run clears the environment except `PATH` and `HOME`, so a developer's own
//! `GENESYSCLOUD_*` or `RUST_LOG` cannot change what a test sees.

use std::process::Stdio;
use std::time::Duration;

use usage_sdk_stand_in::{Route, RunningStandIn, StandIn};
use usage_sdk_tls_proxy::{Alpn, Handshake, TestCa, TlsProxy};

const BIN: &str = env!("CARGO_BIN_EXE_usage-report");

/// The first line of a demo table, and the stderr notice of demo CSV and JSON.
const DEMO: &str = "DEMO DATA from the local stand-in, not your organization";

/// What a run of the program left.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

fn command(args: &[&str], env: &[(&str, String)]) -> std::process::Command {
    let mut command = std::process::Command::new(BIN);
    command.args(args).env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(env.iter().map(|(name, value)| (*name, value)));
    command
}

/// Waits for `child` off the async threads (the stand-in keeps serving), at most 60 s.
async fn finish(child: std::process::Child) -> Run {
    let pid = child.id();
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await
    .unwrap_or_else(|_| panic!("the program (pid {pid}) finishes within 60 s"))
    .expect("the waiting thread")
    .expect("the program's output");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the program to its end.
async fn run(args: &[&str], env: &[(&str, String)]) -> Run {
    let child = command(args, env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    finish(child).await
}

/// The environment that points the program at `stand_in` with its demo client's
/// credentials: a complete configuration, so no demo mode.
fn configured_for(stand_in: &RunningStandIn) -> Vec<(&'static str, String)> {
    let client = stand_in.demo_client();
    vec![
        ("GENESYSCLOUD_API_REGION", stand_in.base_url()),
        ("GENESYSCLOUD_OAUTHCLIENT_ID", client.id.clone()),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", client.secret.clone()),
    ]
}

/// A stand-in whose executions take `execution_time`, and whose jobs are queued for a
/// quarter of it and run for all of it.
async fn stand_in(seed: u64, execution_time: Duration) -> RunningStandIn {
    StandIn::builder()
        .seed(seed)
        .execution_time(execution_time)
        .job_times(execution_time / 4, execution_time)
        .start()
        .await
        .expect("the stand-in starts")
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_configurations_exit_2_naming_what_is_missing_with_nothing_on_stdout() {
    let set = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(n, v)| (*n, v.to_string())).collect()
    };
    let cases = [
        (
            set(&[("GENESYSCLOUD_REGION", "eu-west-1")]),
            "GENESYSCLOUD_OAUTHCLIENT_ID",
        ),
        (
            set(&[("GENESYSCLOUD_OAUTHCLIENT_ID", "an-id")]),
            "GENESYSCLOUD_REGION",
        ),
        (
            set(&[("GENESYSCLOUD_API_REGION", "https://api.mypurecloud.ie")]),
            "GENESYSCLOUD_ACCESS_TOKEN",
        ),
        (
            set(&[
                ("GENESYSCLOUD_REGION", "eu-west-1"),
                ("GENESYSCLOUD_OAUTHCLIENT_ID", "an-id"),
            ]),
            "GENESYSCLOUD_OAUTHCLIENT_SECRET",
        ),
        (
            set(&[("GENESYSCLOUD_ACCESS_TOKEN", "a-token")]),
            "GENESYSCLOUD_REGION",
        ),
        // A secret without its id: the message names the id and never echoes the secret.
        (
            set(&[
                ("GENESYSCLOUD_REGION", "eu-west-1"),
                ("GENESYSCLOUD_OAUTHCLIENT_SECRET", "hunter2-not-for-logs"),
            ]),
            "GENESYSCLOUD_OAUTHCLIENT_ID",
        ),
        // Present but empty still counts: missing CI secrets must not turn into demo data.
        (
            set(&[
                ("GENESYSCLOUD_REGION", ""),
                ("GENESYSCLOUD_OAUTHCLIENT_ID", ""),
                ("GENESYSCLOUD_OAUTHCLIENT_SECRET", ""),
            ]),
            "GENESYSCLOUD_REGION",
        ),
    ];
    for (env, missing) in cases {
        let run = run(&["--format", "csv"], &env).await;
        run.assert_code(2);
        assert_eq!(run.stdout, "", "{env:?}");
        assert!(
            run.stderr.contains("missing") && run.stderr.contains(missing),
            "{env:?} should name {missing}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("stand-in at"), "{}", run.stderr);
        for (_, value) in env.iter().filter(|(name, _)| name.contains("SECRET")) {
            assert!(value.is_empty() || !run.stderr.contains(value.as_str()));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_configuration_reports_demo_rows_marked_as_demo_in_the_table() {
    let run = run(&["--days", "3"], &[]).await;
    run.assert_code(0);
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with(DEMO), "{}", run.stdout);
    assert!(
        run.stdout.trim_end().ends_with(')'),
        "footer: {}",
        run.stdout
    );
    assert_eq!(run.stdout.matches(DEMO).count(), 2, "header and footer");
    assert!(run.stdout.contains("TOTAL ("), "{}", run.stdout);
    assert!(run.stderr.contains("stand-in"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_configuration_in_csv_keeps_stdout_clean_and_says_demo_on_stderr() {
    let run = run(&["--format", "csv", "--days", "3"], &[]).await;
    run.assert_code(0);
    assert!(!run.stdout.contains("DEMO"), "{}", run.stdout);
    let mut lines = run.stdout.lines();
    assert!(
        lines.next().unwrap_or_default().starts_with("clientId,"),
        "{}",
        run.stdout
    );
    assert!(lines.count() > 0, "demo rows: {}", run.stdout);
    assert!(run.stderr.contains(DEMO), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_logs_have_a_status_line_per_attempt_and_never_the_secret_or_token() {
    let seed = 0x1065;
    let api = stand_in(seed, Duration::from_millis(300)).await;
    let mut env = configured_for(&api);
    env.push(("RUST_LOG", "trace".to_string()));
    let run = run(&["--format", "json"], &env).await;
    run.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON rows");
    assert!(!rows.as_array().unwrap().is_empty());
    assert!(!run.stderr.contains(DEMO), "a configured run is not demo");

    // One closing line per attempt (token, submit, each poll), with its status.
    let attempt_lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("usage_sdk.attempt") && l.contains("close"))
        .collect();
    let stats = api.stats();
    assert_eq!(
        attempt_lines.len() as u64,
        stats.total_requests(),
        "{}",
        run.stderr
    );
    for line in &attempt_lines {
        assert!(
            line.contains("status=2") && line.contains("attempt=") && line.contains("operation="),
            "{line}"
        );
    }
    assert!(
        attempt_lines.iter().any(|l| l.contains("correlation_id=")),
        "{}",
        run.stderr
    );

    // The token the program got: a stand-in with the same seed issues the same first token.
    // Proven by using it against the program's stand-in, which issued only that one.
    assert_eq!(stats.tokens_issued, 1);
    let twin = stand_in(seed, Duration::from_millis(300)).await;
    let demo = twin.demo_client();
    // reqwest has no crypto provider of its own here (as in the library): ring, installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/oauth/token", twin.base_url()))
        .basic_auth(&demo.id, Some(&demo.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"].as_str().expect("access_token");
    let accepted = http
        .get(format!(
            "{}/api/v2/oauth/clients/{}/usage/summary?days=1",
            api.base_url(),
            demo.id
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("summary request")
        .status();
    assert_eq!(accepted.as_u16(), 202, "the twin's token is the program's");

    let secret = &api.demo_client().secret;
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains(token), "token in {name}");
        assert!(!text.contains(secret.as_str()), "secret in {name}");
        assert!(!text.contains("Bearer "), "Authorization in {name}");
        assert!(!text.contains("Basic "), "Authorization in {name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_log_format_writes_one_json_object_per_line() {
    let api = stand_in(7, Duration::from_millis(100)).await;
    let run = run(
        &["-v", "--log-format", "json", "--format", "csv"],
        &configured_for(&api),
    )
    .await;
    run.assert_code(0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value.get("level").is_some(), "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("usage_sdk.attempt") && l.contains("\"status\"")),
        "{}",
        run.stderr
    );
}

/// The resume command printed on stderr, as arguments (after the program name).
fn resume_args(stderr: &str) -> Vec<String> {
    let (_, command) = stderr
        .split_once("): usage-report ")
        .unwrap_or_else(|| panic!("no resume command in {stderr}"));
    let line = command.lines().next().unwrap_or_default();
    line.split_whitespace().map(String::from).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passed_deadline_prints_a_resume_command_that_completes_the_same_execution() {
    resumes_after_a_deadline(&["--api", "legacy"], "did not complete").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passed_deadline_prints_a_resume_command_that_completes_the_same_job() {
    resumes_after_a_deadline(&[], "did not succeed").await;
}

async fn resumes_after_a_deadline(api_args: &[&str], deadline_message: &str) {
    let api = stand_in(11, Duration::from_secs(3)).await;
    let env = configured_for(&api);
    let client = api.demo_client().id.clone();
    let mut args = api_args.to_vec();
    args.extend(["--client", &client, "--timeout", "1", "--format", "csv"]);
    let timed_out = run(&args, &env).await;
    timed_out.assert_code(1);
    assert_eq!(timed_out.stdout, "");
    assert!(
        timed_out.stderr.contains(deadline_message),
        "{}",
        timed_out.stderr
    );
    let args = resume_args(&timed_out.stderr);
    assert!(
        args.windows(2).any(|w| w == ["--client", client.as_str()]),
        "a client execution resumes with its client: {args:?}"
    );
    assert!(
        args.windows(2).any(|w| w == ["--format", "csv"]),
        "{args:?}"
    );

    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let resumed = run(&args, &env).await;
    resumed.assert_code(0);
    assert!(
        ["clientId,", "requests,", "date,"]
            .iter()
            .any(|h| resumed.stdout.starts_with(h)),
        "{}",
        resumed.stdout
    );
    assert!(resumed.stdout.lines().count() > 1, "{}", resumed.stdout);
    let stats = api.stats();
    assert_eq!(
        stats.executions_started + stats.jobs_started,
        1,
        "resuming waits for the same execution or job instead of submitting another"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_exits_130_with_the_job_id_and_resume_command() {
    let api = stand_in(13, Duration::from_secs(30)).await;
    let child = command(&[], &configured_for(&api))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    // Waiting once the stand-in has seen the first poll of the job (about a second after the
    // submit), rather than after a fixed pause a loaded machine could outrun; then interrupt.
    let polled = || api.stats().requests_to(Route::GetAggregatesQueryJob) >= 1;
    for _ in 0..400 {
        if polled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(polled(), "the program polls the job within 20 s");
    assert_eq!(api.stats().jobs_started, 1);
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let run = finish(child).await;
    run.assert_code(130);
    let stderr = &run.stderr;
    assert_eq!(run.stdout, "");
    assert!(
        stderr.contains("interrupted while waiting for job"),
        "{stderr}"
    );
    let args = resume_args(stderr);
    assert_eq!(args[0], "--resume", "{args:?}");
    assert!(!args[1].is_empty(), "{args:?}");
    assert!(
        stderr.contains(&format!("job {}", args[1])),
        "the job id is named"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicting_options_exit_2_instead_of_picking_one() {
    let interval = "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z";
    let cases: [&[&str]; 7] = [
        &["--client", "c1", "--summary", "--metrics", "Requests"],
        &["--client", "c1", "--summary", "--interval", interval],
        &["--client", "c1", "--summary", "--granularity", "Day"],
        &["--client", "c1", "--summary", "--group-by", "HttpMethod"],
        &["--days", "3", "--interval", interval],
        &["--resume", "e1", "--days", "3"],
        &["--summary"],
    ];
    for args in cases {
        let run = run(args, &[]).await;
        run.assert_code(2);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            run.stderr.contains("cannot be used with") || run.stderr.contains("required"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_that_cannot_be_honoured_is_refused_without_a_panic() {
    let run = run(&["--timeout", "18446744073709551615"], &[]).await;
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("--timeout") && run.stderr.contains("out of range"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_without_a_configuration_is_refused() {
    let run = run(&["--resume", "9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1"], &[]).await;
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("--resume needs"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn job_only_options_are_refused_on_the_legacy_api_and_summary_on_the_jobs() {
    let run_legacy = run(&["--api", "legacy", "--sort-by", "requestCount:desc"], &[]).await;
    run_legacy.assert_code(2);
    assert!(
        run_legacy.stderr.contains("--sort-by"),
        "{}",
        run_legacy.stderr
    );
    let summary = run(&["--client", "c1", "--summary"], &[]).await;
    summary.assert_code(2);
    assert!(
        summary.stderr.contains("--api legacy"),
        "{}",
        summary.stderr
    );
    assert_eq!(summary.stdout, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_jobs_report_streams_csv_including_the_built_in_client_the_legacy_report_hides() {
    let api = stand_in(17, Duration::from_millis(100)).await;
    let env = configured_for(&api);
    let jobs = run(&["--format", "csv", "--days", "3"], &env).await;
    jobs.assert_code(0);
    assert!(
        jobs.stdout.starts_with("clientId,clientName,"),
        "{}",
        jobs.stdout
    );
    let legacy = run(&["--api", "legacy", "--format", "csv", "--days", "3"], &env).await;
    legacy.assert_code(0);
    let builtin = usage_sdk_stand_in::BUILTIN_CLIENT_ID;
    assert!(jobs.stdout.contains(builtin), "{}", jobs.stdout);
    assert!(!legacy.stdout.contains(builtin), "{}", legacy.stdout);
    let json = run(
        &["--format", "json", "--days", "3", "--page-size", "2"],
        &env,
    )
    .await;
    json.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON array");
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.len(),
        jobs.stdout.lines().count() - 1,
        "same rows, paged by 2"
    );
    assert!(
        rows.iter().all(|r| r["oauthClient"]["id"].is_string()),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_from_the_jobs_names_the_missing_permission_and_the_legacy_way() {
    // A server that refuses every request as a token without the jobs' permission would.
    let base = loopback_api(|_, _| {
        (
            403,
            r#"{"message":"Missing permission","code":"missing.any.permissions","status":403}"#
                .to_string(),
        )
    });
    let env = vec![
        ("GENESYSCLOUD_API_REGION", base),
        (
            "GENESYSCLOUD_ACCESS_TOKEN",
            "a-token-without-usage-view".to_string(),
        ),
    ];
    let run = run(&[], &env).await;
    run.assert_code(1);
    assert!(
        run.stderr.contains("usage:organization:view"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--api legacy"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("a-token-without-usage-view"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_overrides_a_complete_configuration_and_never_calls_it() {
    // A complete configuration pointing at a stand-in that must see no request.
    let configured = stand_in(19, Duration::from_millis(100)).await;
    let env = configured_for(&configured);

    let table = run(&["--demo", "--days", "3"], &env).await;
    table.assert_code(0);
    assert!(table.stdout.starts_with(DEMO), "{}", table.stdout);
    assert_eq!(table.stdout.matches(DEMO).count(), 2, "header and footer");
    assert!(table.stderr.contains("--demo"), "{}", table.stderr);

    let csv = run(&["--demo", "--format", "csv", "--days", "3"], &env).await;
    csv.assert_code(0);
    assert!(csv.stdout.starts_with("clientId,"), "{}", csv.stdout);
    assert!(!csv.stdout.contains("DEMO"), "{}", csv.stdout);
    assert!(csv.stderr.contains(DEMO), "{}", csv.stderr);

    assert_eq!(
        configured.stats().total_requests(),
        0,
        "--demo must not reach the configured API"
    );

    // Even a partial configuration, an error without --demo, gives way to --demo.
    let partial = vec![("GENESYSCLOUD_REGION", "eu-west-1".to_string())];
    run(&["--days", "3"], &partial).await.assert_code(2);
    let demo = run(&["--demo", "--days", "3"], &partial).await;
    demo.assert_code(0);
    assert!(demo.stdout.starts_with(DEMO), "{}", demo.stdout);
}

/// A loopback Usage API on a thread: one request per connection, answered by `answer` from
/// the method and the request target (`(status, JSON body)`).
fn loopback_api(answer: impl Fn(&str, &str) -> (u16, String) + Send + 'static) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                continue;
            }
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut parts = request_line.split_whitespace();
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (status, json) = answer(method, target);
            let _ = write!(
                &stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                json.len()
            );
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_and_json_rows_reach_stdout_before_the_next_page_is_fetched() {
    // Page 1 holds 1000 rows (about 50 KB of output, past any output buffer); page 2 is held back until this
    // test has read page 1's first row on the program's stdout. A program that collected
    // every row before writing would show nothing, and page 2 would go out only at the
    // 30 s fallback, which the test reports as a failure.
    const JOBS: &str = "/api/v2/usage/aggregates/query/jobs";
    let row = |page: &str, i: usize| {
        serde_json::json!({
            "date": "2026-11-02", "oauthClient": {"id": format!("c-{i}"), "name": "Bot"},
            "httpMethod": "GET", "templateUri": format!("/api/v2/{page}/row-{i}"),
            "platform": "API", "requestCount": 10, "status200": 10
        })
    };
    let page_one: Vec<_> = (0..1000).map(|i| row("page-one", i)).collect();
    for format in ["csv", "json"] {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = std::sync::Mutex::new(held);
        let released_in_time = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let in_time = released_in_time.clone();
        let first_page = serde_json::json!({
            "queryStatus": "Succeeded", "entities": page_one,
            "nextUri": format!("{JOBS}/job-1?pageSize=1000&after=page-two"),
        })
        .to_string();
        let base = loopback_api(move |method, target| match method {
            "POST" => (
                202,
                format!(r#"{{"id":"job-1","resultsUri":"{JOBS}/job-1"}}"#),
            ),
            _ if target.contains("after=page-two") => {
                let signal = held.lock().unwrap().recv_timeout(Duration::from_secs(30));
                in_time.store(signal.is_ok(), std::sync::atomic::Ordering::SeqCst);
                let last = serde_json::json!({"queryStatus": "Succeeded", "entities": [row("page-two", 0)]});
                (200, last.to_string())
            }
            _ => (200, first_page.clone()),
        });
        let env = vec![
            ("GENESYSCLOUD_API_REGION", base),
            ("GENESYSCLOUD_ACCESS_TOKEN", "a-token".to_string()),
        ];
        let args = [
            "--format",
            format,
            "--days",
            "3",
            "--group-by",
            "OauthClientId,TemplateUri",
        ];
        let mut child = command(&args, &env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the program starts");
        let stdout = child.stdout.take().unwrap();
        // Reads stdout as it comes; releases page 2 on seeing page 1's first row.
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut seen = String::new();
            let mut release = Some(release);
            for line in std::io::BufReader::new(stdout).lines() {
                let line = line.unwrap();
                if line.contains("/api/v2/page-one/row-0") {
                    release.take().map(|r| r.send(()));
                }
                seen.push_str(&line);
                seen.push('\n');
            }
            seen
        });
        let run = finish(child).await;
        let stdout = reader.join().unwrap();
        run.assert_code(0);
        assert!(
            released_in_time.load(std::sync::atomic::Ordering::SeqCst),
            "{format}: page 1's rows were not on stdout while page 2 was held back"
        );
        assert!(
            stdout.contains("/api/v2/page-two/row-0"),
            "{format}: {stdout}"
        );
        let rows = stdout.matches("/api/v2/page-").count();
        assert_eq!(rows, 1001, "{format}: every row once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_error_exits_1_naming_its_code_and_correlation_id() {
    let api = stand_in(23, Duration::from_millis(100)).await;
    // The submit answers 500, which is not retried.
    api.inject(usage_sdk_stand_in::Fault::InternalError, 1);
    let run = run(&["--format", "csv"], &configured_for(&api)).await;
    run.assert_code(1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("internal.server.error"),
        "{}",
        run.stderr
    );
    let (_, after) = run
        .stderr
        .split_once("correlation id ")
        .unwrap_or_else(|| panic!("no correlation id in {}", run.stderr));
    let id: String = after
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    assert!(id.len() >= 8, "a correlation id: {}", run.stderr);
}

/// The closing lines of attempt spans on stderr.
fn attempt_lines(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains("usage_sdk.attempt"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_follow_v_and_vv_and_rust_log_wins_over_both() {
    let api = stand_in(29, Duration::from_millis(100)).await;
    let env = configured_for(&api);
    let quiet = run(&["--format", "csv"], &env).await;
    quiet.assert_code(0);
    assert_eq!(attempt_lines(&quiet.stderr), 0, "{}", quiet.stderr);

    for flag in ["-v", "-vv"] {
        let verbose = run(&[flag, "--format", "csv"], &env).await;
        verbose.assert_code(0);
        assert!(
            attempt_lines(&verbose.stderr) >= 3,
            "{flag}: token, submit and a poll: {}",
            verbose.stderr
        );
        assert!(
            verbose.stdout.starts_with("clientId,"),
            "{}",
            verbose.stdout
        );
    }
    // (-vv differs from -v only in trace-level events, which the SDK does not emit today.)

    // RUST_LOG wins: a warn-only filter silences -vv.
    let mut filtered = env.clone();
    filtered.push(("RUST_LOG", "warn".to_string()));
    let silenced = run(&["-vv", "--format", "csv"], &filtered).await;
    silenced.assert_code(0);
    assert_eq!(attempt_lines(&silenced.stderr), 0, "{}", silenced.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = run(&["--completions", shell], &[]).await;
        run.assert_code(0);
        assert!(
            run.stdout.contains("usage-report"),
            "{shell}: {}",
            run.stdout
        );
        assert!(run.stdout.contains("--group-by"), "{shell}: {}", run.stdout);
        assert!(
            !run.stderr.contains("stand-in"),
            "{shell}: no report is run"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allowance_forecast_goes_to_stderr_so_csv_stays_csv() {
    let run = run(&["--allowance", "1000000", "--format", "csv"], &[]).await;
    run.assert_code(0);
    let header = run.stdout.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("date,") && header.contains(",clientId,"),
        "per day and client: {}",
        run.stdout
    );
    assert!(run.stdout.lines().count() > 1, "{}", run.stdout);
    assert!(!run.stdout.contains("Allowance"), "{}", run.stdout);
    assert!(run.stderr.contains("Allowance forecast"), "{}", run.stderr);
}

/// A row as a newer Genesys might send it: a status class, an object and a nested attribute
/// this SDK's spec does not name.
fn job_row_with_new_fields() -> serde_json::Value {
    serde_json::json!({
        "date": "2026-11-01",
        "httpMethod": "GET",
        "templateUri": "/api/v2/users",
        "requestCount": 12,
        "status200": 11,
        "status418": 1,
        "brandNewField": {"unit": "tokens", "values": [1, 2.5, "three", null]},
        "oauthClient": {"id": "c-1", "name": "Reporting bot", "division": {"id": "d-1"}}
    })
}

fn legacy_row_with_new_fields() -> serde_json::Value {
    serde_json::json!({
        "clientId": "c-1",
        "clientName": "Reporting bot",
        "requests": 3,
        "status200": 2,
        "status418": 1,
        "brandNewField": {"unit": "tokens", "value": 7},
        "date": "2026-11-01T00:00:00Z"
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_keeps_fields_the_spec_does_not_name_exactly_as_the_api_sent_them() {
    let base =
        loopback_api(
            |method, target| match (method, target.split('?').next().unwrap_or("")) {
                ("POST", "/api/v2/usage/aggregates/query/jobs") => {
                    (202, r#"{"id":"job-1"}"#.into())
                }
                ("GET", "/api/v2/usage/aggregates/query/jobs/job-1") => {
                    let body = serde_json::json!({"queryStatus": "Succeeded",
                                          "entities": [job_row_with_new_fields()]});
                    (200, body.to_string())
                }
                ("POST", "/api/v2/usage/query") => (
                    202,
                    r#"{"executionId":"e-1","resultsUri":"/api/v2/usage/query/e-1/results"}"#
                        .into(),
                ),
                ("GET", "/api/v2/usage/query/e-1/results") => {
                    let body = serde_json::json!({"queryStatus": "Complete",
                                          "results": [legacy_row_with_new_fields()]});
                    (200, body.to_string())
                }
                _ => (
                    404,
                    r#"{"message":"no such route","code":"not.found","status":404}"#.into(),
                ),
            },
        );
    let env = vec![
        ("GENESYSCLOUD_API_REGION", base),
        ("GENESYSCLOUD_ACCESS_TOKEN", "a-token".to_string()),
    ];
    let cases = [
        (
            &["--format", "json", "--days", "3"][..],
            job_row_with_new_fields(),
        ),
        (
            &["--api", "legacy", "--format", "json", "--days", "3"][..],
            legacy_row_with_new_fields(),
        ),
    ];
    for (args, row) in cases {
        let run = run(args, &env).await;
        run.assert_code(0);
        let written: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON array");
        assert_eq!(written, serde_json::json!([row]), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_runs_over_tls_trusting_usage_sdk_ca_file_and_refuses_an_unknown_ca() {
    let api = stand_in(23, Duration::from_millis(100)).await;
    let ca = TestCa::new();
    let ca_file = std::env::temp_dir().join(format!("usage-report-{}-ca.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let args = ["--format", "csv", "--days", "3", "--page-size", "2"];
    let sorted = |csv: &str| {
        let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    // The same report over plain HTTP, as the reference.
    let plain = run(&args, &configured_for(&api)).await;
    plain.assert_code(0);
    let rows = plain.stdout.lines().count() - 1;
    assert!(rows > 4, "several pages of 2: {rows} rows");

    for alpn in [Alpn::PrefersHttp2, Alpn::Http11Only] {
        let proxy = TlsProxy::start(api.local_addr(), &ca.loopback_leaf(), alpn).await;
        let mut env = configured_for(&api);
        env.retain(|(name, _)| *name != "GENESYSCLOUD_API_REGION");
        env.push(("GENESYSCLOUD_API_REGION", proxy.base_url()));
        let trusting = [
            env.clone(),
            vec![("USAGE_SDK_CA_FILE", ca_file.to_str().unwrap().to_string())],
        ]
        .concat();

        let tls = run(&args, &trusting).await;
        tls.assert_code(0);
        assert!(!tls.stderr.contains("DEMO DATA"), "{}", tls.stderr);
        assert_eq!(
            sorted(&tls.stdout),
            sorted(&plain.stdout),
            "{alpn:?}: all rows"
        );
        let handshakes = proxy.handshakes();
        assert!(
            !handshakes.is_empty()
                && handshakes
                    .iter()
                    .all(|h| *h == Handshake::Completed(Some("http/1.1".into()))),
            "{alpn:?}: {handshakes:?}"
        );

        // Without the CA file the proxy's certificate is refused: once, saying why and how.
        let before = proxy.connections();
        let refused = run(&args, &env).await;
        refused.assert_code(1);
        assert_eq!(refused.stdout, "");
        assert!(
            refused.stderr.contains("unknown issuer")
                && refused.stderr.contains("USAGE_SDK_CA_FILE"),
            "{}",
            refused.stderr
        );
        assert_eq!(
            proxy.connections(),
            before + 1,
            "not retried: {}",
            refused.stderr
        );
    }
    let _ = std::fs::remove_file(&ca_file);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_counts_and_query_work_on_the_demo_data_marked_as_demo() {
    let chart = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-events.svg");
    let _ = std::fs::remove_file(&chart);
    let chart_arg = chart.to_str().unwrap();
    let counts = run(
        &["events", "counts", "--days", "7", "--chart", chart_arg],
        &[],
    )
    .await;
    counts.assert_code(0);
    assert!(counts.stdout.starts_with(DEMO), "{}", counts.stdout);
    assert!(counts.stdout.contains("TOTAL ("), "{}", counts.stdout);
    assert!(
        counts.stdout.contains("Demo: "),
        "names from the definitions: {}",
        counts.stdout
    );
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("Events per definition"),
        "{svg}"
    );
    assert!(svg.contains("DEMO DATA"), "the chart says demo too");

    let csv = run(&["events", "query", "--days", "7", "--format", "csv"], &[]).await;
    csv.assert_code(0);
    assert!(!csv.stdout.contains("DEMO DATA"), "stdout stays CSV");
    assert!(csv.stderr.contains(DEMO), "{}", csv.stderr);
    let mut lines = csv.stdout.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("dateCreated,eventDefinitionId,eventDefinitionName,"),
        "{}",
        csv.stdout
    );
    let events = lines.count();
    assert!(events > 0, "{}", csv.stdout);

    // The counts (JSON, as the API sent them) add up to the events the query listed.
    let json = run(
        &["events", "counts", "--days", "7", "--format", "json"],
        &[],
    )
    .await;
    json.assert_code(0);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let total: u64 = value["eventDefinitionAggregates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["eventCount"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, events);

    let definitions = run(&["events", "definitions", "--format", "json"], &[]).await;
    definitions.assert_code(0);
    let value: serde_json::Value = serde_json::from_str(&definitions.stdout).unwrap();
    assert!(value.as_array().unwrap().len() >= 5, "{value}");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_query_filters_and_streams_json_from_a_configured_api() {
    let api = stand_in(0xe7e, Duration::ZERO).await;
    let env = configured_for(&api);
    let definitions = run(&["events", "definitions", "--format", "csv"], &env).await;
    definitions.assert_code(0);
    assert!(
        !definitions.stderr.contains("DEMO"),
        "{}",
        definitions.stderr
    );
    let id = definitions
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let json = run(
        &[
            "events",
            "query",
            "--days",
            "14",
            "--definitions",
            &id,
            "--order",
            "asc",
            "--page-size",
            "5",
            "--format",
            "json",
        ],
        &env,
    )
    .await;
    json.assert_code(0);
    let events: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let events = events.as_array().unwrap();
    assert!(events.len() > 5, "more than one page: {}", events.len());
    assert!(events.iter().all(|e| e["eventDefinition"]["id"] == id));
    let dates: Vec<&str> = events
        .iter()
        .map(|e| e["dateCreated"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let pages = api
        .stats()
        .requests
        .get(&Route::PostEventsQuery)
        .copied()
        .unwrap_or(0);
    assert_eq!(
        pages as usize,
        events.len().div_ceil(5),
        "one request per page"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_bad_options_exit_2_before_any_request_and_too_old_exits_1() {
    let api = stand_in(0xe7f, Duration::ZERO).await;
    let env = configured_for(&api);
    for args in [
        &["events", "query", "--page-size", "201"][..],
        &["events", "query", "--search", "  "],
        &["events", "counts", "--interval", "2026-11-08/2026-11-01"],
    ] {
        let run = run(args, &env).await;
        run.assert_code(2);
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert_eq!(api.stats().tokens_issued, 0, "nothing was sent");
    let old = run(
        &["events", "counts", "--interval", "2024-01-01/2024-01-08"],
        &env,
    )
    .await;
    old.assert_code(1);
    assert!(
        old.stderr.contains("more recent interval"),
        "{}",
        old.stderr
    );
    assert!(
        old.stderr.contains("usage.events.too.old"),
        "{}",
        old.stderr
    );
}

/// The CSV's rows as maps from column name to cell.
fn csv_rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_120_day_report_runs_as_two_jobs_whose_rows_are_merged() {
    let api = stand_in(21, Duration::from_millis(100)).await;
    let env = configured_for(&api);
    let group = ["--group-by", "OauthClientId", "--format", "csv"];
    let daily = run(
        &[&["--days", "120", "--granularity", "Day"][..], &group].concat(),
        &env,
    )
    .await;
    daily.assert_code(0);
    assert_eq!(
        api.stats().requests_to(Route::PostAggregatesQueryJobs),
        2,
        "120 days = a job of 90 days and one of 30"
    );
    let daily = csv_rows(&daily.stdout);
    let dates: std::collections::BTreeSet<&str> =
        daily.iter().map(|r| r["date"].as_str()).collect();
    let today = chrono::Utc::now().date_naive();
    assert_eq!(dates.len(), 120, "every day once per client, no day twice");
    assert_eq!(
        *dates.first().unwrap(),
        (today - chrono::Days::new(120)).to_string()
    );
    assert_eq!(
        *dates.last().unwrap(),
        (today - chrono::Days::new(1)).to_string()
    );
    let mut per_day = std::collections::HashSet::new();
    for row in &daily {
        assert!(
            per_day.insert((row["date"].clone(), row["clientId"].clone())),
            "a (day, client) row twice: {row:?}"
        );
    }
    // Without granularity: one row per client, summed across the two jobs.
    api.reset_stats();
    let whole = run(&[&["--days", "120"][..], &group].concat(), &env).await;
    whole.assert_code(0);
    assert_eq!(api.stats().requests_to(Route::PostAggregatesQueryJobs), 2);
    let whole = csv_rows(&whole.stdout);
    let clients: std::collections::BTreeSet<&str> =
        daily.iter().map(|r| r["clientId"].as_str()).collect();
    assert_eq!(whole.len(), clients.len(), "{whole:?}");
    for row in &whole {
        let summed: i64 = daily
            .iter()
            .filter(|d| d["clientId"] == row["clientId"])
            .map(|d| d["requests"].parse::<i64>().unwrap())
            .sum();
        assert_eq!(row["requests"].parse::<i64>().unwrap(), summed, "{row:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_more_than_a_year_back_is_refused_naming_sync() {
    let run = run(&["--days", "400"], &[]).await;
    run.assert_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("more than a year back") && run.stderr.contains("usage-report sync"),
        "{}",
        run.stderr
    );
}
