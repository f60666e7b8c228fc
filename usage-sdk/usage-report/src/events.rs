//! `usage-report events definitions | query | counts`: the operational events, with the
//! report's rules: the same configuration and demo decision (`setup`), the `--timeout`
//! over the whole run and Ctrl-C (`fetch::Limits`), the demo notice where the report puts it,
//! and the same exit codes.

use chrono::Utc;
use usage_sdk::{EventQuery, Interval, SortOrder, UsageClient};

use crate::cli::{EventsCommand, EventsCommon, EventsInterval, Order};
use crate::exit::{Exit, written};
use crate::fetch::Limits;
use crate::output::events::{self as out, EventStream, Names, Page};
use crate::output::{DEMO_NOTICE, Format, chart, print, streamed_notice};
use crate::plan::COLLECTED_ROWS_LIMIT;
use crate::profiles::Profile;
use crate::setup;

/// Runs `usage-report events ...`.
pub async fn run(command: &EventsCommand, profile: Option<&Profile>) -> Result<(), Exit> {
    let common = match command {
        EventsCommand::Definitions(common) => common,
        EventsCommand::Query(args) => &args.common,
        EventsCommand::Counts(args) => &args.common,
    };
    // Checked before anything is started or sent.
    let interval = match command {
        EventsCommand::Definitions(_) => None,
        EventsCommand::Query(args) => Some(interval(&args.interval)?),
        EventsCommand::Counts(args) => Some(interval(&args.interval)?),
    };
    let query = match (command, interval) {
        (EventsCommand::Query(args), Some(interval)) => {
            let mut builder = EventQuery::builder(interval)
                .definitions(args.definitions.iter().cloned())
                .page_size(args.page_size.unwrap_or(usage_sdk::EventPageSize::MAX));
            if let Some(term) = &args.search {
                builder = builder.search_term(term);
            }
            if let Some(order) = args.order {
                builder = builder.sort_order(match order {
                    Order::Asc => SortOrder::Asc,
                    Order::Desc => SortOrder::Desc,
                });
            }
            Some(builder.build()?)
        }
        _ => None,
    };
    let origin = setup::origin(common.demo, false, profile)?;
    let demo = origin.demo();
    let (client, poll, _stand_in) = setup::connect(&origin).await?;
    let mut limits = Limits::start(common.timeout.unwrap_or(poll.deadline));
    let page = Page {
        title: "Genesys Cloud operational events".into(),
        demo_notice: demo.map(|why| format!("{DEMO_NOTICE} ({why})")),
        parameters: interval
            .map(|i| vec![("Interval".to_string(), i.to_string())])
            .unwrap_or_default(),
    };
    let events = client.events();
    match command {
        EventsCommand::Definitions(_) => {
            let definitions = limits
                .run(async { Ok(events.definitions().await?) }, || {
                    "reading the event definitions".into()
                })
                .await?;
            finish(
                common,
                &page,
                out::definitions(&definitions, common.format, &page),
            )
        }
        EventsCommand::Counts(args) => {
            let interval = interval.expect("counts have an interval");
            let (counts, names) = limits
                .run(
                    async {
                        let counts = events.counts(interval).await?;
                        Ok((counts, Names::of(&events.definitions().await?)))
                    },
                    || "counting the events".into(),
                )
                .await?;
            let svg = match &args.chart {
                Some(path) => {
                    let svg = counts_chart(&counts, &names, interval, &page)?;
                    std::fs::write(path, &svg).map_err(|e| {
                        Exit::failed(format!("cannot write the chart to {}: {e}", path.display()))
                    })?;
                    Some(svg)
                }
                None if common.format == Format::Html => {
                    Some(counts_chart(&counts, &names, interval, &page)?)
                }
                None => None,
            };
            let report = out::counts(&counts, &names, common.format, &page, svg.as_deref());
            finish(common, &page, report)
        }
        EventsCommand::Query(args) => {
            let query = query.expect("a query was built above");
            let max_rows = args.max_rows.or(match common.format {
                Format::Csv | Format::Json => None,
                Format::Table | Format::Html => Some(COLLECTED_ROWS_LIMIT),
            });
            limits
                .run(
                    read_events(&client, &query, common, &page, max_rows),
                    || "reading the events".into(),
                )
                .await
        }
    }
}

/// The interval asked for: `--interval`, or the last `--days` (7) full UTC days.
fn interval(args: &EventsInterval) -> Result<Interval, Exit> {
    match (args.interval, args.days) {
        (Some(interval), _) => Ok(interval),
        (None, days) => Ok(Interval::last_full_days_before(
            days.map_or(7, |d| d.get()),
            Utc::now(),
        )?),
    }
}

/// Reads the events, writing CSV and JSON as they arrive and the table or page at the end.
async fn read_events(
    client: &UsageClient,
    query: &EventQuery,
    common: &EventsCommon,
    page: &Page,
    max_rows: Option<u64>,
) -> Result<(), Exit> {
    let events = client.events();
    // The names of the definitions, for the table, the page and CSV (one request).
    let names = Names::of(&events.definitions().await?);
    let mut rows = events.rows(query).await?;
    if let Some(max) = max_rows {
        rows = rows.max_rows(max);
    }
    let mut stream = match common.format {
        Format::Csv => EventStream::Csv(names.clone()),
        Format::Json => EventStream::Json { written: 0 },
        Format::Table | Format::Html => {
            let all = rows.try_collect().await?;
            return finish(common, page, out::events(&all, &names, common.format, page));
        }
    };
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    written(stream.start(&mut stdout))?;
    while let Some(event) = rows.try_next().await? {
        written(stream.event(&mut stdout, &event))?;
    }
    written(stream.end(&mut stdout))?;
    written(std::io::Write::flush(&mut stdout))?;
    streamed_notice(common.format, page.demo_notice.as_deref());
    Ok(())
}

fn counts_chart(
    counts: &usage_sdk::EventAggregatesResponse,
    names: &Names,
    interval: Interval,
    page: &Page,
) -> Result<String, Exit> {
    let bars: Vec<(String, u64)> = out::count_rows(counts, names)
        .into_iter()
        .map(|(id, name, count)| (if name.is_empty() { id } else { name }, count))
        .collect();
    let heading = format!("Operational events, {interval}");
    let context = chart::ChartContext {
        unit: None,
        heading: match &page.demo_notice {
            Some(notice) => format!("{heading} · {notice}"),
            None => heading,
        },
        notes: Vec::new(),
    };
    chart::bars(
        "Events per definition",
        "events in the interval",
        &bars,
        &context,
        "No events in the interval.",
    )
    .map_err(Exit::failed)
}

fn finish(common: &EventsCommon, page: &Page, report: String) -> Result<(), Exit> {
    print(common.format, page.demo_notice.as_deref(), report)
}
