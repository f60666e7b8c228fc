//! `cargo xtask bench-build`: what building usage-sdk costs (about 20 minutes on 2 cores).
//! It shells out to cargo, so it lives here rather than among the `cargo bench` targets.
//!
//! A clean `cargo build -p usage-sdk --features build-time-codegen` and a no-op rebuild
//! (which must not re-run the generator) in their own target directory under the system temp
//! dir (the shared `target/` is left alone), and the size of a release `usage-report`
//! program. Then what a consumer pays: the clean dev build of a scratch crate outside the
//! workspace making one call through usage-sdk (default features, and with
//! `build-time-codegen`), versus the same call on plain reqwest + serde + tokio with the same
//! reqwest features and TLS stack, each in a fresh target directory, interleaved over 3 rounds
//! (`USAGE_SDK_BENCH_BUILD_ROUNDS`); targets on the medians: <= 75 s and <= 1.3x.
//!
//! It prints the table the `cargo bench` targets print (the same file, included below) and
//! exits 1 when a target is missed.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime};

// The benchmarks' own table and statistics, std-only, so every benchmark reports alike.
#[path = "../../usage-sdk/benches/harness/stats.rs"]
mod stats;
#[path = "../../usage-sdk/benches/harness/table.rs"]
mod table;

use stats::{mb, summary};
use table::Row;

pub const HELP: &str =
    "cargo xtask bench-build: clean builds of usage-sdk (build-time-codegen), a no-op rebuild,
the release usage-report size, and scratch consumer crates against plain reqwest
(about 20 minutes on 2 cores; rounds: USAGE_SDK_BENCH_BUILD_ROUNDS, default 3).
Prints a table; exits 1 when a target is missed.";

/// Runs the benchmark against the workspace at `root`.
pub fn run(root: &Path) -> ExitCode {
    let mut rows = Vec::new();
    bench_build(root, &mut rows);
    table::finish(&rows)
}

/// Runs cargo in `dir` (the workspace, or a scratch consumer) with its own target directory;
/// returns (seconds, stderr).
fn cargo_in(dir: &Path, target_dir: &Path, args: &[&str]) -> (f64, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let output = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_NET_OFFLINE", "true")
        // Not the jobserver of the `cargo run` that started us: a build of its own.
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "cargo {} failed:\n{stderr}",
        args.join(" ")
    );
    (seconds, stderr)
}

/// The generated file in the target dir and when it was written.
fn generated_file(target_dir: &Path) -> Option<(PathBuf, SystemTime)> {
    let build = target_dir.join("debug").join("build");
    std::fs::read_dir(build)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("usage-sdk-"))
        .map(|e| e.path().join("out").join("usage_api.rs"))
        .filter_map(|p| {
            let modified = std::fs::metadata(&p).ok()?.modified().ok()?;
            Some((p, modified))
        })
        .max_by_key(|(_, t)| *t)
}

/// A consumer's one call through the SDK: a client usage summary, built without the
/// stand-in (what an application pays to depend on usage-sdk).
const SDK_CONSUMER_MAIN: &str = r#"use usage_sdk::{Config, Days, OAuthClientId, UsageClient};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("USAGE_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into());
    let config = Config::builder()
        .base_url(&base)
        .token_url(format!("{base}/oauth/token"))
        .client_credentials("id", "secret")
        .build()?;
    let client = UsageClient::new(config)?;
    let id = OAuthClientId::new("6f1c2b1e-0000-4000-8000-00000000c1d0")?;
    let rows = client.oauth_client(&id).rows(&Days::new(7)?).await?.try_collect().await?;
    println!("{} rows", rows.len());
    Ok(())
}
"#;

/// The same call written against plain reqwest + serde + tokio with the SDK's TLS stack
/// (rustls, ring, platform verifier): the baseline a hand-written client would cost.
const PLAIN_CONSUMER_MAIN: &str = r#"use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Execution {
    execution_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    client_id: Option<String>,
    requests: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Results {
    query_status: String,
    #[serde(default)]
    results: Vec<Row>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("USAGE_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let http = reqwest::Client::builder().tls_backend_preconfigured(tls).build()?;
    let id = "6f1c2b1e-0000-4000-8000-00000000c1d0";
    let execution: Execution = http
        .get(format!("{base}/api/v2/oauth/clients/{id}/usage/summary"))
        .query(&[("days", "7")])
        .bearer_auth("token")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let results: Results = http
        .get(format!(
            "{base}/api/v2/oauth/clients/{id}/usage/query/results/{}",
            execution.execution_id
        ))
        .bearer_auth("token")
        .send()
        .await?
        .json()
        .await?;
    let first = results.results.first().map(|r| (&r.client_id, r.requests));
    println!("{} {} rows {first:?}", results.query_status, results.results.len());
    Ok(())
}
"#;

/// Writes a scratch consumer crate (its own workspace, the repository's lock file as the
/// starting point so both consumers get the versions CI tests) and returns its directory.
fn scratch_consumer(
    root: &Path,
    base: &Path,
    name: &str,
    dependencies: &str,
    main: &str,
) -> PathBuf {
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).expect("a consumer directory");
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{dependencies}\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("a manifest");
    std::fs::write(dir.join("src").join("main.rs"), main).expect("a main.rs");
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("a lock file");
    dir
}

/// Clean dev builds of an SDK consumer (default features: the reviewed snapshot compiled, no
/// build dependencies), of the same consumer with `build-time-codegen` (progenitor run by the
/// build script, as every build did before the snapshot became the default), and of the same
/// call on plain reqwest; each in a fresh target directory, the three interleaved in every
/// round (same machine load), rounds from `USAGE_SDK_BENCH_BUILD_ROUNDS` (default 3).
/// Targets on the medians.
fn bench_consumers(root: &Path, base: &Path, rows: &mut Vec<Row>) {
    let rounds: usize = std::env::var("USAGE_SDK_BENCH_BUILD_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let sdk_path = root.join("usage-sdk").display().to_string();
    let tokio = "tokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n";
    let consumers = [
        scratch_consumer(
            root,
            base,
            "sdk-consumer",
            &format!("usage-sdk = {{ path = {sdk_path:?} }}\n{tokio}"),
            SDK_CONSUMER_MAIN,
        ),
        scratch_consumer(
            root,
            base,
            "sdk-codegen-consumer",
            &format!(
                "usage-sdk = {{ path = {sdk_path:?}, features = [\"build-time-codegen\"] }}\n{tokio}"
            ),
            SDK_CONSUMER_MAIN,
        ),
        // reqwest with the library's features and TLS stack (the workspace Cargo.toml).
        scratch_consumer(
            root,
            base,
            "plain-consumer",
            &format!(
                "reqwest = {{ version = \"0.13.5\", default-features = false, features = [\"json\", \"gzip\", \"rustls-no-provider\", \"query\"] }}\n\
                 rustls = {{ version = \"0.23.46\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }}\n\
                 rustls-platform-verifier = \"0.7.1\"\n\
                 serde = {{ version = \"1\", features = [\"derive\"] }}\n\
                 serde_json = \"1\"\n{tokio}"
            ),
            PLAIN_CONSUMER_MAIN,
        ),
    ];
    let mut seconds: [Vec<f64>; 3] = Default::default();
    for round in 1..=rounds {
        for (dir, times) in consumers.iter().zip(seconds.iter_mut()) {
            let target = dir.join("target");
            let _ = std::fs::remove_dir_all(&target);
            let (s, _) = cargo_in(dir, &target, &["build"]);
            println!("build: round {round}/{rounds}: {} {s:.1} s", dir.display());
            times.push(s);
        }
    }
    let ratios = |i: usize| -> Vec<f64> {
        seconds[i]
            .iter()
            .zip(&seconds[2])
            .map(|(s, p)| s / p)
            .collect()
    };
    let (plain, plain_lo, plain_hi) = summary(&seconds[2]);
    for (i, name, target) in [
        (0, "4d. consumer clean dev build", "<= 75 s and <= 1.3x"),
        (1, "4e. same, build-time-codegen", "report"),
    ] {
        let (sdk, lo, hi) = summary(&seconds[i]);
        let (ratio, ratio_lo, ratio_hi) = summary(&ratios(i));
        println!(
            "build: {name}: {sdk:.1} s ({lo:.1}-{hi:.1}) vs plain reqwest {plain:.1} s \
             ({plain_lo:.1}-{plain_hi:.1}); median ratio {ratio:.2}x ({ratio_lo:.2}-{ratio_hi:.2}), \
             {rounds} rounds"
        );
        let row = Row::new(
            name,
            format!("{sdk:.0} s ({lo:.0}-{hi:.0})"),
            format!("{plain:.0} s ({plain_lo:.0}-{plain_hi:.0}) plain reqwest"),
            format!("{ratio:.2}x ({ratio_lo:.2}-{ratio_hi:.2})"),
            target,
        );
        rows.push(if i == 0 {
            row.pass(sdk <= 75.0 && ratio <= 1.3)
        } else {
            row
        });
    }
}

fn bench_build(root: &Path, rows: &mut Vec<Row>) {
    let base = std::env::temp_dir().join("usage-sdk-bench");
    let clean_dir = base.join("clean");
    let _ = std::fs::remove_dir_all(&clean_dir);
    // The maintainers' build: progenitor runs in the build script, which must not re-run on a
    // no-op build.
    let args = [
        "build",
        "-p",
        "usage-sdk",
        "--features",
        "build-time-codegen",
    ];
    println!(
        "build: clean `cargo {}` in {} ...",
        args.join(" "),
        clean_dir.display()
    );
    let (clean, _) = cargo_in(root, &clean_dir, &args);
    let before = generated_file(&clean_dir);
    let (noop, log) = cargo_in(root, &clean_dir, &[&args[..], &["-vv"]].concat());
    let after = generated_file(&clean_dir);
    // -vv prints "Running `…/build-script-build`" for a build script that runs, and
    // "Fresh usage-sdk" when nothing was rebuilt.
    let script_ran = log.lines().any(|l| {
        l.contains("Running") && l.contains("usage-sdk-") && l.contains("build-script-build")
    });
    let regenerated = before.is_none() || before.map(|b| b.1) != after.map(|a| a.1);
    let fresh = log.lines().any(|l| l.contains("Fresh usage-sdk"));
    println!(
        "build: clean {clean:.1} s; no-op {noop:.2} s (usage-sdk fresh: {fresh}, build script re-ran: {script_ran}, usage_api.rs rewritten: {regenerated})"
    );
    rows.push(
        Row::new(
            "4a. clean build -p usage-sdk, build-time-codegen",
            format!("{clean:.0} s"),
            "-".into(),
            "-".into(),
            "report (<= 180 s)",
        )
        .pass(clean <= 180.0),
    );
    rows.push(
        Row::new(
            "4b. no-op rebuild",
            format!("{noop:.2} s, codegen re-ran: {}", script_ran || regenerated),
            "-".into(),
            "-".into(),
            "no codegen, <= 2 s",
        )
        .pass(fresh && !script_ran && !regenerated && noop <= 2.0),
    );

    // The release program is built incrementally in a directory kept between runs: its size
    // does not depend on a clean build.
    let release_dir = base.join("release");
    println!(
        "build: release usage-report program in {} ...",
        release_dir.display()
    );
    let (seconds, _) = cargo_in(
        root,
        &release_dir,
        &[
            "build",
            "--release",
            "-p",
            "usage-report",
            "--bin",
            "usage-report",
        ],
    );
    let binary = release_dir
        .join("release")
        .join(format!("usage-report{}", std::env::consts::EXE_SUFFIX));
    let size = std::fs::metadata(&binary)
        .expect("the program was built")
        .len() as usize;
    println!("build: release usage-report {} ({seconds:.0} s)", mb(size));
    rows.push(
        Row::new(
            "4c. release usage-report binary",
            mb(size),
            "25 MB (JS SDK package)".into(),
            format!("{:.2}x", size as f64 / 25e6),
            "report (<= 25 MB)",
        )
        .pass(size as f64 <= 25e6),
    );

    bench_consumers(root, &base, rows);
}
