//! The report's output: a table with totals and error shares, CSV, or the rows as JSON.

use chrono::NaiveDate;
use usage_sdk::{ApiUsageRow, ClientPublicApiUsage, Metric, OrganizationPublicApiUsage};

use crate::cli::Format;

/// One row of any operation, flattened to the columns a report shows. Legacy rows and both
/// kinds of job rows map onto it (a job's `requestCount` is `requests`, its `oauthClient` the
/// client id and name).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub date: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    pub platform: Option<String>,
    pub template_uri: Option<String>,
    pub http_method: Option<String>,
    pub requests: Option<i64>,
    pub status200: Option<i64>,
    pub status300: Option<i64>,
    pub status400: Option<i64>,
    pub status500: Option<i64>,
    pub status429: Option<i64>,
}

/// A row's date as the report shows it: the day, `yyyy-MM-dd`. Text the SDK could not read as
/// a date is shown as it came (escaped where rendered); `""` counts as no date.
fn shown_date(day: Option<NaiveDate>, wire: &impl std::fmt::Display) -> Option<String> {
    match day {
        Some(day) => Some(day.format("%Y-%m-%d").to_string()),
        None => Some(wire.to_string()).filter(|text| !text.is_empty()),
    }
}

impl From<&ApiUsageRow> for Row {
    fn from(r: &ApiUsageRow) -> Self {
        Row {
            date: r
                .date
                .as_ref()
                .and_then(|d| shown_date(d.date_time().map(|at| at.date_naive()), d)),
            client_id: r.client_id.clone(),
            client_name: r.client_name.clone(),
            organization_id: r.organization_id.clone(),
            user_id: r.user_id.clone(),
            platform: None,
            template_uri: r.template_uri.clone(),
            http_method: r.http_method.clone(),
            requests: r.requests,
            status200: r.status200,
            status300: r.status300,
            status400: r.status400,
            status500: r.status500,
            status429: r.status429,
        }
    }
}

impl From<&OrganizationPublicApiUsage> for Row {
    fn from(r: &OrganizationPublicApiUsage) -> Self {
        Row {
            date: r.date.as_ref().and_then(|d| shown_date(d.date(), d)),
            client_id: r.oauth_client.as_ref().and_then(|c| c.id.clone()),
            client_name: r.oauth_client.as_ref().and_then(|c| c.name.clone()),
            organization_id: None,
            user_id: r.user.as_ref().and_then(|u| u.id.clone()),
            platform: r.platform.clone(),
            template_uri: r.template_uri.clone(),
            http_method: r.http_method.as_ref().map(|m| m.to_string()),
            requests: r.request_count,
            status200: r.status200,
            status300: r.status300,
            status400: r.status400,
            status500: r.status500,
            status429: r.status429,
        }
    }
}

impl From<&ClientPublicApiUsage> for Row {
    fn from(r: &ClientPublicApiUsage) -> Self {
        Row {
            date: r.date.as_ref().and_then(|d| shown_date(d.date(), d)),
            organization_id: r.organization_id.clone(),
            platform: r.platform.clone(),
            template_uri: r.template_uri.clone(),
            http_method: r.http_method.as_ref().map(|m| m.to_string()),
            requests: r.request_count,
            status200: r.status200,
            status300: r.status300,
            status400: r.status400,
            status500: r.status500,
            status429: r.status429,
            ..Row::default()
        }
    }
}

/// The rows in `format`. `granularity` and `metrics` say what was asked for, when known (a
/// resumed execution does not know its query: its columns follow from the rows).
pub fn render(
    rows: &[ApiUsageRow],
    format: Format,
    granularity: bool,
    metrics: Option<&[Metric]>,
) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(rows).expect("rows serialize to JSON") + "\n",
        Format::Table | Format::Csv | Format::Html => {
            let rows: Vec<Row> = rows.iter().map(Row::from).collect();
            render_rows(&rows, format, granularity, metrics)
        }
    }
}

/// Flattened rows as a table or CSV.
pub fn render_rows(
    rows: &[Row],
    format: Format,
    granularity: bool,
    metrics: Option<&[Metric]>,
) -> String {
    let columns = Columns::for_rows(rows, granularity, metrics);
    match format {
        Format::Csv => csv(rows, &columns),
        _ => table(rows, &columns),
    }
}

/// The table's header, cells (with the error shares) and which columns are numbers, for
/// the HTML report; the strings are raw (the caller escapes them).
pub fn table_cells(
    rows: &[Row],
    granularity: bool,
    metrics: Option<&[Metric]>,
) -> (Vec<String>, Vec<Vec<String>>, Vec<bool>) {
    let columns = Columns::for_rows(rows, granularity, metrics);
    let mut header = columns.header();
    header.extend(["4xx %", "5xx %", "429 %"].map(String::from));
    let cells = rows
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
    let first_number = header.len() - 3 - columns.counters.len();
    let numeric = (0..header.len()).map(|i| i >= first_number).collect();
    (header, cells, numeric)
}

/// CSV written a row at a time, with the columns fixed by the query before any row arrives.
pub struct CsvStream {
    columns: Columns,
}

impl CsvStream {
    /// Columns for a query: the date with a granularity, `dimensions` (column names), the
    /// counters asked for (all without a list).
    pub fn new(granularity: bool, dimensions: &[&str], metrics: Option<&[Metric]>) -> Self {
        let mut columns = Columns::for_rows(&[], granularity, metrics);
        columns.dimensions = all_dimensions()
            .into_iter()
            .filter(|(name, _)| dimensions.contains(name))
            .collect();
        Self { columns }
    }

    /// The header line.
    pub fn header(&self) -> String {
        csv_line(&self.columns.header())
    }

    /// One row's line.
    pub fn line(&self, row: &Row) -> String {
        csv_line(&self.columns.cells(row))
    }
}

/// Reads a dimension of a row (`""` when ungrouped).
type Dimension = fn(&Row) -> &str;
/// Reads a counter of a row (`None` when not requested).
type Counter = fn(&Row) -> Option<i64>;

fn all_dimensions() -> [(&'static str, Dimension); 7] {
    fn text(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }
    [
        ("clientId", |r| text(&r.client_id)),
        ("clientName", |r| text(&r.client_name)),
        ("organizationId", |r| text(&r.organization_id)),
        ("userId", |r| text(&r.user_id)),
        ("platform", |r| text(&r.platform)),
        ("templateUri", |r| text(&r.template_uri)),
        ("httpMethod", |r| text(&r.http_method)),
    ]
}

/// Which columns a report shows: the grouped dimensions, the date when there is a
/// granularity, the counters asked for, and the error shares.
struct Columns {
    date: bool,
    dimensions: Vec<(&'static str, Dimension)>,
    counters: Vec<(&'static str, Counter)>,
}

impl Columns {
    fn for_rows(rows: &[Row], granularity: bool, metrics: Option<&[Metric]>) -> Self {
        // Ungrouped dimensions come back as "": show a dimension when any row fills it.
        let dimensions = all_dimensions()
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
        // Without a metrics list the API sends them all; a resumed execution's list is not
        // known, so show what the rows carry.
        let counters = all_counters
            .into_iter()
            .filter(|(metric, _, get)| match metrics {
                Some(metrics) => metrics.contains(metric),
                None => rows.is_empty() || rows.iter().any(|r| get(r).is_some()),
            })
            .map(|(_, name, get)| (name, get))
            .collect();
        Self {
            date: granularity || rows.iter().any(|r| r.date.is_some()),
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

    fn cells(&self, row: &Row) -> Vec<String> {
        let mut cells = Vec::new();
        if self.date {
            cells.push(row.date.clone().unwrap_or_default());
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

fn table(rows: &[Row], columns: &Columns) -> String {
    let mut header = columns.header();
    header.extend(["4xx %", "5xx %", "429 %"].map(String::from));
    let mut body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            // Names and URIs come from the API: a control character (an ANSI escape in a
            // client name) is shown escaped, never sent to the terminal.
            let mut cells: Vec<String> = columns
                .cells(row)
                .iter()
                .map(|c| terminal_safe(c))
                .collect();
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

/// `text` with control characters and bidirectional overrides (which reorder what a
/// terminal shows) written as Rust escapes (`\u{1b}`, `\u{202e}`).
pub(crate) fn terminal_safe(text: &str) -> String {
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if text.chars().any(unsafe_char) {
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_string()
    }
}

/// [`terminal_safe`] for a message of several lines: its own line breaks stay.
pub(crate) fn terminal_safe_lines(text: &str) -> String {
    text.split('\n')
        .map(terminal_safe)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One CSV line. A field that a spreadsheet would read as a formula (`=`, `+`, `@`, tab or
/// CR first, or `-` first in anything but a number) is prefixed with `'`, since client names
/// and template URIs come from the API.
fn csv_line(cells: &[String]) -> String {
    fn field(value: &str) -> String {
        let value = if value.starts_with(['=', '+', '@', '\t', '\r'])
            || (value.starts_with('-') && value.parse::<f64>().is_err())
        {
            format!("'{value}")
        } else {
            value.to_string()
        };
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value
        }
    }
    cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",") + "\n"
}

fn csv(rows: &[Row], columns: &Columns) -> String {
    let mut out = csv_line(&columns.header());
    for row in rows {
        out += &csv_line(&columns.cells(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_date_shows_as_its_day_and_unreadable_text_as_it_came() {
        let job_row = |date: &str| OrganizationPublicApiUsage {
            date: Some(serde_json::from_value(date.into()).unwrap()),
            ..Default::default()
        };
        let shown = |date: &str| Row::from(&job_row(date)).date;
        assert_eq!(shown("2026-11-02").as_deref(), Some("2026-11-02"));
        assert_eq!(shown("2026-11-02T00:00:00Z").as_deref(), Some("2026-11-02"));
        assert_eq!(shown("Q4").as_deref(), Some("Q4"));
        assert_eq!(shown(""), None, "an empty date is no date");
        let legacy = ApiUsageRow {
            date: Some(serde_json::from_value("2020-02-03T00:00:00.000Z".into()).unwrap()),
            ..Default::default()
        };
        assert_eq!(Row::from(&legacy).date.as_deref(), Some("2020-02-03"));
    }

    #[test]
    fn api_strings_cannot_drive_the_terminal_or_a_spreadsheet() {
        let row = Row {
            client_name: Some("evil\u{1b}[2J<script>".into()),
            template_uri: Some("=HYPERLINK(\"x\")".into()),
            requests: Some(1),
            ..Row::default()
        };
        let table = render_rows(std::slice::from_ref(&row), Format::Table, false, None);
        assert!(!table.contains('\u{1b}'), "{table}");
        assert!(table.contains("evil\\u{1b}[2J<script>"), "{table}");
        let csv = render_rows(&[row], Format::Csv, false, None);
        assert!(csv.contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{csv}");
    }

    #[test]
    fn every_formula_lead_in_is_defused_in_csv_but_negative_numbers_stay_numbers() {
        // OWASP's list for CSV injection: =, +, -, @, tab and carriage return.
        let cases = [
            ("=1+1", "'=1+1"),
            ("+1+1", "'+1+1"),
            ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "\"'\r=1\""),
            ("-12", "-12"),
            ("-0.5", "-0.5"),
            ("/api/v2/users", "/api/v2/users"),
        ];
        for (cell, expected) in cases {
            let line = csv_line(&[cell.to_string(), "7".to_string()]);
            assert_eq!(line, format!("{expected},7\n"), "{cell:?}");
        }
    }
}
