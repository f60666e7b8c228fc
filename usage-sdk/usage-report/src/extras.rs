//! The options that need every row before anything is printed: `--chart`, `--format html`,
//! `--allowance` and `--top`. Both `--api` paths hand their rows here when one of them is
//! given (CSV and JSON then stop streaming: memory holds the rows).
//!
//! Before the query is built, [`adjust`] widens it to what these options need:
//! - charts (`--chart`, `--format html`) with no `--granularity` ask for `Day`, and with no
//!   `--group-by` group by client, template URI and method; a query the user shaped
//!   explicitly is kept and the charts draw what its rows allow and say what is missing;
//! - `--allowance` replaces the interval with the month to date (so it conflicts with
//!   `--days` and `--interval`) and asks for daily rows (so `--granularity` must be `Day`).

use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use clap::Args;
use usage_sdk::{Granularity, Interval, Metric};

use crate::Exit;
use crate::allowance::{Allowance, Forecast, month_to_date, parse_positive};
use crate::analysis::{ChartData, TopBy, Totals, top};
use crate::chart::{self, ChartContext};
use crate::cli::{Api, Cli, Format};
use crate::html;
use crate::render::{self, Row};

/// The options of charts, the HTML report, the allowance forecast and top offenders.
#[derive(Clone, Debug, Default, Args)]
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
        conflicts_with_all = ["allowance_per_user", "days", "interval", "resume", "summary"]
    )]
    pub allowance: Option<u64>,

    /// Allowance per user per month, times --users
    #[arg(
        long,
        value_name = "N",
        value_parser = parse_positive,
        requires = "users",
        conflicts_with_all = ["days", "interval", "resume", "summary"]
    )]
    pub allowance_per_user: Option<u64>,

    /// With --allowance-per-user: the number of users
    #[arg(long, value_name = "M", value_parser = parse_positive, requires = "allowance_per_user")]
    pub users: Option<u64>,

    /// The UTC day [`adjust`] planned the query for: the forecast counts the same month even
    /// when the run passes midnight (not an option).
    #[arg(skip)]
    pub today: Option<NaiveDate>,
}

fn parse_top(value: &str) -> Result<usize, String> {
    let n = parse_positive(value)?;
    usize::try_from(n).map_err(|_| format!("{value} is more rows than this machine can hold"))
}

impl Extras {
    fn charts(&self, format: Format) -> bool {
        self.chart.is_some() || format == Format::Html
    }

    /// Whether the rows must be collected and handed to [`output`].
    pub fn collect(&self, format: Format) -> bool {
        self.charts(format) || self.top.is_some() || self.allowance().ok().flatten().is_some()
    }

    /// The allowance asked for, if any; an error when `N x M` does not fit.
    pub fn allowance(&self) -> Result<Option<Allowance>, String> {
        match (self.allowance, self.allowance_per_user, self.users) {
            (Some(n), _, _) => Ok(Some(Allowance::per_month(n))),
            (None, Some(n), Some(m)) => Allowance::per_user(n, m).map(Some),
            _ => Ok(None),
        }
    }
}

/// The query the report runs, widened for the options above, and notes saying how.
pub fn adjust(cli: &Cli, today: NaiveDate) -> Result<(Cli, Vec<String>), Exit> {
    let mut cli = cli.clone();
    cli.extras.today = Some(today);
    let mut notes = Vec::new();
    let extras = cli.extras.clone();
    let allowance = extras.allowance().map_err(Exit::usage)?;
    if allowance.is_some() {
        if matches!(cli.granularity, Some(g) if g != Granularity::Day) {
            return Err(Exit::usage(
                "--allowance needs daily rows of the month to date; drop --granularity or use Day",
            ));
        }
        if matches!(&cli.metrics, Some(m) if !m.contains(&Metric::Requests)) {
            return Err(Exit::usage(
                "--allowance counts requests; add Requests to --metrics",
            ));
        }
        let (first, end) = month_to_date(today);
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        cli.interval = Some(Interval::new(midnight(first), midnight(end))?);
        cli.days = None;
        cli.granularity = Some(Granularity::Day);
        notes.push(format!(
            "--allowance: the query covers the month to date, {first} to {}, per day",
            end.pred_opt().unwrap_or(end)
        ));
    }
    if extras.charts(cli.format) {
        if cli.resume.is_some() || cli.summary {
            notes.push(
                "A resumed job or a summary: the charts draw what its rows allow.".to_string(),
            );
            return Ok((cli, notes));
        }
        if cli.granularity.is_none() {
            cli.granularity = Some(Granularity::Day);
            notes.push("No --granularity given: the charts' query asks for Day.".to_string());
        }
        if cli.group_by.is_empty() {
            let group_by: &[&str] = match (cli.api, cli.client.is_some()) {
                (_, true) => &["TemplateUri", "HttpMethod"],
                (Api::Jobs, false) => &[
                    "OauthClientId",
                    "OauthClientName",
                    "TemplateUri",
                    "HttpMethod",
                ],
                (Api::Legacy, false) => &["OAuthClientId", "TemplateUri", "HttpMethod"],
            };
            cli.group_by = group_by.iter().map(|g| g.to_string()).collect();
            notes.push(format!(
                "No --group-by given: grouped by {} for the charts.",
                group_by.join(", ")
            ));
        }
    }
    Ok((cli, notes))
}

/// A row as the report shows it and, for `--format json` only, as the API sent it.
pub struct Collected {
    pub row: Row,
    pub raw: Option<serde_json::Value>,
}

impl Collected {
    pub fn new<R: serde::Serialize>(raw: &R, row: Row, format: Format) -> Self {
        Collected {
            row,
            raw: (format == Format::Json)
                .then(|| serde_json::to_value(raw).expect("rows serialize to JSON")),
        }
    }
}

/// The query's parameters as the HTML report lists them.
fn parameters(cli: &Cli) -> Vec<(String, String)> {
    let mut p = vec![(
        "API".to_string(),
        match cli.api {
            Api::Jobs => "aggregates query jobs".to_string(),
            Api::Legacy => "legacy usage queries".to_string(),
        },
    )];
    p.push((
        "Scope".into(),
        match &cli.client {
            Some(c) => format!("OAuth client {}", c.as_str()),
            None => "organization".into(),
        },
    ));
    if let Some(id) = &cli.resume {
        p.push(("Resumed".into(), id.clone()));
    } else {
        let interval = match cli.interval {
            Some(i) => i.to_string(),
            None => format!(
                "the last {} full UTC days",
                cli.days.unwrap_or_default().get()
            ),
        };
        p.push(("Interval".into(), interval));
    }
    let list = |v: &[String]| v.join(", ");
    p.push((
        "Granularity".into(),
        cli.granularity
            .map_or("none (one row per group)".into(), |g| g.to_string()),
    ));
    if !cli.group_by.is_empty() {
        p.push(("Group by".into(), list(&cli.group_by)));
    }
    if let Some(m) = &cli.metrics {
        p.push((
            "Metrics".into(),
            m.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "),
        ));
    }
    for (label, values) in [
        ("Template URIs", &cli.template_uris),
        ("Platforms", &cli.platforms),
        ("User ids", &cli.user_ids),
        ("OAuth client ids", &cli.oauth_client_ids),
        ("Organization ids", &cli.organization_ids),
    ] {
        if !values.is_empty() {
            p.push((label.into(), list(values)));
        }
    }
    if !cli.http_methods.is_empty() {
        p.push((
            "HTTP methods".into(),
            cli.http_methods
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(n) = cli.extras.top {
        p.push((
            "Top".into(),
            format!(
                "{n} rows by {}",
                cli.extras.by.unwrap_or(TopBy::Requests).name()
            ),
        ));
    }
    p
}

/// The report from collected rows in `cli.format`, having written the chart file if asked.
/// `granularity` and `metrics` are what the query asked for (as for the plain table).
pub fn output(
    cli: &Cli,
    notes: &[String],
    granularity: bool,
    metrics: Option<&[Metric]>,
    demo_notice: Option<&str>,
    collected: Vec<Collected>,
) -> Result<String, Exit> {
    let extras = &cli.extras;
    let (rows, raw): (Vec<Row>, Vec<Option<serde_json::Value>>) =
        collected.into_iter().map(|c| (c.row, c.raw)).unzip();
    let heading = format!(
        "{} · {}",
        match &cli.client {
            Some(c) => format!("OAuth client {}", c.as_str()),
            None => "Organization".to_string(),
        },
        cli.interval.map_or_else(
            || format!("last {} full UTC days", cli.days.unwrap_or_default().get()),
            |i| i.to_string()
        )
    );
    let context = ChartContext {
        unit: cli.granularity.map(|g| match g {
            Granularity::Week => "week",
            Granularity::Month => "month",
            _ => "day",
        }),
        heading: match demo_notice {
            Some(notice) => format!("{heading} · {notice}"),
            None => heading,
        },
        notes: notes.to_vec(),
    };
    let charts = extras
        .charts(cli.format)
        .then(|| ChartData::from_rows(&rows));
    if let (Some(path), Some(data)) = (&extras.chart, &charts) {
        let svg = chart::combined(data, &context).map_err(Exit::failed)?;
        std::fs::write(path, svg).map_err(|e| {
            Exit::failed(format!("cannot write the chart to {}: {e}", path.display()))
        })?;
    }
    let forecast = extras.allowance().map_err(Exit::usage)?.map(|a| {
        // The clock only when `adjust` did not plan this run (some unit tests).
        let today = extras.today.unwrap_or_else(|| Utc::now().date_naive());
        Forecast::from_rows(&rows, a, today)
    });

    let shown: Vec<usize> = match extras.top {
        Some(n) => top(&rows, n, extras.by.unwrap_or(TopBy::Requests)),
        None => (0..rows.len()).collect(),
    };
    let table_note = extras.top.map(|n| {
        format!(
            "The top {} of {} rows by {}; the totals row sums the rows shown.",
            n.min(rows.len()),
            rows.len(),
            extras.by.unwrap_or(TopBy::Requests).name()
        )
    });
    let shown_rows: Vec<Row> = shown.iter().map(|&i| rows[i].clone()).collect();

    Ok(match cli.format {
        Format::Table => {
            let mut out = String::new();
            if let Some(notice) = demo_notice {
                out += &format!("{notice}\n\n");
            }
            if let Some(note) = &table_note {
                out += &format!("{note}\n");
            }
            out += &render::render_rows(&shown_rows, Format::Table, granularity, metrics);
            if let Some(f) = &forecast {
                out += "\n";
                out += &f.text();
            }
            if let Some(notice) = demo_notice {
                out += &format!("\n{notice}\n");
            }
            out
        }
        Format::Csv => {
            if let Some(f) = &forecast {
                // stdout stays CSV.
                eprint!("{}", f.text());
            }
            render::render_rows(&shown_rows, Format::Csv, granularity, metrics)
        }
        Format::Json => {
            let raw: Vec<&serde_json::Value> =
                shown.iter().filter_map(|&i| raw[i].as_ref()).collect();
            let json = match &forecast {
                Some(f) => serde_json::to_string_pretty(&serde_json::json!({
                    "rows": raw,
                    "allowance": f,
                })),
                None => serde_json::to_string_pretty(&raw),
            };
            json.expect("rows serialize to JSON") + "\n"
        }
        Format::Html => {
            let data = charts.unwrap_or_default();
            let svgs = chart::panels(&data, &context).map_err(Exit::failed)?;
            let (header, cells, numeric) = render::table_cells(&shown_rows, granularity, metrics);
            let parameters = parameters(cli);
            html::page(&html::Page {
                title: "Genesys Cloud API usage",
                demo_notice,
                parameters: &parameters,
                notes,
                totals: Totals::of(&rows),
                forecast: forecast.as_ref(),
                charts: &svgs,
                header: &header,
                cells: &cells,
                numeric: &numeric,
                table_note,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("usage-report").chain(args.iter().copied()))
    }

    fn ok<T>(result: Result<T, Exit>) -> T {
        result.unwrap_or_else(|e| panic!("exit {}: {}", e.code, e.message))
    }

    fn today() -> NaiveDate {
        "2026-11-15".parse().unwrap()
    }

    #[test]
    fn charts_default_to_daily_rows_grouped_by_client_and_endpoint() {
        let (cli, notes) = ok(adjust(&parse(&["--chart", "x.svg"]).unwrap(), today()));
        assert_eq!(cli.granularity, Some(Granularity::Day));
        assert_eq!(
            cli.group_by,
            [
                "OauthClientId",
                "OauthClientName",
                "TemplateUri",
                "HttpMethod"
            ]
        );
        assert_eq!(notes.len(), 2);
        // An explicit shape is kept.
        let (cli, notes) = ok(adjust(
            &parse(&[
                "--format",
                "html",
                "--granularity",
                "Week",
                "--group-by",
                "HttpMethod",
            ])
            .unwrap(),
            today(),
        ));
        assert_eq!(cli.granularity, Some(Granularity::Week));
        assert_eq!(cli.group_by, ["HttpMethod"]);
        assert!(notes.is_empty());
    }

    #[test]
    fn the_allowance_asks_for_the_month_to_date_per_day() {
        let (cli, _) = ok(adjust(&parse(&["--allowance", "1000"]).unwrap(), today()));
        assert_eq!(
            cli.interval.unwrap().to_string(),
            Interval::new(
                "2026-11-01T00:00:00Z".parse().unwrap(),
                "2026-11-15T00:00:00Z".parse().unwrap()
            )
            .unwrap()
            .to_string()
        );
        assert_eq!(cli.granularity, Some(Granularity::Day));
        assert!(cli.extras.collect(Format::Csv));
    }

    #[test]
    fn allowance_options_that_cannot_work_exit_2() {
        for args in [
            &["--allowance", "0"][..],
            &["--allowance", "-5"],
            &["--allowance", "99999999999999999999999"],
            &["--allowance", "5", "--days", "3"],
            &["--allowance", "5", "--interval", "2026-11-01/2026-11-08"],
            &[
                "--allowance",
                "5",
                "--allowance-per-user",
                "5",
                "--users",
                "2",
            ],
            &["--allowance-per-user", "5"],
            &["--users", "5"],
            &["--by", "requests"],
            &["--top", "0"],
        ] {
            let error = parse(args).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
        let overflow = parse(&[
            "--allowance-per-user",
            "18446744073709551615",
            "--users",
            "2",
        ])
        .unwrap();
        assert_eq!(adjust(&overflow, today()).err().map(|e| e.code), Some(2));
        let weekly = parse(&["--allowance", "5", "--granularity", "Week"]).unwrap();
        assert_eq!(adjust(&weekly, today()).err().map(|e| e.code), Some(2));
    }

    fn rows() -> Vec<Collected> {
        [
            ("a", 10, 0),
            ("b", 300, 30),
            ("<script>alert(1)</script>", 50, 25),
        ]
        .into_iter()
        .map(|(name, requests, s429)| {
            let row = Row {
                date: Some("2026-11-01".into()),
                client_name: Some(name.into()),
                template_uri: Some("/api/v2/x".into()),
                http_method: Some("GET".into()),
                requests: Some(requests),
                status429: Some(s429),
                ..Row::default()
            };
            Collected {
                raw: Some(serde_json::json!({ "name": name, "requestCount": requests })),
                row,
            }
        })
        .collect()
    }

    #[test]
    fn top_cuts_every_format_the_same_way() {
        let cli = parse(&["--top", "2", "--by", "429-rate", "--format", "json"]).unwrap();
        let json = ok(output(&cli, &[], true, None, None, rows()));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let names: Vec<&str> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["<script>alert(1)</script>", "b"]);
        let cli = parse(&["--top", "2", "--by", "429-rate", "--format", "csv"]).unwrap();
        let csv = ok(output(&cli, &[], true, None, None, rows()));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(
            lines[1].contains("<script>") && lines[2].contains(",b,"),
            "{csv}"
        );
        let cli = parse(&["--top", "1"]).unwrap();
        let table = ok(output(&cli, &[], true, None, None, rows()));
        assert!(table.contains("The top 1 of 3 rows by requests"), "{table}");
        assert!(
            table.contains(" b ") && !table.contains("script"),
            "{table}"
        );
    }

    #[test]
    fn the_forecast_counts_the_month_the_query_was_planned_for() {
        // Planned on the last day of a month long past; the report is written "now".
        let planned: NaiveDate = "2025-03-31".parse().unwrap();
        let (cli, _) = ok(adjust(
            &parse(&["--allowance", "1000", "--format", "json"]).unwrap(),
            planned,
        ));
        let mut rows = rows();
        for c in &mut rows {
            c.row.date = Some("2025-03-02".into());
        }
        let json = ok(output(&cli, &[], true, None, None, rows));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["allowance"]["month"], "2025-03", "{value}");
        assert_eq!(value["allowance"]["requests_so_far"], 360, "{value}");
    }

    #[test]
    fn json_with_an_allowance_is_one_object_with_rows_and_the_forecast() {
        let cli = parse(&["--allowance", "1000", "--format", "json"]).unwrap();
        let json = ok(output(&cli, &[], true, None, None, rows()));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["rows"].as_array().unwrap().len(), 3);
        assert_eq!(value["allowance"]["allowance"]["requests_per_month"], 1000);
        assert!(
            value["allowance"]["note"]
                .as_str()
                .unwrap()
                .contains("not billing")
        );
    }

    #[test]
    fn the_html_report_escapes_api_strings_everywhere() {
        let cli = parse(&["--format", "html", "--allowance", "100"]).unwrap();
        let html = ok(output(
            &cli,
            &["a note".into()],
            true,
            None,
            Some("DEMO"),
            rows(),
        ));
        assert!(!html.contains("<script"), "no live script element");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Allowance forecast") && html.contains("not billing figures"));
        assert_eq!(html.matches("<svg").count(), 3);
        assert!(html.contains("@media print"));
        // tests/browser-check.sh loads this page in headless Chromium.
        if let Some(path) = std::env::var_os("USAGE_REPORT_HOSTILE_HTML") {
            std::fs::write(path, &html).unwrap();
        }
    }
}
