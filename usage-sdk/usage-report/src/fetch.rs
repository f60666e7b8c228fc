//! One fetch for every API and scope: submit the query (or take the handle of one
//! submitted earlier), wait for it with one progress line, read its rows as one stream of
//! [`ApiRow`]s. Ctrl-C and the `--timeout` deadline end every step ([`Limits`]); when they
//! do, the message says what was under way and how to resume.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::pin::Pin;

use tokio::task::{JoinHandle, JoinSet};
use usage_sdk::{
    ApiUsageRow, ClientPublicApiUsage, Days, Error, Execution, ExecutionScope, Handle,
    OAuthClientId, OAuthClientJob, OAuthClientJobQuery, OAuthClientQuery, OrganizationJob,
    OrganizationJobQuery, OrganizationPublicApiUsage, OrganizationQuery, PollPolicy, Rows,
    UsageClient, WaitEvent,
};

use crate::exit::Exit;
use crate::merge::{Merge, Merged};
use crate::row::ApiRow;
use crate::store::{Holder, ReportQuery, Store};
use crate::text::{shell_word, terminal_safe};

/// What to ask the API for: a query of any API and scope, or a handle to pick up again.
#[derive(Clone, Debug)]
pub enum Target {
    OrganizationJob(OrganizationJobQuery),
    ClientJob(OAuthClientId, OAuthClientJobQuery),
    Organization(OrganizationQuery),
    Client(OAuthClientId, OAuthClientQuery),
    Summary(OAuthClientId, Days),
    /// Submitted earlier (`--resume`).
    Resume(Resumed),
    /// An interval longer than a job's 90 days, as several jobs ([`crate::window`]), run
    /// concurrently and their rows merged.
    OrganizationJobs(Vec<OrganizationJobQuery>, Merge),
    ClientJobs(OAuthClientId, Vec<OAuthClientJobQuery>, Merge),
    /// The store `usage-report sync` keeps: no API call.
    Store(StoreTarget),
}

/// A report from the store.
#[derive(Clone, Debug)]
pub struct StoreTarget {
    pub path: std::path::PathBuf,
    pub query: ReportQuery,
    pub sort_by: Vec<usage_sdk::SortBy>,
}

/// What the store says besides its rows.
#[derive(Clone, Debug, Default)]
pub struct StoreFacts {
    /// The store holds the demo stand-in's rows.
    pub demo: bool,
    /// Which days of the interval it lacks, and what to do.
    pub notes: Vec<String>,
}

/// The rows of a report from the store, and what it lacks.
pub fn from_store(
    target: &StoreTarget,
    max_rows: Option<u64>,
) -> Result<(Fetched, StoreFacts), Exit> {
    let store = Store::open(&target.path, false)?;
    let shown = target.path.display();
    let info = store.info()?.ok_or_else(|| {
        Exit::usage(format!(
            "the store {shown} holds no rows yet; run `usage-report sync --store {}`",
            shell_word(&shown.to_string())
        ))
    })?;
    let query = &target.query;
    let mut notes = Vec::new();
    let lacking = store.lacking(query.first, query.end)?;
    if !lacking.is_empty() {
        let days: i64 = lacking.iter().map(|(s, e)| (*e - *s).num_days()).sum();
        let mut ranges: Vec<String> = lacking
            .iter()
            .take(5)
            .map(|(s, e)| {
                let last = e.pred_opt().unwrap_or(*e);
                if *s == last {
                    s.to_string()
                } else {
                    format!("{s} to {last}")
                }
            })
            .collect();
        if lacking.len() > 5 {
            ranges.push(format!("{} more ranges", lacking.len() - 5));
        }
        notes.push(format!(
            "The store lacks {days} day(s) of the interval: {}. `usage-report sync` fetches \
             those within the API's last year; older ones only a store synced then has.",
            ranges.join(", ")
        ));
    }
    let rows = store.report_rows(query)?;
    if let Some(max) = max_rows.filter(|max| rows.len() as u64 > *max) {
        return Err(Exit::failed(format!(
            "the store answers with {} rows, more than {max}; raise --max-rows, or ask for \
             fewer rows (--group-by, --granularity, a shorter interval)",
            rows.len()
        )));
    }
    let mut merged = Merged::default();
    for row in rows {
        merged.add(row, false);
    }
    let fetched = Fetched {
        streams: VecDeque::new(),
        merge: None,
        merged: Some(merged.finish(&target.sort_by).into_iter()),
        max_rows: None,
        read: 0,
        reading: format!("reading the store {shown}"),
    };
    Ok((
        fetched,
        StoreFacts {
            demo: info.holder == Holder::Demo,
            notes,
        },
    ))
}

/// A handle from `--resume`, of the kinds the report submits.
#[derive(Clone, Debug)]
pub enum Resumed {
    Execution(Execution),
    OrganizationJob(OrganizationJob),
    ClientJob(OAuthClientJob),
}

/// How to wait and read.
#[derive(Clone, Debug)]
pub struct Options {
    pub poll: PollPolicy,
    /// Whether to show the progress line on stderr (a terminal, no logs).
    pub progress: bool,
    /// Stop with an error rather than read more rows.
    pub max_rows: Option<u64>,
    /// How the resume command is written, or why there is none.
    pub resume: ResumeHint,
}

/// What the resume command needs besides the handle.
#[derive(Clone, Debug)]
pub struct ResumeHint {
    /// `--format F`, when not the table.
    pub format: Option<&'static str>,
    /// The demo stand-in's queries end with the program: nothing to resume.
    pub demo: bool,
}

/// What ends a step of the run early besides its own outcome: Ctrl-C, and the `--timeout`,
/// which bounds the whole run (submitting, waiting and reading the rows), not just the wait.
pub struct Limits {
    interrupted: JoinHandle<std::io::Result<()>>,
    deadline: tokio::time::Instant,
    timeout: std::time::Duration,
}

impl Limits {
    /// Watches Ctrl-C from now on (so it never kills the program without a word), and sets
    /// the deadline `timeout` from now.
    pub fn start(timeout: std::time::Duration) -> Self {
        let now = tokio::time::Instant::now();
        Self {
            interrupted: tokio::spawn(tokio::signal::ctrl_c()),
            // A deadline beyond what the clock can represent: none.
            deadline: now
                .checked_add(timeout)
                .unwrap_or_else(|| now + std::time::Duration::from_secs(100 * 365 * 24 * 3600)),
            timeout,
        }
    }

    /// Runs `step` until it ends, Ctrl-C or the deadline; `doing` says what was under way
    /// (and how to resume, when there is a way) in the message of the latter two.
    pub async fn run<T>(
        &mut self,
        step: impl Future<Output = Result<T, Exit>>,
        doing: impl FnOnce() -> String,
    ) -> Result<T, Exit> {
        self.run_until(self.deadline, step, doing).await
    }

    /// Like [`run`](Self::run), for a waiter given [`remaining`](Self::remaining) as its own
    /// deadline: its deadline error (with the last status) comes first, and the run's
    /// deadline ends the step only if the waiter overran by a second (its last poll's grace).
    pub async fn run_wait<T>(
        &mut self,
        step: impl Future<Output = Result<T, Exit>>,
        doing: impl FnOnce() -> String,
    ) -> Result<T, Exit> {
        let at = self.deadline + std::time::Duration::from_secs(1);
        self.run_until(at, step, doing).await
    }

    async fn run_until<T>(
        &mut self,
        at: tokio::time::Instant,
        step: impl Future<Output = Result<T, Exit>>,
        doing: impl FnOnce() -> String,
    ) -> Result<T, Exit> {
        tokio::select! {
            done = step => done,
            _ = &mut self.interrupted => Err(Exit::interrupted(format!("interrupted while {}", doing()))),
            () = tokio::time::sleep_until(at) => Err(Exit::failed(format!(
                "the --timeout of {} s passed while {}",
                self.timeout.as_secs(),
                doing()
            ))),
        }
    }

    /// The time left before the deadline, for the waiter's own deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.deadline
            .saturating_duration_since(tokio::time::Instant::now())
    }
}

/// The rows of a query of any kind, as they arrive.
pub struct Fetched {
    /// The jobs' streams, read one after the other (one, unless the interval was split).
    streams: VecDeque<RowStream>,
    /// How several jobs' rows merge; `None` for one job.
    merge: Option<Merge>,
    /// The merged rows, once every stream is read (when the merge needs every row).
    merged: Option<std::vec::IntoIter<ApiRow>>,
    /// Several jobs: the most rows of all of them together (each stream has its own limit).
    max_rows: Option<u64>,
    read: u64,
    /// What reading the rows is, and how to resume, for [`Limits::run`]'s message.
    reading: String,
}

impl Fetched {
    fn one(rows: RowStream, reading: String) -> Self {
        Self {
            streams: VecDeque::from([rows]),
            merge: None,
            merged: None,
            max_rows: None,
            read: 0,
            reading,
        }
    }

    /// The next row, or `None` after the last.
    pub async fn try_next(&mut self) -> Result<Option<ApiRow>, Exit> {
        if let Some(merge) = self.merge.take().filter(Merge::collects) {
            let mut merged = Merged::default();
            while let Some(row) = self.next_streamed().await? {
                merged.add(row, merge.sum);
            }
            self.merged = Some(merged.finish(&merge.sort_by).into_iter());
        }
        match &mut self.merged {
            Some(rows) => Ok(rows.next()),
            None => self.next_streamed().await,
        }
    }

    /// The next row of the streams in order.
    async fn next_streamed(&mut self) -> Result<Option<ApiRow>, Exit> {
        while let Some(stream) = self.streams.front_mut() {
            let row = match stream {
                RowStream::Legacy(rows) => rows.try_next().await?.map(ApiRow::Legacy),
                RowStream::Organization(rows) => rows.try_next().await?.map(ApiRow::Organization),
                RowStream::Client(rows) => rows.try_next().await?.map(ApiRow::Client),
            };
            if row.is_some() {
                self.read += 1;
                if let Some(max) = self.max_rows.filter(|max| self.read > *max) {
                    return Err(Exit::failed(format!(
                        "the jobs hold more than {max} rows together; raise --max-rows, or ask \
                         for fewer rows (--group-by, --granularity, a shorter interval)"
                    )));
                }
                return Ok(row);
            }
            self.streams.pop_front();
        }
        Ok(None)
    }

    /// "reading the rows of job ID; resume with ...".
    pub fn reading(&self) -> String {
        self.reading.clone()
    }
}

enum RowStream {
    Legacy(Rows<ApiUsageRow>),
    Organization(Rows<OrganizationPublicApiUsage>),
    Client(Rows<ClientPublicApiUsage>),
}

/// The row types the report reads, each one kind of [`RowStream`].
trait ReportRow: Sized {
    fn stream(rows: Rows<Self>) -> RowStream;
}

impl ReportRow for ApiUsageRow {
    fn stream(rows: Rows<Self>) -> RowStream {
        RowStream::Legacy(rows)
    }
}

impl ReportRow for OrganizationPublicApiUsage {
    fn stream(rows: Rows<Self>) -> RowStream {
        RowStream::Organization(rows)
    }
}

impl ReportRow for ClientPublicApiUsage {
    fn stream(rows: Rows<Self>) -> RowStream {
        RowStream::Client(rows)
    }
}

/// Submits `target` (unless it is a handle already), waits for it and starts reading.
pub async fn fetch(
    client: &UsageClient,
    target: &Target,
    options: &Options,
    limits: &mut Limits,
) -> Result<Fetched, Exit> {
    let of = |id| client.oauth_client(id);
    match target {
        Target::OrganizationJob(query) => {
            let job = submit(limits, JOBS, client.submit(query)).await?;
            wait(client, &job, None, options, limits).await
        }
        Target::ClientJob(id, query) => {
            let job = submit(limits, JOBS, of(id).submit(query)).await?;
            wait(client, &job, Some(id), options, limits).await
        }
        Target::Organization(query) => {
            let execution = submit(limits, LEGACY, client.submit(query)).await?;
            wait(client, &execution, None, options, limits).await
        }
        Target::Client(id, query) => {
            let execution = submit(limits, LEGACY, of(id).submit(query)).await?;
            wait(client, &execution, Some(id), options, limits).await
        }
        Target::Summary(id, days) => {
            let execution = submit(limits, LEGACY, of(id).submit(days)).await?;
            wait(client, &execution, Some(id), options, limits).await
        }
        Target::Resume(Resumed::Execution(execution)) => {
            let id = match &execution.scope {
                ExecutionScope::OAuthClient(id) => Some(id),
                _ => None,
            };
            wait(client, execution, id, options, limits).await
        }
        Target::Resume(Resumed::OrganizationJob(job)) => {
            wait(client, job, None, options, limits).await
        }
        Target::Resume(Resumed::ClientJob(job)) => {
            wait(client, job, Some(&job.client_id), options, limits).await
        }
        // Its facts (demo, lacking days) go with the rows: `from_store` reads it.
        Target::Store(store) => Err(Exit::failed(format!(
            "the store {} is read without a client",
            store.path.display()
        ))),
        Target::OrganizationJobs(queries, merge) => {
            let poll = options.poll.clone().with_deadline(limits.remaining());
            let jobs = queries
                .iter()
                .map(|query| {
                    let (client, query, poll) = (client.clone(), query.clone(), poll.clone());
                    Box::pin(async move {
                        let job = client.submit(&query).await?;
                        client.wait_observed(&job, &poll, |_| {}).await
                    }) as JobRows<_>
                })
                .collect();
            wait_all(jobs, merge, options, limits).await
        }
        Target::ClientJobs(id, queries, merge) => {
            let poll = options.poll.clone().with_deadline(limits.remaining());
            let jobs = queries
                .iter()
                .map(|query| {
                    let (client, query, poll) = (client.clone(), query.clone(), poll.clone());
                    let id = id.clone();
                    Box::pin(async move {
                        let job = client.oauth_client(&id).submit(&query).await?;
                        client.wait_observed(&job, &poll, |_| {}).await
                    }) as JobRows<_>
                })
                .collect();
            wait_all(jobs, merge, options, limits).await
        }
    }
}

/// One job of several: submitted, waited for, its rows ready to read.
type JobRows<R> = Pin<Box<dyn Future<Output = Result<Rows<R>, Error>> + Send>>;

/// Runs `jobs` concurrently (the client paces them when the server says 429), then reads
/// their rows in order, merged by `merge`. Several jobs cannot be resumed as one: a passed
/// deadline says to run the report again.
async fn wait_all<R>(
    jobs: Vec<JobRows<R>>,
    merge: &Merge,
    options: &Options,
    limits: &mut Limits,
) -> Result<Fetched, Exit>
where
    R: ReportRow + Send + 'static,
{
    let count = jobs.len();
    let again = "a report over several jobs cannot be resumed: run it again (with a larger \
                 --timeout)";
    let doing = format!("waiting for {count} jobs");
    let waited = limits
        .run_wait(
            async {
                let mut set = JoinSet::new();
                for (at, job) in jobs.into_iter().enumerate() {
                    set.spawn(async move { (at, job.await) });
                }
                let mut done: Vec<Option<Rows<R>>> = (0..count).map(|_| None).collect();
                while let Some(joined) = set.join_next().await {
                    let (at, rows) =
                        joined.map_err(|e| Exit::failed(format!("a job's task ended: {e}")))?;
                    done[at] = Some(rows.map_err(|error| match error {
                        Error::DeadlineExceeded { .. } | Error::JobDeadlineExceeded { .. } => {
                            Exit::failed(format!("{error}\n{again}"))
                        }
                        error => failed(&JOBS, error, &doing),
                    })?);
                }
                Ok(done.into_iter().flatten().collect::<Vec<_>>())
            },
            || format!("{doing}; {again}"),
        )
        .await?;
    let streams = waited
        .into_iter()
        .map(|rows| {
            R::stream(match options.max_rows {
                Some(max) => rows.max_rows(max),
                None => rows,
            })
        })
        .collect();
    Ok(Fetched {
        streams,
        merge: Some(merge.clone()),
        merged: None,
        max_rows: options.max_rows,
        read: 0,
        reading: format!("reading the rows of {count} jobs; {again}"),
    })
}

/// What the two APIs call their queries, in messages and the resume command.
struct Api {
    query: &'static str,
    resume: &'static str,
    /// A 403 means missing permissions: say which (the jobs need other ones than the legacy
    /// queries).
    permission_hint: bool,
}

const JOBS: Api = Api {
    query: "job",
    resume: "--resume",
    permission_hint: true,
};

const LEGACY: Api = Api {
    query: "execution",
    resume: "--api legacy --resume",
    permission_hint: false,
};

fn api_of(handle: &impl Handle) -> &'static Api {
    if handle.kind().starts_with("aggregates-job") {
        &JOBS
    } else {
        &LEGACY
    }
}

async fn submit<H>(
    limits: &mut Limits,
    api: Api,
    submitted: impl Future<Output = Result<H, Error>>,
) -> Result<H, Exit> {
    let doing = format!(
        "submitting the {}",
        if api.permission_hint { "job" } else { "query" }
    );
    limits
        .run(
            async { submitted.await.map_err(|e| failed(&api, e, &doing)) },
            || format!("{doing}; no {} id was received", api.query),
        )
        .await
}

/// An error of the API; a 403 from the jobs names the permission they need, and that the
/// legacy operations use other ones.
fn failed(api: &Api, error: Error, doing: &str) -> Exit {
    if api.permission_hint && error.status() == Some(403) {
        Exit::failed(format!(
            "{error}\nwhile {doing}: the aggregates jobs need the permission \
             usage:organization:view (organization) or usage:client:view (--client); \
             `--api legacy` uses the older usage permissions instead"
        ))
    } else {
        error.into()
    }
}

/// Waits for `handle` with the progress line, then starts reading its rows.
async fn wait<H>(
    client: &UsageClient,
    handle: &H,
    client_id: Option<&OAuthClientId>,
    options: &Options,
    limits: &mut Limits,
) -> Result<Fetched, Exit>
where
    H: Handle,
    H::Row: ReportRow,
{
    let api = api_of(handle);
    let resume = || resume_command(&options.resume, api.resume, handle.id(), client_id);
    let progress = options.progress && std::io::stderr().is_terminal();
    // The waiter's own deadline is what is left of the run's, so a query still running at
    // the end is reported as such (with its last status) rather than as a bare timeout.
    let poll = options.poll.clone().with_deadline(limits.remaining());
    let doing = format!("waiting for the {}", api.query);
    let waited = limits
        .run_wait(
            async {
                client
                    .wait_observed(handle, &poll, |event| {
                        if progress {
                            show_progress(event)
                        }
                    })
                    .await
                    .map_err(|error| match error {
                        Error::DeadlineExceeded { .. } | Error::JobDeadlineExceeded { .. } => {
                            Exit::failed(format!("{error}\n{}", resume()))
                        }
                        error => failed(api, error, &doing),
                    })
            },
            || format!("waiting for {} {}; {}", api.query, handle.id(), resume()),
        )
        .await;
    if progress {
        eprint!("\r\x1b[2K");
    }
    let rows = match options.max_rows {
        Some(max) => waited?.max_rows(max),
        None => waited?,
    };
    Ok(Fetched::one(
        H::Row::stream(rows),
        format!(
            "reading the rows of {} {}; {}",
            api.query,
            handle.id(),
            resume()
        ),
    ))
}

/// The progress line on a terminal, for every kind of query.
fn show_progress(event: &WaitEvent<'_>) {
    // The status comes from the server: escaped like every server string on the terminal.
    let status = terminal_safe(event.status.unwrap_or("no status"));
    let what = if event.kind.starts_with("aggregates-job") {
        "job"
    } else {
        "execution"
    };
    eprint!(
        "\r\x1b[2K{what} {}: {status} after {:.1} s (poll {})",
        terminal_safe(event.id),
        event.elapsed.as_secs_f64(),
        event.poll
    );
    let _ = std::io::stderr().flush();
}

/// `usage-report {resume} ID [--client C] [--format F]`, or why a demo run cannot resume.
fn resume_command(
    hint: &ResumeHint,
    resume: &str,
    id: &str,
    client: Option<&OAuthClientId>,
) -> String {
    if hint.demo {
        return "the demo stand-in's jobs and executions end with this program, so it cannot \
                be resumed; run the report again (with a larger --timeout)"
            .to_string();
    }
    let mut command = format!("usage-report {resume} {}", shell_word(id));
    if let Some(client) = client {
        command += &format!(" --client {}", shell_word(client.as_str()));
    }
    if let Some(format) = hint.format {
        command += &format!(" --format {format}");
    }
    format!("resume with (same GENESYSCLOUD_* environment): {command}")
}
