//! Typed queries of the aggregates query jobs and of simple search, checked before anything
//! is sent.
//!
//! [`OrganizationJobQuery`] is the body of `POST /api/v2/usage/aggregates/query/jobs`,
//! [`OAuthClientJobQuery`] the body of `POST /api/v2/usage/client/{clientId}/aggregates/query/jobs`,
//! [`SimpleSearchQuery`] the body of `POST /api/v2/usage/simplesearch`. Each also carries the
//! [`PageSize`] its results are fetched with (a query parameter of the results GET, not part
//! of the body).
//!
//! The checks are what the API documents for the jobs' `interval` ("Start date cannot be more
//! than a year ago. End date cannot be more than 90 days after the start.") and `pageSize`
//! ("Max is 1000"). A year is read as a calendar year back from now, the lenient reading.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Months, TimeDelta, Utc};

use crate::model::error::Error;
use crate::model::types;
use crate::query::legacy::{Granularity, Interval, Metric, api_enum, check_unique, to_raw};

/// How many rows one results page holds: 1 to 1000 (the server's maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageSize(u16);

impl PageSize {
    /// The largest page the server serves.
    pub const MAX: PageSize = PageSize(1000);

    /// A page size, checked: 1 to 1000.
    pub fn new(rows: u32) -> Result<Self, Error> {
        match u16::try_from(rows) {
            Ok(rows @ 1..=1000) => Ok(Self(rows)),
            _ => Err(Error::invalid(
                "pageSize",
                format!("{rows} is out of range; the API serves 1 to 1000 rows per page"),
            )),
        }
    }

    /// The number of rows.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl Default for PageSize {
    /// 100, the API's default.
    fn default() -> Self {
        Self(100)
    }
}

impl FromStr for PageSize {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let rows = s.trim().parse::<u32>().map_err(|_| {
            Error::invalid("pageSize", format!("{s:?} is not a number from 1 to 1000"))
        })?;
        Self::new(rows)
    }
}

impl fmt::Display for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An HTTP method, as the `httpMethods` filters name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    /// Simple search only.
    Connect,
    /// Simple search only.
    Options,
    /// Simple search only.
    Trace,
}

impl HttpMethod {
    /// Every value; the jobs accept the first six.
    pub const ALL: &'static [HttpMethod] = &[
        Self::Get,
        Self::Post,
        Self::Put,
        Self::Patch,
        Self::Delete,
        Self::Head,
        Self::Connect,
        Self::Options,
        Self::Trace,
    ];

    /// The wire name, e.g. `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Connect => "CONNECT",
            Self::Options => "OPTIONS",
            Self::Trace => "TRACE",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HttpMethod {
    type Err = Error;

    /// The method name, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid(
                    "httpMethods",
                    format!("{s:?} is not one of GET, POST, PUT, PATCH, DELETE, HEAD, CONNECT, OPTIONS, TRACE"),
                )
            })
    }
}

api_enum!(
    /// `groupBy` of the aggregates jobs. Each job kind accepts its own subset:
    /// organization jobs `OauthClientName`, `OauthClientId`, `UserId`, `HttpMethod`,
    /// `TemplateUri`, `Platform`; OAuth client jobs `OrganizationId`, `HttpMethod`,
    /// `TemplateUri`, `Platform`. (The jobs spell `Oauth`, the legacy queries `OAuth`.)
    JobGroupBy, "groupBy" {
        /// The OAuth client's name. Organization jobs only.
        OauthClientName,
        /// The OAuth client's id. Organization jobs only.
        OauthClientId,
        /// The user on whose behalf requests were made. Organization jobs only.
        UserId,
        /// The organization. OAuth client jobs only.
        OrganizationId,
        /// The HTTP method.
        HttpMethod,
        /// The API path template, e.g. `/api/v2/routing/queues`.
        TemplateUri,
        /// The platform the requests were made on.
        Platform,
    }
);

api_enum!(
    /// `metrics` of simple search: the columns each result row carries.
    SearchColumn, "metrics" {
        /// The day.
        Date,
        /// The OAuth client's name.
        ClientName,
        /// The HTTP method.
        HttpMethod,
        /// The API path template.
        TemplateUri,
        /// Requests answered 2xx.
        Status200,
        /// Requests answered 3xx.
        Status300,
        /// Requests answered 4xx.
        Status400,
        /// Requests answered 5xx.
        Status500,
        /// Requests answered 429.
        Status429,
    }
);

/// The order of a [`SortBy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// One `sortBy` entry of a job: a row field (e.g. `requestCount`, `date`, `templateUri`) and
/// an order. The API does not list the field names it accepts, so any non-blank name is sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SortBy {
    field: String,
    order: SortOrder,
}

impl SortBy {
    /// Sorts by `field`, smallest first.
    pub fn ascending(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            order: SortOrder::Asc,
        }
    }

    /// Sorts by `field`, largest first.
    pub fn descending(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            order: SortOrder::Desc,
        }
    }

    /// The field name.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The order.
    pub fn order(&self) -> SortOrder {
        self.order
    }

    fn to_raw(&self) -> types::UsageQuerySortBy {
        types::UsageQuerySortBy {
            field_name: Some(self.field.clone()),
            order: Some(match self.order {
                SortOrder::Asc => types::UsageQuerySortByOrder::Asc,
                SortOrder::Desc => types::UsageQuerySortByOrder::Desc,
            }),
        }
    }
}

/// What both job kinds hold.
#[derive(Clone, Debug, PartialEq, Eq)]
struct JobParts {
    interval: Interval,
    granularity: Option<Granularity>,
    metrics: Vec<Metric>,
    group_by: Vec<JobGroupBy>,
    sort_by: Vec<SortBy>,
    template_uris: Vec<String>,
    http_methods: Vec<HttpMethod>,
    platforms: Vec<String>,
    /// `userIds` (organization) or `organizationIds` (OAuth client).
    ids: Vec<String>,
    /// `oauthClientIds` (organization only).
    oauth_client_ids: Vec<String>,
    page_size: PageSize,
}

impl JobParts {
    fn new(interval: Interval) -> Self {
        Self {
            interval,
            granularity: None,
            metrics: Vec::new(),
            group_by: Vec::new(),
            sort_by: Vec::new(),
            template_uris: Vec::new(),
            http_methods: Vec::new(),
            platforms: Vec::new(),
            ids: Vec::new(),
            oauth_client_ids: Vec::new(),
            page_size: PageSize::default(),
        }
    }

    fn check(&self, kind: JobKind, now: DateTime<Utc>) -> Result<(), Error> {
        check_job_interval(self.interval, now)?;
        check_unique("metrics", &self.metrics)?;
        check_unique("groupBy", &self.group_by)?;
        if let Some(refused) = self.group_by.iter().find(|g| !kind.allows(**g)) {
            return Err(Error::invalid(
                "groupBy",
                format!(
                    "{refused} is not available to {} jobs; they group by {}",
                    kind.name(),
                    kind.group_by_names()
                ),
            ));
        }
        check_unique("httpMethods", &self.http_methods)?;
        if let Some(method) = self.http_methods.iter().find(|m| {
            matches!(
                m,
                HttpMethod::Connect | HttpMethod::Options | HttpMethod::Trace
            )
        }) {
            return Err(Error::invalid(
                "httpMethods",
                format!(
                    "{method} is not a filter of the aggregates jobs (GET, POST, PUT, PATCH, DELETE, HEAD)"
                ),
            ));
        }
        for sort in &self.sort_by {
            if sort.field.trim().is_empty() {
                return Err(Error::invalid(
                    "sortBy",
                    "has a blank fieldName; name a row field such as requestCount",
                ));
            }
        }
        check_filter("templateUris", &self.template_uris)?;
        check_filter("platforms", &self.platforms)?;
        check_filter(kind.ids_field(), &self.ids)?;
        check_filter("oauthClientIds", &self.oauth_client_ids)
    }
}

fn check_filter(field: &'static str, values: &[String]) -> Result<(), Error> {
    if let Some(at) = values.iter().position(|v| v.trim().is_empty()) {
        return Err(Error::invalid(
            field,
            format!("entry {at} is blank; remove it or name a value"),
        ));
    }
    check_unique(field, values)
}

/// "Start date cannot be more than a year ago.": a calendar year, the lenient reading (366
/// days back after a leap day). The stand-in reads the document on its own (its own
/// constants); tests/it/agreement.rs holds both to the same boundaries.
const JOB_MAX_AGE: Months = Months::new(12);
/// "End date cannot be more than 90 days after the start."
const JOB_MAX_SPAN_DAYS: i64 = 90;

/// The jobs' interval limits: start at most a year before `now`, end at most 90 days after
/// the start (`Interval` already ensures start < end).
fn check_job_interval(interval: Interval, now: DateTime<Utc>) -> Result<(), Error> {
    if let Some(year_ago) = now.checked_sub_months(JOB_MAX_AGE)
        && interval.start() < year_ago
    {
        return Err(Error::invalid(
            "interval",
            format!(
                "starts {}, more than a year before now; the jobs serve the last year only",
                interval.start().format("%Y-%m-%d")
            ),
        ));
    }
    if interval.end() - interval.start() > TimeDelta::days(JOB_MAX_SPAN_DAYS) {
        return Err(Error::invalid(
            "interval",
            format!(
                "spans {} days; a job covers at most {JOB_MAX_SPAN_DAYS} days after its start: split it into several jobs",
                (interval.end() - interval.start()).num_days()
            ),
        ));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum JobKind {
    Organization,
    OAuthClient,
}

impl JobKind {
    fn name(self) -> &'static str {
        match self {
            JobKind::Organization => "organization",
            JobKind::OAuthClient => "OAuth client",
        }
    }

    fn allows(self, group_by: JobGroupBy) -> bool {
        use JobGroupBy::*;
        match self {
            JobKind::Organization => !matches!(group_by, OrganizationId),
            JobKind::OAuthClient => !matches!(group_by, OauthClientName | OauthClientId | UserId),
        }
    }

    fn group_by_names(self) -> String {
        let names: Vec<&str> = JobGroupBy::ALL
            .iter()
            .filter(|g| self.allows(**g))
            .map(|g| g.as_str())
            .collect();
        names.join(", ")
    }

    fn ids_field(self) -> &'static str {
        match self {
            JobKind::Organization => "userIds",
            JobKind::OAuthClient => "organizationIds",
        }
    }
}

/// Builder methods both job kinds share.
macro_rules! job_builder_common {
    ($query:ident, $kind:expr) => {
        /// Checks the query against the current time and builds it.
        pub fn build(self) -> Result<$query, Error> {
            self.build_at(Utc::now())
        }

        /// Checks the query as of `now` (for the one-year limit) and builds it.
        pub fn build_at(self, now: DateTime<Utc>) -> Result<$query, Error> {
            self.0.check($kind, now)?;
            Ok($query(self.0))
        }

        /// Sets the granularity (`Day`, `Week` or `Month`). Without one, each row totals the
        /// interval.
        pub fn granularity(mut self, granularity: Granularity) -> Self {
            self.0.granularity = Some(granularity);
            self
        }

        /// Sets the metrics to return; leave out for all.
        pub fn metrics(mut self, metrics: impl IntoIterator<Item = Metric>) -> Self {
            self.0.metrics = metrics.into_iter().collect();
            self
        }

        /// Sets the groupBy dimensions, in order.
        pub fn group_by(mut self, group_by: impl IntoIterator<Item = JobGroupBy>) -> Self {
            self.0.group_by = group_by.into_iter().collect();
            self
        }

        /// Sorts the rows, first entry first.
        pub fn sort_by(mut self, sort_by: impl IntoIterator<Item = SortBy>) -> Self {
            self.0.sort_by = sort_by.into_iter().collect();
            self
        }

        /// Keeps only requests to these path templates.
        pub fn template_uris<S: Into<String>>(mut self, uris: impl IntoIterator<Item = S>) -> Self {
            self.0.template_uris = uris.into_iter().map(Into::into).collect();
            self
        }

        /// Keeps only requests with these methods (GET, POST, PUT, PATCH, DELETE, HEAD).
        pub fn http_methods(mut self, methods: impl IntoIterator<Item = HttpMethod>) -> Self {
            self.0.http_methods = methods.into_iter().collect();
            self
        }

        /// Keeps only requests made on these platforms.
        pub fn platforms<S: Into<String>>(
            mut self,
            platforms: impl IntoIterator<Item = S>,
        ) -> Self {
            self.0.platforms = platforms.into_iter().map(Into::into).collect();
            self
        }

        /// How many rows each results page holds (default 100, the API's).
        pub fn page_size(mut self, page_size: PageSize) -> Self {
            self.0.page_size = page_size;
            self
        }
    };
}

/// Accessors both job kinds share.
/// The body both job kinds share, and `fields`, the kind's own filters (read from `$p`, the
/// query's parts): one `to_raw` for two generated types.
macro_rules! job_to_raw {
    ($raw:ident, $p:ident, { $($field:ident: $value:expr),* $(,)? }) => {
        /// The generated request body.
        pub fn to_raw(&self) -> types::$raw {
            let $p = &self.0;
            types::$raw {
                interval: $p.interval.to_string(),
                granularity: $p.granularity.map(to_raw),
                metrics: $p.metrics.iter().map(to_raw).collect(),
                group_by: $p.group_by.iter().map(to_raw).collect(),
                sort_by: $p.sort_by.iter().map(SortBy::to_raw).collect(),
                template_uris: $p.template_uris.clone(),
                http_methods: $p.http_methods.iter().map(to_raw).collect(),
                platforms: $p.platforms.clone(),
                $($field: $value,)*
            }
        }
    };
}

macro_rules! job_query_common {
    () => {
        /// The interval.
        pub fn interval(&self) -> Interval {
            self.0.interval
        }

        /// The groupBy dimensions.
        pub fn group_by(&self) -> &[JobGroupBy] {
            &self.0.group_by
        }

        /// The page size results are fetched with.
        pub fn page_size(&self) -> PageSize {
            self.0.page_size
        }
    };
}

/// The body of `POST /api/v2/usage/aggregates/query/jobs`: the usage of the whole
/// organization, including Genesys' built-in OAuth clients that the legacy queries leave out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationJobQuery(JobParts);

/// Builds an [`OrganizationJobQuery`].
#[derive(Clone, Debug)]
#[must_use]
pub struct OrganizationJobQueryBuilder(JobParts);

impl OrganizationJobQuery {
    /// Starts a query over `interval` (at most 90 days, starting at most a year ago).
    pub fn builder(interval: Interval) -> OrganizationJobQueryBuilder {
        OrganizationJobQueryBuilder(JobParts::new(interval))
    }

    job_query_common!();

    job_to_raw!(OrganizationPublicApiUsageQueryRequest, p, {
        user_ids: p.ids.clone(),
        oauth_client_ids: p.oauth_client_ids.clone(),
    });
}

impl OrganizationJobQueryBuilder {
    job_builder_common!(OrganizationJobQuery, JobKind::Organization);

    /// Keeps only requests made on behalf of these users.
    pub fn user_ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.0.ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Keeps only requests made by these OAuth clients.
    pub fn oauth_client_ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.0.oauth_client_ids = ids.into_iter().map(Into::into).collect();
        self
    }
}

/// The body of `POST /api/v2/usage/client/{clientId}/aggregates/query/jobs`: one OAuth
/// client's usage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClientJobQuery(JobParts);

/// Builds an [`OAuthClientJobQuery`].
#[derive(Clone, Debug)]
#[must_use]
pub struct OAuthClientJobQueryBuilder(JobParts);

impl OAuthClientJobQuery {
    /// Starts a query over `interval` (at most 90 days, starting at most a year ago).
    pub fn builder(interval: Interval) -> OAuthClientJobQueryBuilder {
        OAuthClientJobQueryBuilder(JobParts::new(interval))
    }

    job_query_common!();

    job_to_raw!(ClientPublicApiUsageQueryRequest, p, {
        organization_ids: p.ids.clone(),
    });
}

impl OAuthClientJobQueryBuilder {
    job_builder_common!(OAuthClientJobQuery, JobKind::OAuthClient);

    /// Keeps only requests made in these organizations.
    pub fn organization_ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.0.ids = ids.into_iter().map(Into::into).collect();
        self
    }
}

/// The body of `POST /api/v2/usage/simplesearch`. Its results hold at most 20,000 rows (a
/// server limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleSearchQuery {
    interval: Interval,
    columns: Vec<SearchColumn>,
    oauth_client_names: Vec<String>,
    http_methods: Vec<HttpMethod>,
    template_uris: Vec<String>,
    page_size: PageSize,
}

/// Builds a [`SimpleSearchQuery`].
#[derive(Clone, Debug)]
#[must_use]
pub struct SimpleSearchQueryBuilder(SimpleSearchQuery);

impl SimpleSearchQuery {
    /// Starts a search over `interval`.
    pub fn builder(interval: Interval) -> SimpleSearchQueryBuilder {
        SimpleSearchQueryBuilder(SimpleSearchQuery {
            interval,
            columns: Vec::new(),
            oauth_client_names: Vec::new(),
            http_methods: Vec::new(),
            template_uris: Vec::new(),
            page_size: PageSize::default(),
        })
    }

    /// The interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// The page size results are fetched with.
    pub fn page_size(&self) -> PageSize {
        self.page_size
    }

    /// The generated request body.
    pub fn to_raw(&self) -> types::ApiUsageSimpleSearch {
        types::ApiUsageSimpleSearch {
            interval: self.interval.to_string(),
            metrics: self.columns.iter().map(to_raw).collect(),
            oauth_client_names: self.oauth_client_names.clone(),
            http_methods: self.http_methods.iter().map(to_raw).collect(),
            template_uris: self.template_uris.clone(),
        }
    }
}

impl SimpleSearchQueryBuilder {
    /// The columns each row carries (`metrics` on the wire); leave out for the server's default.
    pub fn columns(mut self, columns: impl IntoIterator<Item = SearchColumn>) -> Self {
        self.0.columns = columns.into_iter().collect();
        self
    }

    /// Keeps only requests of the OAuth clients with these names.
    pub fn oauth_client_names<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.0.oauth_client_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Keeps only requests with these methods.
    pub fn http_methods(mut self, methods: impl IntoIterator<Item = HttpMethod>) -> Self {
        self.0.http_methods = methods.into_iter().collect();
        self
    }

    /// Keeps only requests to these path templates.
    pub fn template_uris<S: Into<String>>(mut self, uris: impl IntoIterator<Item = S>) -> Self {
        self.0.template_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// How many rows each results page holds (default 100).
    pub fn page_size(mut self, page_size: PageSize) -> Self {
        self.0.page_size = page_size;
        self
    }

    /// Checks the search and builds it.
    pub fn build(self) -> Result<SimpleSearchQuery, Error> {
        let q = &self.0;
        check_unique("metrics", &q.columns)?;
        check_unique("httpMethods", &q.http_methods)?;
        check_filter("oauthClientNames", &q.oauth_client_names)?;
        check_filter("templateUris", &q.template_uris)?;
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn interval(start: &str, end: &str) -> Interval {
        Interval::new(utc(start), utc(end)).unwrap()
    }

    const NOW: &str = "2026-11-26T12:00:00Z";

    fn field_of(error: Error) -> &'static str {
        match error {
            Error::InvalidInput(invalid) => invalid.field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn page_size_is_one_to_a_thousand_whatever_the_caller_passes() {
        for ok in [1, 100, 1000] {
            assert_eq!(PageSize::new(ok).unwrap().get(), ok);
        }
        for bad in [0, 1001, 65_536 + 100, u32::MAX] {
            assert_eq!(field_of(PageSize::new(bad).unwrap_err()), "pageSize");
        }
        assert_eq!(field_of("-1".parse::<PageSize>().unwrap_err()), "pageSize");
        assert_eq!(PageSize::default().get(), 100);
    }

    #[test]
    fn interval_limits_are_checked_before_sending() {
        let now = utc(NOW);
        let ok = interval("2025-11-27T00:00:00Z", "2026-02-25T00:00:00Z");
        assert!(OrganizationJobQuery::builder(ok).build_at(now).is_ok());
        // More than a year ago.
        let old = interval("2025-11-25T00:00:00Z", "2025-12-01T00:00:00Z");
        let err = OrganizationJobQuery::builder(old)
            .build_at(now)
            .unwrap_err();
        assert!(err.to_string().contains("more than a year"), "{err}");
        // 91 days.
        let long = interval("2026-06-01T00:00:00Z", "2026-08-31T00:00:00Z");
        let err = OAuthClientJobQuery::builder(long)
            .build_at(now)
            .unwrap_err();
        assert!(err.to_string().contains("at most 90 days"), "{err}");
    }

    #[test]
    fn each_job_kind_groups_by_its_own_dimensions() {
        let now = utc(NOW);
        let week = interval("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
        for refused in [
            JobGroupBy::OauthClientId,
            JobGroupBy::OauthClientName,
            JobGroupBy::UserId,
        ] {
            let err = OAuthClientJobQuery::builder(week)
                .group_by([refused])
                .build_at(now)
                .unwrap_err();
            assert!(
                err.to_string()
                    .contains("OrganizationId, HttpMethod, TemplateUri, Platform"),
                "{err}"
            );
        }
        let err = OrganizationJobQuery::builder(week)
            .group_by([JobGroupBy::OrganizationId])
            .build_at(now)
            .unwrap_err();
        assert_eq!(field_of(err), "groupBy");
        assert!(
            OrganizationJobQuery::builder(week)
                .group_by([JobGroupBy::OauthClientName, JobGroupBy::Platform])
                .build_at(now)
                .is_ok()
        );
    }

    #[test]
    fn bad_filters_and_sorts_are_refused_naming_the_field() {
        let now = utc(NOW);
        let week = interval("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
        let build = |b: OrganizationJobQueryBuilder| field_of(b.build_at(now).unwrap_err());
        let q = || OrganizationJobQuery::builder(week);
        assert_eq!(
            build(q().http_methods([HttpMethod::Options])),
            "httpMethods"
        );
        assert_eq!(build(q().template_uris(["/api/v2/a", " "])), "templateUris");
        assert_eq!(build(q().user_ids(["u1", "u1"])), "userIds");
        assert_eq!(build(q().sort_by([SortBy::descending("")])), "sortBy");
        assert_eq!(
            build(q().metrics([Metric::Requests, Metric::Requests])),
            "metrics"
        );
        let err = OAuthClientJobQuery::builder(week)
            .organization_ids([""])
            .build_at(now)
            .unwrap_err();
        assert_eq!(field_of(err), "organizationIds");
    }

    #[test]
    fn the_request_bodies_carry_every_field_under_its_wire_name() {
        let now = utc(NOW);
        let week = interval("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
        let org = OrganizationJobQuery::builder(week)
            .granularity(Granularity::Day)
            .metrics([Metric::Requests, Metric::Status429])
            .group_by([JobGroupBy::OauthClientId, JobGroupBy::TemplateUri])
            .sort_by([SortBy::descending("requestCount")])
            .template_uris(["/api/v2/users"])
            .http_methods([HttpMethod::Get, HttpMethod::Post])
            .platforms(["PureCloud"])
            .user_ids(["u-1"])
            .oauth_client_ids(["c-1"])
            .page_size(PageSize::MAX)
            .build_at(now)
            .unwrap();
        assert_eq!(org.page_size().get(), 1000);
        assert_eq!(
            serde_json::to_value(org.to_raw()).unwrap(),
            serde_json::json!({
                "interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z",
                "granularity": "Day",
                "metrics": ["Requests", "Status429"],
                "groupBy": ["OauthClientId", "TemplateUri"],
                "sortBy": [{"fieldName": "requestCount", "order": "Desc"}],
                "templateUris": ["/api/v2/users"],
                "httpMethods": ["GET", "POST"],
                "platforms": ["PureCloud"],
                "userIds": ["u-1"],
                "oauthClientIds": ["c-1"],
            })
        );
        let client = OAuthClientJobQuery::builder(week)
            .group_by([JobGroupBy::OrganizationId])
            .organization_ids(["o-1"])
            .build_at(now)
            .unwrap();
        assert_eq!(
            serde_json::to_value(client.to_raw()).unwrap(),
            serde_json::json!({
                "interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z",
                "groupBy": ["OrganizationId"],
                "organizationIds": ["o-1"],
            })
        );
        let search = SimpleSearchQuery::builder(week)
            .columns([
                SearchColumn::Date,
                SearchColumn::ClientName,
                SearchColumn::Status429,
            ])
            .oauth_client_names(["Reporting bot"])
            .http_methods([HttpMethod::Options])
            .build()
            .unwrap();
        assert_eq!(
            serde_json::to_value(search.to_raw()).unwrap(),
            serde_json::json!({
                "interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z",
                "metrics": ["Date", "ClientName", "Status429"],
                "oauthClientNames": ["Reporting bot"],
                "httpMethods": ["OPTIONS"],
            })
        );
    }
}
