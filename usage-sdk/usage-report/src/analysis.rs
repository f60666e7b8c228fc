//! Figures computed from the flattened rows, shared by the charts, the HTML report and
//! `--top`: totals, requests per date bucket by OAuth client, 429 shares, top endpoints.
//!
//! Counters are summed as `u64` with saturation: the API sends `i64`s, a negative count is
//! read as 0, and no sum can overflow or panic whatever the server sends.

use std::collections::{BTreeMap, HashMap};

use clap::ValueEnum;

use crate::row::Row;

/// How many OAuth clients get their own series; the rest are summed as "other", so a chart
/// has at most `TOP_CLIENTS + 1` series (ten distinct palette colours).
pub const TOP_CLIENTS: usize = 9;
/// How many endpoints the endpoint chart shows.
pub const TOP_ENDPOINTS: usize = 10;
/// The series name of the clients beyond the top ones.
pub const OTHER: &str = "other";

fn count(value: Option<i64>) -> u64 {
    value.map_or(0, |v| u64::try_from(v).unwrap_or(0))
}

/// Counter sums over some rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub rows: usize,
    pub requests: u64,
    pub status400: u64,
    pub status429: u64,
    pub status500: u64,
}

impl Totals {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Self {
        rows.into_iter().fold(Totals::default(), |mut t, r| {
            t.rows += 1;
            t.requests = t.requests.saturating_add(count(r.requests));
            t.status400 = t.status400.saturating_add(count(r.status400));
            t.status429 = t.status429.saturating_add(count(r.status429));
            t.status500 = t.status500.saturating_add(count(r.status500));
            t
        })
    }
}

/// `part` of `whole` in percent; 0 when there is no whole.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The name a row's OAuth client is shown under: its name, else its id.
fn client_label(row: &Row) -> Option<String> {
    row.client_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .or(row.client_id.as_deref().filter(|i| !i.is_empty()))
        .map(str::to_string)
}

/// An endpoint's label: `METHOD templateUri`.
fn endpoint_label(row: &Row) -> Option<String> {
    let uri = row.template_uri.as_deref().filter(|u| !u.is_empty());
    let method = row.http_method.as_deref().filter(|m| !m.is_empty());
    match (method, uri) {
        (None, None) => None,
        (Some(m), Some(u)) => Some(format!("{m} {u}")),
        (Some(m), None) => Some(format!("{m} (any path)")),
        (None, Some(u)) => Some(u.to_string()),
    }
}

/// One series of a chart: a name and a value per date bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub requests: Vec<u64>,
    pub status429: Vec<u64>,
}

/// What the charts draw, with notes on what the rows could not show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartData {
    /// The date buckets, oldest first (`None`: the rows have no dates, one bucket).
    pub buckets: Vec<String>,
    pub dated: bool,
    /// Requests (and 429s) per bucket, by client: the top clients, then "other".
    pub clients: Vec<Series>,
    pub by_client: bool,
    /// Whether the rows carry 429 counts at all.
    pub has_429: bool,
    /// The top endpoints by requests, largest first.
    pub endpoints: Vec<(String, u64)>,
    pub by_endpoint: bool,
    pub totals: Totals,
}

impl ChartData {
    pub fn is_empty(&self) -> bool {
        self.totals.rows == 0
    }

    pub fn from_rows(rows: &[Row]) -> Self {
        let totals = Totals::of(rows);
        let dated = rows.iter().any(|r| r.date.is_some());
        let by_client = rows.iter().any(|r| client_label(r).is_some());
        let by_endpoint = rows.iter().any(|r| endpoint_label(r).is_some());
        let has_429 = rows.iter().any(|r| r.status429.is_some());

        // Dates are ISO (YYYY-MM-DD), so their string order is their time order (text the
        // server sent that is not a date sorts among them by its bytes).
        let buckets: Vec<String> = if dated {
            let set: std::collections::BTreeSet<&str> =
                rows.iter().filter_map(|r| r.date.as_deref()).collect();
            set.into_iter().map(str::to_string).collect()
        } else if rows.is_empty() {
            Vec::new()
        } else {
            vec!["whole interval".to_string()]
        };
        let bucket_of: HashMap<&str, usize> = buckets
            .iter()
            .enumerate()
            .map(|(i, b)| (b.as_str(), i))
            .collect();
        let index = |r: &Row| -> usize {
            r.date
                .as_deref()
                .and_then(|d| bucket_of.get(d).copied())
                .unwrap_or(0)
        };

        // Clients ranked by requests (ties by name, so the order is stable across runs).
        let mut per_client: HashMap<String, u64> = HashMap::new();
        for r in rows {
            let name = client_label(r).unwrap_or_else(|| {
                if by_client {
                    "(no client)".to_string()
                } else {
                    "all requests".to_string()
                }
            });
            let entry = per_client.entry(name).or_default();
            *entry = entry.saturating_add(count(r.requests));
        }
        let mut ranked: Vec<(String, u64)> = per_client.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let keep = if ranked.len() > TOP_CLIENTS + 1 {
            TOP_CLIENTS
        } else {
            ranked.len()
        };
        let mut clients: Vec<Series> = ranked
            .iter()
            .take(keep)
            .map(|(name, _)| Series {
                name: name.clone(),
                requests: vec![0; buckets.len()],
                status429: vec![0; buckets.len()],
            })
            .collect();
        if ranked.len() > keep {
            clients.push(Series {
                name: OTHER.to_string(),
                requests: vec![0; buckets.len()],
                status429: vec![0; buckets.len()],
            });
        }
        let series_of: HashMap<&str, usize> = ranked
            .iter()
            .take(keep)
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        for r in rows {
            let name = client_label(r);
            let s = match name.as_deref().and_then(|n| series_of.get(n)) {
                Some(&s) => s,
                None if ranked.len() > keep => clients.len() - 1,
                None => 0,
            };
            let b = index(r);
            let series = &mut clients[s];
            series.requests[b] = series.requests[b].saturating_add(count(r.requests));
            series.status429[b] = series.status429[b].saturating_add(count(r.status429));
        }

        let mut per_endpoint: BTreeMap<String, u64> = BTreeMap::new();
        for r in rows {
            if let Some(label) = endpoint_label(r) {
                let entry = per_endpoint.entry(label).or_default();
                *entry = entry.saturating_add(count(r.requests));
            }
        }
        let mut endpoints: Vec<(String, u64)> = per_endpoint.into_iter().collect();
        endpoints.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        endpoints.truncate(TOP_ENDPOINTS);

        ChartData {
            buckets,
            dated,
            clients,
            by_client,
            has_429,
            endpoints,
            by_endpoint,
            totals,
        }
    }
}

/// What `--top N --by KEY` orders the rows by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TopBy {
    /// All requests
    Requests,
    /// Requests answered 429
    Status429,
    /// 429s as a share of the row's requests
    #[value(name = "429-rate")]
    Rate429,
    /// 5xx as a share of the row's requests
    #[value(name = "5xx-rate")]
    Rate5xx,
}

impl TopBy {
    pub fn name(self) -> &'static str {
        match self {
            TopBy::Requests => "requests",
            TopBy::Status429 => "status429",
            TopBy::Rate429 => "429-rate",
            TopBy::Rate5xx => "5xx-rate",
        }
    }

    fn key(self, row: &Row) -> f64 {
        let requests = count(row.requests);
        match self {
            TopBy::Requests => requests as f64,
            TopBy::Status429 => count(row.status429) as f64,
            TopBy::Rate429 => percent(count(row.status429), requests),
            TopBy::Rate5xx => percent(count(row.status500), requests),
        }
    }
}

/// The indices of the `n` rows with the largest `by`, largest first; ties go to the row with
/// more requests, then to the earlier row, so the order is the same in every format.
pub fn top(rows: &[Row], n: usize, by: TopBy) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        by.key(&rows[b])
            .total_cmp(&by.key(&rows[a]))
            .then_with(|| count(rows[b].requests).cmp(&count(rows[a].requests)))
            .then_with(|| a.cmp(&b))
    });
    order.truncate(n);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(date: &str, client: &str, uri: &str, requests: i64, s429: i64) -> Row {
        Row {
            date: Some(date.into()),
            client_name: Some(client.into()),
            template_uri: Some(uri.into()),
            http_method: Some("GET".into()),
            requests: Some(requests),
            status429: Some(s429),
            ..Row::default()
        }
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn clients_beyond_the_top_nine_are_summed_as_other() {
        let rows: Vec<Row> = (0..12)
            .map(|i| row("2026-11-01", &format!("c{i:02}"), "/a", 100 - i, 1))
            .collect();
        let data = ChartData::from_rows(&rows);
        assert_eq!(data.clients.len(), TOP_CLIENTS + 1);
        assert_eq!(data.clients[0].name, "c00");
        let other = data.clients.last().unwrap();
        assert_eq!(other.name, OTHER);
        assert_eq!(other.requests, [91 + 90 + 89]);
        let all: u64 = data.clients.iter().map(|s| s.requests[0]).sum();
        assert_eq!(all, data.totals.requests);
    }

    #[test]
    fn ten_clients_need_no_other_series() {
        let rows: Vec<Row> = (0..10)
            .map(|i| row("2026-11-01", &format!("c{i}"), "/a", 10, 0))
            .collect();
        let data = ChartData::from_rows(&rows);
        assert_eq!(data.clients.len(), 10);
        assert!(data.clients.iter().all(|s| s.name != OTHER));
    }

    #[test]
    fn buckets_are_dates_in_order_and_sums_cannot_overflow() {
        let rows = [
            row("2026-11-02", "a", "/x", i64::MAX, 0),
            row("2026-11-01", "a", "/x", i64::MAX, 0),
            row("2026-11-02", "a", "/x", i64::MAX, 0),
            row("2026-11-02", "b", "/y", -5, 0),
        ];
        let data = ChartData::from_rows(&rows);
        assert_eq!(data.buckets, ["2026-11-01", "2026-11-02"]);
        assert_eq!(data.clients[0].requests[1], u64::MAX - 1);
        assert_eq!(data.endpoints[0].0, "GET /x");
        assert_eq!(data.totals.requests, u64::MAX);
    }

    #[test]
    fn no_rows_give_no_buckets_and_undated_rows_one() {
        assert!(ChartData::from_rows(&[]).is_empty());
        assert!(ChartData::from_rows(&[]).buckets.is_empty());
        let undated = Row {
            requests: Some(3),
            ..Row::default()
        };
        let data = ChartData::from_rows(&[undated]);
        assert_eq!(data.buckets, ["whole interval"]);
        assert!(!data.by_client && !data.by_endpoint && !data.dated);
        assert_eq!(data.clients[0].name, "all requests");
    }

    #[test]
    fn top_orders_by_the_key_and_breaks_ties_stably() {
        let rows = [
            row("d", "a", "/a", 100, 1),
            row("d", "b", "/b", 10, 5),
            row("d", "c", "/c", 0, 0),
            row("d", "d", "/d", 100, 1),
        ];
        assert_eq!(top(&rows, 10, TopBy::Requests), [0, 3, 1, 2]);
        assert_eq!(top(&rows, 2, TopBy::Status429), [1, 0]);
        assert_eq!(top(&rows, 1, TopBy::Rate429), [1]);
        assert_eq!(top(&rows, 0, TopBy::Rate5xx), Vec::<usize>::new());
    }
}
