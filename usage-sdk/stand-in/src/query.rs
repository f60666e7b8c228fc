//! Usage queries: parsing and validating request bodies like the real API, and aggregating
//! the data set into `ApiUsageRow`s.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration as Days, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::Value;

use usage_sdk::{ApiUsageRow, Granularity, GroupBy as Dimension, Metric};

use super::data::{Counts, Dataset};

/// The request enums read by their exact names on the wire: the server is case-sensitive,
/// whereas the client's `FromStr` forgives a user's case. Built on usage-sdk's public `ALL`
/// and `as_str`; the stand-in parses requests on its own, as the real server would.
pub(crate) trait WireName: Copy + 'static {
    /// Every value, in the API's order.
    const VALUES: &'static [Self];
    /// The API's name of the value.
    fn wire(self) -> &'static str;

    /// The value whose API name is exactly `s`.
    fn from_wire(s: &str) -> Option<Self> {
        Self::VALUES.iter().copied().find(|v| v.wire() == s)
    }

    /// The API names, comma-separated, for error messages.
    fn names() -> String {
        let names: Vec<&str> = Self::VALUES.iter().map(|v| v.wire()).collect();
        names.join(", ")
    }
}

macro_rules! wire_name {
    ($($name:ty),*) => {$(
        impl WireName for $name {
            const VALUES: &'static [Self] = <$name>::ALL;
            fn wire(self) -> &'static str {
                self.as_str()
            }
        }
    )*};
}

wire_name!(Granularity, Dimension, Metric);

/// A rejected request: always a 400 with an `ErrorBody.code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl QueryError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A validated query, the body of either POST or the summary's equivalent.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Query {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) granularity: Option<Granularity>,
    pub(crate) group_by: Vec<Dimension>,
    pub(crate) metrics: Vec<Metric>,
}

/// What the request asked for, verbatim (for the execution-failure predicate).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecutionRequest {
    /// `None` for an organization query; the client id for a client query or a summary.
    pub client_id: Option<String>,
    /// The `interval` sent (for a summary, the interval the stand-in derived from `days`).
    pub interval: String,
    /// The `granularity` sent, if any.
    pub granularity: Option<String>,
    /// The `groupBy` values sent.
    pub group_by: Vec<String>,
    /// The `metrics` values sent.
    pub metrics: Vec<String>,
    /// The `days` of a summary request; `None` for the two POSTs.
    pub summary_days: Option<u32>,
}

/// Parses an `ApiUsageOrganizationQuery` (or, with `client_query`, an `ApiUsageClientQuery`,
/// which has no `UserId` groupBy). Unknown JSON fields are ignored; enum values are
/// case-sensitive, as in the spec.
pub(crate) fn parse_body(
    body: &[u8],
    client_query: bool,
) -> Result<(Query, ExecutionRequest), QueryError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        QueryError::new(
            "bad.request",
            format!(
                "The request could not be understood by the server due to malformed syntax: {e}"
            ),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(QueryError::new(
            "bad.request",
            "The request body must be a JSON object.",
        ));
    };
    let interval = match map.get("interval") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(QueryError::new(
                "invalid.date",
                "The interval is required, as an ISO-8601 string start/end.",
            ));
        }
        Some(_) => return Err(QueryError::new("bad.request", "interval must be a string.")),
    };
    let granularity = match map.get("granularity") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(QueryError::new(
                "bad.request",
                "granularity must be a string.",
            ));
        }
    };
    let strings = |field: &str| -> Result<Vec<String>, QueryError> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(QueryError::new(
                        "bad.request",
                        format!("{field} must be an array of strings."),
                    )),
                })
                .collect(),
            Some(_) => Err(QueryError::new(
                "bad.request",
                format!("{field} must be an array of strings."),
            )),
        }
    };
    let request = ExecutionRequest {
        client_id: None,
        interval,
        granularity,
        group_by: strings("groupBy")?,
        metrics: strings("metrics")?,
        summary_days: None,
    };
    let query = validate(&request, client_query)?;
    Ok((query, request))
}

/// Validates the raw strings of a request.
pub(crate) fn validate(
    request: &ExecutionRequest,
    client_query: bool,
) -> Result<Query, QueryError> {
    let (start, end) = parse_interval(&request.interval)?;
    let granularity = match request.granularity.as_deref() {
        None => None,
        Some(value) => Some(Granularity::from_wire(value).ok_or_else(|| {
            QueryError::new(
                "invalid.value",
                format!(
                    "Invalid granularity '{value}': expected one of {}.",
                    Granularity::names()
                ),
            )
        })?),
    };
    let mut group_by = Vec::new();
    for value in &request.group_by {
        let dimension = Dimension::from_wire(value)
            .filter(|d| !(client_query && *d == Dimension::UserId))
            .ok_or_else(|| {
                let allowed = if client_query {
                    "OAuthClientId, OrganizationId, TemplateUri, HttpMethod"
                } else {
                    "OAuthClientId, OrganizationId, UserId, TemplateUri, HttpMethod"
                };
                QueryError::new(
                    "invalid.value",
                    format!("Invalid groupBy '{value}': expected one of {allowed}."),
                )
            })?;
        if !group_by.contains(&dimension) {
            group_by.push(dimension);
        }
    }
    let mut metrics = Vec::new();
    for value in &request.metrics {
        let metric = Metric::from_wire(value).ok_or_else(|| {
            QueryError::new(
                "invalid.value",
                format!(
                    "Invalid metric '{value}': expected one of {}.",
                    Metric::names()
                ),
            )
        })?;
        if !metrics.contains(&metric) {
            metrics.push(metric);
        }
    }
    Ok(Query {
        start,
        end,
        granularity,
        group_by,
        metrics,
    })
}

/// Parses an ISO-8601 `start/end` interval. Each end is an RFC 3339 instant, a UTC instant
/// without offset (`2026-11-01T00:00:00`), a date (`2026-11-01`), a month (`2026-11`) or a
/// year (`2026`); partial forms mean their first instant. The end is exclusive and must be
/// after the start.
pub(crate) fn parse_interval(interval: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), QueryError> {
    let invalid = || {
        QueryError::new(
            "invalid.date",
            format!(
                "Invalid interval '{interval}': expected ISO-8601 start/end, for example \
                 2026-11-01T00:00:00Z/2026-11-08T00:00:00Z."
            ),
        )
    };
    let (start, end) = interval.split_once('/').ok_or_else(invalid)?;
    let start = parse_instant(start.trim()).ok_or_else(invalid)?;
    let end = parse_instant(end.trim()).ok_or_else(invalid)?;
    if end <= start {
        return Err(QueryError::new(
            "invalid.date",
            format!("Invalid interval '{interval}': the end must be after the start."),
        ));
    }
    Ok((start, end))
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    let date = if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        d
    } else if s.len() == 7 {
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?
    } else if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        NaiveDate::from_ymd_opt(s.parse().ok()?, 1, 1)?
    } else {
        return None;
    };
    Some(date.and_time(NaiveTime::MIN).and_utc())
}

pub(crate) fn bucket_start(day: NaiveDate, granularity: Granularity) -> NaiveDate {
    match granularity {
        Granularity::Day => day,
        // ISO weeks: Monday first.
        Granularity::Week => day - Days::days(i64::from(day.weekday().num_days_from_monday())),
        Granularity::Month => day.with_day(1).unwrap_or(day),
    }
}

/// The days whose data the stand-in holds: `history_days` full UTC days before `today`
/// (the current day is never included, like the real daily aggregation).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DataWindow {
    pub(crate) today: NaiveDate,
    pub(crate) history_days: u32,
}

impl DataWindow {
    /// The days with data whose first instant lies in `[start, end)`: `first..last_exclusive`.
    pub(crate) fn days(self, start: DateTime<Utc>, end: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let oldest = self.today - Days::days(i64::from(self.history_days));
        let mut first = start.date_naive();
        if first.and_time(NaiveTime::MIN).and_utc() < start {
            first += Days::days(1);
        }
        let first = first.max(oldest);
        let last_exclusive = {
            let last = end.date_naive();
            let last = if last.and_time(NaiveTime::MIN).and_utc() < end {
                last + Days::days(1)
            } else {
                last
            };
            last.min(self.today)
        };
        (first, last_exclusive)
    }
}

/// Runs a validated query over the data set. `client` restricts it to one OAuth client
/// (client queries and summaries). A day counts when its first instant lies in the
/// interval. Rows are sorted by date, then by the grouped dimensions.
pub(crate) fn run(
    data: &Dataset,
    query: &Query,
    client: Option<usize>,
    window: DataWindow,
) -> Vec<ApiUsageRow> {
    let (first, last_exclusive) = window.days(query.start, query.end);

    // No groupBy means per OAuth client.
    let group_by: &[Dimension] = if query.group_by.is_empty() {
        &[Dimension::OAuthClientId]
    } else {
        &query.group_by
    };
    let grouped = |d: Dimension| group_by.contains(&d);

    type Key = (
        Option<NaiveDate>,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let mut groups: BTreeMap<Key, Counts> = BTreeMap::new();
    let mut day = first;
    while day < last_exclusive {
        let bucket = query.granularity.map(|g| bucket_start(day, g));
        for series in data
            .series
            .iter()
            .filter(|s| !data.is_builtin(s) && client.is_none_or(|c| c == s.client))
        {
            let counts = data.counts(series, day);
            if counts.requests() == 0 {
                continue;
            }
            let c = &data.clients[series.client];
            let pick = |d: Dimension, v: &str| {
                if grouped(d) {
                    v.to_string()
                } else {
                    String::new()
                }
            };
            let key = (
                bucket,
                pick(Dimension::OAuthClientId, &c.id),
                pick(Dimension::OAuthClientId, &c.name),
                pick(Dimension::OrganizationId, &data.organization_id),
                pick(Dimension::UserId, &series.user_id),
                pick(Dimension::TemplateUri, series.template_uri),
                pick(Dimension::HttpMethod, series.http_method),
            );
            groups.entry(key).or_default().add(&counts);
        }
        day += Days::days(1);
    }

    let all = query.metrics.is_empty();
    let want = |m: Metric| all || query.metrics.contains(&m);
    groups
        .into_iter()
        .map(
            |((bucket, client_id, client_name, org, user, template, method), c)| {
                let metric = |m: Metric, v: i64| want(m).then_some(v);
                ApiUsageRow {
                    client_id: Some(client_id),
                    client_name: Some(client_name),
                    organization_id: Some(org),
                    user_id: Some(user),
                    template_uri: Some(template),
                    http_method: Some(method),
                    status200: metric(Metric::Status200, c.status200),
                    status300: metric(Metric::Status300, c.status300),
                    status400: metric(Metric::Status400, c.status400),
                    status500: metric(Metric::Status500, c.status500),
                    status429: metric(Metric::Status429, c.status429),
                    requests: metric(Metric::Requests, c.requests()),
                    date: bucket.map(|d| d.and_time(NaiveTime::MIN).and_utc().into()),
                    extra: Default::default(),
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn intervals_accept_instants_dates_and_partial_forms() {
        assert_eq!(
            parse_interval("2026-11-01T00:00:00Z/2026-11-08T00:00:00Z").unwrap(),
            (utc("2026-11-01T00:00:00Z"), utc("2026-11-08T00:00:00Z"))
        );
        assert_eq!(
            parse_interval("2026-11-01/2026-11-08").unwrap(),
            (utc("2026-11-01T00:00:00Z"), utc("2026-11-08T00:00:00Z"))
        );
        assert_eq!(
            parse_interval("2020-01/2020-06").unwrap(),
            (utc("2020-01-01T00:00:00Z"), utc("2020-06-01T00:00:00Z"))
        );
        assert_eq!(
            parse_interval("2026-11-01T02:00:00+02:00/2026-11-02T00:00:00.000").unwrap(),
            (utc("2026-11-01T00:00:00Z"), utc("2026-11-02T00:00:00Z"))
        );
    }

    #[test]
    fn bad_or_inverted_intervals_are_invalid_dates() {
        for bad in [
            "",
            "2026-11-01",
            "yesterday/today",
            "2026-13-01/2026-12-01",
            "2026-11-08/2026-11-01",
            "2026-11-01/2026-11-01",
        ] {
            assert_eq!(
                parse_interval(bad).unwrap_err().code,
                "invalid.date",
                "{bad}"
            );
        }
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let thu = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(
            bucket_start(thu, Granularity::Week),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        assert_eq!(
            bucket_start(thu, Granularity::Month),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
    }

    #[test]
    fn user_id_is_not_a_client_query_dimension() {
        let body = br#"{"interval":"2026-11-01/2026-11-08","groupBy":["UserId"]}"#;
        assert!(parse_body(body, false).is_ok());
        assert_eq!(parse_body(body, true).unwrap_err().code, "invalid.value");
    }

    #[test]
    fn granularity_buckets_sum_to_the_ungrouped_total() {
        let data = Dataset::generate(42, 6);
        let window = DataWindow {
            today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            history_days: 365,
        };
        let total = |granularity| {
            let query = Query {
                start: utc("2026-09-10T00:00:00Z"),
                end: utc("2026-11-20T00:00:00Z"),
                granularity,
                group_by: vec![Dimension::OrganizationId],
                metrics: vec![],
            };
            run(&data, &query, None, window)
                .iter()
                .map(|r| r.requests.unwrap())
                .sum::<i64>()
        };
        let whole = total(None);
        assert!(whole > 0);
        assert_eq!(total(Some(Granularity::Day)), whole);
        assert_eq!(total(Some(Granularity::Week)), whole);
        assert_eq!(total(Some(Granularity::Month)), whole);
    }
}
