//! The command line: clap derives the parser, the `--help` text and the conflict checks.
//!
//! Values are parsed with the library's own types (`Granularity`, `GroupBy`, `Metric`,
//! `Interval`, `ClientId`, `Days`, `ExecutionId`), so the program accepts exactly what the
//! SDK accepts and reports the SDK's message when it does not.

use std::time::Duration;

use clap::{ArgAction, Parser, ValueEnum};
use usage_sdk::{ClientId, Days, ExecutionId, Granularity, GroupBy, Interval, Metric};

/// The longest `--timeout` accepted. Far above any real usage query (Genesys computes them in
/// seconds to minutes), and small enough that the deadline can never overflow a clock.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

const ENVIRONMENT: &str = "\
Configuration (environment):
  GENESYSCLOUD_REGION              e.g. eu-west-1 or mypurecloud.ie
  GENESYSCLOUD_API_REGION          a full API base URL (overrides the region)
  GENESYSCLOUD_OAUTHCLIENT_ID      OAuth client credentials ...
  GENESYSCLOUD_OAUTHCLIENT_SECRET  ... both, or:
  GENESYSCLOUD_ACCESS_TOKEN        a token obtained elsewhere
  A complete configuration is a region or base URL plus id and secret, or a token.
  With no GENESYSCLOUD_* variable set at all (or with --demo) the report runs against a
  local stand-in with seeded demo data and says so. Anything in between is an error.

Exit codes: 0 success, 1 API or query error (or deadline passed), 2 bad options or
configuration, 130 interrupted.";

/// API usage of a Genesys Cloud organization or OAuth client (Usage API), as a table, CSV or
/// JSON.
#[derive(Debug, Parser)]
#[command(name = "usage-report", version, after_help = ENVIRONMENT)]
pub struct Cli {
    /// The last N full UTC days (default 7); with --summary, the summary's days
    #[arg(long, value_name = "N", value_parser = parse_days, conflicts_with = "interval")]
    pub days: Option<Days>,

    /// An explicit interval, e.g. 2026-11-01T00:00:00Z/2026-11-08T00:00:00Z
    #[arg(long, value_name = "START/END")]
    pub interval: Option<Interval>,

    /// Day, Week or Month (default: one row for the whole interval)
    #[arg(long, value_name = "G")]
    pub granularity: Option<Granularity>,

    /// Comma-separated: OAuthClientId,OrganizationId,UserId,TemplateUri,HttpMethod
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub group_by: Vec<GroupBy>,

    /// Comma-separated: Status200,Status300,Status400,Status500,Status429,Requests
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub metrics: Option<Vec<Metric>>,

    /// One OAuth client's usage instead of the organization's
    #[arg(long, value_name = "ID")]
    pub client: Option<ClientId>,

    /// With --client: the client usage summary of the last --days days
    #[arg(
        long,
        requires = "client",
        conflicts_with_all = ["metrics", "interval", "granularity", "group_by"]
    )]
    pub summary: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Give up waiting for the query after SECS seconds (default 1800, at most 604800); the
    /// message then says how to resume
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Wait for an execution submitted earlier (after a deadline or Ctrl-C); with --client ID
    /// for a client query or summary
    #[arg(
        long,
        value_name = "EXECUTION_ID",
        conflicts_with_all = ["days", "interval", "granularity", "group_by", "metrics", "summary", "demo"]
    )]
    pub resume: Option<ExecutionId>,

    /// Use the local stand-in's demo data even when GENESYSCLOUD_* variables are set
    #[arg(long)]
    pub demo: bool,

    /// Log the SDK's calls and attempts to stderr: -v debug, -vv trace (RUST_LOG wins)
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,

    /// Log line format on stderr
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "F")]
    pub log_format: LogFormat,

    /// Print a completion script for SHELL and exit
    #[arg(long, value_name = "SHELL", exclusive = true)]
    pub completions: Option<clap_complete::Shell>,
}

/// How the rows are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns with totals and error shares
    Table,
    /// The same columns, comma-separated, no totals
    Csv,
    /// The rows exactly as the API's ApiUsageRow
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines
    Text,
    /// One JSON object per line
    Json,
}

fn parse_days(value: &str) -> Result<Days, String> {
    let days: u32 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number of days"))?;
    Days::new(days).map_err(|e| e.to_string())
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    let max = MAX_TIMEOUT.as_secs();
    let secs: u64 = value.trim().parse().map_err(|_| {
        format!("{value:?} is not a whole number of seconds (1 to {max}, i.e. 7 days)")
    })?;
    if secs == 0 || secs > max {
        return Err(format!(
            "{secs} s is out of range; use 1 to {max} seconds (7 days)"
        ));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("usage-report").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn values_are_parsed_with_the_sdk_types() {
        let cli = parse(&[
            "--days",
            "30",
            "--granularity",
            "week",
            "--group-by",
            "OAuthClientId,HttpMethod",
            "--metrics",
            "Requests,Status429",
            "--format",
            "csv",
            "--timeout",
            "60",
        ])
        .unwrap();
        assert_eq!(cli.days, Some(Days::new(30).unwrap()));
        assert_eq!(cli.granularity, Some(Granularity::Week));
        assert_eq!(cli.group_by, [GroupBy::OAuthClientId, GroupBy::HttpMethod]);
        assert_eq!(cli.metrics, Some(vec![Metric::Requests, Metric::Status429]));
        assert_eq!(cli.format, Format::Csv);
        assert_eq!(cli.timeout, Some(Duration::from_secs(60)));
    }

    #[test]
    fn summary_conflicts_with_query_options_instead_of_ignoring_them() {
        for extra in [
            &["--metrics", "Requests"][..],
            &["--interval", "2026-11-01/2026-11-08"],
            &["--granularity", "Day"],
            &["--group-by", "HttpMethod"],
        ] {
            let mut args = vec!["--client", "c1", "--summary"];
            args.extend_from_slice(extra);
            let error = parse(&args).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ArgumentConflict, "{args:?}");
        }
        assert_eq!(
            parse(&["--summary"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn interval_conflicts_with_days() {
        let error = parse(&["--days", "3", "--interval", "2026-11-01/2026-11-08"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn timeouts_that_cannot_be_honoured_are_refused() {
        for value in [
            "0",
            "604801",
            "18446744073709551615",
            "99999999999999999999999",
            "-1",
        ] {
            let error = parse(&[&format!("--timeout={value}")]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ValueValidation, "{value}");
            assert_eq!(error.exit_code(), 2);
        }
        assert_eq!(
            parse(&["--timeout", "604800"]).unwrap().timeout,
            Some(MAX_TIMEOUT)
        );
    }

    #[test]
    fn resume_takes_only_the_client_and_output_options() {
        let cli = parse(&["--resume", "e1", "--client", "c1", "--format", "json"]).unwrap();
        assert_eq!(cli.resume.unwrap().as_str(), "e1");
        assert_eq!(cli.client.unwrap().as_str(), "c1");
        for extra in ["--summary", "--demo"] {
            let error = parse(&["--resume", "e1", "--client", "c1", extra]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ArgumentConflict, "{extra}");
        }
        let error = parse(&["--resume", "e1", "--days", "3"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ArgumentConflict);
    }
}
