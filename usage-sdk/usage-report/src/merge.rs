//! The rows of several jobs as the rows of one query: what a report over more than 90 days
//! (several jobs, [`crate::window`]) shows.
//!
//! Daily rows concatenate: each day lies in exactly one job. Rows of a query without
//! granularity are summed by their group key across the jobs; so are weekly and monthly
//! rows, whose bucket (a week starts on Monday, a month on the 1st) may straddle two jobs
//! and then comes back from both, each with its part. The jobs sort their own rows only, so
//! with `--sort-by` the merged rows are sorted again here.

use std::cmp::Ordering;
use std::collections::HashMap;

use usage_sdk::{SortBy, SortOrder};

use crate::row::{ApiRow, Row};

/// How the rows of several jobs become one result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merge {
    /// Sum rows with the same bucket and group key (no granularity, Week, Month).
    pub sum: bool,
    /// `--sort-by`, applied to the merged rows.
    pub sort_by: Vec<SortBy>,
}

impl Merge {
    /// Whether every row must be read before the first is handed out.
    pub fn collects(&self) -> bool {
        self.sum || !self.sort_by.is_empty()
    }
}

/// The dimensions of a row, the key rows are summed by.
type Key = [Option<String>; 8];

fn key(row: &ApiRow) -> Key {
    let r = Row::from(row);
    [
        r.date,
        r.client_id,
        r.client_name,
        r.organization_id,
        r.user_id,
        r.platform,
        r.template_uri,
        r.http_method,
    ]
}

/// Rows merged as they are read, in the order their keys first came.
#[derive(Debug, Default)]
pub struct Merged {
    index: HashMap<Key, usize>,
    rows: Vec<ApiRow>,
}

impl Merged {
    /// Adds a row: summed into the row of the same key when `sum`, else appended.
    pub fn add(&mut self, row: ApiRow, sum: bool) {
        if !sum {
            self.rows.push(row);
            return;
        }
        match self.index.get(&key(&row)) {
            Some(&at) => add_counts(&mut self.rows[at], &row),
            None => {
                self.index.insert(key(&row), self.rows.len());
                self.rows.push(row);
            }
        }
    }

    /// The rows, sorted by `sort_by` (stable: equal rows keep their order).
    pub fn finish(mut self, sort_by: &[SortBy]) -> Vec<ApiRow> {
        if !sort_by.is_empty() {
            let mut keyed: Vec<(Row, ApiRow)> =
                self.rows.drain(..).map(|r| (Row::from(&r), r)).collect();
            keyed.sort_by(|(a, _), (b, _)| compare(a, b, sort_by));
            self.rows = keyed.into_iter().map(|(_, r)| r).collect();
        }
        self.rows
    }
}

fn plus(into: &mut Option<i64>, other: Option<i64>) {
    *into = match (*into, other) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
}

/// Adds the counters of `other` to `into` (rows of the same kind; fields the SDK does not
/// know are kept from the first row).
fn add_counts(into: &mut ApiRow, other: &ApiRow) {
    macro_rules! sum {
        ($a:expr, $b:expr, $requests:ident) => {{
            plus(&mut $a.$requests, $b.$requests);
            plus(&mut $a.status200, $b.status200);
            plus(&mut $a.status300, $b.status300);
            plus(&mut $a.status400, $b.status400);
            plus(&mut $a.status429, $b.status429);
            plus(&mut $a.status500, $b.status500);
        }};
    }
    match (into, other) {
        (ApiRow::Organization(a), ApiRow::Organization(b)) => sum!(a, b, request_count),
        (ApiRow::Client(a), ApiRow::Client(b)) => sum!(a, b, request_count),
        (ApiRow::Legacy(a), ApiRow::Legacy(b)) => sum!(a, b, requests),
        // Rows of one query are of one kind.
        _ => {}
    }
}

/// A value to sort by: counters as numbers, dimensions as text; rows without it last.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Value<'a> {
    Number(i64),
    Text(&'a str),
}

/// A row's value of a `sortBy` field (the jobs' field names; unknown ones leave the order).
fn value<'a>(row: &'a Row, field: &str) -> Option<Value<'a>> {
    let number = |v: Option<i64>| v.map(Value::Number);
    let text = |v: &'a Option<String>| v.as_deref().map(Value::Text);
    match field {
        "requestCount" | "requests" => number(row.requests),
        "status200" => number(row.status200),
        "status300" => number(row.status300),
        "status400" => number(row.status400),
        "status429" => number(row.status429),
        "status500" => number(row.status500),
        "date" => text(&row.date),
        "templateUri" => text(&row.template_uri),
        "httpMethod" => text(&row.http_method),
        "platform" => text(&row.platform),
        "oauthClientName" | "clientName" => text(&row.client_name),
        "oauthClientId" | "clientId" => text(&row.client_id),
        "userId" => text(&row.user_id),
        "organizationId" => text(&row.organization_id),
        _ => None,
    }
}

fn compare(a: &Row, b: &Row, sort_by: &[SortBy]) -> Ordering {
    for sort in sort_by {
        let order = match (value(a, sort.field()), value(b, sort.field())) {
            (Some(x), Some(y)) => match sort.order() {
                SortOrder::Desc => y.cmp(&x),
                SortOrder::Asc => x.cmp(&y),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use usage_sdk::OrganizationPublicApiUsage;

    fn row(date: Option<&str>, client: &str, requests: i64, s429: Option<i64>) -> ApiRow {
        let mut value = serde_json::json!({
            "oauthClient": {"id": client, "name": client},
            "requestCount": requests,
        });
        if let Some(date) = date {
            value["date"] = date.into();
        }
        if let Some(s429) = s429 {
            value["status429"] = s429.into();
        }
        let row: OrganizationPublicApiUsage = serde_json::from_value(value).unwrap();
        ApiRow::Organization(row)
    }

    fn requests(rows: &[ApiRow]) -> Vec<(Option<String>, Option<i64>)> {
        rows.iter()
            .map(|r| {
                let r = Row::from(r);
                (r.client_name, r.requests)
            })
            .collect()
    }

    #[test]
    fn rows_without_granularity_are_summed_by_group_key_across_jobs() {
        let mut merged = Merged::default();
        for r in [
            row(None, "a", 10, Some(1)),
            row(None, "b", 5, None),
            row(None, "a", 7, None),
            row(None, "b", 1, Some(2)),
        ] {
            merged.add(r, true);
        }
        let rows = merged.finish(&[]);
        assert_eq!(
            requests(&rows),
            [(Some("a".into()), Some(17)), (Some("b".into()), Some(6))]
        );
        assert_eq!(Row::from(&rows[0]).status429, Some(1));
        assert_eq!(Row::from(&rows[1]).status429, Some(2));
    }

    #[test]
    fn daily_rows_concatenate_and_sorting_applies_across_jobs() {
        let mut merged = Merged::default();
        for r in [
            row(Some("2026-01-01"), "a", 10, None),
            row(Some("2026-01-01"), "b", 30, None),
            row(Some("2026-04-01"), "a", 20, None),
        ] {
            merged.add(r, false);
        }
        let rows = merged.finish(&[SortBy::descending("requestCount")]);
        assert_eq!(
            requests(&rows),
            [
                (Some("b".into()), Some(30)),
                (Some("a".into()), Some(20)),
                (Some("a".into()), Some(10))
            ]
        );
    }
}
