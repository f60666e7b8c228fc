//! Reports from the store: the rows a job of the same shape would return, computed from the
//! daily rows with SQL, and the days the store does not hold.

use chrono::NaiveDate;
use rusqlite::types::Value;
use usage_sdk::{Granularity, JobGroupBy, Metric, OrganizationPublicApiUsage};

use super::{Store, day_text};
use crate::exit::Exit;
use crate::row::ApiRow;

/// What a report asks of the store: the days `[first, end)`, shaped like a job query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportQuery {
    pub first: NaiveDate,
    pub end: NaiveDate,
    pub granularity: Option<Granularity>,
    pub group_by: Vec<JobGroupBy>,
    /// `None`: every metric.
    pub metrics: Option<Vec<Metric>>,
    pub template_uris: Vec<String>,
    pub http_methods: Vec<String>,
    pub platforms: Vec<String>,
    pub user_ids: Vec<String>,
    pub oauth_client_ids: Vec<String>,
}

/// The column a dimension is kept in.
fn column(group_by: JobGroupBy) -> Result<&'static str, Exit> {
    Ok(match group_by {
        JobGroupBy::OauthClientId => "client_id",
        JobGroupBy::OauthClientName => "client_name",
        JobGroupBy::UserId => "user_id",
        JobGroupBy::HttpMethod => "http_method",
        JobGroupBy::TemplateUri => "template_uri",
        JobGroupBy::Platform => "platform",
        JobGroupBy::OrganizationId => {
            return Err(Exit::usage(
                "the store holds the organization's own rows: it has no OrganizationId",
            ));
        }
    })
}

/// The order of the dimensions in a report's rows (the stand-in's too).
const ORDER: [&str; 6] = [
    "client_name",
    "client_id",
    "user_id",
    "platform",
    "template_uri",
    "http_method",
];

/// The SQL of a row's bucket: the day, the Monday of its week (ISO weeks, as the jobs), or
/// the 1st of its month.
fn bucket(granularity: Option<Granularity>) -> &'static str {
    match granularity {
        None => "NULL",
        Some(Granularity::Week) => {
            "date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')"
        }
        Some(Granularity::Month) => "strftime('%Y-%m-01', day)",
        Some(_) => "day",
    }
}

impl Store {
    /// The days of `[first, end)` no complete window holds, as `[start, end)` ranges.
    pub fn lacking(
        &self,
        first: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<(NaiveDate, NaiveDate)>, Exit> {
        let mut missing = Vec::new();
        let mut at = first;
        for (start, stop) in self.complete_windows()? {
            if start >= end {
                break;
            }
            if start > at {
                missing.push((at, start));
            }
            at = at.max(stop);
        }
        if at < end {
            missing.push((at, end));
        }
        Ok(missing)
    }

    /// The rows of `query`, as organization job rows, in the order of their bucket and
    /// dimensions.
    pub fn report_rows(&self, query: &ReportQuery) -> Result<Vec<ApiRow>, Exit> {
        let per_user = self.info()?.is_some_and(|info| info.per_user);
        if !per_user && (query.group_by.contains(&JobGroupBy::UserId) || !query.user_ids.is_empty())
        {
            return Err(Exit::usage(format!(
                "the store {} holds rows without users (sync --per-user keeps them, into a new \
                 store); drop UserId and --user-ids",
                self.path
            )));
        }
        // An OAuth client is an entity reference, named with its id (as the jobs send it).
        let mut group_by = query.group_by.clone();
        if group_by.contains(&JobGroupBy::OauthClientId)
            && !group_by.contains(&JobGroupBy::OauthClientName)
        {
            group_by.push(JobGroupBy::OauthClientName);
        }
        let columns = group_by
            .iter()
            .map(|g| column(*g))
            .collect::<Result<Vec<_>, _>>()?;
        let bucket = bucket(query.granularity);
        let mut select = format!("SELECT {bucket} AS bucket");
        for (i, c) in columns.iter().enumerate() {
            select += &format!(", {c} AS d{i}");
        }
        select += ", SUM(requests), SUM(status200), SUM(status300), SUM(status400), \
                   SUM(status429), SUM(status500) FROM usage WHERE day >= ?1 AND day < ?2";
        let mut values = vec![
            Value::Text(day_text(query.first)),
            Value::Text(day_text(query.end)),
        ];
        for (column, wanted) in [
            ("template_uri", &query.template_uris),
            ("http_method", &query.http_methods),
            ("platform", &query.platforms),
            ("user_id", &query.user_ids),
            ("client_id", &query.oauth_client_ids),
        ] {
            if wanted.is_empty() {
                continue;
            }
            let marks: Vec<String> = wanted
                .iter()
                .map(|w| {
                    values.push(Value::Text(w.clone()));
                    format!("?{}", values.len())
                })
                .collect();
            select += &format!(" AND {column} IN ({})", marks.join(", "));
        }
        let keys: Vec<String> = std::iter::once("bucket".to_string())
            .chain((0..columns.len()).map(|i| format!("d{i}")))
            .collect();
        // The rows in the order of their bucket, then of the dimensions in one fixed order
        // (client name first, as a reader looks for it), whatever order --group-by names.
        let order: Vec<String> = std::iter::once("bucket".to_string())
            .chain(
                ORDER
                    .iter()
                    .filter_map(|c| columns.iter().position(|g| g == c).map(|i| format!("d{i}"))),
            )
            .collect();
        select += &format!(
            " GROUP BY {} HAVING SUM(requests) > 0 ORDER BY {}",
            keys.join(", "),
            order.join(", ")
        );
        let error = |e: rusqlite::Error| {
            Exit::failed(format!("the store {}: reading rows: {e}", self.path))
        };
        let mut statement = self.conn.prepare(&select).map_err(error)?;
        let want = |m: Metric| query.metrics.as_ref().is_none_or(|ms| ms.contains(&m));
        let group_by = &group_by;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values), |r| {
                let date: Option<String> = r.get(0)?;
                let dims: Vec<String> = (0..group_by.len())
                    .map(|i| r.get(i + 1))
                    .collect::<Result<_, _>>()?;
                let count = |at: usize| r.get::<_, i64>(group_by.len() + 1 + at);
                let counts = [
                    (Metric::Requests, "requestCount", count(0)?),
                    (Metric::Status200, "status200", count(1)?),
                    (Metric::Status300, "status300", count(2)?),
                    (Metric::Status400, "status400", count(3)?),
                    (Metric::Status429, "status429", count(4)?),
                    (Metric::Status500, "status500", count(5)?),
                ];
                Ok((date, dims, counts))
            })
            .map_err(error)?;
        let mut out = Vec::new();
        for row in rows {
            let (date, dims, counts) = row.map_err(error)?;
            let mut value = serde_json::json!({});
            if let Some(date) = date {
                value["date"] = date.into();
            }
            for (g, v) in group_by.iter().zip(dims) {
                match g {
                    JobGroupBy::OauthClientId => value["oauthClient"]["id"] = v.into(),
                    JobGroupBy::OauthClientName => value["oauthClient"]["name"] = v.into(),
                    JobGroupBy::UserId => value["user"]["id"] = v.into(),
                    JobGroupBy::HttpMethod => value["httpMethod"] = v.into(),
                    JobGroupBy::TemplateUri => value["templateUri"] = v.into(),
                    JobGroupBy::Platform => value["platform"] = v.into(),
                    JobGroupBy::OrganizationId => {}
                }
            }
            for (metric, name, n) in counts {
                if want(metric) {
                    value[name] = n.into();
                }
            }
            let row: OrganizationPublicApiUsage = serde_json::from_value(value).map_err(|e| {
                Exit::failed(format!("the store {}: a row it holds: {e}", self.path))
            })?;
            out.push(ApiRow::Organization(row));
        }
        Ok(out)
    }
}
