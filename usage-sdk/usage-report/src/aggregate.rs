//! From every row to the figures the collected outputs show: totals, the rows `--top`
//! keeps, the allowance forecast and the charts' data. Plain data in, plain data out.

use chrono::NaiveDate;

use crate::allowance::{Allowance, Forecast};
use crate::analysis::{ChartData, TopBy, Totals, top};
use crate::row::Row;

/// What to compute.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--top N`: keep the N rows with the largest `by`.
    pub top: Option<usize>,
    pub by: TopBy,
    pub allowance: Option<Allowance>,
    /// The UTC day the query was planned for: the forecast counts that month even when the
    /// run passes midnight.
    pub today: NaiveDate,
    /// Whether the charts (file or HTML) are drawn.
    pub charts: bool,
}

/// What was computed.
#[derive(Clone, Debug)]
pub struct Aggregates {
    /// The indices of the rows shown, in order.
    pub shown: Vec<usize>,
    /// Over every row (also the ones `--top` leaves out).
    pub totals: Totals,
    pub forecast: Option<Forecast>,
    pub charts: Option<ChartData>,
    /// Said above the table when `--top` cut it.
    pub table_note: Option<String>,
}

pub fn aggregate(rows: &[Row], options: &Options) -> Aggregates {
    let shown = match options.top {
        Some(n) => top(rows, n, options.by),
        None => (0..rows.len()).collect(),
    };
    let table_note = options.top.map(|n| {
        format!(
            "The top {} of {} rows by {}; the totals row sums the rows shown.",
            n.min(rows.len()),
            rows.len(),
            options.by.name()
        )
    });
    Aggregates {
        shown,
        totals: Totals::of(rows),
        forecast: options
            .allowance
            .clone()
            .map(|a| Forecast::from_rows(rows, a, options.today)),
        charts: options.charts.then(|| ChartData::from_rows(rows)),
        table_note,
    }
}
