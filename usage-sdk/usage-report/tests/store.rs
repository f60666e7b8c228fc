//! `usage-report sync` and reports from the store, as a user runs them: the built binary,
//! real SQLite files in temporary folders, and a Usage API stand-in in this test process.
//!
//! Every run clears the environment except `PATH` and `HOME`, and points the data directory
//! (`XDG_DATA_HOME`) at the test's folder, so no test touches a developer's own store.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use rusqlite::Connection;
use usage_sdk_stand_in::{Route, RunningStandIn, StandIn};

mod program;

use program::{TempDir, command, finish, run};

const DEMO: &str = "DEMO DATA from the local stand-in, not your organization";

fn configured_for(stand_in: &RunningStandIn) -> Vec<(&'static str, String)> {
    let client = stand_in.demo_client();
    vec![
        ("GENESYSCLOUD_API_REGION", stand_in.base_url()),
        ("GENESYSCLOUD_OAUTHCLIENT_ID", client.id.clone()),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", client.secret.clone()),
    ]
}

/// A stand-in with quick jobs and no rate limit (these tests send many pages), each request
/// delayed by `latency`.
async fn stand_in(latency: Duration) -> RunningStandIn {
    StandIn::builder()
        .seed(2121)
        .job_times(Duration::from_millis(20), Duration::from_millis(80))
        .no_rate_limit()
        .latency(latency)
        .start()
        .await
        .expect("the stand-in starts")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_ago(n: u64) -> String {
    (today() - Days::new(n)).to_string()
}

fn open(path: &str) -> Connection {
    Connection::open(path).expect("the store opens")
}

/// The store's rows: how many, and a hash of every key and count in key order (not of
/// `sync_id`, which says which run last wrote a row).
fn checksum(path: &str) -> (i64, u64) {
    let conn = open(path);
    let mut statement = conn
        .prepare(
            "SELECT day, client_id, client_name, user_id, template_uri, http_method, platform,
                    requests, status200, status300, status400, status429, status500
             FROM usage ORDER BY day, client_id, client_name, user_id, template_uri, http_method, platform",
        )
        .unwrap();
    let mut hasher = DefaultHasher::new();
    let mut count = 0;
    let mut rows = statement.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        for i in 0..7 {
            row.get::<_, String>(i).unwrap().hash(&mut hasher);
        }
        for i in 7..13 {
            row.get::<_, i64>(i).unwrap().hash(&mut hasher);
        }
        count += 1;
    }
    (count, hasher.finish())
}

fn scalar<T: rusqlite::types::FromSql>(path: &str, sql: &str) -> T {
    open(path).query_row(sql, [], |r| r.get(0)).unwrap()
}

fn windows(path: &str) -> Vec<(String, String, String)> {
    let conn = open(path);
    let mut statement = conn
        .prepare("SELECT start_day, end_day, state FROM sync ORDER BY id")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_sync_backfills_the_year_in_five_jobs_and_a_second_changes_nothing() {
    let api = stand_in(Duration::ZERO).await;
    let env = configured_for(&api);
    let dir = TempDir::new("backfill");
    let store = dir.file("usage.sqlite3");
    run(&["sync", "--store", &store], &env, &dir)
        .await
        .assert_code(0);
    assert_eq!(api.stats().requests_to(Route::PostAggregatesQueryJobs), 5);
    let windows = windows(&store);
    assert_eq!(windows.len(), 5, "{windows:?}");
    assert!(windows.iter().all(|w| w.2 == "complete"), "{windows:?}");
    let first: NaiveDate = windows[0].0.parse().unwrap();
    let a_year_ago = Utc::now()
        .checked_sub_months(chrono::Months::new(12))
        .unwrap();
    assert!(first.and_hms_opt(0, 0, 0).unwrap().and_utc() >= a_year_ago);
    assert!(first <= today() - Days::new(364), "{first}");
    assert_eq!(windows[4].1, today().to_string(), "through yesterday");
    for w in &windows {
        let (s, e): (NaiveDate, NaiveDate) = (w.0.parse().unwrap(), w.1.parse().unwrap());
        assert!((e - s).num_days() <= 90, "{w:?}");
    }
    let days: i64 = scalar(&store, "SELECT count(DISTINCT day) FROM usage");
    assert_eq!(
        days,
        (today() - first).num_days(),
        "every day of the year once"
    );
    assert_eq!(
        scalar::<String>(&store, "PRAGMA journal_mode"),
        "wal",
        "WAL mode"
    );
    assert_eq!(scalar::<i64>(&store, "PRAGMA user_version"), 3);
    let before = checksum(&store);

    // Up to date: one job (the last day again), and nothing changes.
    api.reset_stats();
    run(&["sync", "--store", &store], &env, &dir)
        .await
        .assert_code(0);
    assert_eq!(api.stats().requests_to(Route::PostAggregatesQueryJobs), 1);
    assert_eq!(checksum(&store), before, "a second sync changes nothing");
    let last = self::windows(&store).pop().unwrap();
    assert_eq!((last.0, last.1), (days_ago(1), today().to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_sync_fetches_from_the_last_stored_day_through_yesterday() {
    let api = stand_in(Duration::ZERO).await;
    let env = configured_for(&api);
    let dir = TempDir::new("incremental");
    let store = dir.file("usage.sqlite3");
    run(
        &["sync", "--store", &store, "--since", &days_ago(20)],
        &env,
        &dir,
    )
    .await
    .assert_code(0);
    let full = checksum(&store);
    // As if the last sync ran four days ago: the store ends three days back.
    let cut = days_ago(3);
    let conn = open(&store);
    conn.execute("DELETE FROM usage_row WHERE day >= ?1", [&cut])
        .unwrap();
    conn.execute("UPDATE sync SET end_day = ?1", [&cut])
        .unwrap();
    drop(conn);
    assert!(checksum(&store).0 < full.0);
    api.reset_stats();
    run(&["sync", "--store", &store], &env, &dir)
        .await
        .assert_code(0);
    assert_eq!(api.stats().requests_to(Route::PostAggregatesQueryJobs), 1);
    let last = windows(&store).pop().unwrap();
    assert_eq!(
        (last.0, last.1),
        (days_ago(4), today().to_string()),
        "from the last stored day through yesterday"
    );
    assert_eq!(checksum(&store), full, "the same rows as one sync");
}

/// The job GETs so far (status polls and pages).
fn job_reads(api: &RunningStandIn) -> u64 {
    api.stats().requests_to(Route::GetAggregatesQueryJob)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_mid_window_keeps_whole_windows_and_the_rerun_ends_with_exactly_the_rows() {
    // Every request takes 20 ms and pages hold 20 rows: a window takes seconds to write.
    let api = stand_in(Duration::from_millis(20)).await;
    let env = configured_for(&api);
    let dir = TempDir::new("crash");
    let since = days_ago(120);
    let store = dir.file("usage.sqlite3");
    let args = [
        "sync",
        "--store",
        &store,
        "--since",
        &since,
        "--page-size",
        "20",
    ];
    let mut child = command(&args, &env, &dir).spawn().unwrap();
    // Wait for the first window to be committed, then for more pages of the next one to be
    // read into its open transaction, and kill the process there.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no window completed in time"
        );
        assert!(child.try_wait().unwrap().is_none(), "the sync ended early");
        let complete = Path::new(&store).exists()
            && open(&store)
                .query_row(
                    "SELECT count(*) FROM sync WHERE state = 'complete'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap_or(0)
                > 0;
        if complete {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reads = job_reads(&api);
    while job_reads(&api) < reads + 10 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    let killed = finish(child).await;
    assert_ne!(killed.code, Some(0), "killed: {killed:?}");

    assert_eq!(
        scalar::<String>(&store, "PRAGMA integrity_check"),
        "ok",
        "the file is sound"
    );
    let states = windows(&store);
    assert_eq!(states.len(), 2, "{states:?}");
    assert_eq!(
        states.iter().filter(|w| w.2 == "complete").count(),
        1,
        "{states:?}"
    );
    assert_eq!(
        states.iter().filter(|w| w.2 == "submitted").count(),
        1,
        "the job being written is left to pick up: {states:?}"
    );
    // Nothing of the window being written is in the store.
    let strays: i64 = scalar(
        &store,
        "SELECT count(*) FROM usage WHERE sync_id NOT IN (SELECT id FROM sync WHERE state = 'complete')",
    );
    assert_eq!(strays, 0);
    let kept: i64 = scalar(
        &store,
        "SELECT count(*) FROM usage u JOIN sync s ON s.id = u.sync_id
         WHERE u.day < s.start_day OR u.day >= s.end_day",
    );
    assert_eq!(kept, 0);

    // The rerun picks the job up from its record and ends with exactly the rows of a sync
    // that was never interrupted.
    let posts = api.stats().requests_to(Route::PostAggregatesQueryJobs);
    let rerun = run(&args, &env, &dir).await;
    rerun.assert_code(0);
    assert!(
        rerun.stderr.contains("picking up 1 job"),
        "{}",
        rerun.stderr
    );
    assert_eq!(
        api.stats().requests_to(Route::PostAggregatesQueryJobs),
        posts + 1,
        "the resumed job is not submitted again; only the last day is"
    );
    let reference = dir.file("reference.sqlite3");
    run(
        &["sync", "--store", &reference, "--since", &since],
        &env,
        &dir,
    )
    .await
    .assert_code(0);
    assert_eq!(checksum(&store), checksum(&reference));
    assert_eq!(scalar::<String>(&store, "PRAGMA integrity_check"), "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_of_schema_version_1_is_migrated_and_keeps_every_row() {
    let dir = TempDir::new("migrate");
    let store = dir.file("v1.sqlite3");
    open(&store)
        .execute_batch(include_str!("fixtures/store-v1.sql"))
        .unwrap();
    let before: (i64, i64) = open(&store)
        .query_row("SELECT count(*), sum(requests) FROM usage", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let report = run(
        &[
            "--store",
            &store,
            "--interval",
            "2025-01-01/2025-01-06",
            "--granularity",
            "Day",
            "--format",
            "csv",
        ],
        &[],
        &dir,
    )
    .await;
    report.assert_code(0);
    assert_eq!(scalar::<i64>(&store, "PRAGMA user_version"), 3);
    let after: (i64, i64) = open(&store)
        .query_row("SELECT count(*), sum(requests) FROM usage", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(before, (4, 2750));
    assert_eq!(
        scalar::<String>(&store, "SELECT group_concat(state) FROM sync"),
        "complete,complete"
    );
    assert_eq!(
        scalar::<i64>(&store, "SELECT per_user FROM store"),
        0,
        "a version 1 store holds rows without users"
    );
    // A report from it: the two clients per day, and the day no window holds.
    let lines: Vec<&str> = report.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", report.stdout);
    assert!(
        lines[1].starts_with("2025-01-01,c-1,Wallboard,1000,"),
        "{}",
        report.stdout
    );
    assert!(
        report
            .stderr
            .contains("lacks 1 day(s) of the interval: 2025-01-05"),
        "{}",
        report.stderr
    );
    // A report from an organization's store carries no demo notice.
    assert!(!report.stderr.contains(DEMO), "{}", report.stderr);

    // A store written by a newer usage-report is refused, unchanged.
    open(&store).pragma_update(None, "user_version", 4).unwrap();
    let newer = run(&["--store", &store, "--days", "3"], &[], &dir).await;
    newer.assert_code(2);
    assert!(
        newer.stderr.contains("schema version 4") && newer.stderr.contains("newer usage-report"),
        "{}",
        newer.stderr
    );
    assert_eq!(scalar::<i64>(&store, "PRAGMA user_version"), 4);
}

/// The column names of `sql`, then every row it returns, each value as text (NULL as
/// `NULL`).
fn table(path: &str, sql: &str) -> Vec<Vec<String>> {
    let conn = open(path);
    let mut statement = conn.prepare(sql).unwrap();
    let columns = statement.column_count();
    let mut out = vec![
        statement
            .column_names()
            .into_iter()
            .map(str::to_string)
            .collect(),
    ];
    let mut rows = statement.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        out.push(
            (0..columns)
                .map(|i| match row.get::<_, rusqlite::types::Value>(i).unwrap() {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(t) => format!("{t:?}"),
                    other => format!("{other:?}"),
                })
                .collect(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_of_schema_version_2_is_migrated_and_reads_exactly_as_before() {
    let dir = TempDir::new("migrate-v2");
    let store = dir.file("v2.sqlite3");
    open(&store)
        .execute_batch(include_str!("fixtures/store-v2.sql"))
        .unwrap();
    // What a sqlite3 user reads: the rows with every column, the views, the records.
    let queries = [
        "SELECT * FROM usage ORDER BY day, client_id, client_name, user_id, template_uri, http_method, platform",
        "SELECT * FROM daily_client_totals ORDER BY day, client_id, client_name",
        "SELECT * FROM daily_totals ORDER BY day",
        "SELECT * FROM synced_windows ORDER BY start_day, end_day",
        "SELECT * FROM sync ORDER BY id",
        "SELECT * FROM store",
    ];
    let before: Vec<_> = queries.iter().map(|q| table(&store, q)).collect();
    assert_eq!(before[0].len(), 1 + 6, "the fixture's rows");
    let report = run(
        &[
            "--store",
            &store,
            "--interval",
            "2025-03-01/2025-03-04",
            "--granularity",
            "Day",
            "--group-by",
            "OauthClientId,UserId",
            "--format",
            "csv",
        ],
        &[],
        &dir,
    )
    .await;
    report.assert_code(0);
    assert_eq!(scalar::<i64>(&store, "PRAGMA user_version"), 3);
    for (query, before) in queries.iter().zip(&before) {
        assert_eq!(&table(&store, query), before, "{query}");
    }
    // The names are kept once each: the rows are keyed by their ids.
    assert_eq!(
        scalar::<String>(
            &store,
            "SELECT concat_ws(' ', (SELECT count(*) FROM client), (SELECT count(*) FROM user), \
             (SELECT count(*) FROM template), (SELECT count(*) FROM method), \
             (SELECT count(*) FROM platform), (SELECT count(*) FROM usage_row))"
        ),
        "4 4 3 3 3 6",
        "clients, users, templates, methods, platforms, rows"
    );
    assert_eq!(
        scalar::<String>(
            &store,
            "SELECT type FROM sqlite_schema WHERE name = 'usage'"
        ),
        "view"
    );
    // The report reads the migrated rows: per day, client and user (the client renamed on
    // 2025-03-02 is two rows, as the API sends it).
    assert_eq!(
        report.stdout.lines().skip(1).collect::<Vec<_>>(),
        [
            "2025-03-01,,,7,7,0,0,0,0",
            "2025-03-01,c-1,u-1,1000,990,0,8,2,5",
            "2025-03-01,c-1,u-2,40,40,0,0,0,0",
            "2025-03-02,c-1,u-1,1200,1190,0,9,1,6",
            "2025-03-02,c-1,u-1,30,30,0,0,0,0",
            "2025-03-03,c-2,u-3,300,290,0,10,0,10",
        ],
        "{}",
        report.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_from_the_store_equals_the_report_from_the_api() {
    let api = stand_in(Duration::ZERO).await;
    let env = configured_for(&api);
    let dir = TempDir::new("equal");
    let store = dir.file("usage.sqlite3");
    run(
        &["sync", "--store", &store, "--since", &days_ago(45)],
        &env,
        &dir,
    )
    .await
    .assert_code(0);
    let shapes: [&[&str]; 5] = [
        &["--days", "30", "--format", "csv"],
        &[
            "--days",
            "30",
            "--granularity",
            "Day",
            "--group-by",
            "OauthClientId,OauthClientName,TemplateUri",
            "--format",
            "csv",
        ],
        &[
            "--days",
            "40",
            "--granularity",
            "Week",
            "--group-by",
            "TemplateUri,HttpMethod",
            "--http-methods",
            "GET,POST",
        ],
        &[
            "--days",
            "14",
            "--group-by",
            "Platform",
            "--metrics",
            "Requests,Status429",
            "--format",
            "csv",
        ],
        &["--days", "20", "--top", "3", "--by", "429-rate"],
    ];
    for shape in shapes {
        api.reset_stats();
        let from_api = run(shape, &env, &dir).await;
        from_api.assert_code(0);
        assert_eq!(api.stats().requests_to(Route::PostAggregatesQueryJobs), 1);
        api.reset_stats();
        let mut args = vec!["--store", store.as_str()];
        args.extend_from_slice(shape);
        let from_store = run(&args, &env, &dir).await;
        from_store.assert_code(0);
        assert_eq!(
            api.stats().total_requests(),
            0,
            "no API call: {:?}",
            api.stats()
        );
        assert_eq!(from_store.stdout, from_api.stdout, "{shape:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_demo_store_reports_with_the_demo_notice_and_never_takes_an_organizations_rows() {
    let dir = TempDir::new("demo");
    // No GENESYSCLOUD_*: the stand-in in the program, the store in the default place.
    let sync = run(&["sync", "--since", &days_ago(10)], &[], &dir).await;
    sync.assert_code(0);
    assert!(sync.stderr.contains(DEMO), "{}", sync.stderr);
    let default = dir
        .0
        .join("data")
        .join("usage-report")
        .join("usage.sqlite3");
    assert!(default.exists(), "{}", sync.stderr);
    let default = default.display().to_string();
    assert_eq!(scalar::<String>(&default, "SELECT kind FROM store"), "demo");

    let table = run(&["--store", "--days", "7"], &[], &dir).await;
    table.assert_code(0);
    assert!(table.stdout.starts_with(DEMO), "{}", table.stdout);
    assert!(
        table.stdout.trim_end().ends_with("holds demo data)"),
        "{}",
        table.stdout
    );
    let csv = run(
        &["--store", &default, "--days", "7", "--format", "csv"],
        &[],
        &dir,
    )
    .await;
    csv.assert_code(0);
    assert!(!csv.stdout.contains("DEMO"), "stdout stays CSV");
    assert!(csv.stderr.contains(DEMO), "{}", csv.stderr);

    // An organization's rows never land in it.
    let api = stand_in(Duration::ZERO).await;
    let refused = run(&["sync", "--store", &default], &configured_for(&api), &dir).await;
    refused.assert_code(2);
    assert!(refused.stderr.contains("never mixes"), "{}", refused.stderr);
    assert_eq!(api.stats().requests_to(Route::PostAggregatesQueryJobs), 0);

    // Older than the API's year: served from the default store, with the days it lacks.
    let old = run(&["--days", "400", "--format", "csv"], &[], &dir).await;
    old.assert_code(0);
    assert!(old.stderr.contains("The store lacks"), "{}", old.stderr);
    assert!(old.stderr.contains(DEMO), "{}", old.stderr);
}
