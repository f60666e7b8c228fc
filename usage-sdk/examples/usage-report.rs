//! `usage-report`: API usage of a Genesys Cloud organization or OAuth client, as a table,
//! CSV or JSON.
//!
//! Reads `GENESYSCLOUD_REGION`, `GENESYSCLOUD_API_REGION`, `GENESYSCLOUD_OAUTHCLIENT_ID`,
//! `GENESYSCLOUD_OAUTHCLIENT_SECRET` and `GENESYSCLOUD_ACCESS_TOKEN`. With none of them set
//! it starts the local Usage API stand-in in-process and reports on its seeded data.
//!
//! ```text
//! cargo usage-report                                   # last 7 full UTC days, per OAuth client
//! cargo usage-report --days 30 --granularity Week --group-by OAuthClientId,HttpMethod
//! cargo usage-report --client ID --summary --days 14 --format csv
//! ```
//!
//! Exit codes: 0 success, 1 API or query error, 2 bad options.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use usage_sdk::raw::types::ApiUsageRow;
use usage_sdk::stand_in::{RunningStandIn, StandIn};
use usage_sdk::{
    ClientId, ClientQuery, Config, Days, Error, Execution, Granularity, GroupBy, Interval, Metric,
    OrganizationQuery, PollEvent, UsageClient,
};

const HELP: &str = "\
usage-report: Genesys Cloud API usage (POST /api/v2/usage/query and friends)

OPTIONS
  --days N               the last N full UTC days (default 7)
  --interval START/END   an explicit interval, e.g. 2026-11-01T00:00:00Z/2026-11-08T00:00:00Z
  --granularity G        Day, Week or Month (default: one row for the whole interval)
  --group-by LIST        comma-separated: OAuthClientId,OrganizationId,UserId,TemplateUri,HttpMethod
  --metrics LIST         comma-separated: Status200,Status300,Status400,Status500,Status429,Requests
  --client ID            one OAuth client's usage instead of the organization's
  --summary              with --client: the client usage summary of the last --days days
  --format F             table (default), csv or json
  --timeout SECS         give up waiting for the query after SECS seconds (default 1800)
  -h, --help             this text

ENVIRONMENT
  GENESYSCLOUD_REGION, GENESYSCLOUD_API_REGION, GENESYSCLOUD_OAUTHCLIENT_ID,
  GENESYSCLOUD_OAUTHCLIENT_SECRET, GENESYSCLOUD_ACCESS_TOKEN. With none set, a local
  stand-in of the Usage API is started and used.
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug)]
struct Options {
    days: u32,
    interval: Option<Interval>,
    granularity: Option<Granularity>,
    group_by: Vec<GroupBy>,
    metrics: Option<Vec<Metric>>,
    client: Option<ClientId>,
    summary: bool,
    format: Format,
    timeout: Option<Duration>,
}

/// A problem with the command line: exit code 2.
struct BadOptions(String);

impl From<Error> for BadOptions {
    fn from(error: Error) -> Self {
        BadOptions(error.to_string())
    }
}

fn parse_list<T: std::str::FromStr<Err = Error>>(value: &str) -> Result<Vec<T>, BadOptions> {
    value
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| part.parse::<T>().map_err(BadOptions::from))
        .collect()
}

fn parse_options(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, BadOptions> {
    let mut options = Options {
        days: 7,
        interval: None,
        granularity: None,
        group_by: Vec::new(),
        metrics: None,
        client: None,
        summary: false,
        format: Format::Table,
        timeout: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| BadOptions(format!("{name} needs a value")))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--days" => {
                let raw = value("--days")?;
                options.days = raw
                    .parse()
                    .map_err(|_| BadOptions(format!("--days {raw:?} is not a whole number")))?;
                Days::new(options.days)?;
            }
            "--interval" => options.interval = Some(value("--interval")?.parse()?),
            "--granularity" => options.granularity = Some(value("--granularity")?.parse()?),
            "--group-by" => options.group_by = parse_list(&value("--group-by")?)?,
            "--metrics" => options.metrics = Some(parse_list(&value("--metrics")?)?),
            "--client" => options.client = Some(ClientId::new(value("--client")?)?),
            "--summary" => options.summary = true,
            "--format" => {
                options.format = match value("--format")?.to_ascii_lowercase().as_str() {
                    "table" => Format::Table,
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    other => {
                        return Err(BadOptions(format!(
                            "--format {other:?}: use table, csv or json"
                        )));
                    }
                }
            }
            "--timeout" => {
                let raw = value("--timeout")?;
                let secs: u64 = raw.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    BadOptions(format!(
                        "--timeout {raw:?} is not a positive number of seconds"
                    ))
                })?;
                options.timeout = Some(Duration::from_secs(secs));
            }
            other => return Err(BadOptions(format!("unknown option {other:?}; see --help"))),
        }
    }
    if options.summary {
        if options.client.is_none() {
            return Err(BadOptions("--summary needs --client ID".into()));
        }
        if options.interval.is_some()
            || options.granularity.is_some()
            || !options.group_by.is_empty()
        {
            return Err(BadOptions(
                "--summary takes only --days; --interval, --granularity and --group-by do not apply".into(),
            ));
        }
    }
    Ok(Some(options))
}

/// What the report asks the API for.
enum Plan {
    Organization(OrganizationQuery),
    Client(ClientId, ClientQuery),
    Summary(ClientId, Days),
}

fn plan(options: &Options) -> Result<Plan, BadOptions> {
    let interval = match options.interval {
        Some(interval) => interval,
        None => Interval::last_full_days(options.days)?,
    };
    // The two builders have the same methods but are different types.
    macro_rules! query {
        ($builder:expr) => {{
            let mut query = $builder.group_by(options.group_by.iter().copied());
            if let Some(granularity) = options.granularity {
                query = query.granularity(granularity);
            }
            if let Some(metrics) = &options.metrics {
                query = query.metrics(metrics.iter().copied());
            }
            query.build()?
        }};
    }
    Ok(match &options.client {
        Some(client) if options.summary => Plan::Summary(client.clone(), Days::new(options.days)?),
        Some(client) => Plan::Client(client.clone(), query!(ClientQuery::builder(interval))),
        None => Plan::Organization(query!(OrganizationQuery::builder(interval))),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(BadOptions(message)) => {
            eprintln!("usage-report: {message}");
            return ExitCode::from(2);
        }
    };
    let plan = match plan(&options) {
        Ok(plan) => plan,
        Err(BadOptions(message)) => {
            eprintln!("usage-report: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&options, plan).await {
        Ok(()) => ExitCode::SUCCESS,
        // The message names the operation, HTTP status, Genesys error code and correlation id.
        Err(Failure::Sdk(error)) => {
            eprintln!("usage-report: {error}");
            ExitCode::from(if matches!(error, Error::InvalidInput(_)) {
                2
            } else {
                1
            })
        }
        Err(Failure::Local(message)) => {
            eprintln!("usage-report: {message}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Sdk(Error),
    Local(String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Sdk(error)
    }
}

async fn run(options: &Options, plan: Plan) -> Result<(), Failure> {
    let mut builder = Config::from_env()?;
    // Kept alive until the report is printed.
    let mut _stand_in: Option<RunningStandIn> = None;
    if !builder.has_credentials() {
        let stand_in = StandIn::builder()
            .start()
            .await
            .map_err(|e| Failure::Local(format!("cannot start the local stand-in: {e}")))?;
        let demo = stand_in.demo_client();
        eprintln!(
            "usage-report: no GENESYSCLOUD_* credentials set; using the local Usage API stand-in at {} (demo OAuth client {})",
            stand_in.base_url(),
            demo.id
        );
        builder = builder
            .base_url(stand_in.base_url())
            .client_credentials(demo.id.clone(), demo.secret.clone());
        _stand_in = Some(stand_in);
    }
    let config = builder.build()?;
    let mut poll = config.poll().clone();
    if let Some(timeout) = options.timeout {
        poll = poll.with_deadline(timeout);
    }
    let client = UsageClient::new(config)?;

    let (execution, metrics) = match &plan {
        Plan::Organization(query) => (
            client.submit_organization_query(query).await?,
            query.metrics().map(<[_]>::to_vec),
        ),
        Plan::Client(id, query) => (
            client.submit_client_query(id, query).await?,
            query.metrics().map(<[_]>::to_vec),
        ),
        Plan::Summary(id, days) => (client.submit_client_usage_summary(id, *days).await?, None),
    };
    let progress = std::io::stderr().is_terminal();
    let report = client
        .wait_observed(&execution, &poll, |event| {
            if progress {
                show_progress(event)
            }
        })
        .await;
    if progress {
        eprint!("\r\x1b[2K");
    }
    let report = report?;
    let columns = Columns::for_rows(&report.rows, options, metrics.as_deref());
    let out = match options.format {
        Format::Table => table(&report.rows, &columns),
        Format::Csv => csv(&report.rows, &columns),
        Format::Json => serde_json::to_string_pretty(&report.rows).expect("rows serialize") + "\n",
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}

fn show_progress(event: &PollEvent<'_>) {
    let Execution { id, .. } = event.execution;
    let status = event.status.map_or("no status", |s| s.as_str());
    eprint!(
        "\r\x1b[2Kexecution {id}: {status} after {:.1} s (poll {})",
        event.elapsed.as_secs_f64(),
        event.poll
    );
    let _ = std::io::stderr().flush();
}

/// Reads a dimension of a row (`""` when ungrouped).
type Dimension = fn(&ApiUsageRow) -> &str;
/// Reads a counter of a row (`None` when not requested).
type Counter = fn(&ApiUsageRow) -> Option<i64>;

/// Which columns a report shows: the grouped dimensions, the date when there is a
/// granularity, the counters asked for, and the error shares.
struct Columns {
    date: bool,
    dimensions: Vec<(&'static str, Dimension)>,
    counters: Vec<(&'static str, Counter)>,
}

impl Columns {
    fn for_rows(rows: &[ApiUsageRow], options: &Options, metrics: Option<&[Metric]>) -> Self {
        fn text(value: &Option<String>) -> &str {
            value.as_deref().unwrap_or("")
        }
        let all_dimensions: [(&'static str, Dimension); 6] = [
            ("clientId", |r| text(&r.client_id)),
            ("clientName", |r| text(&r.client_name)),
            ("organizationId", |r| text(&r.organization_id)),
            ("userId", |r| text(&r.user_id)),
            ("templateUri", |r| text(&r.template_uri)),
            ("httpMethod", |r| text(&r.http_method)),
        ];
        // Ungrouped dimensions come back as "": show a dimension when any row fills it.
        let dimensions = all_dimensions
            .into_iter()
            .filter(|(_, get)| rows.iter().any(|r| !get(r).is_empty()))
            .collect();
        let all_counters: [(Metric, &'static str, Counter); 6] = [
            (Metric::Requests, "requests", |r| r.requests),
            (Metric::Status200, "status200", |r| r.status200),
            (Metric::Status300, "status300", |r| r.status300),
            (Metric::Status400, "status400", |r| r.status400),
            (Metric::Status500, "status500", |r| r.status500),
            (Metric::Status429, "status429", |r| r.status429),
        ];
        let counters = all_counters
            .into_iter()
            .filter(|(metric, _, _)| metrics.is_none_or(|m| m.contains(metric)))
            .map(|(_, name, get)| (name, get))
            .collect();
        Self {
            date: options.granularity.is_some() || rows.iter().any(|r| r.date.is_some()),
            dimensions,
            counters,
        }
    }

    fn header(&self) -> Vec<String> {
        let mut header = Vec::new();
        if self.date {
            header.push("date".to_string());
        }
        header.extend(self.dimensions.iter().map(|(name, _)| name.to_string()));
        header.extend(self.counters.iter().map(|(name, _)| name.to_string()));
        header
    }

    fn cells(&self, row: &ApiUsageRow) -> Vec<String> {
        let mut cells = Vec::new();
        if self.date {
            cells.push(
                row.date
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
            );
        }
        cells.extend(self.dimensions.iter().map(|(_, get)| get(row).to_string()));
        cells.extend(
            self.counters
                .iter()
                .map(|(_, get)| get(row).map(|v| v.to_string()).unwrap_or_default()),
        );
        cells
    }
}

/// 4xx, 5xx and 429 as shares of all requests, when the row has what they need.
fn shares(
    requests: Option<i64>,
    status400: Option<i64>,
    status500: Option<i64>,
    status429: Option<i64>,
) -> [String; 3] {
    let share = |part: Option<i64>| match (part, requests) {
        (Some(part), Some(total)) if total > 0 => {
            format!("{:.1}%", part as f64 * 100.0 / total as f64)
        }
        (Some(_), Some(_)) => "0.0%".to_string(),
        _ => "-".to_string(),
    };
    [share(status400), share(status500), share(status429)]
}

fn table(rows: &[ApiUsageRow], columns: &Columns) -> String {
    let mut header = columns.header();
    header.extend(["4xx %", "5xx %", "429 %"].map(String::from));
    let mut body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells = columns.cells(row);
            cells.extend(shares(
                row.requests,
                row.status400,
                row.status500,
                row.status429,
            ));
            cells
        })
        .collect();
    // Totals: sum each counter column; shares from the summed counters.
    let sum = |get: Counter| -> Option<i64> {
        rows.iter()
            .map(get)
            .try_fold(0i64, |acc, v| v.map(|v| acc.saturating_add(v)))
    };
    let mut totals = vec![String::new(); header.len() - 3 - columns.counters.len()];
    if let Some(first) = totals.first_mut() {
        *first = format!("TOTAL ({} rows)", rows.len());
    }
    totals.extend(
        columns
            .counters
            .iter()
            .map(|(_, get)| sum(*get).map(|v| v.to_string()).unwrap_or_default()),
    );
    totals.extend(shares(
        sum(|r| r.requests),
        sum(|r| r.status400),
        sum(|r| r.status500),
        sum(|r| r.status429),
    ));
    if totals.len() == header.len() {
        body.push(totals);
    }

    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(&header)
                .chain(&body)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |i: usize| i >= header.len() - 3 - columns.counters.len();
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if numeric(i) {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&header);
    out += &(widths
        .iter()
        .map(|w| "-".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ")
        + "\n");
    let last = body.len().saturating_sub(1);
    for (i, row) in body.iter().enumerate() {
        if i == last && !rows.is_empty() {
            out += &(widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ")
                + "\n");
        }
        out += &line(row);
    }
    out
}

fn csv(rows: &[ApiUsageRow], columns: &Columns) -> String {
    fn field(value: &str) -> String {
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value.to_string()
        }
    }
    let mut out = columns
        .header()
        .iter()
        .map(|h| field(h))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for row in rows {
        out += &(columns
            .cells(row)
            .iter()
            .map(|c| field(c))
            .collect::<Vec<_>>()
            .join(",")
            + "\n");
    }
    out
}
