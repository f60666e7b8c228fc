//! The report (`usage-report` without a subcommand, or `usage-report report`): plan, fetch,
//! aggregate, write. Each step is its own module; this one wires them, with the rows from
//! the store, the configured API or the demo stand-in (`setup`).

use chrono::Utc;

use crate::aggregate;
use crate::cli::ReportArgs;
use crate::exit::Exit;
use crate::fetch::{self, Fetched, Limits, ResumeHint, Target};
use crate::output::{self, DEMO_NOTICE, Format};
use crate::plan::{self, Plan};
use crate::profiles::Profile;
use crate::row::{ApiRow, Row};
use crate::setup;
use usage_sdk_stand_in::RunningStandIn;

/// Runs the report; `progress` allows the progress line (no logs on stderr).
pub async fn run(args: &ReportArgs, progress: bool, profile: Option<&Profile>) -> Result<(), Exit> {
    let Source {
        plan,
        mut rows,
        limits,
        _stand_in,
    } = open(args, progress, profile).await?;
    match limits {
        Some(mut limits) => {
            let reading = rows.reading();
            limits.run(write(&plan, &mut rows), || reading).await
        }
        None => write(&plan, &mut rows).await,
    }
}

/// A report's plan and its rows, from the store, the configured API or the demo stand-in.
struct Source {
    plan: Plan,
    rows: Fetched,
    /// The deadline and Ctrl-C, for rows from the API.
    limits: Option<Limits>,
    /// Kept alive until the report is written.
    _stand_in: Option<RunningStandIn>,
}

async fn open(
    args: &ReportArgs,
    progress: bool,
    profile: Option<&Profile>,
) -> Result<Source, Exit> {
    let mut plan = plan::plan(args, Utc::now())?;
    // A profile's store, unless --store names one.
    if let (Target::Store(store), Some(profile)) = (&mut plan.target, profile)
        && !matches!(args.store, Some(Some(_)))
    {
        store.path = profile.store()?;
    }
    if let Target::Store(store) = &plan.target {
        // No API call: the rows, and whether they are demo data, come from the store.
        let (rows, facts) = fetch::from_store(store, plan.max_rows)?;
        if facts.demo {
            plan.output.demo_notice = Some(format!(
                "{DEMO_NOTICE} (the store {} holds demo data)",
                store.path.display()
            ));
        }
        for note in facts.notes {
            eprintln!("usage-report: {note}");
            plan.output.notes.push(note);
        }
        return Ok(Source {
            plan,
            rows,
            limits: None,
            _stand_in: None,
        });
    }
    let origin = setup::origin(plan.demo, plan.resumes(), profile)?;
    let demo = origin.demo();
    let (client, poll, stand_in) = setup::connect(&origin).await?;
    plan.output.demo_notice = demo.map(|why| format!("{DEMO_NOTICE} ({why})"));
    let poll = match plan.timeout {
        Some(timeout) => poll.with_deadline(timeout),
        None => poll,
    };
    let mut limits = Limits::start(poll.deadline);
    let options = fetch::Options {
        poll,
        progress,
        max_rows: plan.max_rows,
        resume: ResumeHint {
            format: (plan.output.format != Format::Table).then(|| plan.output.format.name()),
            demo: demo.is_some(),
        },
    };
    let rows = fetch::fetch(&client, &plan.target, &options, &mut limits).await?;
    Ok(Source {
        plan,
        rows,
        limits: Some(limits),
        _stand_in: stand_in,
    })
}

/// Every row of `profile`'s organization, tagged with its name (a report of several
/// organizations holds them all), and the plan.
pub async fn collect(args: &ReportArgs, profile: &Profile) -> Result<(Plan, Vec<ApiRow>), Exit> {
    let Source {
        plan,
        mut rows,
        limits,
        _stand_in,
    } = open(args, false, Some(profile)).await?;
    let read = async {
        let mut all = Vec::new();
        while let Some(row) = rows.try_next().await? {
            all.push(ApiRow::Tagged {
                organization: profile.name.clone(),
                row: Box::new(row),
            });
        }
        Ok(all)
    };
    let all = match limits {
        Some(mut limits) => limits.run(read, || "reading the rows".to_string()).await?,
        None => read.await?,
    };
    Ok((plan, all))
}

/// Writes the rows as they arrive, or all of them once read.
async fn write(plan: &Plan, rows: &mut Fetched) -> Result<(), Exit> {
    if output::streams(&plan.output) {
        let mut out = output::Streamed::start(&plan.output)?;
        while let Some(row) = rows.try_next().await? {
            out.row(&row)?;
        }
        return out.finish();
    }
    // Only JSON writes the rows as the API sent them: the other formats keep less.
    let keep_raw = plan.output.format == Format::Json;
    let (mut all, mut raw) = (Vec::new(), Vec::new());
    while let Some(row) = rows.try_next().await? {
        all.push(Row::from(&row));
        if keep_raw {
            raw.push(row);
        }
    }
    render(plan, &all, &raw)
}

/// Writes the report of rows collected already (several organizations').
pub fn write_all(plan: &Plan, mut rows: Vec<ApiRow>) -> Result<(), Exit> {
    let all: Vec<Row> = rows.iter().map(Row::from).collect();
    if plan.output.format != Format::Json {
        rows = Vec::new();
    }
    render(plan, &all, &rows)
}

fn render(plan: &Plan, all: &[Row], raw: &[ApiRow]) -> Result<(), Exit> {
    let aggregates = aggregate::aggregate(all, &plan.aggregate);
    let report = output::render(all, raw, &aggregates, &plan.output)?;
    output::write(&plan.output, report)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};
    use clap::Parser;
    use usage_sdk::OrganizationPublicApiUsage;

    use super::*;
    use crate::cli::Cli;

    fn ok<T>(result: Result<T, Exit>) -> T {
        result.unwrap_or_else(|e| panic!("exit {}: {}", e.code, e.message))
    }

    fn now() -> DateTime<Utc> {
        "2026-11-15T10:00:00Z".parse().unwrap()
    }

    /// The report of `rows` for `args` planned now (or with the forecast of `today`).
    fn report(
        args: &[&str],
        today: Option<NaiveDate>,
        rows: Vec<(Row, ApiRow)>,
        demo: Option<&str>,
    ) -> String {
        let cli = Cli::try_parse_from(std::iter::once("usage-report").chain(args.iter().copied()))
            .unwrap();
        let mut plan = ok(plan::plan(cli.report_args(), now()));
        if let Some(today) = today {
            // As if planned that day (the jobs refuse to plan an interval over a year ago).
            plan.aggregate.today = today;
        }
        plan.output.demo_notice = demo.map(str::to_string);
        let (rows, raw): (Vec<Row>, Vec<ApiRow>) = rows.into_iter().unzip();
        let aggregates = aggregate::aggregate(&rows, &plan.aggregate);
        ok(output::render(&rows, &raw, &aggregates, &plan.output))
    }

    fn rows() -> Vec<(Row, ApiRow)> {
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
            let raw: OrganizationPublicApiUsage = serde_json::from_value(
                serde_json::json!({ "name": name, "requestCount": requests }),
            )
            .unwrap();
            (row, ApiRow::Organization(raw))
        })
        .collect()
    }

    #[test]
    fn top_cuts_every_format_the_same_way() {
        let json = report(
            &["--top", "2", "--by", "429-rate", "--format", "json"],
            None,
            rows(),
            None,
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let names: Vec<&str> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["<script>alert(1)</script>", "b"]);
        let csv = report(
            &["--top", "2", "--by", "429-rate", "--format", "csv"],
            None,
            rows(),
            None,
        );
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(
            lines[1].contains("<script>") && lines[2].contains(",b,"),
            "{csv}"
        );
        let table = report(&["--top", "1"], None, rows(), None);
        assert!(table.contains("The top 1 of 3 rows by requests"), "{table}");
        assert!(
            table.contains(" b ") && !table.contains("script"),
            "{table}"
        );
    }

    #[test]
    fn the_forecast_counts_the_month_the_query_was_planned_for() {
        // Planned on the last day of a month long past; the report is written "now".
        let planned = "2025-03-31".parse().unwrap();
        let mut rows = rows();
        for (row, _) in &mut rows {
            row.date = Some("2025-03-02".into());
        }
        let json = report(
            &["--allowance", "1000", "--format", "json"],
            Some(planned),
            rows,
            None,
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["allowance"]["month"], "2025-03", "{value}");
        assert_eq!(value["allowance"]["requests_so_far"], 360, "{value}");
    }

    #[test]
    fn json_with_an_allowance_is_one_object_with_rows_and_the_forecast() {
        let json = report(
            &["--allowance", "1000", "--format", "json"],
            None,
            rows(),
            None,
        );
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
        let html = report(
            &["--format", "html", "--allowance", "100"],
            None,
            rows(),
            Some("DEMO"),
        );
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
