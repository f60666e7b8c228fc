//! Aggregates query jobs (the usage service of 2025): parsing and validating
//! `OrganizationPublicApiUsageQueryRequest` and `ClientPublicApiUsageQueryRequest`, and
//! aggregating the data set into their rows.
//!
//! Unlike the legacy queries, the jobs see the built-in Genesys clients (Genesys developer forum, "Introducing enhanced Usage service and APIs", 2025),
//! report a `platform`, count `requestCount`, and date their rows `yyyy-MM-dd`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration as Days, Months, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Value};

use usage_sdk::{
    ClientPublicApiUsage, DomainEntityRef, Granularity, Metric, OrganizationPublicApiUsage,
    UsageDate, UserReference,
};

use super::data::{Counts, Dataset};
use super::query::{self, DataWindow, QueryError, WireName};

// The interval limits, read from the API document on their own rather than borrowed from the
// client (`job_query.rs`): a shared constant would let one misreading pass on both sides.
// Reference genesys-usage-api.md §10.2, the job requests' `interval`: "Start date cannot be
// more than a year ago. End date cannot be more than 90 days after the start."
// tests/it/agreement.rs holds the two sides to the same boundaries.
/// "More than a year ago", as a calendar year before today.
const MAX_AGE: Months = Months::new(12);
/// "More than 90 days after the start".
const MAX_SPAN_DAYS: i64 = 90;

/// The `httpMethods` filter values of both job requests.
const HTTP_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// A dimension of `groupBy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dim {
    OauthClientName,
    OauthClientId,
    UserId,
    OrganizationId,
    HttpMethod,
    TemplateUri,
    Platform,
}

impl Dim {
    const ORGANIZATION: [Dim; 6] = [
        Dim::OauthClientName,
        Dim::OauthClientId,
        Dim::UserId,
        Dim::HttpMethod,
        Dim::TemplateUri,
        Dim::Platform,
    ];
    const CLIENT: [Dim; 4] = [
        Dim::OrganizationId,
        Dim::HttpMethod,
        Dim::TemplateUri,
        Dim::Platform,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Dim::OauthClientName => "OauthClientName",
            Dim::OauthClientId => "OauthClientId",
            Dim::UserId => "UserId",
            Dim::OrganizationId => "OrganizationId",
            Dim::HttpMethod => "HttpMethod",
            Dim::TemplateUri => "TemplateUri",
            Dim::Platform => "Platform",
        }
    }

    fn allowed(client: bool) -> &'static [Dim] {
        if client {
            &Self::CLIENT
        } else {
            &Self::ORGANIZATION
        }
    }
}

/// A validated job request, organization or client.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JobQuery {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    granularity: Option<Granularity>,
    group_by: Vec<Dim>,
    metrics: Vec<Metric>,
    template_uris: Vec<String>,
    http_methods: Vec<String>,
    platforms: Vec<String>,
    user_ids: Vec<String>,
    oauth_client_ids: Vec<String>,
    organization_ids: Vec<String>,
    /// `(row field name, descending)`, most significant first.
    sort_by: Vec<(String, bool)>,
}

/// The body as a JSON object, or 400 `bad.request`.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, QueryError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(QueryError::new(
            "bad.request",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(QueryError::new(
            "bad.request",
            format!(
                "The request could not be understood by the server due to malformed syntax: {e}"
            ),
        )),
    }
}

/// The required `interval`, parsed (400 `invalid.date` when missing or malformed).
pub(crate) fn interval(
    map: &Map<String, Value>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), QueryError> {
    match map.get("interval") {
        Some(Value::String(s)) => query::parse_interval(s),
        None | Some(Value::Null) => Err(QueryError::new(
            "invalid.date",
            "The interval is required, as an ISO-8601 string start/end.",
        )),
        Some(_) => Err(QueryError::new("bad.request", "interval must be a string.")),
    }
}

/// An optional array of strings (400 `bad.request` when it is anything else).
pub(crate) fn strings(map: &Map<String, Value>, field: &str) -> Result<Vec<String>, QueryError> {
    let malformed = || {
        QueryError::new(
            "bad.request",
            format!("{field} must be an array of strings."),
        )
    };
    match map.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(malformed))
            .collect(),
        Some(_) => Err(malformed()),
    }
}

/// Each value must be one of `allowed` (400 `invalid.value`).
pub(crate) fn check_values(
    field: &str,
    values: &[String],
    allowed: &[&str],
) -> Result<(), QueryError> {
    match values.iter().find(|v| !allowed.contains(&v.as_str())) {
        None => Ok(()),
        Some(value) => Err(QueryError::new(
            "invalid.value",
            format!(
                "Invalid {field} value '{value}': expected one of {}.",
                allowed.join(", ")
            ),
        )),
    }
}

/// Parses and validates a job request; `client` selects the client variant (its groupBy and
/// filters). `today` anchors "not more than a year ago".
pub(crate) fn parse(body: &[u8], client: bool, today: NaiveDate) -> Result<JobQuery, QueryError> {
    let map = object(body)?;
    let (start, end) = interval(&map)?;
    let oldest = today
        .checked_sub_months(MAX_AGE)
        .unwrap_or(NaiveDate::MIN)
        .and_time(NaiveTime::MIN)
        .and_utc();
    if start < oldest {
        return Err(QueryError::new(
            "invalid.date",
            format!(
                "Start date cannot be more than a year ago (before {}).",
                oldest.date_naive()
            ),
        ));
    }
    if end - start > Days::days(MAX_SPAN_DAYS) {
        return Err(QueryError::new(
            "invalid.date",
            format!("End date cannot be more than {MAX_SPAN_DAYS} days after the start."),
        ));
    }
    let granularity = match map.get("granularity") {
        None | Some(Value::Null) => None,
        Some(Value::String(value)) => Some(Granularity::from_wire(value).ok_or_else(|| {
            QueryError::new(
                "invalid.value",
                format!(
                    "Invalid granularity '{value}': expected one of {}.",
                    Granularity::names()
                ),
            )
        })?),
        Some(_) => {
            return Err(QueryError::new(
                "bad.request",
                "granularity must be a string.",
            ));
        }
    };
    let allowed = Dim::allowed(client);
    let mut group_by = Vec::new();
    for value in strings(&map, "groupBy")? {
        let dim = allowed
            .iter()
            .copied()
            .find(|d| d.as_str() == value)
            .ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(|d| d.as_str()).collect();
                QueryError::new(
                    "invalid.value",
                    format!(
                        "Invalid groupBy '{value}': expected one of {}.",
                        names.join(", ")
                    ),
                )
            })?;
        if !group_by.contains(&dim) {
            group_by.push(dim);
        }
    }
    let mut metrics = Vec::new();
    for value in strings(&map, "metrics")? {
        let metric = Metric::from_wire(&value).ok_or_else(|| {
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
    let http_methods = strings(&map, "httpMethods")?;
    check_values("httpMethods", &http_methods, &HTTP_METHODS)?;
    let sort_by = sort_by(&map, client)?;
    // Fields of the other variant are ignored, like any unknown field.
    let (user_ids, oauth_client_ids, organization_ids) = if client {
        (Vec::new(), Vec::new(), strings(&map, "organizationIds")?)
    } else {
        (
            strings(&map, "userIds")?,
            strings(&map, "oauthClientIds")?,
            Vec::new(),
        )
    };
    Ok(JobQuery {
        start,
        end,
        granularity,
        group_by,
        metrics,
        template_uris: strings(&map, "templateUris")?
            .into_iter()
            .map(|t| t.trim_start_matches('/').to_string())
            .collect(),
        http_methods,
        platforms: strings(&map, "platforms")?,
        user_ids,
        oauth_client_ids,
        organization_ids,
        sort_by,
    })
}

/// The row fields `sortBy` accepts, per variant (matched case-insensitively).
fn sort_fields(client: bool) -> &'static [&'static str] {
    if client {
        &[
            "date",
            "organizationId",
            "platform",
            "httpMethod",
            "templateUri",
            "requestCount",
            "status200",
            "status300",
            "status400",
            "status429",
            "status500",
        ]
    } else {
        &[
            "date",
            "oauthClientId",
            "oauthClientName",
            "oauthClient",
            "userId",
            "user",
            "platform",
            "httpMethod",
            "templateUri",
            "requestCount",
            "status200",
            "status300",
            "status400",
            "status429",
            "status500",
        ]
    }
}

fn sort_by(map: &Map<String, Value>, client: bool) -> Result<Vec<(String, bool)>, QueryError> {
    let malformed = || {
        QueryError::new(
            "bad.request",
            "sortBy must be an array of {\"fieldName\": string, \"order\": \"Asc\"|\"Desc\"}.",
        )
    };
    let items = match map.get("sortBy") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(malformed()),
    };
    let fields = sort_fields(client);
    items
        .iter()
        .map(|item| {
            let item = item.as_object().ok_or_else(malformed)?;
            let name = item
                .get("fieldName")
                .and_then(Value::as_str)
                .ok_or_else(malformed)?;
            let field = fields
                .iter()
                .find(|f| f.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    QueryError::new(
                        "invalid.value",
                        format!(
                            "Invalid sortBy fieldName '{name}': expected one of {}.",
                            fields.join(", ")
                        ),
                    )
                })?;
            let descending = match item.get("order") {
                None | Some(Value::Null) => false,
                Some(Value::String(o)) if o == "Asc" => false,
                Some(Value::String(o)) if o == "Desc" => true,
                Some(other) => {
                    return Err(QueryError::new(
                        "invalid.value",
                        format!("Invalid sortBy order {other}: expected Asc or Desc."),
                    ));
                }
            };
            Ok(((*field).to_string(), descending))
        })
        .collect()
}

/// One aggregated row before rendering; `None` dimensions are not grouped by.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    date: Option<NaiveDate>,
    client_name: Option<String>,
    client_id: Option<String>,
    user_id: Option<String>,
    organization_id: Option<String>,
    platform: Option<&'static str>,
    template_uri: Option<&'static str>,
    http_method: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue<'a> {
    Absent,
    Int(i64),
    Text(&'a str),
}

/// The value of a row field, for `sortBy`.
fn field<'a>((key, counts): &'a (Key, Counts), name: &str) -> SortValue<'a> {
    fn text(v: Option<&str>) -> SortValue<'_> {
        v.map_or(SortValue::Absent, SortValue::Text)
    }
    match name {
        "date" => key.date.map_or(SortValue::Absent, |d| {
            SortValue::Int(i64::from(d.num_days_from_ce()))
        }),
        "oauthClientId" => text(key.client_id.as_deref()),
        "oauthClientName" | "oauthClient" => text(key.client_name.as_deref()),
        "userId" | "user" => text(key.user_id.as_deref()),
        "organizationId" => text(key.organization_id.as_deref()),
        "platform" => text(key.platform),
        "httpMethod" => text(key.http_method),
        "templateUri" => text(key.template_uri),
        "requestCount" => SortValue::Int(counts.requests()),
        "status200" => SortValue::Int(counts.status200),
        "status300" => SortValue::Int(counts.status300),
        "status400" => SortValue::Int(counts.status400),
        "status429" => SortValue::Int(counts.status429),
        "status500" => SortValue::Int(counts.status500),
        _ => SortValue::Absent,
    }
}

/// Runs a validated job over the data set, built-in clients included; `client` restricts it
/// to one OAuth client (the client variant). Rows are rendered as JSON, in the order of
/// `sortBy`, then date and dimensions.
pub(crate) fn run(
    data: &Dataset,
    job: &JobQuery,
    client: Option<usize>,
    window: DataWindow,
) -> Vec<Value> {
    let (first, last_exclusive) = window.days(job.start, job.end);
    // No groupBy: per OAuth client for the organization (as the legacy API), one row per
    // date bucket for a client.
    let group_by: &[Dim] = match (&job.group_by[..], client) {
        ([], None) => &[Dim::OauthClientId],
        (group_by, _) => group_by,
    };
    let grouped = |d: Dim| group_by.contains(&d);
    let matches =
        |filter: &[String], value: &str| filter.is_empty() || filter.iter().any(|f| f == value);
    let series: Vec<_> = data
        .series
        .iter()
        .filter(|s| {
            let c = data.client(s.client);
            client.is_none_or(|c| c == s.client)
                && matches(&job.template_uris, s.template_uri)
                && matches(&job.http_methods, s.http_method)
                && matches(&job.platforms, s.platform)
                && matches(&job.user_ids, &s.user_id)
                && matches(&job.oauth_client_ids, &c.id)
                && matches(&job.organization_ids, &data.organization_id)
        })
        .collect();

    let mut groups: BTreeMap<Key, Counts> = BTreeMap::new();
    let mut day = first;
    while day < last_exclusive {
        let date = job.granularity.map(|g| query::bucket_start(day, g));
        for s in &series {
            let counts = data.counts(s, day);
            if counts.requests() == 0 {
                continue;
            }
            let c = data.client(s.client);
            let key = Key {
                date,
                // The name goes with the id: an entity reference names what it points to.
                client_name: (grouped(Dim::OauthClientName) || grouped(Dim::OauthClientId))
                    .then(|| c.name.clone()),
                client_id: grouped(Dim::OauthClientId).then(|| c.id.clone()),
                user_id: grouped(Dim::UserId).then(|| s.user_id.clone()),
                organization_id: grouped(Dim::OrganizationId).then(|| data.organization_id.clone()),
                platform: grouped(Dim::Platform).then_some(s.platform),
                template_uri: grouped(Dim::TemplateUri).then_some(s.template_uri),
                http_method: grouped(Dim::HttpMethod).then_some(s.http_method),
            };
            groups.entry(key).or_default().add(&counts);
        }
        day += Days::days(1);
    }

    let mut rows: Vec<(Key, Counts)> = groups.into_iter().collect();
    // Stable: ties keep the default order, so pages never overlap.
    rows.sort_by(|a, b| {
        job.sort_by
            .iter()
            .map(|(name, descending)| {
                let order = field(a, name).cmp(&field(b, name));
                if *descending { order.reverse() } else { order }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });

    let all = job.metrics.is_empty();
    let metric = |m: Metric, v: i64| (all || job.metrics.contains(&m)).then_some(v);
    rows.into_iter()
        .map(|(key, c)| {
            let value = if client.is_some() {
                serde_json::to_value(ClientPublicApiUsage {
                    date: key.date.map(UsageDate::from),
                    http_method: key.http_method.and_then(|m| m.parse().ok()),
                    organization_id: key.organization_id,
                    platform: key.platform.map(str::to_string),
                    request_count: metric(Metric::Requests, c.requests()),
                    status200: metric(Metric::Status200, c.status200),
                    status300: metric(Metric::Status300, c.status300),
                    status400: metric(Metric::Status400, c.status400),
                    status429: metric(Metric::Status429, c.status429),
                    status500: metric(Metric::Status500, c.status500),
                    template_uri: key.template_uri.map(str::to_string),
                    extra: Default::default(),
                })
            } else {
                let oauth_client =
                    (key.client_id.is_some() || key.client_name.is_some()).then(|| {
                        DomainEntityRef {
                            self_uri: key
                                .client_id
                                .as_ref()
                                .map(|id| format!("/api/v2/oauth/clients/{id}")),
                            id: key.client_id,
                            name: key.client_name,
                            extra: Default::default(),
                        }
                    });
                // Client-credentials traffic has no user.
                let user = key
                    .user_id
                    .filter(|u| !u.is_empty())
                    .map(|id| UserReference {
                        self_uri: Some(format!("/api/v2/users/{id}")),
                        id: Some(id),
                        extra: Default::default(),
                    });
                serde_json::to_value(OrganizationPublicApiUsage {
                    date: key.date.map(UsageDate::from),
                    http_method: key.http_method.and_then(|m| m.parse().ok()),
                    oauth_client,
                    platform: key.platform.map(str::to_string),
                    request_count: metric(Metric::Requests, c.requests()),
                    status200: metric(Metric::Status200, c.status200),
                    status300: metric(Metric::Status300, c.status300),
                    status400: metric(Metric::Status400, c.status400),
                    status429: metric(Metric::Status429, c.status429),
                    status500: metric(Metric::Status500, c.status500),
                    template_uri: key.template_uri.map(str::to_string),
                    user,
                    extra: Default::default(),
                })
            };
            value.unwrap_or(Value::Null)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn code(body: &str, client: bool) -> &'static str {
        parse(body.as_bytes(), client, today()).unwrap_err().code
    }

    #[test]
    fn intervals_are_bounded_like_the_jobs_api() {
        assert!(parse(br#"{"interval":"2026-11-01/2026-11-08"}"#, false, today()).is_ok());
        assert_eq!(
            code(r#"{"interval":"2026-11-08/2026-11-01"}"#, false),
            "invalid.date"
        );
        assert_eq!(
            code(r#"{"interval":"2025-11-01/2025-11-08"}"#, false),
            "invalid.date"
        );
        assert_eq!(
            code(r#"{"interval":"2026-06-01/2026-09-01"}"#, false),
            "invalid.date"
        );
        assert_eq!(code(r#"{}"#, false), "invalid.date");
    }

    #[test]
    fn a_year_back_is_a_calendar_year_as_the_client_counts_it() {
        // After a leap day, a year is 366 days: the client (job_query.rs) lets through a
        // start 366 days back, and so must the stand-in; a day more is refused.
        let after_leap_day = NaiveDate::from_ymd_opt(2028, 3, 1).unwrap();
        let starting =
            |day: &str| format!(r#"{{"interval":"{day}T00:00:00Z/2027-03-08T00:00:00Z"}}"#);
        assert!(parse(starting("2027-03-01").as_bytes(), false, after_leap_day).is_ok());
        let refused = parse(starting("2027-02-28").as_bytes(), false, after_leap_day);
        assert_eq!(refused.unwrap_err().code, "invalid.date");
    }

    #[test]
    fn each_variant_has_its_own_group_by() {
        let user = r#"{"interval":"2026-11-01/2026-11-08","groupBy":["UserId"]}"#;
        assert!(parse(user.as_bytes(), false, today()).is_ok());
        assert_eq!(code(user, true), "invalid.value");
        let org = r#"{"interval":"2026-11-01/2026-11-08","groupBy":["OrganizationId"]}"#;
        assert_eq!(code(org, false), "invalid.value");
        assert!(parse(org.as_bytes(), true, today()).is_ok());
    }

    #[test]
    fn unknown_values_are_refused() {
        for body in [
            r#"{"interval":"2026-11-01/2026-11-08","granularity":"Hour"}"#,
            r#"{"interval":"2026-11-01/2026-11-08","metrics":["Requests","Status404"]}"#,
            r#"{"interval":"2026-11-01/2026-11-08","httpMethods":["TRACE"]}"#,
            r#"{"interval":"2026-11-01/2026-11-08","sortBy":[{"fieldName":"colour"}]}"#,
            r#"{"interval":"2026-11-01/2026-11-08","sortBy":[{"fieldName":"date","order":"Up"}]}"#,
        ] {
            assert_eq!(code(body, false), "invalid.value", "{body}");
        }
    }
}
