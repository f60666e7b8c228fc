//! A typed, retrying, polling client for the Genesys Cloud **Usage API**: how an
//! organization and its OAuth clients use the Platform API.
//!
//! ```no_run
//! use usage_sdk::{GroupBy, Granularity, Interval, Metric, OrganizationQuery, UsageClient};
//!
//! # async fn run() -> Result<(), usage_sdk::Error> {
//! // GENESYSCLOUD_REGION, GENESYSCLOUD_OAUTHCLIENT_ID, GENESYSCLOUD_OAUTHCLIENT_SECRET
//! let client = UsageClient::from_env()?;
//! let query = OrganizationQuery::builder(Interval::last_full_days(7)?)
//!     .granularity(Granularity::Day)
//!     .group_by([GroupBy::OAuthClientId])
//!     .metrics([Metric::Requests, Metric::Status429])
//!     .build()?;
//! // Submits, then polls (1 s, 2 s, 4 s ... up to 60 s apart) until Complete or Failed.
//! let report = client.organization_usage(&query).await?;
//! for row in &report.rows {
//!     println!("{:?} {:?}: {:?} requests", row.date, row.client_name, row.requests);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Layers, from the wire up:
//! - [`raw`]: the client progenitor generates from `spec/usage-api.json` at build time.
//! - [`transport`](crate::RetryPolicy) hooks: the bearer token, retries, tracing spans.
//! - [`UsageClient`]: typed inputs ([`OrganizationQuery`], [`OAuthClientQuery`], [`Days`], ids),
//!   token management, typed [`Error`]s, and waiters that poll executions to completion.

#![warn(missing_docs)]

mod auth;
mod client;
mod config;
mod error;
mod ids;
mod job_query;
mod jobs;
pub mod open_enum;
mod paging;
mod poller;
mod query;
pub mod raw;
mod region;
mod retry;
#[cfg(feature = "schemars")]
mod schema;
mod search;
#[cfg(feature = "stand-in")]
pub mod stand_in;
mod throttle;
pub mod time;
mod tls;
mod transport;
mod waiter;

pub use client::{Execution, ExecutionScope, UsageClient};
pub use config::{Config, ConfigBuilder, Credentials, Secret, Timeouts};
pub use error::{ApiError, AuthError, DecodeError, Error, InvalidInput, TransportError};
pub use ids::{ExecutionId, JobId, OAuthClientId};
pub use job_query::{
    HttpMethod, JobGroupBy, OAuthClientJobQuery, OAuthClientJobQueryBuilder, OrganizationJobQuery,
    OrganizationJobQueryBuilder, PageSize, SearchColumn, SimpleSearchQuery,
    SimpleSearchQueryBuilder, SortBy, SortOrder,
};
pub use jobs::{JobPage, JobPollEvent, OAuthClientJob, OrganizationJob, UsageJob};
pub use open_enum::{JobQueryStatus, LimitNamespace, QueryStatus, UsageHttpMethod};
pub use paging::Rows;
pub use poller::PollPolicy;
pub use query::{
    Days, Granularity, GroupBy, Interval, Metric, OAuthClientQuery, OAuthClientQueryBuilder,
    OrganizationQuery, OrganizationQueryBuilder,
};
/// The row and result types of every operation, re-exported from [`raw::types`].
pub use raw::types::{
    ApiUsageQueryResult, ApiUsageRow, ClientPublicApiUsage, Cursors, DomainEntityRef, ErrorBody,
    OrganizationPublicApiUsage, UserReference,
};
pub use region::Region;
pub use retry::RetryPolicy;
pub use search::SimpleSearch;
pub use waiter::{PollEvent, UsageReport};

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(all(doctest, feature = "stand-in"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
