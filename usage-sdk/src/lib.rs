//! A typed, retrying, polling client for the Genesys Cloud **Usage API**: how an
//! organization and its OAuth clients use the Platform API, and what went wrong or changed in
//! it. All fifteen operations under `/api/v2/usage`: the aggregates query jobs, simple search,
//! the legacy usage queries and the operational events.
//!
//! ```no_run
//! use usage_sdk::{Granularity, Interval, JobGroupBy, OrganizationJobQuery, UsageClient};
//!
//! # async fn run() -> Result<(), usage_sdk::Error> {
//! // GENESYSCLOUD_REGION, GENESYSCLOUD_OAUTHCLIENT_ID, GENESYSCLOUD_OAUTHCLIENT_SECRET
//! let client = UsageClient::from_env()?;
//! let query = OrganizationJobQuery::builder(Interval::last_full_days(7)?)
//!     .granularity(Granularity::Day)
//!     .group_by([JobGroupBy::OauthClientName])
//!     .build()?;
//! // Submits, polls (1 s, 2 s, 4 s ... up to 60 s apart) until Succeeded, then pages.
//! let mut rows = client.rows(&query).await?;
//! while let Some(row) = rows.try_next().await? {
//!     println!("{:?} {:?}: {:?} requests", row.date, row.oauth_client, row.request_count);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Layers, from the wire up (`cargo xtask layers` prints the module graph; it has no circle):
//! - leaves: `time` (the injectable [`time::Clock`]), [`open_enum`] (with [`row_date`] on
//!   it), secrets, [`InvalidInput`], ids, and the [`RetryPolicy`]; the [`PollPolicy`] sits
//!   just above them (its poller returns [`Error`]).
//! - `transport`: one request with retries, `Retry-After`, pacing, a body size limit and a
//!   span per attempt.
//! - [`raw`]: the client progenitor generates from `spec/usage-api.json` (the reviewed
//!   snapshot, or at build time with the `build-time-codegen` feature). Its
//!   inner value is a [`raw::Session`] (the client's token source, policies and the call's
//!   record), which its hooks use: every request gets the token, retries, and one renewal
//!   after a 401.
//! - [`UsageClient`]: typed inputs ([`OrganizationJobQuery`], [`OAuthClientJobQuery`],
//!   [`SimpleSearchQuery`], [`OrganizationQuery`], [`OAuthClientQuery`], [`Days`], ids),
//!   typed [`Error`]s, and one shape for every kind of query: [`UsageClient::submit`] gives a
//!   [`Handle`], [`UsageClient::wait`] polls it (one poller for every kind) and reads its
//!   [`Rows`]. The operational events need no waiting: [`UsageClient::events`] reads them as
//!   the same [`Rows`].

#![warn(missing_docs)]

// The layers, each folder using only those above it in this list (`cargo xtask layers`).
mod client;
mod http;
mod model;
mod query;
mod wait;

// The public modules keep their paths (the generated client names them too).
pub use http::raw;
#[doc(hidden)]
pub use model::types;
pub use model::{open_enum, row_date, time};
// The generated client names its inner type `crate::session::Session` (usage-sdk/codegen).
use http::session;

pub use client::UsageClient;
pub use http::config::{Config, ConfigBuilder, Credentials, FromConfig, Secret, Timeouts};
pub use http::poller::PollPolicy;
pub use http::region::Region;
pub use http::retry::RetryPolicy;
pub use model::error::{
    ApiError, AuthError, DecodeError, Error, InvalidInput, PagingLimit, TransportError,
};
pub use model::ids::{EventDefinitionId, ExecutionId, JobId, OAuthClientId};
pub use model::open_enum::{JobQueryStatus, LimitNamespace, QueryStatus, UsageHttpMethod};
pub use model::row_date::{UsageDate, UsageDateTime};
/// The row and result types of every operation, re-exported from [`raw::types`].
pub use model::types::{
    AddressableEntityRef, ApiUsageQueryResult, ApiUsageRow, ClientPublicApiUsage, Cursors,
    DomainEntityRef, ErrorBody, EventAggregatesResponse, EventDefinition,
    EventDefinitionAggregates, OperationalEvent, OrganizationPublicApiUsage, UserReference,
};
pub use query::events::{EventPageSize, EventQuery, EventQueryBuilder};
pub use query::jobs::{
    HttpMethod, JobGroupBy, OAuthClientJobQuery, OAuthClientJobQueryBuilder, OrganizationJobQuery,
    OrganizationJobQueryBuilder, PageSize, SearchColumn, SimpleSearchQuery,
    SimpleSearchQueryBuilder, SortBy, SortOrder,
};
pub use query::legacy::{
    Days, Granularity, GroupBy, Interval, Metric, OAuthClientQuery, OAuthClientQueryBuilder,
    OrganizationQuery, OrganizationQueryBuilder,
};
pub use wait::events::Events;
pub use wait::execution::{Execution, ExecutionScope};
pub use wait::handle::{Handle, Submit, SubmitForClient, WaitEvent};
pub use wait::jobs::{JobPage, OAuthClientJob, OrganizationJob};
pub use wait::paging::{Rows, RowsPage};
pub use wait::search::SimpleSearch;
pub use wait::waiter::{AnyHandle, OAuthClientScope};
