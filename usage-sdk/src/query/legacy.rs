//! Typed usage queries: checked before anything is sent.
//!
//! [`OrganizationQuery`] is the body of `POST /api/v2/usage/query`, [`OAuthClientQuery`] the body
//! of `POST /api/v2/oauth/clients/{clientId}/usage/query`. They differ in one thing: only the
//! organization query may group by `UserId`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days as ChronoDays, NaiveDate, SecondsFormat, Utc};

use crate::model::error::Error;
use crate::model::types;

/// The time range of a query: `start/end`, start strictly before end, both in UTC.
///
/// Genesys aggregates usage per UTC day and excludes the current day, so
/// [`Interval::last_full_days`] is usually what a report wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Interval {
    /// An interval from `start` (inclusive) to `end` (exclusive).
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, Error> {
        if start >= end {
            return Err(Error::invalid(
                "interval",
                format!(
                    "start {} is not before end {}; swap them or widen the range",
                    format_instant(start),
                    format_instant(end)
                ),
            ));
        }
        Ok(Self { start, end })
    }

    /// The last `days` full UTC days: from midnight `days` days ago to today's midnight.
    pub fn last_full_days(days: u32) -> Result<Self, Error> {
        Self::last_full_days_before(days, Utc::now())
    }

    /// The `days` full UTC days before the UTC day of `now`.
    pub fn last_full_days_before(days: u32, now: DateTime<Utc>) -> Result<Self, Error> {
        let days = Days::new(days)?;
        let end = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        let start = end
            .checked_sub_days(ChronoDays::new(u64::from(days.get())))
            .ok_or_else(|| Error::invalid("days", "reaches before the representable range"))?;
        Self::new(start, end)
    }

    /// The start instant.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The end instant.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
}

fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl fmt::Display for Interval {
    /// The wire form, e.g. `2026-11-01T00:00:00Z/2026-11-08T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            format_instant(self.start),
            format_instant(self.end)
        )
    }
}

impl FromStr for Interval {
    type Err = Error;

    /// Parses `START/END`, each an RFC 3339 instant with a timezone
    /// (`2026-11-01T00:00:00Z`, `2026-11-01T02:00:00+02:00`) or a date (`2026-11-01`,
    /// meaning midnight UTC).
    fn from_str(s: &str) -> Result<Self, Error> {
        let (start, end) = s.split_once('/').ok_or_else(|| {
            Error::invalid(
                "interval",
                format!("{s:?} is not START/END, e.g. 2026-11-01T00:00:00Z/2026-11-08T00:00:00Z"),
            )
        })?;
        Self::new(parse_instant(start.trim())?, parse_instant(end.trim())?)
    }
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    let problem = if chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
        format!("{s:?} has no timezone; add Z or an offset, e.g. {s}Z")
    } else {
        format!("{s:?} is not an RFC 3339 instant such as 2026-11-01T00:00:00Z")
    };
    Err(Error::invalid("interval", problem))
}

macro_rules! api_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in the API's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The API's name for the value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)* }
            }

            /// The API names, comma-separated, for error messages.
            pub(crate) fn names() -> String {
                let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                names.join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            /// The API's name, case-insensitively.
            fn from_str(s: &str) -> Result<Self, Error> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
                    .ok_or_else(|| Error::invalid($field, format!("{s:?} is not one of {}", $name::names())))
            }
        }
    };
}

pub(crate) use api_enum;

api_enum!(
    /// `granularity`: the size of the date buckets. Without one, each row totals the interval.
    Granularity, "granularity" {
        /// One row per UTC day.
        Day,
        /// One row per week.
        Week,
        /// One row per month.
        Month,
    }
);

api_enum!(
    /// `metrics`: the counters to return. Without any, all six are returned.
    Metric, "metrics" {
        /// Requests answered 2xx.
        Status200,
        /// Requests answered 3xx.
        Status300,
        /// Requests answered 4xx (429s included).
        Status400,
        /// Requests answered 5xx.
        Status500,
        /// Requests answered 429 (a subset of `Status400`).
        Status429,
        /// All requests.
        Requests,
    }
);

api_enum!(
    /// `groupBy`: the dimensions rows are split by. Without any, rows are per OAuth client.
    GroupBy, "groupBy" {
        /// The OAuth client that made the requests.
        OAuthClientId,
        /// The organization.
        OrganizationId,
        /// The user on whose behalf requests were made. Organization queries only.
        UserId,
        /// The API path template, e.g. `api/v2/routing/queues`.
        TemplateUri,
        /// The HTTP method.
        HttpMethod,
    }
);

/// `days` for the client usage summary: how many previous days to cover.
///
/// The API types it as a string; this crate takes a number and sends `?days=N`. The server's
/// accepted range is undocumented: this crate allows 1 to 3650 (usage data goes back to 2018).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Days(u32);

impl Days {
    /// The most days accepted.
    pub const MAX: u32 = 3650;

    /// Checks `days` is in 1..=[`Days::MAX`].
    pub fn new(days: u32) -> Result<Self, Error> {
        if days == 0 || days > Self::MAX {
            return Err(Error::invalid(
                "days",
                format!("{days} is out of range; use 1 to {}", Self::MAX),
            ));
        }
        Ok(Self(days))
    }

    /// The number of days.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Days {
    /// 7, the API's default.
    fn default() -> Self {
        Self(7)
    }
}

/// What both query kinds hold; the kinds differ only in which `groupBy` values they accept.
#[derive(Clone, Debug, PartialEq, Eq)]
struct QueryParts {
    interval: Interval,
    granularity: Option<Granularity>,
    metrics: Option<Vec<Metric>>,
    group_by: Vec<GroupBy>,
}

impl QueryParts {
    fn check(&self, allow_user_id: bool) -> Result<(), Error> {
        if let Some(metrics) = &self.metrics {
            if metrics.is_empty() {
                return Err(Error::invalid(
                    "metrics",
                    "is an empty list; leave metrics out to get all six counters",
                ));
            }
            check_unique("metrics", metrics)?;
        }
        check_unique("groupBy", &self.group_by)?;
        if !allow_user_id && self.group_by.contains(&GroupBy::UserId) {
            return Err(Error::invalid(
                "groupBy",
                "UserId is only available to organization queries (POST /api/v2/usage/query); \
                 remove it from this OAuth client query",
            ));
        }
        Ok(())
    }
}

pub(crate) fn check_unique<T: PartialEq + fmt::Display>(
    field: &'static str,
    values: &[T],
) -> Result<(), Error> {
    for (i, value) in values.iter().enumerate() {
        if values[..i].contains(value) {
            return Err(Error::invalid(field, format!("{value} is listed twice")));
        }
    }
    Ok(())
}

/// Converts through the wire name, the one thing the generated and hand-written enums share.
pub(crate) fn to_raw<R: FromStr>(value: impl fmt::Display) -> R
where
    R::Err: fmt::Debug,
{
    value
        .to_string()
        .parse()
        .expect("hand-written enums list only values the spec defines")
}

macro_rules! query_type {
    ($(#[$doc:meta])* $name:ident, $builder:ident, allow_user_id = $allow:literal, raw = $raw:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(QueryParts);

        impl $name {
            /// Starts a query over `interval`; the other fields are optional.
            pub fn builder(interval: Interval) -> $builder {
                $builder(QueryParts {
                    interval,
                    granularity: None,
                    metrics: None,
                    group_by: Vec::new(),
                })
            }

            /// The interval.
            pub fn interval(&self) -> Interval {
                self.0.interval
            }

            /// The granularity, if any.
            pub fn granularity(&self) -> Option<Granularity> {
                self.0.granularity
            }

            /// The metrics asked for; `None` means all.
            pub fn metrics(&self) -> Option<&[Metric]> {
                self.0.metrics.as_deref()
            }

            /// The groupBy dimensions.
            pub fn group_by(&self) -> &[GroupBy] {
                &self.0.group_by
            }

            /// The generated request body.
            pub fn to_raw(&self) -> types::$raw {
                types::$raw {
                    interval: self.0.interval.to_string(),
                    granularity: self.0.granularity.map(to_raw),
                    metrics: self.0.metrics.iter().flatten().map(|m| to_raw(m)).collect(),
                    group_by: self.0.group_by.iter().map(|g| to_raw(g)).collect(),
                }
            }
        }

        #[doc = concat!("Builds a [`", stringify!($name), "`].")]
        #[derive(Clone, Debug)]
        #[must_use]
        pub struct $builder(QueryParts);

        impl $builder {
            /// Sets the granularity.
            pub fn granularity(mut self, granularity: Granularity) -> Self {
                self.0.granularity = Some(granularity);
                self
            }

            /// Sets the metrics to return (at least one; leave out for all).
            pub fn metrics(mut self, metrics: impl IntoIterator<Item = Metric>) -> Self {
                self.0.metrics = Some(metrics.into_iter().collect());
                self
            }

            /// Sets the groupBy dimensions, in order.
            pub fn group_by(mut self, group_by: impl IntoIterator<Item = GroupBy>) -> Self {
                self.0.group_by = group_by.into_iter().collect();
                self
            }

            /// Checks the query and builds it.
            pub fn build(self) -> Result<$name, Error> {
                self.0.check($allow)?;
                Ok($name(self.0))
            }
        }
    };
}

query_type!(
    /// The body of `POST /api/v2/usage/query`: usage of the whole organization.
    OrganizationQuery, OrganizationQueryBuilder, allow_user_id = true, raw = ApiUsageOrganizationQuery
);
query_type!(
    /// The body of `POST /api/v2/oauth/clients/{clientId}/usage/query`: one OAuth client's usage.
    /// `groupBy` cannot include `UserId`.
    OAuthClientQuery, OAuthClientQueryBuilder, allow_user_id = false, raw = ApiUsageClientQuery
);

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn interval_round_trips_through_the_wire_form() {
        let interval: Interval = "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap();
        assert_eq!(
            interval.to_string(),
            "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z"
        );
        let offset: Interval = "2026-11-01T02:00:00+02:00/2026-11-02".parse().unwrap();
        assert_eq!(
            offset.to_string(),
            "2026-11-01T00:00:00Z/2026-11-02T00:00:00Z"
        );
    }

    #[test]
    fn interval_rejects_inverted_empty_and_zoneless_ranges() {
        let err = |s: &str| s.parse::<Interval>().unwrap_err().to_string();
        assert!(err("2026-11-08T00:00:00Z/2026-11-01T00:00:00Z").contains("not before end"));
        assert!(err("2026-11-01T00:00:00Z/2026-11-01T00:00:00Z").contains("not before end"));
        assert!(err("2026-11-01T00:00:00/2026-11-02T00:00:00Z").contains("no timezone"));
        assert!(err("last week").contains("START/END"));
        assert!(err("yesterday/today").starts_with("invalid interval"));
    }

    #[test]
    fn last_full_days_ends_at_todays_utc_midnight() {
        let interval = Interval::last_full_days_before(7, utc("2026-11-26T10:20:00Z")).unwrap();
        assert_eq!(
            interval.to_string(),
            "2026-11-19T00:00:00Z/2026-11-26T00:00:00Z"
        );
        assert!(Interval::last_full_days_before(0, Utc::now()).is_err());
    }

    #[test]
    fn enums_parse_api_names_case_insensitively_and_list_choices_on_error() {
        assert_eq!(
            "oauthclientid".parse::<GroupBy>().unwrap(),
            GroupBy::OAuthClientId
        );
        assert_eq!("Status429".parse::<Metric>().unwrap(), Metric::Status429);
        let err = "Hour".parse::<Granularity>().unwrap_err().to_string();
        assert_eq!(
            err,
            r#"invalid granularity: "Hour" is not one of Day, Week, Month"#
        );
    }

    #[test]
    fn client_query_refuses_user_id_and_organization_query_takes_it() {
        let interval = Interval::last_full_days(7).unwrap();
        let err = OAuthClientQuery::builder(interval)
            .group_by([GroupBy::UserId])
            .build()
            .unwrap_err();
        assert!(
            err.to_string().starts_with("invalid groupBy: UserId"),
            "{err}"
        );
        let org = OrganizationQuery::builder(interval)
            .group_by([GroupBy::UserId])
            .build()
            .unwrap();
        assert_eq!(
            serde_json::to_value(org.to_raw()).unwrap()["groupBy"][0],
            "UserId"
        );
    }

    #[test]
    fn empty_or_repeated_lists_are_refused() {
        let interval = Interval::last_full_days(7).unwrap();
        let empty = OrganizationQuery::builder(interval)
            .metrics([])
            .build()
            .unwrap_err();
        assert!(
            empty
                .to_string()
                .starts_with("invalid metrics: is an empty list"),
            "{empty}"
        );
        let twice = OrganizationQuery::builder(interval)
            .group_by([GroupBy::HttpMethod, GroupBy::HttpMethod])
            .build()
            .unwrap_err();
        assert!(
            twice.to_string().contains("HttpMethod is listed twice"),
            "{twice}"
        );
    }

    #[test]
    fn raw_body_has_the_api_json_names_and_omits_unset_fields() {
        let interval: Interval = "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap();
        let query = OAuthClientQuery::builder(interval)
            .granularity(Granularity::Day)
            .metrics([Metric::Requests, Metric::Status429])
            .group_by([GroupBy::TemplateUri, GroupBy::HttpMethod])
            .build()
            .unwrap();
        assert_eq!(
            serde_json::to_value(query.to_raw()).unwrap(),
            serde_json::json!({
                "interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z",
                "granularity": "Day",
                "metrics": ["Requests", "Status429"],
                "groupBy": ["TemplateUri", "HttpMethod"],
            })
        );
        let bare = OrganizationQuery::builder(interval).build().unwrap();
        assert_eq!(
            serde_json::to_value(bare.to_raw()).unwrap(),
            serde_json::json!({"interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z"})
        );
    }

    #[test]
    fn hand_written_enums_list_exactly_the_spec_values() {
        // `to_raw` converts through the wire name and expects every value to exist in the
        // generated enums; this pins the lists to the spec so a spec change fails here, not
        // at run time.
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/usage-api.json")).unwrap();
        let schemas = &spec["components"]["schemas"];
        let values = |query: &str, field: &str| -> Vec<String> {
            let property = &schemas[query]["properties"][field];
            let list = property["enum"]
                .as_array()
                .or(property["items"]["enum"].as_array());
            list.expect("an enum")
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let names = |all: Vec<&str>| all.into_iter().map(String::from).collect::<Vec<_>>();
        let granularity = names(Granularity::ALL.iter().map(|g| g.as_str()).collect());
        let metrics = names(Metric::ALL.iter().map(|m| m.as_str()).collect());
        let group_by = names(GroupBy::ALL.iter().map(|g| g.as_str()).collect());
        for query in ["ApiUsageOrganizationQuery", "ApiUsageClientQuery"] {
            assert_eq!(values(query, "granularity"), granularity, "{query}");
            assert_eq!(values(query, "metrics"), metrics, "{query}");
        }
        assert_eq!(values("ApiUsageOrganizationQuery", "groupBy"), group_by);
        let client_group_by: Vec<String> = group_by.into_iter().filter(|g| g != "UserId").collect();
        assert_eq!(values("ApiUsageClientQuery", "groupBy"), client_group_by);
    }

    #[test]
    fn days_bounds() {
        assert!(Days::new(0).is_err());
        assert!(
            Days::new(Days::MAX + 1)
                .unwrap_err()
                .to_string()
                .starts_with("invalid days")
        );
        assert_eq!(Days::new(30).unwrap().get(), 30);
        assert_eq!(Days::default().get(), 7);
    }
}
