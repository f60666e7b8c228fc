//! The command line: clap derives the parser, the `--help` text and the conflict checks.
//!
//! Values are parsed with the library's own types (`Granularity`, `GroupBy`, `Metric`,
//! `Interval`, `OAuthClientId`, `Days`, `ExecutionId`), so the program accepts exactly what the
//! SDK accepts and reports the SDK's message when it does not.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use usage_sdk::{
    Days, EventDefinitionId, EventPageSize, Granularity, HttpMethod, Interval, Metric,
    OAuthClientId, PageSize, SortBy,
};

use crate::allowance::{License, parse_positive};
use crate::analysis::TopBy;
pub use crate::output::Format;

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
  USAGE_SDK_CA_FILE                a PEM file of CA certificates trusted in addition to the
                                   system's (a TLS-inspecting proxy's CA, say); not a
                                   GENESYSCLOUD_* variable, so it alone keeps demo mode

Exit codes: 0 success, 1 API or query error (or deadline passed), 2 bad options or
configuration, 130 interrupted.";

/// API usage of a Genesys Cloud organization or OAuth client (Usage API), as a table, CSV or
/// JSON.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "usage-report",
    version,
    after_help = ENVIRONMENT,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; without one, the report (with the options below).
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub report: ReportArgs,

    #[command(flatten)]
    pub profiles: ProfileArgs,

    /// Log the SDK's calls and attempts to stderr: -v debug, -vv trace (RUST_LOG wins)
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Log line format on stderr
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "F", global = true)]
    pub log_format: LogFormat,

    /// Print a completion script for SHELL and exit
    #[arg(long, value_name = "SHELL", exclusive = true)]
    pub completions: Option<clap_complete::Shell>,
}

/// Which organization(s): the profiles file (every command takes these, after its
/// subcommand; options before a subcommand are the report's).
#[derive(Clone, Debug, Default, Args)]
pub struct ProfileArgs {
    /// The profiles file: one [profile.NAME] table per organization; default
    /// usage-report/profiles.toml in the user's config directory ($XDG_CONFIG_HOME or
    /// ~/.config on Linux). Must not be readable by others (chmod 600)
    #[arg(long, value_name = "PATH", global = true)]
    pub profiles: Option<PathBuf>,

    /// The organization of profile NAME instead of the GENESYSCLOUD_* variables
    #[arg(
        long,
        value_name = "NAME",
        global = true,
        conflicts_with = "all_profiles"
    )]
    pub profile: Option<String>,

    /// Every profile's organization, concurrently (report, sync and serve): rows carry an
    /// organization column; one failing does not stop the others (exit 1 names it)
    #[arg(long, global = true)]
    pub all_profiles: bool,
}

/// The program's subcommands. Each gets its own module beside `report` (the next one:
/// `serve`).
#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// The usage report (what `usage-report` does without a subcommand)
    Report(Box<ReportArgs>),
    /// Operational events: what went wrong or changed in the organization (data actions,
    /// flows, OAuth clients), when, and how often (permission usage:events:view)
    #[command(subcommand)]
    Events(EventsCommand),
    /// Keep the history: fetch daily rows into a local SQLite store (the first run the last
    /// year, later runs from the last stored day through yesterday); report from it with
    /// --store
    Sync(SyncArgs),
    /// A Prometheus exporter: syncs the store(s) every --refresh (the first at start) and
    /// serves /metrics (OpenMetrics text) and /healthz; stops cleanly on SIGTERM
    Serve(ServeArgs),
}

/// The options of `serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Where to listen (loopback by default: put a proxy in front to expose it)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9464")]
    pub listen: std::net::SocketAddr,

    /// How often to sync: e.g. 90s, 30m, 1h, 1d
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_refresh)]
    pub refresh: Duration,

    /// Endpoints (method and template URI) with a series of their own, the most requested
    /// of the month; the rest are one series, template_uri="other"
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top_endpoints: usize,

    /// The store, without a profile (default: the default store, or for demo data
    /// usage-report/demo.sqlite3 in the data directory)
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,

    /// Give each sync at most SECS seconds (default 1800, at most 604800); jobs still running
    /// are picked up by the next one
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Serve the local stand-in's demo data even when GENESYSCLOUD_* variables are set
    #[arg(long)]
    pub demo: bool,
}

/// A duration as `90s`, `30m`, `1h` or `1d` (a bare number is seconds), 1 s to 7 days.
pub fn parse_refresh(value: &str) -> Result<Duration, String> {
    let text = value.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a duration; e.g. 90s, 30m, 1h, 1d"))?;
    let seconds = match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(|| format!("{value:?} is not a duration; e.g. 90s, 30m, 1h, 1d"))?;
    if !(1..=MAX_TIMEOUT.as_secs()).contains(&seconds) {
        return Err(format!("{value:?} is out of range: 1s to 7d"));
    }
    Ok(Duration::from_secs(seconds))
}

/// `usage-report events ...`.
#[derive(Clone, Debug, Subcommand)]
pub enum EventsCommand {
    /// The event definitions: id, name, description
    Definitions(EventsCommon),
    /// The events of an interval, newest first (CSV and JSON are written as they arrive)
    Query(EventsQueryArgs),
    /// How many events of each definition occurred in an interval
    Counts(EventsCountsArgs),
}

/// What every `events` subcommand takes.
#[derive(Clone, Debug, Args)]
pub struct EventsCommon {
    /// Output format (json: exactly as the API sent it)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Give up after SECS seconds (default 1800, at most 604800), reading included
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Use the local stand-in's demo data even when GENESYSCLOUD_* variables are set
    #[arg(long)]
    pub demo: bool,
}

/// The interval of an events query or count.
#[derive(Clone, Debug, Args)]
pub struct EventsInterval {
    /// The last N full UTC days (default 7)
    #[arg(long, value_name = "N", value_parser = parse_days, conflicts_with = "interval")]
    pub days: Option<Days>,

    /// An explicit interval, e.g. 2026-11-01T00:00:00Z/2026-11-08T00:00:00Z
    #[arg(long, value_name = "START/END")]
    pub interval: Option<Interval>,
}

/// `usage-report events query`.
#[derive(Clone, Debug, Args)]
pub struct EventsQueryArgs {
    #[command(flatten)]
    pub interval: EventsInterval,

    /// Only events of these definitions (comma-separated ids; `events definitions` lists them)
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub definitions: Vec<EventDefinitionId>,

    /// Only events containing TERM
    #[arg(long, value_name = "TERM")]
    pub search: Option<String>,

    /// Oldest first (asc) or newest first (desc, the default)
    #[arg(long, value_enum, value_name = "ORDER")]
    pub order: Option<Order>,

    /// Events per page, 1 to 200 (default 200: fewer requests)
    #[arg(long, value_name = "N", value_parser = parse_event_page_size)]
    pub page_size: Option<EventPageSize>,

    /// Stop with an error rather than read more than N events (default: 250000 for table
    /// and html, which hold every event; none for CSV and JSON)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: Option<u64>,

    #[command(flatten)]
    pub common: EventsCommon,
}

/// `usage-report events counts`.
#[derive(Clone, Debug, Args)]
pub struct EventsCountsArgs {
    #[command(flatten)]
    pub interval: EventsInterval,

    /// Also write a bar chart of the counts per definition to FILE (SVG)
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,

    #[command(flatten)]
    pub common: EventsCommon,
}

/// The order of events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Order {
    /// Oldest first
    Asc,
    /// Newest first
    Desc,
}

fn parse_event_page_size(value: &str) -> Result<EventPageSize, String> {
    value.parse().map_err(|e: usage_sdk::Error| e.to_string())
}

/// The options of `sync`.
#[derive(Clone, Debug, Args)]
pub struct SyncArgs {
    /// The store (an SQLite file, made if missing); default usage-report/usage.sqlite3 in
    /// the user's data directory ($XDG_DATA_HOME or ~/.local/share on Linux)
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,

    /// The first day to keep (YYYY-MM-DD, within the API's last year); default: the whole
    /// year the API still serves. A store that starts later is extended back to it
    #[arg(long, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,

    /// Keep rows per user too: more rows, the same totals. Fixed by a store's first sync
    /// (later syncs of a per-user store need not repeat it)
    #[arg(long)]
    pub per_user: bool,

    /// Rows per results page, 1 to 1000 (default 1000)
    #[arg(long, value_name = "N", value_parser = parse_page_size)]
    pub page_size: Option<PageSize>,

    /// Give up after SECS seconds (default 1800, at most 604800); jobs still running are
    /// picked up by the next sync
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Use the local stand-in's demo data even when GENESYSCLOUD_* variables are set (the
    /// store is then marked demo, and never takes an organization's rows)
    #[arg(long)]
    pub demo: bool,
}

impl Cli {
    /// The report's options, whether given with `report` or without a subcommand (another
    /// subcommand has them at their defaults).
    pub fn report_args(&self) -> &ReportArgs {
        match &self.command {
            Some(Command::Report(args)) => args,
            _ => &self.report,
        }
    }
}

/// The options of the report.
#[derive(Clone, Debug, Args)]
pub struct ReportArgs {
    /// The last N full UTC days (default 7); with --summary, the summary's days
    #[arg(long, value_name = "N", value_parser = parse_days, conflicts_with = "interval")]
    pub days: Option<Days>,

    /// An explicit interval, e.g. 2026-11-01T00:00:00Z/2026-11-08T00:00:00Z
    #[arg(long, value_name = "START/END")]
    pub interval: Option<Interval>,

    /// Day, Week or Month (default: one row for the whole interval)
    #[arg(long, value_name = "G")]
    pub granularity: Option<Granularity>,

    /// Which Usage API to ask: the aggregates query jobs (the successor API, permissions
    /// usage:organization:view / usage:client:view) or the legacy usage queries
    #[arg(long, value_enum, default_value_t = Api::Jobs)]
    pub api: Api,

    /// Comma-separated. Jobs: OauthClientName,OauthClientId,UserId,HttpMethod,TemplateUri,
    /// Platform (organization) or OrganizationId,HttpMethod,TemplateUri,Platform (--client).
    /// Legacy: OAuthClientId,OrganizationId,UserId,TemplateUri,HttpMethod
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub group_by: Vec<String>,

    /// Comma-separated: Status200,Status300,Status400,Status500,Status429,Requests
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub metrics: Option<Vec<Metric>>,

    /// Jobs only: keep requests to these path templates (comma-separated)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub template_uris: Vec<String>,

    /// Jobs only: keep requests with these methods, e.g. GET,POST
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub http_methods: Vec<HttpMethod>,

    /// Jobs only: keep requests made on these platforms (comma-separated)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub platforms: Vec<String>,

    /// Jobs only, organization: keep requests made on behalf of these users
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        conflicts_with = "client"
    )]
    pub user_ids: Vec<String>,

    /// Jobs only, organization: keep requests of these OAuth clients
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        conflicts_with = "client"
    )]
    pub oauth_client_ids: Vec<String>,

    /// Jobs only, with --client: keep requests made in these organizations
    #[arg(long, value_name = "LIST", value_delimiter = ',', requires = "client")]
    pub organization_ids: Vec<String>,

    /// Jobs only: sort rows by FIELD[:asc|:desc], e.g. requestCount:desc (repeatable)
    #[arg(long, value_name = "FIELD[:ORDER]", value_parser = parse_sort)]
    pub sort_by: Vec<SortBy>,

    /// Jobs only: rows per results page, 1 to 1000 (default 1000: fewer requests)
    #[arg(long, value_name = "N", value_parser = parse_page_size)]
    pub page_size: Option<PageSize>,

    /// One OAuth client's usage instead of the organization's
    #[arg(long, value_name = "ID")]
    pub client: Option<OAuthClientId>,

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

    #[command(flatten)]
    pub extras: Extras,

    /// Give up after SECS seconds (default 1800, at most 604800): submitting, waiting for and
    /// reading the query all count; the message then says how to resume
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Stop with an error rather than read more than N rows (default: 250000, about 0.5 GB,
    /// for the formats that hold every row, table, html, --chart, --top, --allowance; none
    /// for CSV and JSON, which are written as the rows arrive)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: Option<u64>,

    /// Wait for an execution submitted earlier (after a deadline or Ctrl-C); with --client ID
    /// for a client query or summary
    #[arg(
        long,
        value_name = "EXECUTION_ID",
        conflicts_with_all = ["days", "interval", "granularity", "group_by", "metrics", "summary", "demo"]
    )]
    pub resume: Option<String>,

    /// Use the local stand-in's demo data even when GENESYSCLOUD_* variables are set
    #[arg(long)]
    pub demo: bool,

    /// Report from the store `usage-report sync` keeps (PATH, or without it the default
    /// store): no API call, days older than the API's year included
    #[arg(
        long,
        value_name = "PATH",
        num_args = 0..=1,
        conflicts_with_all = ["resume", "summary", "demo", "client"]
    )]
    pub store: Option<Option<PathBuf>>,

    /// Print the JSON Schema of what --format json writes (an array of rows: organization
    /// job rows, client job rows with --client, ApiUsageRow with --api legacy) and exit
    #[arg(long, conflicts_with_all = ["resume", "summary", "demo"])]
    pub print_schema: bool,
}

/// The options of charts, the HTML report, the allowance forecast and top offenders.
#[derive(Clone, Debug, Default, Args)]
#[command(group(clap::ArgGroup::new("per_user_basis").args(["allowance_per_user", "license"])))]
pub struct Extras {
    /// Also write charts of the rows to FILE (SVG): requests per day by client, 429 share,
    /// top endpoints. Without --granularity the query asks for Day; without --group-by it
    /// groups by client, template URI and method
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,

    /// Keep the N rows with the largest --by value, largest first (every format)
    #[arg(long, value_name = "N", value_parser = parse_top)]
    pub top: Option<usize>,

    /// What --top orders by (default requests)
    #[arg(long, value_enum, value_name = "KEY", requires = "top")]
    pub by: Option<TopBy>,

    /// Monthly request allowance: report the month to date (full UTC days, per day) against
    /// it, with a month-end projection at the last 7 days' rate
    #[arg(
        long,
        value_name = "N",
        value_parser = parse_positive,
        conflicts_with_all = ["allowance_per_user", "license", "days", "interval", "resume", "summary"]
    )]
    pub allowance: Option<u64>,

    /// Allowance per user per month, times --users
    #[arg(
        long,
        value_name = "N",
        value_parser = parse_positive,
        requires = "users",
        conflicts_with_all = ["license", "days", "interval", "resume", "summary"]
    )]
    pub allowance_per_user: Option<u64>,

    /// The allowance of --users users of this license, from the fair-use table of the
    /// Genesys Cloud fair use policy (help centre article "Genesys Cloud fair use policy";
    /// requests per user per month, named / concurrent: Communicate 10,000 / -, CX 1
    /// 75,000 / 97,500, CX 2 and CX 2 Digital 110,000 / 143,000, CX 3 and CX 3 Digital
    /// 140,000 / 182,000, EX 75,000 / -). The forecast states a projected overage in
    /// requests, never a price
    #[arg(
        long,
        value_enum,
        value_name = "LICENSE",
        requires = "users",
        conflicts_with_all = ["days", "interval", "resume", "summary"]
    )]
    pub license: Option<License>,

    /// With --license: count concurrent users (the table's concurrent figures)
    #[arg(long, requires = "license")]
    pub concurrent: bool,

    /// With --allowance-per-user or --license: the number of users
    #[arg(long, value_name = "M", value_parser = parse_positive, requires = "per_user_basis")]
    pub users: Option<u64>,
}

fn parse_top(value: &str) -> Result<usize, String> {
    let n = parse_positive(value)?;
    usize::try_from(n).map_err(|_| format!("{value} is more rows than this machine can hold"))
}

/// Which Usage API the report asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Api {
    /// The aggregates query jobs (2025-03-31), with filters, sorting and paging
    Jobs,
    /// The legacy usage queries and client summary
    Legacy,
}

impl ReportArgs {
    /// The jobs-only options given, by flag name, for the error when --api legacy is asked.
    pub fn job_only_options(&self) -> Vec<&'static str> {
        [
            ("--template-uris", !self.template_uris.is_empty()),
            ("--http-methods", !self.http_methods.is_empty()),
            ("--platforms", !self.platforms.is_empty()),
            ("--user-ids", !self.user_ids.is_empty()),
            ("--oauth-client-ids", !self.oauth_client_ids.is_empty()),
            ("--organization-ids", !self.organization_ids.is_empty()),
            ("--sort-by", !self.sort_by.is_empty()),
            ("--page-size", self.page_size.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

fn parse_sort(value: &str) -> Result<SortBy, String> {
    let (field, order) = value.split_once(':').unwrap_or((value, "asc"));
    if field.trim().is_empty() {
        return Err(format!("{value:?} names no field; e.g. requestCount:desc"));
    }
    match order.to_ascii_lowercase().as_str() {
        "asc" => Ok(SortBy::ascending(field.trim())),
        "desc" => Ok(SortBy::descending(field.trim())),
        other => Err(format!("{other:?} is not an order; use asc or desc")),
    }
}

fn parse_page_size(value: &str) -> Result<PageSize, String> {
    value.parse().map_err(|e: usage_sdk::Error| e.to_string())
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

    fn parse_cli(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("usage-report").chain(args.iter().copied()))
    }

    fn parse(args: &[&str]) -> Result<ReportArgs, clap::Error> {
        parse_cli(args).map(|cli| cli.report_args().clone())
    }

    #[test]
    fn the_report_runs_without_a_subcommand_or_with_report() {
        let plain = parse_cli(&["--days", "3", "-v"]).unwrap();
        assert!(plain.command.is_none());
        assert_eq!(plain.verbose, 1);
        let named = parse_cli(&["report", "--days", "3", "-v"]).unwrap();
        assert!(matches!(named.command, Some(Command::Report(_))));
        assert_eq!(named.verbose, 1);
        assert_eq!(
            named.report_args().days,
            plain.report_args().days,
            "the same options either way"
        );
        // Report options before a subcommand would be silently ignored: refused.
        let error = parse_cli(&["--days", "3", "report"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn events_subcommands_parse_with_the_sdk_types() {
        let cli = parse_cli(&[
            "events",
            "query",
            "--days",
            "3",
            "--definitions",
            "d1,d2",
            "--search",
            "timeout",
            "--order",
            "asc",
            "--page-size",
            "50",
            "--format",
            "csv",
        ])
        .unwrap();
        let Some(Command::Events(EventsCommand::Query(args))) = cli.command else {
            panic!("{cli:?}");
        };
        assert_eq!(args.interval.days, Some(Days::new(3).unwrap()));
        assert_eq!(args.definitions.len(), 2);
        assert_eq!(args.order, Some(Order::Asc));
        assert_eq!(args.page_size, Some(EventPageSize::new(50).unwrap()));
        assert_eq!(args.common.format, Format::Csv);
        for bad in [
            &["events", "query", "--page-size", "201"][..],
            &["events", "query", "--definitions", ".."],
            &[
                "events",
                "counts",
                "--days",
                "3",
                "--interval",
                "2026-11-01/2026-11-08",
            ],
        ] {
            let error = parse_cli(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}");
        }
        // Report options do not apply to events.
        assert_eq!(
            parse_cli(&["--days", "3", "events", "counts"])
                .unwrap_err()
                .exit_code(),
            2
        );
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
        assert_eq!(cli.group_by, ["OAuthClientId", "HttpMethod"]);
        assert_eq!(cli.api, Api::Jobs);
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
    fn job_options_parse_and_are_named_for_the_legacy_check() {
        let cli = parse(&[
            "--api",
            "legacy",
            "--sort-by",
            "requestCount:desc",
            "--page-size",
            "500",
            "--http-methods",
            "get,POST",
        ])
        .unwrap();
        assert_eq!(cli.api, Api::Legacy);
        assert_eq!(cli.sort_by, [SortBy::descending("requestCount")]);
        assert_eq!(cli.page_size, Some(PageSize::new(500).unwrap()));
        assert_eq!(cli.http_methods, [HttpMethod::Get, HttpMethod::Post]);
        assert_eq!(
            cli.job_only_options(),
            ["--http-methods", "--sort-by", "--page-size"]
        );
        for bad in [
            &["--page-size", "1001"][..],
            &["--sort-by", "x:up"],
            &["--sort-by", ":asc"],
        ] {
            assert_eq!(
                parse(bad).unwrap_err().kind(),
                ErrorKind::ValueValidation,
                "{bad:?}"
            );
        }
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
