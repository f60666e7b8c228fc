//! Many organizations from one profiles file: `--profile NAME` for every command,
//! `--all-profiles` for the report and sync (concurrently, one failing without stopping the
//! others), and the file's checks (permissions like ssh's, malformed lines, secrets).
//! The built binary, a clean environment, stand-ins in this test process as the
//! organizations.

use std::time::Duration;

use usage_sdk_stand_in::{RunningStandIn, StandIn};

mod program;

use program::{TempDir, run};

async fn stand_in(seed: u64) -> RunningStandIn {
    StandIn::builder()
        .seed(seed)
        .job_times(Duration::from_millis(20), Duration::from_millis(60))
        .no_rate_limit()
        .start()
        .await
        .expect("the stand-in starts")
}

/// A `[profile.NAME]` table for `api`: the secret in the file.
fn table(name: &str, api: &RunningStandIn, store: &str) -> String {
    let client = api.demo_client();
    format!(
        "[profile.{name}]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nstore = \"{store}\"\n\n",
        api.base_url(),
        client.id,
        client.secret
    )
}

/// The organizations of a CSV report's rows, and how many rows each.
fn organizations(csv: &str) -> Vec<(String, usize)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(header.first(), Some(&"organization"), "{csv}");
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for line in lines {
        *counts
            .entry(line.split(',').next().unwrap().to_string())
            .or_default() += 1;
    }
    counts.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn all_profiles_report_and_sync_every_organization_with_an_organization_column() {
    let dir = TempDir::new("all");
    let (acme, globex) = (stand_in(1).await, stand_in(2).await);
    // globex's secret is named by a variable, not written in the file.
    let globex_client = globex.demo_client();
    let profiles = dir.profiles(&format!(
        "{}[profile.globex]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"GLOBEX_SECRET\"\nstore = \"{}\"\n",
        table("acme", &acme, &dir.file("acme.sqlite3")),
        globex.base_url(),
        globex_client.id,
        dir.file("globex.sqlite3"),
    ));
    let env = [("GLOBEX_SECRET", globex_client.secret.clone())];
    let args = [
        "--profiles",
        &profiles,
        "--all-profiles",
        "--days",
        "3",
        "--format",
        "csv",
    ];
    let report = run(&args, &env, &dir).await;
    report.assert_code(0);
    let orgs = organizations(&report.stdout);
    assert_eq!(
        orgs.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>(),
        ["acme", "globex"],
        "{}",
        report.stdout
    );
    assert!(orgs.iter().all(|(_, n)| *n > 0));
    assert!(!report.stderr.contains("DEMO"), "{}", report.stderr);
    // Each organization was asked with its own client and token.
    assert!(acme.stats().tokens_issued >= 1 && globex.stats().tokens_issued >= 1);
    // JSON: each row with its organization first.
    let json = run(
        &[
            "--profiles",
            &profiles,
            "--all-profiles",
            "--days",
            "3",
            "--format",
            "json",
        ],
        &env,
        &dir,
    )
    .await;
    json.assert_code(0);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    assert!(rows.iter().any(|r| r["organization"] == "acme"));
    assert!(rows.iter().any(|r| r["organization"] == "globex"));
    assert!(rows.iter().all(|r| r["requestCount"].is_i64()), "{rows:?}");

    // sync: each into its own store, then a report from one profile's store.
    let sync = run(
        &["sync", "--all-profiles", "--profiles", &profiles],
        &env,
        &dir,
    )
    .await;
    sync.assert_code(0);
    for store in ["acme.sqlite3", "globex.sqlite3"] {
        assert!(std::path::Path::new(&dir.file(store)).exists(), "{store}");
    }
    let from_store = run(
        &[
            "--profiles",
            &profiles,
            "--profile",
            "globex",
            "--store",
            "--days",
            "3",
            "--format",
            "csv",
        ],
        &env,
        &dir,
    )
    .await;
    from_store.assert_code(0);
    let api = run(
        &[
            "--profile",
            "globex",
            "--profiles",
            &profiles,
            "--days",
            "3",
            "--format",
            "csv",
        ],
        &env,
        &dir,
    )
    .await;
    api.assert_code(0);
    let total = |csv: &str| -> i64 {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = header.iter().position(|h| *h == "requests").unwrap();
        lines
            .map(|l| l.split(',').nth(at).unwrap().parse::<i64>().unwrap())
            .sum()
    };
    assert_eq!(total(&from_store.stdout), total(&api.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_organization_failing_does_not_stop_the_others_and_is_named() {
    let dir = TempDir::new("failing");
    let acme = stand_in(3).await;
    // Nothing listens on port 1 of loopback.
    let profiles = dir.profiles(&format!(
        "{}[profile.broken]\nbase_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret = \"hunter2-broken\"\n",
        table("acme", &acme, &dir.file("acme.sqlite3"))
    ));
    let report = run(
        &[
            "--profiles",
            &profiles,
            "--all-profiles",
            "--days",
            "2",
            "--format",
            "csv",
            "--timeout",
            "30",
        ],
        &[],
        &dir,
    )
    .await;
    report.assert_code(1);
    let orgs = organizations(&report.stdout);
    assert_eq!(orgs.len(), 1, "{}", report.stdout);
    assert_eq!(orgs[0].0, "acme");
    assert!(
        report.stderr.contains("profile broken:")
            && report
                .stderr
                .contains("1 of 2 organization(s) failed: broken"),
        "{}",
        report.stderr
    );
    assert!(!report.stderr.contains("hunter2"), "{}", report.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_profiles_file_is_checked_before_anything_is_sent() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("checks");
    let acme = stand_in(4).await;
    let profiles = dir.profiles(&table("acme", &acme, &dir.file("acme.sqlite3")));
    // Readable by others: refused, saying how to fix it, like ssh.
    std::fs::set_permissions(&profiles, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = run(&["--profiles", &profiles, "--profile", "acme"], &[], &dir).await;
    open.assert_code(2);
    assert!(
        open.stderr.contains("too open") && open.stderr.contains("chmod 600"),
        "{}",
        open.stderr
    );
    std::fs::set_permissions(&profiles, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Unknown profile, --demo with a profile, events with --all-profiles: exit 2.
    for (args, says) in [
        (vec!["--profile", "initech"], "no profile \"initech\""),
        (vec!["--profile", "acme", "--demo"], "never demo"),
        (
            vec!["events", "definitions", "--all-profiles"],
            "--all-profiles runs",
        ),
        (
            vec!["sync", "--all-profiles", "--store", "x.sqlite3"],
            "own store",
        ),
    ] {
        // After the subcommand: options before one are the report's.
        let mut all = args.clone();
        all.extend(["--profiles", profiles.as_str()]);
        let refused = run(&all, &[], &dir).await;
        refused.assert_code(2);
        assert!(
            refused.stderr.contains(says),
            "{args:?}: {}",
            refused.stderr
        );
        assert!(refused.stdout.is_empty());
    }
    // Malformed: exit 2 naming the line; the secret on another line never shown.
    let bad = dir.profiles(&format!(
        "{}[profile.b]\nregion = \"eu-west-1\"\nclient_id = \"x\"\nclient_secret = \"hunter2-b\"\nusers = 3 4\n",
        table("acme", &acme, &dir.file("acme.sqlite3"))
    ));
    let malformed = run(&["--profiles", &bad, "--all-profiles"], &[], &dir).await;
    malformed.assert_code(2);
    assert!(malformed.stderr.contains("line 11"), "{}", malformed.stderr);
    assert!(
        !malformed.stderr.contains("hunter2"),
        "{}",
        malformed.stderr
    );
    assert_eq!(acme.stats().total_requests(), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_profiles_file_and_profile_serve_events_too() {
    let dir = TempDir::new("events");
    let acme = stand_in(5).await;
    std::fs::create_dir_all(dir.0.join("config/usage-report")).unwrap();
    let text = table("acme", &acme, &dir.file("acme.sqlite3"));
    let path = dir.0.join("config/usage-report/profiles.toml");
    std::fs::write(&path, text).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let events = run(
        &[
            "events",
            "definitions",
            "--profile",
            "acme",
            "--format",
            "csv",
        ],
        &[],
        &dir,
    )
    .await;
    events.assert_code(0);
    assert!(events.stdout.contains("Demo:"), "{}", events.stdout);
    assert!(!events.stderr.contains("DEMO DATA"), "{}", events.stderr);
    assert!(acme.stats().total_requests() > 0);
}
