//! Simple search (`POST /api/v2/usage/simplesearch`): an `ApiUsageSimpleSearch` whose
//! `metrics` are the columns of the legacy `ApiUsageRow`s it returns.
//!
//! Rows are per day, client name, template URI and HTTP method, restricted to the requested
//! dimension columns (`Date`, `ClientName`, `TemplateUri`, `HttpMethod`): a column not
//! requested is absent and not grouped by. No `metrics` means every column. Like the other
//! legacy endpoints it does not see the built-in Genesys clients. At most 20,000 rows, as
//! the spec says.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration as Days, NaiveDate, NaiveTime, Utc};
use serde_json::Value;
use usage_sdk::ApiUsageRow;

use super::data::{Counts, Dataset};
use super::jobs::{check_values, interval, object, strings};
use super::query::{DataWindow, QueryError};

/// "The number of records is limited to 20,000 results."
pub(crate) const MAX_ROWS: usize = 20_000;

const COLUMNS: [&str; 9] = [
    "Date",
    "ClientName",
    "HttpMethod",
    "TemplateUri",
    "Status200",
    "Status300",
    "Status400",
    "Status500",
    "Status429",
];
const HTTP_METHODS: [&str; 9] = [
    "GET", "POST", "DELETE", "PATCH", "PUT", "HEAD", "CONNECT", "OPTIONS", "TRACE",
];

/// A validated simple search.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SimpleSearch {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    columns: Vec<String>,
    client_names: Vec<String>,
    http_methods: Vec<String>,
    template_uris: Vec<String>,
}

pub(crate) fn parse(body: &[u8]) -> Result<SimpleSearch, QueryError> {
    let map = object(body)?;
    let (start, end) = interval(&map)?;
    let columns = strings(&map, "metrics")?;
    check_values("metrics", &columns, &COLUMNS)?;
    let http_methods = strings(&map, "httpMethods")?;
    check_values("httpMethods", &http_methods, &HTTP_METHODS)?;
    Ok(SimpleSearch {
        start,
        end,
        columns,
        client_names: strings(&map, "oauthClientNames")?,
        http_methods,
        template_uris: strings(&map, "templateUris")?
            .into_iter()
            .map(|t| t.trim_start_matches('/').to_string())
            .collect(),
    })
}

type Key = (
    Option<NaiveDate>,
    Option<String>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Runs a simple search: rows sorted by date, client name, template URI and method, at most
/// [`MAX_ROWS`].
pub(crate) fn run(data: &Dataset, search: &SimpleSearch, window: DataWindow) -> Vec<Value> {
    let all = search.columns.is_empty();
    let want = |c: &str| all || search.columns.iter().any(|x| x == c);
    let matches =
        |filter: &[String], value: &str| filter.is_empty() || filter.iter().any(|f| f == value);
    let series: Vec<_> = data
        .series
        .iter()
        .filter(|s| {
            !data.is_builtin(s)
                && matches(&search.client_names, &data.client(s.client).name)
                && matches(&search.http_methods, s.http_method)
                && matches(&search.template_uris, s.template_uri)
        })
        .collect();
    let (first, last_exclusive) = window.days(search.start, search.end);
    let mut groups: BTreeMap<Key, Counts> = BTreeMap::new();
    let mut day = first;
    while day < last_exclusive {
        for s in &series {
            let counts = data.counts(s, day);
            if counts.requests() == 0 {
                continue;
            }
            let key = (
                want("Date").then_some(day),
                want("ClientName").then(|| data.client(s.client).name.clone()),
                want("TemplateUri").then_some(s.template_uri),
                want("HttpMethod").then_some(s.http_method),
            );
            groups.entry(key).or_default().add(&counts);
        }
        day += Days::days(1);
    }
    let metric = |c: &str, v: i64| want(c).then_some(v);
    groups
        .into_iter()
        .take(MAX_ROWS)
        .map(|((date, client_name, template, method), c)| {
            let row = ApiUsageRow {
                client_name,
                template_uri: template.map(str::to_string),
                http_method: method.map(str::to_string),
                status200: metric("Status200", c.status200),
                status300: metric("Status300", c.status300),
                status400: metric("Status400", c.status400),
                status500: metric("Status500", c.status500),
                status429: metric("Status429", c.status429),
                date: date.map(|d| d.and_time(NaiveTime::MIN).and_utc().into()),
                ..ApiUsageRow::default()
            };
            serde_json::to_value(row).unwrap_or(Value::Null)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_methods_are_checked() {
        assert!(parse(br#"{"interval":"2026-11-01/2026-11-08","metrics":["Date","Status429"],"httpMethods":["TRACE"]}"#).is_ok());
        assert_eq!(
            parse(br#"{"interval":"2026-11-01/2026-11-08","metrics":["Requests"]}"#)
                .unwrap_err()
                .code,
            "invalid.value"
        );
        assert_eq!(
            parse(br#"{"interval":"2026-11-01/2026-11-08","httpMethods":["FETCH"]}"#)
                .unwrap_err()
                .code,
            "invalid.value"
        );
        assert_eq!(
            parse(br#"{"metrics":[]}"#).unwrap_err().code,
            "invalid.date"
        );
    }
}
