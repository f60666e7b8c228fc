//! The table: aligned columns with a totals row and error shares.

use usage_sdk::Metric;

use super::columns::{Columns, Counter, shares};
use crate::row::Row;
use crate::text::terminal_safe;

/// The rows as a table. `granularity` and `metrics` say what was asked for, when known (a
/// resumed query does not know its own: its columns follow from the rows).
pub fn table(rows: &[Row], granularity: bool, metrics: Option<&[Metric]>) -> String {
    lay_out(rows, &Columns::for_rows(rows, granularity, metrics))
}

fn lay_out(rows: &[Row], columns: &Columns) -> String {
    let (header, cells) = columns.table(rows);
    // Names and URIs come from the API: a control character (an ANSI escape in a client
    // name) is shown escaped, never sent to the terminal.
    let mut body: Vec<Vec<String>> = cells
        .iter()
        .map(|row| row.iter().map(|c| terminal_safe(c)).collect())
        .collect();
    // Totals: sum each counter column; shares from the summed counters.
    let sum = |get: Counter| -> Option<i64> {
        rows.iter()
            .map(get)
            .try_fold(0i64, |acc, v| v.map(|v| acc.saturating_add(v)))
    };
    let first_number = columns.first_number(&header);
    let mut totals = vec![String::new(); first_number];
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

    grid(&header, &body, first_number, !rows.is_empty())
}

/// Aligned columns: `header`, a rule, `body`; the columns from `first_number` on are
/// right-aligned. With `total_last`, a rule sets the last line apart. Cells must already be
/// terminal-safe.
pub fn grid(
    header: &[String],
    body: &[Vec<String>],
    first_number: usize,
    total_last: bool,
) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(header)
                .chain(body.iter().map(Vec::as_slice))
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |i: usize| i >= first_number;
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
    let rule = widths
        .iter()
        .map(|w| "-".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ")
        + "\n";
    let mut out = line(header);
    out += &rule;
    let last = body.len().saturating_sub(1);
    for (i, row) in body.iter().enumerate() {
        if i == last && total_last {
            out += &rule;
        }
        out += &line(row);
    }
    out
}
