//! Which columns a table, CSV or HTML table shows, and the error shares beside them.

use usage_sdk::Metric;

use crate::row::Row;

/// Reads a dimension of a row (`""` when ungrouped).
pub type Dimension = fn(&Row) -> &str;
/// Reads a counter of a row (`None` when not requested).
pub type Counter = fn(&Row) -> Option<i64>;

pub fn all_dimensions() -> [(&'static str, Dimension); 8] {
    fn text(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }
    [
        ("organization", |r| text(&r.organization)),
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
pub struct Columns {
    pub date: bool,
    pub dimensions: Vec<(&'static str, Dimension)>,
    pub counters: Vec<(&'static str, Counter)>,
}

impl Columns {
    pub fn for_rows(rows: &[Row], granularity: bool, metrics: Option<&[Metric]>) -> Self {
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

    pub fn header(&self) -> Vec<String> {
        let mut header = Vec::new();
        if self.date {
            header.push("date".to_string());
        }
        header.extend(self.dimensions.iter().map(|(name, _)| name.to_string()));
        header.extend(self.counters.iter().map(|(name, _)| name.to_string()));
        header
    }

    pub fn cells(&self, row: &Row) -> Vec<String> {
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
pub fn shares(
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

/// The table's header, cells (with the error shares) and which columns are numbers, for
/// the HTML report; the strings are raw (the caller escapes them).
pub fn table_cells(
    rows: &[Row],
    granularity: bool,
    metrics: Option<&[Metric]>,
) -> (Vec<String>, Vec<Vec<String>>, Vec<bool>) {
    let columns = Columns::for_rows(rows, granularity, metrics);
    let (header, cells) = columns.table(rows);
    let first_number = columns.first_number(&header);
    let numeric = (0..header.len()).map(|i| i >= first_number).collect();
    (header, cells, numeric)
}

impl Columns {
    /// The header and each row's cells, with the error shares after the counters.
    pub fn table(&self, rows: &[Row]) -> (Vec<String>, Vec<Vec<String>>) {
        let mut header = self.header();
        header.extend(["4xx %", "5xx %", "429 %"].map(String::from));
        let cells = rows
            .iter()
            .map(|row| {
                let mut cells = self.cells(row);
                cells.extend(shares(
                    row.requests,
                    row.status400,
                    row.status500,
                    row.status429,
                ));
                cells
            })
            .collect();
        (header, cells)
    }

    /// The index of the first numeric column of `header` (the counters, then the shares).
    pub fn first_number(&self, header: &[String]) -> usize {
        header.len() - 3 - self.counters.len()
    }
}
