//! From the command line to a plan: what to ask the API for (the [`Target`]), how to wait
//! and read, what to compute and how to write it, with notes on how the query was widened.
//! Every option is checked here, before anything starts, and today's date is read once (by
//! the caller), so the interval and the allowance forecast agree even across midnight.
//!
//! The options that need every row (`--chart`, `--format html`, `--allowance`, `--top`)
//! widen the query:
//! - charts with no `--granularity` ask for `Day`, and with no `--group-by` group by client,
//!   template URI and method; a query the user shaped explicitly is kept and the charts
//!   draw what its rows allow and say what is missing;
//! - `--allowance` replaces the interval with the month to date (so it conflicts with
//!   `--days` and `--interval`) and asks for daily rows (so `--granularity` must be `Day`).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use usage_sdk::{
    Execution, Granularity, GroupBy, Interval, JobGroupBy, Metric, OAuthClientJob,
    OAuthClientJobQuery, OAuthClientQuery, OrganizationJob, OrganizationJobQuery,
    OrganizationQuery, PageSize,
};

use crate::aggregate;
use crate::allowance::{Allowance, month_to_date};
use crate::analysis::TopBy;
use crate::cli::{Api, Extras, ReportArgs};
use crate::exit::Exit;
use crate::fetch::{Resumed, StoreTarget, Target};
use crate::merge::Merge;
use crate::output::{self, Format, Shape};
use crate::store::{self, ReportQuery};
use crate::window;

/// The most rows the formats that hold every row before printing (table, HTML, charts,
/// `--top`, `--allowance`) read, unless `--max-rows` says otherwise. A table peaks at about
/// 2 KB a row: 489 MB for 250,000 rows, 202 MB for 100,000 (HTML 210 MB), 1.9 GB for
/// 1,000,000 (release build, `tests/memory/job-server.py`, peak RSS by `/usr/bin/time -f
/// %M`). CSV and JSON stream (11 MB for 1,000,000 rows), so they have no default limit.
pub const COLLECTED_ROWS_LIMIT: u64 = 250_000;

/// What one report run does.
#[derive(Clone, Debug)]
pub struct Plan {
    pub target: Target,
    /// `--demo`: the stand-in's data even when `GENESYSCLOUD_*` is set.
    pub demo: bool,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// Stop with an error rather than read more rows.
    pub max_rows: Option<u64>,
    pub aggregate: aggregate::Options,
    pub output: output::Options,
}

impl Plan {
    /// Whether the target was submitted by an earlier run.
    pub fn resumes(&self) -> bool {
        matches!(self.target, Target::Resume(_))
    }
}

/// The plan for `args`, run at `now`.
pub fn plan(args: &ReportArgs, now: DateTime<Utc>) -> Result<Plan, Exit> {
    let today = now.date_naive();
    let (args, notes) = adjust(args, today)?;
    let args = &args;
    let options = args.job_only_options();
    if args.api == Api::Legacy && !options.is_empty() {
        return Err(Exit::usage(format!(
            "{} filter or page the aggregates jobs only; drop --api legacy",
            options.join(", ")
        )));
    }
    if args.api == Api::Legacy && args.store.is_some() {
        return Err(Exit::usage(
            "the store keeps the aggregates jobs' rows; drop --api legacy to report from it",
        ));
    }
    if args.api == Api::Jobs && args.summary {
        return Err(Exit::usage(
            "--summary is a legacy operation (GET /api/v2/oauth/clients/{clientId}/usage/summary); add --api legacy",
        ));
    }
    let extras = &args.extras;
    let charts = extras.chart.is_some() || args.format == Format::Html;
    let collects = charts || extras.top.is_some() || allowance(extras)?.is_some();
    let (target, mut shape) = match args.api {
        Api::Jobs => jobs(args, now)?,
        Api::Legacy => legacy(args, now)?,
    };
    let mut notes = notes;
    let jobs = match &target {
        Target::OrganizationJobs(jobs, _) => jobs.len(),
        Target::ClientJobs(_, jobs, _) => jobs.len(),
        _ => 1,
    };
    if let Target::Store(store) = &target
        && args.store.is_none()
    {
        notes.push(format!(
            "The interval starts more than a year back, beyond the API: reported from the \
             store {}.",
            store.path.display()
        ));
    }
    if jobs > 1 {
        notes.push(format!(
            "The interval is longer than a job's {} days: {jobs} jobs, their rows merged.",
            window::MAX_JOB_DAYS,
        ));
    }
    if collects {
        // The rows decide the columns, as in the table.
        shape.columns = None;
    }
    let output = output::Options {
        format: args.format,
        shape,
        chart: extras.chart.clone(),
        unit: args.granularity.map(|g| match g {
            Granularity::Week => "week",
            Granularity::Month => "month",
            _ => "day",
        }),
        heading: heading(args),
        parameters: parameters(args),
        notes,
        demo_notice: None,
    };
    let streams = output::streams(&output);
    Ok(Plan {
        target,
        demo: args.demo,
        timeout: args.timeout,
        // Formats that hold every row are bounded by default; CSV and JSON only when asked.
        max_rows: args.max_rows.or((!streams).then_some(COLLECTED_ROWS_LIMIT)),
        aggregate: aggregate::Options {
            top: extras.top,
            by: extras.by.unwrap_or(TopBy::Requests),
            allowance: allowance(extras)?,
            today,
            charts,
        },
        output,
    })
}

/// The allowance asked for, if any; an error when `N x M` does not fit.
fn allowance(extras: &Extras) -> Result<Option<Allowance>, Exit> {
    match (
        extras.allowance,
        extras.allowance_per_user,
        extras.license,
        extras.users,
    ) {
        (Some(n), _, _, _) => Ok(Some(Allowance::per_month(n))),
        (None, Some(n), _, Some(m)) => Allowance::per_user(n, m).map(Some).map_err(Exit::usage),
        (None, None, Some(license), Some(m)) => {
            Allowance::by_license(license, extras.concurrent, m)
                .map(Some)
                .map_err(Exit::usage)
        }
        _ => Ok(None),
    }
}

/// The interval asked for: `--interval`, or the last `--days` full UTC days before `now`.
fn interval(args: &ReportArgs, now: DateTime<Utc>) -> Result<Interval, Exit> {
    Ok(match args.interval {
        Some(interval) => interval,
        None => Interval::last_full_days_before(args.days.unwrap_or_default().get(), now)?,
    })
}

/// The column a job's `groupBy` value fills.
fn column(group_by: JobGroupBy) -> &'static str {
    match group_by {
        JobGroupBy::OauthClientName => "clientName",
        JobGroupBy::OauthClientId => "clientId",
        JobGroupBy::UserId => "userId",
        JobGroupBy::OrganizationId => "organizationId",
        JobGroupBy::HttpMethod => "httpMethod",
        JobGroupBy::TemplateUri => "templateUri",
        JobGroupBy::Platform => "platform",
    }
}

/// The aggregates query jobs (`--api jobs`, the default).
fn jobs(args: &ReportArgs, now: DateTime<Utc>) -> Result<(Target, Shape), Exit> {
    // Fewer, larger pages: each GET counts against the OAuth client's rate limit.
    let page_size = args.page_size.unwrap_or(PageSize::MAX);
    let mut group_by = args
        .group_by
        .iter()
        .map(|g| g.parse::<JobGroupBy>())
        .collect::<Result<Vec<_>, _>>()?;
    if group_by.is_empty() && args.client.is_none() {
        // The question an organization report answers first: which OAuth client.
        group_by = vec![JobGroupBy::OauthClientId, JobGroupBy::OauthClientName];
    }
    let mut shape = Shape {
        granularity: args.granularity.is_some(),
        columns: Some(group_by.iter().map(|g| column(*g)).collect()),
        metrics: args.metrics.clone(),
    };
    if let Some(id) = &args.resume {
        // The query of a resumed job is not known here: show every dimension of its kind.
        shape.granularity = true;
        shape.columns = Some(match args.client {
            Some(_) => vec!["organizationId", "platform", "templateUri", "httpMethod"],
            None => vec![
                "clientId",
                "clientName",
                "userId",
                "platform",
                "templateUri",
                "httpMethod",
            ],
        });
        let resumed = match &args.client {
            Some(client) => Resumed::ClientJob(
                OAuthClientJob::new(client.clone(), id.parse()?).with_page_size(page_size),
            ),
            None => Resumed::OrganizationJob(
                OrganizationJob::new(id.parse()?).with_page_size(page_size),
            ),
        };
        return Ok((Target::Resume(resumed), shape));
    }
    let interval = interval(args, now)?;
    let from_store = |path: std::path::PathBuf| {
        Target::Store(StoreTarget {
            path,
            query: store_query(args, interval, &group_by),
            sort_by: args.sort_by.clone(),
        })
    };
    match &args.store {
        Some(Some(path)) => return Ok((from_store(path.clone()), shape)),
        Some(None) => return Ok((from_store(store::default_path()?), shape)),
        None => {}
    }
    let windows = match window::windows(interval, now) {
        Ok(windows) => windows,
        // Older days than the API serves: the default store, if there is one.
        Err(_) if args.client.is_none() && default_store().is_some() => {
            let path = default_store().expect("checked");
            return Ok((from_store(path), shape));
        }
        Err(too_old) => {
            return Err(Exit::usage(format!(
                "the interval starts {}, more than a year back: the aggregates jobs serve \
                 days since {} only. Keep the history with `usage-report sync` (daily, or at \
                 least once a year) and report on older days with --store",
                too_old.start.format("%Y-%m-%d"),
                window::first_servable_day(now)
            )));
        }
    };
    // The two builders have the same methods but are different types.
    macro_rules! query {
        ($builder:expr) => {{
            let mut query = $builder
                .group_by(group_by.iter().copied())
                .sort_by(args.sort_by.iter().cloned())
                .template_uris(args.template_uris.iter().cloned())
                .http_methods(args.http_methods.iter().copied())
                .platforms(args.platforms.iter().cloned())
                .page_size(page_size);
            if let Some(granularity) = args.granularity {
                query = query.granularity(granularity);
            }
            if let Some(metrics) = &args.metrics {
                query = query.metrics(metrics.iter().copied());
            }
            query
        }};
    }
    let organization = |interval| {
        query!(OrganizationJobQuery::builder(interval))
            .user_ids(args.user_ids.iter().cloned())
            .oauth_client_ids(args.oauth_client_ids.iter().cloned())
            .build_at(now)
    };
    let oauth_client = |interval| {
        query!(OAuthClientJobQuery::builder(interval))
            .organization_ids(args.organization_ids.iter().cloned())
            .build_at(now)
    };
    let target = match (&args.client, windows.as_slice()) {
        (Some(client), [one]) => Target::ClientJob(client.clone(), oauth_client(*one)?),
        (None, [one]) => Target::OrganizationJob(organization(*one)?),
        (client, windows) => {
            // Daily rows concatenate; the others are summed by bucket and group key.
            let merge = Merge {
                sum: args.granularity != Some(Granularity::Day),
                sort_by: args.sort_by.clone(),
            };
            match client {
                Some(client) => Target::ClientJobs(
                    client.clone(),
                    windows
                        .iter()
                        .map(|w| oauth_client(*w))
                        .collect::<Result<_, _>>()?,
                    merge,
                ),
                None => Target::OrganizationJobs(
                    windows
                        .iter()
                        .map(|w| organization(*w))
                        .collect::<Result<_, _>>()?,
                    merge,
                ),
            }
        }
    };
    Ok((target, shape))
}

/// The default store, when it exists.
fn default_store() -> Option<std::path::PathBuf> {
    store::default_path().ok().filter(|path| path.exists())
}

/// The first instant's day of `at`, rounded up: the days of an interval are those whose
/// first instant lies in it (as the jobs count them).
fn day_from(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    if at.time() == chrono::NaiveTime::MIN {
        day
    } else {
        day.succ_opt().unwrap_or(day)
    }
}

/// The report's query as the store answers it.
fn store_query(args: &ReportArgs, interval: Interval, group_by: &[JobGroupBy]) -> ReportQuery {
    ReportQuery {
        first: day_from(interval.start()),
        end: day_from(interval.end()),
        granularity: args.granularity,
        group_by: group_by.to_vec(),
        metrics: args.metrics.clone(),
        template_uris: args.template_uris.clone(),
        http_methods: args.http_methods.iter().map(|m| m.to_string()).collect(),
        platforms: args.platforms.clone(),
        user_ids: args.user_ids.clone(),
        oauth_client_ids: args.oauth_client_ids.clone(),
    }
}

/// The legacy usage queries (`--api legacy`); their columns follow from the rows.
fn legacy(args: &ReportArgs, now: DateTime<Utc>) -> Result<(Target, Shape), Exit> {
    let mut shape = Shape {
        granularity: args.granularity.is_some(),
        columns: None,
        metrics: None,
    };
    if let Some(id) = &args.resume {
        let id = id.parse()?;
        let execution = match &args.client {
            Some(client) => Execution::oauth_client(client.clone(), id),
            None => Execution::organization(id),
        };
        return Ok((Target::Resume(Resumed::Execution(execution)), shape));
    }
    if let (Some(client), true) = (&args.client, args.summary) {
        return Ok((
            Target::Summary(client.clone(), args.days.unwrap_or_default()),
            shape,
        ));
    }
    let interval = interval(args, now)?;
    // The two builders have the same methods but are different types.
    macro_rules! query {
        ($builder:expr) => {{
            let group_by = args
                .group_by
                .iter()
                .map(|g| g.parse::<GroupBy>())
                .collect::<Result<Vec<_>, _>>()?;
            let mut query = $builder.group_by(group_by);
            if let Some(granularity) = args.granularity {
                query = query.granularity(granularity);
            }
            if let Some(metrics) = &args.metrics {
                query = query.metrics(metrics.iter().copied());
            }
            query.build()?
        }};
    }
    let target = match &args.client {
        Some(client) => {
            let query = query!(OAuthClientQuery::builder(interval));
            shape.metrics = query.metrics().map(<[_]>::to_vec);
            Target::Client(client.clone(), query)
        }
        None => {
            let query = query!(OrganizationQuery::builder(interval));
            shape.metrics = query.metrics().map(<[_]>::to_vec);
            Target::Organization(query)
        }
    };
    Ok((target, shape))
}

/// The options widened for charts and the allowance, and notes saying how.
fn adjust(args: &ReportArgs, today: NaiveDate) -> Result<(ReportArgs, Vec<String>), Exit> {
    let mut args = args.clone();
    let mut notes = Vec::new();
    if allowance(&args.extras)?.is_some() {
        if matches!(args.granularity, Some(g) if g != Granularity::Day) {
            return Err(Exit::usage(
                "--allowance needs daily rows of the month to date; drop --granularity or use Day",
            ));
        }
        if matches!(&args.metrics, Some(m) if !m.contains(&Metric::Requests)) {
            return Err(Exit::usage(
                "--allowance counts requests; add Requests to --metrics",
            ));
        }
        let (first, end) = month_to_date(today);
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        args.interval = Some(Interval::new(midnight(first), midnight(end))?);
        args.days = None;
        args.granularity = Some(Granularity::Day);
        notes.push(format!(
            "--allowance: the query covers the month to date, {first} to {}, per day",
            end.pred_opt().unwrap_or(end)
        ));
    }
    if args.extras.chart.is_some() || args.format == Format::Html {
        if args.resume.is_some() || args.summary {
            notes.push(
                "A resumed job or a summary: the charts draw what its rows allow.".to_string(),
            );
            return Ok((args, notes));
        }
        if args.granularity.is_none() {
            args.granularity = Some(Granularity::Day);
            notes.push("No --granularity given: the charts' query asks for Day.".to_string());
        }
        if args.group_by.is_empty() {
            let group_by: &[&str] = match (args.api, args.client.is_some()) {
                (_, true) => &["TemplateUri", "HttpMethod"],
                (Api::Jobs, false) => &[
                    "OauthClientId",
                    "OauthClientName",
                    "TemplateUri",
                    "HttpMethod",
                ],
                (Api::Legacy, false) => &["OAuthClientId", "TemplateUri", "HttpMethod"],
            };
            args.group_by = group_by.iter().map(|g| g.to_string()).collect();
            notes.push(format!(
                "No --group-by given: grouped by {} for the charts.",
                group_by.join(", ")
            ));
        }
    }
    Ok((args, notes))
}

/// The scope and interval, as the charts' heading says them.
fn heading(args: &ReportArgs) -> String {
    format!(
        "{} · {}",
        match &args.client {
            Some(c) => format!("OAuth client {}", c.as_str()),
            None => "Organization".to_string(),
        },
        args.interval.map_or_else(
            || format!("last {} full UTC days", args.days.unwrap_or_default().get()),
            |i| i.to_string()
        )
    )
}

fn parameters(args: &ReportArgs) -> Vec<(String, String)> {
    let mut p = vec![match &args.store {
        Some(path) => (
            "Source".to_string(),
            match path {
                Some(path) => format!("the store {} (no API call)", path.display()),
                None => "the default store (no API call)".to_string(),
            },
        ),
        None => (
            "API".to_string(),
            match args.api {
                Api::Jobs => "aggregates query jobs".to_string(),
                Api::Legacy => "legacy usage queries".to_string(),
            },
        ),
    }];
    p.push((
        "Scope".into(),
        match &args.client {
            Some(c) => format!("OAuth client {}", c.as_str()),
            None => "organization".into(),
        },
    ));
    if let Some(id) = &args.resume {
        p.push(("Resumed".into(), id.clone()));
    } else {
        let interval = match args.interval {
            Some(i) => i.to_string(),
            None => format!(
                "the last {} full UTC days",
                args.days.unwrap_or_default().get()
            ),
        };
        p.push(("Interval".into(), interval));
    }
    let list = |v: &[String]| v.join(", ");
    p.push((
        "Granularity".into(),
        args.granularity
            .map_or("none (one row per group)".into(), |g| g.to_string()),
    ));
    if !args.group_by.is_empty() {
        p.push(("Group by".into(), list(&args.group_by)));
    }
    if let Some(m) = &args.metrics {
        p.push((
            "Metrics".into(),
            m.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "),
        ));
    }
    for (label, values) in [
        ("Template URIs", &args.template_uris),
        ("Platforms", &args.platforms),
        ("User ids", &args.user_ids),
        ("OAuth client ids", &args.oauth_client_ids),
        ("Organization ids", &args.organization_ids),
    ] {
        if !values.is_empty() {
            p.push((label.into(), list(values)));
        }
    }
    if !args.http_methods.is_empty() {
        p.push((
            "HTTP methods".into(),
            args.http_methods
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(n) = args.extras.top {
        p.push((
            "Top".into(),
            format!(
                "{n} rows by {}",
                args.extras.by.unwrap_or(TopBy::Requests).name()
            ),
        ));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<ReportArgs, clap::Error> {
        crate::cli::Cli::try_parse_from(std::iter::once("usage-report").chain(args.iter().copied()))
            .map(|cli| cli.report_args().clone())
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
        let csv = parse(&["--allowance", "1000", "--format", "csv"]).unwrap();
        let now = "2026-11-15T10:00:00Z".parse().unwrap();
        let plan = ok(plan(&csv, now));
        assert!(
            !output::streams(&plan.output),
            "the forecast needs every row"
        );
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
            &["--license", "cx1"],
            &["--concurrent", "--users", "5"],
            &["--license", "cx1", "--users", "5", "--allowance", "5"],
            &["--license", "cx1", "--users", "5", "--days", "3"],
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
        let legacy = parse(&["--api", "legacy", "--sort-by", "requestCount"]).unwrap();
        let now = "2026-11-15T10:00:00Z".parse().unwrap();
        assert_eq!(plan(&legacy, now).err().map(|e| e.code), Some(2));
        let weekly = parse(&["--allowance", "5", "--granularity", "Week"]).unwrap();
        assert_eq!(adjust(&weekly, today()).err().map(|e| e.code), Some(2));
    }

    #[test]
    fn formats_that_hold_every_row_are_bounded_by_default_and_streams_only_when_asked() {
        let now = "2026-11-15T10:00:00Z".parse().unwrap();
        let max_rows = |args: &[&str]| ok(plan(&parse(args).unwrap(), now)).max_rows;
        assert_eq!(max_rows(&[]), Some(COLLECTED_ROWS_LIMIT));
        assert_eq!(max_rows(&["--format", "html"]), Some(COLLECTED_ROWS_LIMIT));
        assert_eq!(
            max_rows(&["--format", "csv", "--top", "3"]),
            Some(COLLECTED_ROWS_LIMIT)
        );
        assert_eq!(max_rows(&["--format", "csv"]), None);
        assert_eq!(max_rows(&["--format", "json"]), None);
        assert_eq!(max_rows(&["--max-rows", "7"]), Some(7));
        assert_eq!(max_rows(&["--format", "csv", "--max-rows", "7"]), Some(7));
    }
}
