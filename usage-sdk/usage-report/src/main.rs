//! `usage-report`: API usage of a Genesys Cloud organization or OAuth client, as a table,
//! CSV, JSON, an HTML page or charts.
//!
//! ```text
//! usage-report                                   # last 7 full UTC days of the organization
//! usage-report --days 30 --granularity Week --group-by OAuthClientId,HttpMethod
//! usage-report --client ID --summary --days 14 --format csv
//! usage-report --resume JOB_ID [--client ID]         # after a deadline or Ctrl-C
//! usage-report --api legacy --days 3               # the legacy usage queries
//! usage-report events counts --days 7 --chart events.svg   # operational events per definition
//! usage-report events query --format csv           # the events themselves
//! ```
//!
//! The report flows one way, one module a step, each using only those below it:
//! `cli` (arguments) → `plan` (query, shape, output, notes) → `fetch` (one stream of rows
//! for every API and scope, with the deadline, Ctrl-C and the resume message) →
//! `aggregate` (totals, top, allowance) → `output` (table, CSV, JSON, HTML, chart).
//! `report` wires them; `events` (the `events` subcommands) uses the same `setup`, limits
//! and outputs. `cargo xtask layers` prints the graph and fails on a circle.
//!
//! Exit codes: 0 success, 1 API or query error (or the deadline passed), 2 bad options or
//! configuration, 130 interrupted.

mod aggregate;
mod allowance;
mod analysis;
mod cli;
mod events;
mod exit;
mod fetch;
mod fleet;
mod logging;
mod merge;
mod output;
mod plan;
mod profiles;
mod report;
mod row;
mod schema;
mod serve;
mod setup;
mod store;
mod sync;
mod text;
mod window;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::exit::Exit;
use crate::profiles::Selection;

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
    let args = cli.report_args();
    if args.print_schema {
        println!("{}", schema::rows_schema(args.api, args.client.is_some()));
        return ExitCode::SUCCESS;
    }
    // `serve` exports the 429s its requests receive, counted from the SDK's spans.
    let rate_limited =
        matches!(cli.command, Some(Command::Serve(_))).then(logging::RateLimited::default);
    if let Err(message) = logging::init(cli.verbose, cli.log_format, rate_limited.clone()) {
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
    // The progress line only when no logs go to stderr.
    let progress = !logging::verbose(cli.verbose);
    let selection = profiles::select(
        cli.profiles.profiles.as_deref(),
        cli.profiles.profile.as_deref(),
        cli.profiles.all_profiles,
    );
    let done = selection.and_then(|selection| {
        let one = match &selection {
            Selection::One(profile) => Some(profile),
            _ => None,
        };
        match (&cli.command, &selection) {
            (None | Some(Command::Report(_)), Selection::All(all)) => {
                runtime.block_on(fleet::report(args, all))
            }
            (Some(Command::Sync(sync)), Selection::All(all)) => {
                runtime.block_on(fleet::sync(sync, all))
            }
            (Some(Command::Serve(serve)), _) => runtime.block_on(serve::run(
                serve,
                &selection,
                rate_limited.clone().unwrap_or_default(),
            )),
            (Some(Command::Events(_)), Selection::All(_)) => Err(exit::Exit::usage(
                "--all-profiles runs report, sync or serve; events take one --profile NAME",
            )),
            (None | Some(Command::Report(_)), _) => {
                runtime.block_on(report::run(args, progress, one))
            }
            (Some(Command::Events(command)), _) => runtime.block_on(events::run(command, one)),
            (Some(Command::Sync(sync)), _) => runtime.block_on(sync::run(sync, one)),
        }
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit { code, message }) => {
            // Messages carry server strings (error messages, codes, statuses): escaped, so a
            // hostile server cannot send escape sequences to the terminal.
            eprintln!("usage-report: {}", text::terminal_safe_lines(&message));
            ExitCode::from(code)
        }
    }
}
