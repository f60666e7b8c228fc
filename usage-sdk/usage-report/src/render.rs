//! The report's output: a table with totals and error shares, CSV, or the rows as JSON.

use usage_sdk::Metric;
use usage_sdk::raw::types::ApiUsageRow;

use crate::cli::Format;

/// The rows in `format`. `granularity` and `metrics` say what was asked for, when known (a
/// resumed execution does not know its query: its columns follow from the rows).
pub fn render(
    rows: &[ApiUsageRow],
    format: Format,
    granularity: bool,
    metrics: Option<&[Metric]>,
) -> String {
    let columns = Columns::for_rows(rows, granularity, metrics);
    match format {
        Format::Table => table(rows, &columns),
        Format::Csv => csv(rows, &columns),
        Format::Json => serde_json::to_string_pretty(rows).expect("rows serialize to JSON") + "\n",
    }
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
    fn for_rows(rows: &[ApiUsageRow], granularity: bool, metrics: Option<&[Metric]>) -> Self {
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
