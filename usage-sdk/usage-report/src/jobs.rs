//! The report over the aggregates query jobs (`--api jobs`, the default): submit a job (or
//! pick one up with `--resume`), wait while it is `Queued` or `Running`, then read its rows
//! page by page. CSV and JSON are written as the rows arrive, so memory does not grow with
//! the number of rows; the table needs every row for its widths and totals.

use std::io::Write;

use serde::Serialize;
use usage_sdk::{
    Error, Handle, Interval, JobGroupBy, OAuthClientId, OAuthClientJob, OAuthClientJobQuery,
    OrganizationJob, OrganizationJobQuery, PageSize, PollPolicy, Rows, UsageClient,
};

use crate::cli::{Cli, Format};
use crate::render::{self, CsvStream, Row};
use crate::{Exit, Limits, resume_command, written};

/// The most rows the formats that hold every row before printing (table, HTML, charts,
/// `--top`, `--allowance`) read, unless `--max-rows` says otherwise: about 0.5 GB of rows
/// in memory. CSV and JSON stream, so they have no default limit.
pub(crate) const COLLECTED_ROWS_LIMIT: u64 = 1_000_000;

/// The column a `groupBy` value fills.
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

pub(crate) async fn run(
    cli: &Cli,
    client: &UsageClient,
    poll: &PollPolicy,
    demo_notice: Option<&str>,
    notes: &[String],
    limits: &mut Limits<'_>,
) -> Result<(), Exit> {
    // Fewer, larger pages: each GET counts against the OAuth client's rate limit.
    let page_size = cli.page_size.unwrap_or(PageSize::MAX);
    let mut group_by = cli
        .group_by
        .iter()
        .map(|g| g.parse::<JobGroupBy>())
        .collect::<Result<Vec<_>, _>>()?;
    if group_by.is_empty() && cli.client.is_none() {
        // The question an organization report answers first: which OAuth client.
        group_by = vec![JobGroupBy::OauthClientId, JobGroupBy::OauthClientName];
    }
    let mut columns: Vec<&str> = group_by.iter().map(|g| column(*g)).collect();
    if cli.resume.is_some() {
        // The query of a resumed job is not known here: show every dimension of its kind.
        columns = match cli.client {
            Some(_) => vec!["organizationId", "platform", "templateUri", "httpMethod"],
            None => vec![
                "clientId",
                "clientName",
                "userId",
                "platform",
                "templateUri",
                "httpMethod",
            ],
        };
    }
    let shape = Shape {
        granularity: cli.granularity.is_some() || cli.resume.is_some(),
        columns,
        metrics: cli.metrics.clone(),
    };
    let interval = match cli.interval {
        Some(interval) => interval,
        None => Interval::last_full_days(cli.days.unwrap_or_default().get())?,
    };
    macro_rules! query {
        ($builder:expr) => {{
            let mut query = $builder
                .group_by(group_by.iter().copied())
                .sort_by(cli.sort_by.iter().cloned())
                .template_uris(cli.template_uris.iter().cloned())
                .http_methods(cli.http_methods.iter().copied())
                .platforms(cli.platforms.iter().cloned())
                .page_size(page_size);
            if let Some(granularity) = cli.granularity {
                query = query.granularity(granularity);
            }
            if let Some(metrics) = &cli.metrics {
                query = query.metrics(metrics.iter().copied());
            }
            query
        }};
    }
    match &cli.client {
        Some(client_id) => {
            let job = match &cli.resume {
                Some(id) => {
                    OAuthClientJob::new(client_id.clone(), id.parse()?).with_page_size(page_size)
                }
                None => {
                    let query = query!(OAuthClientJobQuery::builder(interval))
                        .organization_ids(cli.organization_ids.iter().cloned())
                        .build()?;
                    submit(limits, client.oauth_client(client_id).submit(&query)).await?
                }
            };
            report(
                cli,
                client,
                poll,
                (demo_notice, notes),
                limits,
                &shape,
                job,
                Some(client_id),
            )
            .await
        }
        None => {
            let job = match &cli.resume {
                Some(id) => OrganizationJob::new(id.parse()?).with_page_size(page_size),
                None => {
                    let query = query!(OrganizationJobQuery::builder(interval))
                        .user_ids(cli.user_ids.iter().cloned())
                        .oauth_client_ids(cli.oauth_client_ids.iter().cloned())
                        .build()?;
                    submit(limits, client.submit(&query)).await?
                }
            };
            report(
                cli,
                client,
                poll,
                (demo_notice, notes),
                limits,
                &shape,
                job,
                None,
            )
            .await
        }
    }
}

/// What the table and CSV show.
struct Shape<'a> {
    granularity: bool,
    columns: Vec<&'a str>,
    metrics: Option<Vec<usage_sdk::Metric>>,
}

async fn submit<J>(
    limits: &mut Limits<'_>,
    submitted: impl Future<Output = Result<J, Error>>,
) -> Result<J, Exit> {
    limits
        .run(
            async {
                submitted
                    .await
                    .map_err(|e| permission_hint(e, "submitting the job"))
            },
            || "submitting the job; no job id was received".to_string(),
        )
        .await
}

/// A 403 from the jobs means the credentials lack their permission: say which, and that the
/// legacy operations use other ones.
fn permission_hint(error: Error, doing: &str) -> Exit {
    if error.status() == Some(403) {
        Exit::failed(format!(
            "{error}\nwhile {doing}: the aggregates jobs need the permission \
             usage:organization:view (organization) or usage:client:view (--client); \
             `--api legacy` uses the older usage permissions instead"
        ))
    } else {
        error.into()
    }
}

#[allow(clippy::too_many_arguments)]
async fn report<J>(
    cli: &Cli,
    client: &UsageClient,
    poll: &PollPolicy,
    (demo_notice, notes): (Option<&str>, &[String]),
    limits: &mut Limits<'_>,
    shape: &Shape<'_>,
    job: J,
    client_id: Option<&OAuthClientId>,
) -> Result<(), Exit>
where
    J: Handle,
    J::Row: Serialize,
    for<'r> &'r J::Row: Into<Row>,
{
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && !crate::logging::verbose(cli.verbose);
    let resume = || resume_command(cli, "--resume", job.id(), client_id, demo_notice.is_some());
    let clear = || {
        if progress {
            eprint!("\r\x1b[2K");
        }
    };
    // The waiter's own deadline is what is left of the run's, so a job still running at the
    // end is reported as such (with its last status) rather than as a bare timeout.
    let poll = poll.clone().with_deadline(limits.remaining());
    let waited = limits
        .run_wait(
            async {
                client
                    .wait_observed(&job, &poll, |event| {
                        if progress {
                            crate::show_progress(event)
                        }
                    })
                    .await
                    .map_err(|error| match error {
                        Error::JobDeadlineExceeded { .. } => {
                            Exit::failed(format!("{error}\n{}", resume()))
                        }
                        error => permission_hint(error, "waiting for the job"),
                    })
            },
            || format!("waiting for job {}; {}", job.id(), resume()),
        )
        .await;
    clear();
    let rows = waited?;
    // Formats that hold every row are bounded by default; CSV and JSON only when asked.
    let collects =
        cli.extras.collect(cli.format) || matches!(cli.format, Format::Table | Format::Html);
    let rows = match cli.max_rows.or(collects.then_some(COLLECTED_ROWS_LIMIT)) {
        Some(max) => rows.max_rows(max),
        None => rows,
    };
    limits
        .run(
            async {
                if cli.extras.collect(cli.format) {
                    write_collected(cli, notes, shape, rows, demo_notice).await
                } else {
                    write_rows(cli.format, shape, rows, demo_notice).await
                }
            },
            || format!("reading the rows of job {}; {}", job.id(), resume()),
        )
        .await?;
    if let (Some(notice), Format::Csv | Format::Json | Format::Html) = (demo_notice, cli.format) {
        eprintln!("usage-report: {notice}");
    }
    Ok(())
}

/// Writes the rows as they arrive (CSV, JSON) or all at once (table).
async fn write_rows<R>(
    format: Format,
    shape: &Shape<'_>,
    mut rows: Rows<R>,
    demo_notice: Option<&str>,
) -> Result<(), Exit>
where
    R: Serialize + Send + 'static,
    for<'r> &'r R: Into<Row>,
{
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let metrics = shape.metrics.as_deref();
    match format {
        Format::Table | Format::Html => {
            let mut all = Vec::new();
            while let Some(row) = rows.try_next().await? {
                all.push((&row).into());
            }
            let table = render::render_rows(&all, Format::Table, shape.granularity, metrics);
            let text = match demo_notice {
                // In the table itself, so a copy or a screenshot cannot lose it.
                Some(notice) => format!("{notice}\n\n{table}\n{notice}\n"),
                None => table,
            };
            written(out.write_all(text.as_bytes()))?;
        }
        Format::Csv => {
            let csv = CsvStream::new(shape.granularity, &shape.columns, metrics);
            written(out.write_all(csv.header().as_bytes()))?;
            while let Some(row) = rows.try_next().await? {
                written(out.write_all(csv.line(&(&row).into()).as_bytes()))?;
            }
        }
        Format::Json => {
            // A JSON array of the API's rows, one per line.
            written(out.write_all(b"["))?;
            let mut first = true;
            while let Some(row) = rows.try_next().await? {
                let separator = if first { "\n  " } else { ",\n  " };
                first = false;
                written(out.write_all(separator.as_bytes()))?;
                // Straight into the buffered output: no String per row.
                written(serde_json::to_writer(&mut out, &row).map_err(std::io::Error::from))?;
            }
            written(out.write_all(b"\n]\n"))?;
        }
    }
    written(out.flush())
}

/// Reads every row, then writes the report of `extras::output` (charts, HTML, forecast, top).
async fn write_collected<R>(
    cli: &Cli,
    notes: &[String],
    shape: &Shape<'_>,
    mut rows: Rows<R>,
    demo_notice: Option<&str>,
) -> Result<(), Exit>
where
    R: Serialize + Send + 'static,
    for<'r> &'r R: Into<Row>,
{
    let mut all = Vec::new();
    while let Some(row) = rows.try_next().await? {
        all.push(crate::extras::Collected::new(
            &row,
            (&row).into(),
            cli.format,
        ));
    }
    let text = crate::extras::output(
        cli,
        notes,
        shape.granularity,
        shape.metrics.as_deref(),
        demo_notice,
        all,
    )?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    written(out.write_all(text.as_bytes()))?;
    written(out.flush())
}
