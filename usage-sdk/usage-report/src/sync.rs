//! `usage-report sync`: keeps the history in the store. The days to fetch are those of the
//! year the API serves (or from `--since`) that no complete window holds, plus the last
//! stored day again (it may have been fetched before Genesys had all of it), through
//! yesterday (UTC): the first run backfills the year in five jobs, a daily run sends one.
//! The same window planner as a long report splits them into jobs.
//!
//! Each job is recorded as soon as it is submitted; its rows are written page by page into
//! one transaction that also marks the record complete. So a run stopped at any moment
//! leaves complete windows and handles of jobs still to read, which the next run picks up
//! (a job the API no longer has is abandoned and its window planned again).

use chrono::{DateTime, NaiveDate, Utc};
use tokio::task::JoinSet;
use usage_sdk::{
    Error, Granularity, Handle, Interval, JobGroupBy, OrganizationJob, OrganizationJobQuery,
    OrganizationPublicApiUsage, PageSize, PollPolicy, Rows, UsageClient,
};

use std::path::Path;

use crate::cli::SyncArgs;
use crate::exit::Exit;
use crate::fetch::Limits;
use crate::profiles::Profile;
use crate::setup::{self, Origin};
use crate::store::{self, Holder, Store, StoredRow};
use crate::window;

/// How many times the rows of a window are read on from their last cursor after a page
/// failed beyond the client's own retries.
const PAGE_RETRIES: u32 = 2;

/// Runs `sync`, with the environment's configuration (or the demo stand-in) or `profile`'s.
pub async fn run(args: &SyncArgs, profile: Option<&Profile>) -> Result<(), Exit> {
    let origin = setup::origin(args.demo, false, profile)?;
    let path = match (&args.store, profile) {
        (Some(path), _) => path.clone(),
        (None, Some(profile)) => profile.store()?,
        (None, None) => store::default_path()?,
    };
    sync(args, &origin, &path).await.map(|_| ())
}

/// Syncs the store at `path` from `origin`; returns the rows written.
pub async fn sync(args: &SyncArgs, origin: &Origin, path: &Path) -> Result<u64, Exit> {
    let now = Utc::now();
    if let Some(since) = args.since {
        check_since(since, now)?;
    }
    let demo = origin.demo();
    let mut store = Store::open(path, true)?;
    // The holder is checked before the stand-in starts or a job is sent.
    let holder = match origin.api()? {
        None => Holder::Demo,
        Some(api) => Holder::Organization { api },
    };
    // --per-user is fixed by a store's first sync; later runs follow the store.
    let per_user = args.per_user || store.info()?.is_some_and(|info| info.per_user);
    store.claim(&holder, per_user, now)?;
    let (client, poll, _stand_in) = setup::connect(origin).await?;
    let poll = match args.timeout {
        Some(timeout) => poll.with_deadline(timeout),
        None => poll,
    };
    let mut sync = Sync {
        limits: Limits::start(poll.deadline),
        client,
        poll,
        page_size: args.page_size.unwrap_or(PageSize::MAX),
        per_user,
        written: 0,
    };

    // Jobs an earlier run submitted and did not finish writing.
    let pending = store.pending()?;
    let mut resumed = Vec::new();
    for job in pending {
        match (demo, job.job.parse::<OrganizationJob>()) {
            (None, Ok(handle)) => resumed.push(Window {
                sync_id: job.sync_id,
                start: job.start,
                end: job.end,
                handle: handle.with_page_size(sync.page_size),
            }),
            // The demo stand-in's jobs end with the program that started it.
            _ => store.abandon(job.sync_id, Utc::now())?,
        }
    }
    if !resumed.is_empty() {
        eprintln!(
            "usage-report: picking up {} job(s) an earlier sync left",
            resumed.len()
        );
        sync.wait_and_write(&mut store, resumed, true).await?;
    }

    let intervals = plan(&store.complete_windows()?, args.since, now)?;
    let mut submits = JoinSet::new();
    for (at, interval) in intervals.iter().enumerate() {
        let query = sync.query(*interval, now)?;
        let client = sync.client.clone();
        submits.spawn(async move { (at, client.submit(&query).await) });
    }
    let doing = || format!("submitting {} job(s); nothing was written", intervals.len());
    let submitted = sync
        .limits
        .run(
            async {
                let mut handles = vec![None; intervals.len()];
                while let Some(joined) = submits.join_next().await {
                    let (at, job) =
                        joined.map_err(|e| Exit::failed(format!("a job's task ended: {e}")))?;
                    handles[at] = Some(job?);
                }
                Ok(handles)
            },
            doing,
        )
        .await?;
    let mut windows = Vec::new();
    for (interval, handle) in intervals.iter().zip(submitted.into_iter().flatten()) {
        let (start, end) = (interval.start().date_naive(), interval.end().date_naive());
        let sync_id = store.submitted(&handle.to_string(), start, end, Utc::now())?;
        windows.push(Window {
            sync_id,
            start,
            end,
            handle: handle.with_page_size(sync.page_size),
        });
    }
    sync.wait_and_write(&mut store, windows, false).await?;
    let complete = store.complete_windows()?;
    let through = complete.iter().map(|w| w.1).max();
    eprintln!(
        "usage-report: wrote {} rows into the store {}, complete through {}{}",
        sync.written,
        store.path(),
        through
            .and_then(|d| d.pred_opt())
            .map_or("no day yet".to_string(), store::day_text),
        if demo.is_some() {
            " (DEMO DATA from the local stand-in, not your organization)"
        } else {
            ""
        }
    );
    Ok(sync.written)
}

fn check_since(since: NaiveDate, now: DateTime<Utc>) -> Result<(), Exit> {
    let first = window::first_servable_day(now);
    if since < first {
        return Err(Exit::usage(format!(
            "--since {since} is more than a year back: the aggregates jobs serve days since \
             {first} only"
        )));
    }
    if since >= now.date_naive() {
        return Err(Exit::usage(format!(
            "--since {since} is not a full day yet: the jobs serve days through yesterday (UTC)"
        )));
    }
    Ok(())
}

/// The days to fetch, as jobs of at most 90 days: the days from `since` (or the year the
/// API serves, for a new store; or the store's first day) through yesterday that no
/// complete window holds, and the last stored day again.
pub fn plan(
    complete: &[(NaiveDate, NaiveDate)],
    since: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Vec<Interval>, Exit> {
    let today = now.date_naive();
    let first = window::first_servable_day(now);
    let stored_from = complete.iter().map(|w| w.0).min();
    let lower = since.or(stored_from).unwrap_or(first).max(first);
    // The missing ranges, walking the complete windows in order.
    let mut missing: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    let mut at = lower;
    let mut sorted = complete.to_vec();
    sorted.sort();
    for (start, end) in sorted {
        if start > at {
            missing.push((at, start.min(today)));
        }
        at = at.max(end);
    }
    if at < today {
        missing.push((at, today));
    }
    // The last stored day again.
    if let Some(last) = complete
        .iter()
        .map(|w| w.1)
        .max()
        .and_then(|end| end.pred_opt())
        .filter(|last| *last >= lower && *last < today)
    {
        match missing.last_mut() {
            Some(range) if range.0 == last.succ_opt().unwrap_or(last) => range.0 = last,
            Some(range) if range.0 <= last && last < range.1 => {}
            _ => missing.push((last, today)),
        }
    }
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    let mut jobs = Vec::new();
    for (start, end) in missing.into_iter().filter(|(s, e)| s < e) {
        let interval = Interval::new(midnight(start), midnight(end))?;
        jobs.extend(window::windows(interval, now).map_err(|too_old| {
            Exit::usage(format!(
                "{} is more than a year back; the jobs serve days since {first}",
                too_old.start.format("%Y-%m-%d")
            ))
        })?);
    }
    Ok(jobs)
}

/// One window's job, recorded in the store.
struct Window {
    sync_id: i64,
    start: NaiveDate,
    end: NaiveDate,
    handle: OrganizationJob,
}

struct Sync {
    limits: Limits,
    client: UsageClient,
    poll: PollPolicy,
    page_size: PageSize,
    per_user: bool,
    written: u64,
}

impl Sync {
    /// The query of one window: daily rows by client, template URI, method and platform
    /// (and user), every metric.
    fn query(&self, interval: Interval, now: DateTime<Utc>) -> Result<OrganizationJobQuery, Exit> {
        let mut group_by = vec![
            JobGroupBy::OauthClientId,
            JobGroupBy::OauthClientName,
            JobGroupBy::TemplateUri,
            JobGroupBy::HttpMethod,
            JobGroupBy::Platform,
        ];
        if self.per_user {
            group_by.push(JobGroupBy::UserId);
        }
        Ok(OrganizationJobQuery::builder(interval)
            .granularity(Granularity::Day)
            .group_by(group_by)
            .page_size(self.page_size)
            .build_at(now)?)
    }

    /// Waits for the windows' jobs concurrently and writes each as it finishes. `resumed`:
    /// jobs of an earlier run, abandoned when the API no longer has them.
    async fn wait_and_write(
        &mut self,
        store: &mut Store,
        windows: Vec<Window>,
        resumed: bool,
    ) -> Result<(), Exit> {
        let mut waits = JoinSet::new();
        let poll = self.poll.clone().with_deadline(self.limits.remaining());
        for (at, window) in windows.iter().enumerate() {
            let (client, handle, poll) = (self.client.clone(), window.handle.clone(), poll.clone());
            waits.spawn(async move { (at, client.wait_observed(&handle, &poll, |_| {}).await) });
        }
        let ids: Vec<String> = windows.iter().map(|w| w.handle.id().to_string()).collect();
        let later = "the jobs are recorded in the store: the next `usage-report sync` picks \
                     them up";
        loop {
            let joined = self
                .limits
                .run_wait(async { Ok(waits.join_next().await) }, || {
                    format!("waiting for job(s) {}; {later}", ids.join(", "))
                })
                .await?;
            let Some(joined) = joined else { break };
            let (at, waited) =
                joined.map_err(|e| Exit::failed(format!("a job's task ended: {e}")))?;
            let window = &windows[at];
            match waited {
                Ok(rows) => {
                    let reading = format!(
                        "writing the rows of job {} ({} to {}); the window is rolled back and \
                         {later}",
                        window.handle.id(),
                        window.start,
                        window.end.pred_opt().unwrap_or(window.end)
                    );
                    let client = self.client.clone();
                    let per_user = self.per_user;
                    let (rows, outside) = self
                        .limits
                        .run(write_window(store, &client, window, rows, per_user), || {
                            reading
                        })
                        .await?;
                    self.written += rows - outside;
                    eprintln!(
                        "usage-report: {} to {}: {rows} rows{}",
                        window.start,
                        window.end.pred_opt().unwrap_or(window.end),
                        if outside > 0 {
                            format!(" ({outside} without a day in the window, not kept)")
                        } else {
                            String::new()
                        }
                    );
                }
                Err(
                    error @ (Error::DeadlineExceeded { .. } | Error::JobDeadlineExceeded { .. }),
                ) => {
                    return Err(Exit::failed(format!("{error}\n{later}")));
                }
                Err(error) if resumed && gone(&error) => {
                    eprintln!(
                        "usage-report: job {} of an earlier sync cannot be read any more \
                         ({error}); its window is fetched again",
                        window.handle.id()
                    );
                    store.abandon(window.sync_id, Utc::now())?;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }
}

/// Whether a job of an earlier run is gone for good (expired, failed, unknown to the API),
/// rather than the API being unreachable now.
fn gone(error: &Error) -> bool {
    matches!(error, Error::JobFailed { .. } | Error::JobCancelled { .. })
        || matches!(error.status(), Some(400 | 404 | 410))
}

/// A job row as the store keeps it; `None` without a day.
fn stored(row: &OrganizationPublicApiUsage) -> Option<StoredRow> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let count = |v: Option<i64>| v.unwrap_or(0);
    Some(StoredRow {
        day: row.date.as_ref()?.date()?,
        client_id: row
            .oauth_client
            .as_ref()
            .and_then(|c| c.id.clone())
            .unwrap_or_default(),
        client_name: row
            .oauth_client
            .as_ref()
            .and_then(|c| c.name.clone())
            .unwrap_or_default(),
        user_id: row
            .user
            .as_ref()
            .and_then(|u| u.id.clone())
            .unwrap_or_default(),
        template_uri: text(&row.template_uri),
        http_method: row
            .http_method
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_default(),
        platform: text(&row.platform),
        requests: count(row.request_count),
        status200: count(row.status200),
        status300: count(row.status300),
        status400: count(row.status400),
        status429: count(row.status429),
        status500: count(row.status500),
    })
}

/// A page of rows as the store keeps them, and the cursor after it.
type Batch = (Vec<Option<StoredRow>>, Option<String>);

/// Reads `rows` page by page on a task of its own, converting each page for the store, so
/// the next page is fetched and decoded while this one is written (two cores: the writes
/// and the reads overlap). At most two pages wait; the last message is `Ok(None)`.
fn read_ahead(
    mut rows: Rows<OrganizationPublicApiUsage>,
    per_user: bool,
) -> tokio::sync::mpsc::Receiver<Result<Option<Batch>, Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        loop {
            let batch = match rows.try_next_page().await {
                Ok(Some(page)) => {
                    let batch: Vec<Option<StoredRow>> = page
                        .rows
                        .iter()
                        .map(|r| {
                            let mut row = stored(r);
                            if !per_user && let Some(row) = &mut row {
                                row.user_id.clear();
                            }
                            row
                        })
                        .collect();
                    Ok(Some((batch, page.next)))
                }
                // The end is said, so a reader that stopped otherwise (a panic) is never
                // taken for a complete window.
                Ok(None) => Ok(None),
                Err(error) => Err(error),
            };
            let failed = !matches!(batch, Ok(Some(_)));
            // The writer stopped (an error, Ctrl-C, the deadline): so does the reading.
            if tx.send(batch).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}

/// Reads the job's rows page by page into one transaction with its record; a page that
/// fails beyond the client's retries is read again from the last cursor.
async fn write_window(
    store: &mut Store,
    client: &UsageClient,
    window: &Window,
    rows: Rows<OrganizationPublicApiUsage>,
    per_user: bool,
) -> Result<(u64, u64), Exit> {
    let mut writer = store.window(window.sync_id, window.start, window.end)?;
    let mut pages = read_ahead(rows, per_user);
    let mut cursor: Option<String> = None;
    let mut retries = 0;
    loop {
        match pages.recv().await {
            Some(Ok(Some((batch, next)))) => {
                writer.add(batch)?;
                cursor = next;
                retries = 0;
            }
            Some(Ok(None)) => break,
            None => {
                return Err(Exit::failed(format!(
                    "reading the rows of job {} stopped; the window is rolled back",
                    window.handle.id()
                )));
            }
            Some(Err(error)) => match &cursor {
                Some(after) if retries < PAGE_RETRIES => {
                    retries += 1;
                    eprintln!(
                        "usage-report: job {}: {error}; reading on from the last page",
                        window.handle.id()
                    );
                    pages = read_ahead(client.rows_after(&window.handle, after).await?, per_user);
                }
                _ => return Err(error.into()),
            },
        }
    }
    writer.commit(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-15T10:00:00Z".parse().unwrap()
    }

    fn days(jobs: &[Interval]) -> Vec<(String, String)> {
        jobs.iter()
            .map(|j| {
                (
                    j.start().date_naive().to_string(),
                    j.end().date_naive().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn a_new_store_backfills_the_year_in_five_jobs() {
        let jobs = plan(&[], None, now()).unwrap();
        assert_eq!(jobs.len(), 5, "{jobs:?}");
        assert_eq!(jobs[0].start().date_naive(), day("2025-11-16"));
        assert_eq!(jobs[4].end().date_naive(), day("2026-11-15"));
        let since = plan(&[], Some(day("2026-10-01")), now()).unwrap();
        assert_eq!(days(&since), [("2026-10-01".into(), "2026-11-15".into())]);
    }

    #[test]
    fn later_runs_fetch_from_the_last_stored_day_through_yesterday() {
        let complete = [
            (day("2025-11-16"), day("2026-08-12")),
            (day("2026-08-12"), day("2026-11-12")),
        ];
        assert_eq!(
            days(&plan(&complete, None, now()).unwrap()),
            [("2026-11-11".into(), "2026-11-15".into())]
        );
        // Up to date: the last day once more, one job.
        let complete = [(day("2026-10-01"), day("2026-11-15"))];
        assert_eq!(
            days(&plan(&complete, None, now()).unwrap()),
            [("2026-11-14".into(), "2026-11-15".into())]
        );
    }

    #[test]
    fn gaps_and_an_earlier_since_are_filled() {
        let complete = [
            (day("2026-10-01"), day("2026-10-10")),
            (day("2026-10-20"), day("2026-11-15")),
        ];
        assert_eq!(
            days(&plan(&complete, Some(day("2026-09-01")), now()).unwrap()),
            [
                ("2026-09-01".into(), "2026-10-01".into()),
                ("2026-10-10".into(), "2026-10-20".into()),
                ("2026-11-14".into(), "2026-11-15".into()),
            ]
        );
        assert!(check_since(day("2025-11-15"), now()).is_err());
        assert!(check_since(day("2026-11-15"), now()).is_err());
        assert!(check_since(day("2025-11-16"), now()).is_ok());
    }
}
