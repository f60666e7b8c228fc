//! `usage-report`: API usage of a Genesys Cloud organization or OAuth client, as a table,
//! CSV or JSON.
//!
//! ```text
//! usage-report                                   # last 7 full UTC days of the organization
//! usage-report --days 30 --granularity Week --group-by OAuthClientId,HttpMethod
//! usage-report --client ID --summary --days 14 --format csv
//! usage-report --resume JOB_ID [--client ID]         # after a deadline or Ctrl-C
//! usage-report --api legacy --days 3               # the legacy usage queries
//! ```
//!
//! Exit codes: 0 success, 1 API or query error (or the deadline passed), 2 bad options or
//! configuration, 130 interrupted.

mod allowance;
mod analysis;
mod chart;
mod cli;
mod extras;
mod html;
mod jobs;
mod logging;
mod render;
mod schema;
mod setup;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tokio::task::JoinHandle;
use usage_sdk::{
    Config, Days, Error, Execution, ExecutionId, ExecutionScope, GroupBy, Interval, Metric,
    OAuthClientId, OAuthClientQuery, OrganizationQuery, UsageClient, WaitEvent,
};
use usage_sdk_stand_in::{RunningStandIn, StandIn};

use crate::cli::{Api, Cli, Format};
use crate::setup::Source;

/// The line that marks demo output, in the table itself or on stderr.
const DEMO_NOTICE: &str = "DEMO DATA from the local stand-in, not your organization";

/// Why the program stops early: an exit code and what to say on stderr.
pub(crate) struct Exit {
    code: u8,
    message: String,
}

impl Exit {
    /// Bad options or configuration.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// The API, the query or the program failed.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// Ctrl-C.
    pub(crate) fn interrupted(message: impl Into<String>) -> Self {
        Self {
            code: 130,
            message: message.into(),
        }
    }
}

/// What ends a step of the run early besides its own outcome: Ctrl-C, and the `--timeout`,
/// which bounds the whole run (submitting, waiting and reading the rows), not just the wait.
pub(crate) struct Limits<'a> {
    pub(crate) interrupted: &'a mut JoinHandle<std::io::Result<()>>,
    pub(crate) deadline: tokio::time::Instant,
    pub(crate) timeout: std::time::Duration,
}

impl Limits<'_> {
    /// Runs `step` until it ends, Ctrl-C or the deadline; `doing` says what was under way
    /// (and how to resume, when there is a way) in the message of the latter two.
    pub(crate) async fn run<T>(
        &mut self,
        step: impl Future<Output = Result<T, Exit>>,
        doing: impl FnOnce() -> String,
    ) -> Result<T, Exit> {
        self.run_until(self.deadline, step, doing).await
    }

    /// Like [`run`](Self::run), for a waiter given [`remaining`](Self::remaining) as its own
    /// deadline: its deadline error (with the last status) comes first, and the run's
    /// deadline ends the step only if the waiter overran by a second (its last poll's grace).
    pub(crate) async fn run_wait<T>(
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
            _ = &mut *self.interrupted => Err(Exit::interrupted(format!("interrupted while {}", doing()))),
            () = tokio::time::sleep_until(at) => Err(Exit::failed(format!(
                "the --timeout of {} s passed while {}",
                self.timeout.as_secs(),
                doing()
            ))),
        }
    }

    /// The time left before the deadline, for the waiter's own deadline.
    pub(crate) fn remaining(&self) -> std::time::Duration {
        self.deadline
            .saturating_duration_since(tokio::time::Instant::now())
    }
}

impl From<usage_sdk::InvalidInput> for Exit {
    fn from(invalid: usage_sdk::InvalidInput) -> Self {
        Exit::usage(invalid.to_string())
    }
}

impl From<Error> for Exit {
    fn from(error: Error) -> Self {
        // The SDK's messages name the operation, HTTP status, Genesys error code and
        // correlation id; invalid input is checked before anything is sent, so it is ours.
        if matches!(error, Error::InvalidInput(_)) {
            Exit::usage(error.to_string())
        } else {
            Exit::failed(error.to_string())
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap's own exit codes: 0 for --help and --version, 2 for usage errors.
            let _ = error.print();
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    if let Some(shell) = cli.completions {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "usage-report",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    if cli.print_schema {
        println!("{}", schema::rows_schema(cli.api, cli.client.is_some()));
        return ExitCode::SUCCESS;
    }
    if let Err(message) = logging::init(cli.verbose, cli.log_format) {
        eprintln!("usage-report: {message}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("usage-report: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit { code, message }) => {
            // Messages carry server strings (error messages, codes, statuses): escaped, so a
            // hostile server cannot send escape sequences to the terminal.
            eprintln!("usage-report: {}", render::terminal_safe_lines(&message));
            ExitCode::from(code)
        }
    }
}

/// What the report asks the API for.
enum Plan {
    Organization(OrganizationQuery),
    Client(OAuthClientId, OAuthClientQuery),
    Summary(OAuthClientId, Days),
    /// An execution submitted earlier (`--resume`).
    Resume(Execution),
}

fn plan(cli: &Cli) -> Result<Plan, Exit> {
    let options = cli.job_only_options();
    if !options.is_empty() {
        return Err(Exit::usage(format!(
            "{} filter or page the aggregates jobs only; drop --api legacy",
            options.join(", ")
        )));
    }
    if let Some(execution_id) = &cli.resume {
        let execution_id: ExecutionId = execution_id.parse()?;
        let execution_id = &execution_id;
        return Ok(Plan::Resume(match &cli.client {
            Some(client) => Execution::oauth_client(client.clone(), execution_id.clone()),
            None => Execution::organization(execution_id.clone()),
        }));
    }
    let days = cli.days.unwrap_or_default();
    let interval = match cli.interval {
        Some(interval) => interval,
        None => Interval::last_full_days(days.get())?,
    };
    // The two builders have the same methods but are different types.
    macro_rules! query {
        ($builder:expr) => {{
            let group_by = cli
                .group_by
                .iter()
                .map(|g| g.parse::<GroupBy>())
                .collect::<Result<Vec<_>, _>>()?;
            let mut query = $builder.group_by(group_by);
            if let Some(granularity) = cli.granularity {
                query = query.granularity(granularity);
            }
            if let Some(metrics) = &cli.metrics {
                query = query.metrics(metrics.iter().copied());
            }
            query.build()?
        }};
    }
    Ok(match &cli.client {
        Some(client) if cli.summary => Plan::Summary(client.clone(), days),
        Some(client) => Plan::Client(client.clone(), query!(OAuthClientQuery::builder(interval))),
        None => Plan::Organization(query!(OrganizationQuery::builder(interval))),
    })
}

/// The `GENESYSCLOUD_*` variables present, with their values (which are never printed).
fn genesys_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with("GENESYSCLOUD_")
                .then(|| (name, value.to_string_lossy().into_owned()))
        })
        .collect()
}

async fn run(cli: &Cli) -> Result<(), Exit> {
    // --chart, --format html and --allowance widen the query (extras.rs says how).
    let (cli, notes) = extras::adjust(cli, chrono::Utc::now().date_naive())?;
    let cli = &cli;
    let vars = genesys_vars();
    let demo = if cli.demo {
        if !vars.is_empty() {
            eprintln!("usage-report: --demo: ignoring the GENESYSCLOUD_* variables");
        }
        true
    } else {
        setup::decide(&vars).map_err(Exit::usage)? == Source::Demo
    };
    if demo && cli.resume.is_some() {
        return Err(Exit::usage(
            "--resume needs a Genesys Cloud configuration (GENESYSCLOUD_*): executions of the \
             demo stand-in end with the program that started it",
        ));
    }
    // The legacy plan is checked before anything starts (a bad option exits 2 at once).
    let legacy_plan = if cli.api == Api::Legacy {
        Some(plan(cli)?)
    } else if cli.summary {
        return Err(Exit::usage(
            "--summary is a legacy operation (GET /api/v2/oauth/clients/{clientId}/usage/summary); add --api legacy",
        ));
    } else {
        None
    };
    let why = if cli.demo {
        "--demo"
    } else {
        "no GENESYSCLOUD_* variable set"
    };

    // Kept alive until the report is printed.
    let mut _stand_in: Option<RunningStandIn> = None;
    let config = if demo {
        let stand_in = StandIn::builder()
            .start()
            .await
            .map_err(|e| Exit::failed(format!("cannot start the local stand-in: {e}")))?;
        let client = stand_in.demo_client();
        eprintln!(
            "usage-report: {why}; using the local Usage API stand-in at {} (demo OAuth client {}): demo data, not your organization",
            stand_in.base_url(),
            client.id
        );
        let builder = Config::builder()
            .base_url(stand_in.base_url())
            .client_credentials(client.id.clone(), client.secret.clone());
        _stand_in = Some(stand_in);
        builder
    } else {
        Config::from_env()?
    }
    .user_agent_suffix(concat!("usage-report/", env!("CARGO_PKG_VERSION")))
    .build()?;
    let mut poll = config.poll().clone();
    if let Some(timeout) = cli.timeout {
        poll = poll.with_deadline(timeout);
    }
    let client = UsageClient::new(config)?;

    // Ctrl-C is watched from the start, so it never kills the program without a word.
    let mut interrupted: JoinHandle<_> = tokio::spawn(tokio::signal::ctrl_c());
    let mut limits = Limits {
        interrupted: &mut interrupted,
        deadline: tokio::time::Instant::now()
            .checked_add(poll.deadline)
            .unwrap_or_else(far_future),
        timeout: poll.deadline,
    };
    let demo_notice = demo.then(|| format!("{DEMO_NOTICE} ({why})"));
    // A legacy plan exactly when --api legacy; otherwise the jobs API.
    let Some(plan) = legacy_plan else {
        return jobs::run(
            cli,
            &client,
            &poll,
            demo_notice.as_deref(),
            &notes,
            &mut limits,
        )
        .await;
    };

    let submitted = async {
        Ok::<_, Error>(match &plan {
            Plan::Organization(query) => (
                client.submit(query).await?,
                query.metrics().map(<[_]>::to_vec),
            ),
            Plan::Client(id, query) => (
                client.oauth_client(id).submit(query).await?,
                query.metrics().map(<[_]>::to_vec),
            ),
            Plan::Summary(id, days) => (client.oauth_client(id).submit(days).await?, None),
            Plan::Resume(execution) => (execution.clone(), None),
        })
    };
    let (execution, metrics): (Execution, Option<Vec<Metric>>) = limits
        .run(async { Ok(submitted.await?) }, || {
            "submitting the query; no execution id was received".to_string()
        })
        .await?;

    let progress = std::io::stderr().is_terminal() && !logging::verbose(cli.verbose);
    let poll = poll.with_deadline(limits.remaining());
    let waited = limits
        .run_wait(
            async {
                client
                    .wait_observed(&execution, &poll, |event| {
                        if progress {
                            show_progress(event)
                        }
                    })
                    .await
                    .map_err(|error| match error {
                        Error::DeadlineExceeded { .. } => Exit::failed(format!(
                            "{error}\n{}",
                            how_to_resume(cli, &execution, demo)
                        )),
                        error => error.into(),
                    })?
                    .try_collect()
                    .await
                    .map_err(Exit::from)
            },
            || {
                format!(
                    "waiting for execution {}; {}",
                    execution.id,
                    how_to_resume(cli, &execution, demo)
                )
            },
        )
        .await;
    if progress {
        eprint!("\r\x1b[2K");
    }
    let rows = waited?;

    if cli.extras.collect(cli.format) {
        let collected = rows
            .iter()
            .map(|r| extras::Collected::new(r, r.into(), cli.format))
            .collect();
        let out = extras::output(
            cli,
            &notes,
            cli.granularity.is_some(),
            metrics.as_deref(),
            demo_notice.as_deref(),
            collected,
        )?;
        if let (Some(notice), Format::Csv | Format::Json | Format::Html) =
            (&demo_notice, cli.format)
        {
            eprintln!("usage-report: {notice}");
        }
        return write_stdout(&out);
    }
    let mut out = render::render(
        &rows,
        cli.format,
        cli.granularity.is_some(),
        metrics.as_deref(),
    );
    if demo {
        match cli.format {
            // In the table itself, so a copy or a screenshot cannot lose it.
            Format::Table => {
                out = format!("{DEMO_NOTICE} ({why})\n\n{out}\n{DEMO_NOTICE} ({why})\n")
            }
            // CSV and JSON stay machine-clean.
            Format::Csv | Format::Json | Format::Html => {
                eprintln!("usage-report: {DEMO_NOTICE} ({why})")
            }
        }
    }
    write_stdout(&out)
}

fn write_stdout(out: &str) -> Result<(), Exit> {
    let mut stdout = std::io::stdout().lock();
    written(
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush()),
    )
}

/// A write to stdout: `usage-report | head` is not a failure; any other write error is.
pub(crate) fn written(result: std::io::Result<()>) -> Result<(), Exit> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Exit::failed(format!("cannot write the report: {e}")))
        }
        _ => Ok(()),
    }
}

/// The command that picks `execution` up again, or why there is none.
pub(crate) fn how_to_resume(cli: &Cli, execution: &Execution, demo: bool) -> String {
    let client = match &execution.scope {
        ExecutionScope::OAuthClient(client) => Some(client),
        _ => None,
    };
    resume_command(
        cli,
        "--api legacy --resume",
        execution.id.as_str(),
        client,
        demo,
    )
}

/// `usage-report {resume} ID [--client C] [--format F]`, or why a demo run cannot resume.
pub(crate) fn resume_command(
    cli: &Cli,
    resume: &str,
    id: &str,
    client: Option<&usage_sdk::OAuthClientId>,
    demo: bool,
) -> String {
    if demo {
        return "the demo stand-in's jobs and executions end with this program, so it cannot \
                be resumed; run the report again (with a larger --timeout)"
            .to_string();
    }
    let mut command = format!("usage-report {resume} {}", shell_word(id));
    if let Some(client) = client {
        command += &format!(" --client {}", shell_word(client.as_str()));
    }
    if cli.format != Format::Table {
        command += &format!(" --format {}", cli.format.name());
    }
    format!("resume with (same GENESYSCLOUD_* environment): {command}")
}

/// `word` as one shell word: left alone when it is plainly safe, single-quoted otherwise.
pub(crate) fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@%+=,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A deadline beyond what the clock can represent: none.
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(100 * 365 * 24 * 3600)
}

/// The progress line on a terminal, for every kind of query.
pub(crate) fn show_progress(event: &WaitEvent<'_>) {
    // The status comes from the server: escaped like every server string on the terminal.
    let status = render::terminal_safe(event.status.unwrap_or("no status"));
    let what = if event.kind.starts_with("aggregates-job") {
        "job"
    } else {
        "execution"
    };
    eprint!(
        "\r\x1b[2K{what} {}: {status} after {:.1} s (poll {})",
        render::terminal_safe(event.id),
        event.elapsed.as_secs_f64(),
        event.poll
    );
    let _ = std::io::stderr().flush();
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn resume_commands_quote_only_what_needs_it() {
        assert_eq!(
            shell_word("9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1"),
            "9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
