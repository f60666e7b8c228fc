//! CSV: the table's columns, comma-separated, no totals; whole or a row at a time.

use usage_sdk::Metric;

use super::columns::{Columns, all_dimensions};
use crate::row::Row;

/// The rows as CSV, with the columns the rows fill (see [`Columns::for_rows`]).
pub fn csv(rows: &[Row], granularity: bool, metrics: Option<&[Metric]>) -> String {
    let columns = Columns::for_rows(rows, granularity, metrics);
    let mut out = csv_line(&columns.header());
    for row in rows {
        out += &csv_line(&columns.cells(row));
    }
    out
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

/// One CSV line. A field that a spreadsheet would read as a formula (`=`, `+`, `@`, tab or
/// CR first, or `-` first in anything but a number) is prefixed with `'`, since client names
/// and template URIs come from the API.
pub fn csv_line(cells: &[String]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_strings_cannot_drive_the_terminal_or_a_spreadsheet() {
        let row = Row {
            client_name: Some("evil\u{1b}[2J<script>".into()),
            template_uri: Some("=HYPERLINK(\"x\")".into()),
            requests: Some(1),
            ..Row::default()
        };
        let table = crate::output::table::table(std::slice::from_ref(&row), false, None);
        assert!(!table.contains('\u{1b}'), "{table}");
        assert!(table.contains("evil\\u{1b}[2J<script>"), "{table}");
        let csv = csv(&[row], false, None);
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
