//! The report's outputs: table, CSV, JSON, HTML and the chart file, each its own module
//! taking plain data and options (never the command line), and the one place that decides
//! where the demo notice goes.
//!
//! Two ways out: [`Streamed`] writes CSV or JSON as the rows arrive (memory does not grow
//! with the number of rows); [`render`] writes the report from every row (the table needs
//! them for its widths and totals; charts, HTML, `--top` and `--allowance` for their figures).

pub mod chart;
mod columns;
pub mod csv;
pub mod events;
pub mod html;
pub mod json;
pub mod table;

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use usage_sdk::Metric;

use crate::aggregate::Aggregates;
use crate::exit::{Exit, written};
use crate::row::{ApiRow, Row};

/// The line that marks demo output (followed by why the run is a demo).
pub const DEMO_NOTICE: &str = "DEMO DATA from the local stand-in, not your organization";

/// How the rows are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns with totals and error shares
    Table,
    /// The same columns, comma-separated, no totals
    Csv,
    /// The rows exactly as the API's ApiUsageRow
    Json,
    /// One self-contained page: parameters, totals, charts, the table
    Html,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

/// What the table and CSV show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    /// Whether the query asked for a granularity (the rows then have dates).
    pub granularity: bool,
    /// The dimension columns a streamed CSV shows, fixed before any row arrives; `None`
    /// when the rows decide (the whole CSV is then written at once).
    pub columns: Option<Vec<&'static str>>,
    /// The counters asked for; `None` for all (or, for a resumed query, what the rows carry).
    pub metrics: Option<Vec<Metric>>,
}

/// How to write the report.
#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    pub shape: Shape,
    /// `--chart FILE.svg`.
    pub chart: Option<PathBuf>,
    /// The charts' time unit (`day`, `week`, `month`), from the granularity.
    pub unit: Option<&'static str>,
    /// The scope and interval, above the charts.
    pub heading: String,
    /// The query's parameters, label and value, listed by the HTML page.
    pub parameters: Vec<(String, String)>,
    /// How the query was widened for the charts or the allowance.
    pub notes: Vec<String>,
    /// The demo notice, when the rows are the stand-in's demo data.
    pub demo_notice: Option<String>,
}

/// The one place the demo notice is written: in a table, its first and last line (so a
/// copy or a screenshot cannot lose it); CSV, JSON and HTML stay machine-clean and the
/// notice goes to stderr.
fn with_demo_notice(notice: Option<&str>, format: Format, body: String) -> String {
    match (notice, format) {
        (Some(notice), Format::Table) => format!("{notice}\n\n{body}\n{notice}\n"),
        (Some(notice), Format::Csv | Format::Json | Format::Html) => {
            eprintln!("usage-report: {notice}");
            body
        }
        (None, _) => body,
    }
}

/// Writes what [`render`] made, with the demo notice where it belongs.
pub fn write(options: &Options, report: String) -> Result<(), Exit> {
    print(options.format, options.demo_notice.as_deref(), report)
}

/// Writes `report` in `format` to stdout, with the demo `notice` (if any) where it belongs.
pub fn print(format: Format, notice: Option<&str>, report: String) -> Result<(), Exit> {
    let out = with_demo_notice(notice, format, report);
    let mut stdout = std::io::stdout().lock();
    written(
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush()),
    )
}

/// After a streamed CSV or JSON: the demo notice, on stderr.
pub fn streamed_notice(format: Format, notice: Option<&str>) {
    with_demo_notice(notice, format, String::new());
}

/// Whether the rows can be written as they arrive: CSV or JSON with fixed columns.
pub fn streams(options: &Options) -> bool {
    matches!(options.format, Format::Csv | Format::Json) && options.shape.columns.is_some()
}

/// CSV or JSON written as the rows arrive.
pub struct Streamed<'a> {
    options: &'a Options,
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    format: StreamFormat,
}

enum StreamFormat {
    Csv(csv::CsvStream),
    Json(json::JsonStream),
}

impl<'a> Streamed<'a> {
    /// Writes the CSV header or the JSON array's start.
    pub fn start(options: &'a Options) -> Result<Self, Exit> {
        let shape = &options.shape;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let format = match options.format {
            Format::Json => {
                let json = json::JsonStream::default();
                written(json.start(&mut out))?;
                StreamFormat::Json(json)
            }
            _ => {
                let columns = shape.columns.as_deref().unwrap_or_default();
                let csv = csv::CsvStream::new(shape.granularity, columns, shape.metrics.as_deref());
                written(out.write_all(csv.header().as_bytes()))?;
                StreamFormat::Csv(csv)
            }
        };
        Ok(Self {
            options,
            out,
            format,
        })
    }

    pub fn row(&mut self, row: &ApiRow) -> Result<(), Exit> {
        written(match &mut self.format {
            StreamFormat::Csv(csv) => self.out.write_all(csv.line(&row.into()).as_bytes()),
            StreamFormat::Json(json) => json.row(&mut self.out, row),
        })
    }

    pub fn finish(mut self) -> Result<(), Exit> {
        if let StreamFormat::Json(json) = &self.format {
            written(json.end(&mut self.out))?;
        }
        written(self.out.flush())?;
        streamed_notice(self.options.format, self.options.demo_notice.as_deref());
        Ok(())
    }
}

/// The report from every row in `options.format`, having written the chart file if asked.
pub fn render(
    rows: &[Row],
    raw: &[ApiRow],
    aggregates: &Aggregates,
    options: &Options,
) -> Result<String, Exit> {
    let shape = &options.shape;
    let (granularity, metrics) = (shape.granularity, shape.metrics.as_deref());
    let context = chart::ChartContext {
        unit: options.unit,
        heading: match &options.demo_notice {
            Some(notice) => format!("{} · {notice}", options.heading),
            None => options.heading.clone(),
        },
        notes: options.notes.clone(),
    };
    if let (Some(path), Some(data)) = (&options.chart, &aggregates.charts) {
        let svg = chart::combined(data, &context).map_err(Exit::failed)?;
        std::fs::write(path, svg).map_err(|e| {
            Exit::failed(format!("cannot write the chart to {}: {e}", path.display()))
        })?;
    }
    let forecast = aggregates.forecast.as_ref();
    let shown: Vec<Row> = aggregates.shown.iter().map(|&i| rows[i].clone()).collect();
    Ok(match options.format {
        Format::Table => {
            let mut out = String::new();
            if let Some(note) = &aggregates.table_note {
                out += &format!("{note}\n");
            }
            out += &table::table(&shown, granularity, metrics);
            if let Some(f) = forecast {
                out += "\n";
                out += &f.text();
            }
            out
        }
        Format::Csv => {
            if let Some(f) = forecast {
                // stdout stays CSV.
                eprint!("{}", f.text());
            }
            csv::csv(&shown, granularity, metrics)
        }
        Format::Json => {
            let raw: Vec<&ApiRow> = aggregates.shown.iter().map(|&i| &raw[i]).collect();
            json::json(&raw, forecast)
        }
        Format::Html => {
            let data = aggregates.charts.clone().unwrap_or_default();
            let svgs = chart::panels(&data, &context).map_err(Exit::failed)?;
            let (header, cells, numeric) = columns::table_cells(&shown, granularity, metrics);
            html::page(&html::Page {
                title: "Genesys Cloud API usage",
                demo_notice: options.demo_notice.as_deref(),
                parameters: &options.parameters,
                notes: &options.notes,
                cards: &html::totals_cards(aggregates.totals),
                forecast,
                charts: &svgs,
                header: &header,
                cells: &cells,
                numeric: &numeric,
                table_note: aggregates.table_note.clone(),
            })
        }
    })
}
