//! The aggregates query jobs (Genesys' successor to the legacy usage queries, 2025-03-31):
//! a job is submitted, polled while `Queued` or `Running`, then read page by page. Their
//! handles are [`OrganizationJob`] and [`OAuthClientJob`].
//!
//! ```no_run
//! # async fn run(client: usage_sdk::UsageClient) -> Result<(), usage_sdk::Error> {
//! use usage_sdk::{Interval, JobGroupBy, OrganizationJobQuery, PageSize, SortBy};
//!
//! let query = OrganizationJobQuery::builder(Interval::last_full_days(30)?)
//!     .group_by([JobGroupBy::OauthClientName, JobGroupBy::TemplateUri])
//!     .sort_by([SortBy::descending("requestCount")])
//!     .page_size(PageSize::MAX)
//!     .build()?;
//! let mut rows = client.rows(&query).await?;
//! // One page in memory at a time; `Rows` is also a `futures_core::Stream`.
//! while let Some(row) = rows.try_next().await? {
//!     println!("{:?} {:?}", row.template_uri, row.request_count);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::client::UsageClient;
use crate::model::error::Error;
use crate::model::ids::{JobId, OAuthClientId};
use crate::model::open_enum::JobQueryStatus;
use crate::model::types::{
    ClientPublicApiUsage, ClientPublicApiUsageResultsResponse, ErrorBody,
    OrganizationPublicApiUsage, OrganizationPublicApiUsageResultsResponse,
};
use crate::query::jobs::{OAuthClientJobQuery, OrganizationJobQuery, PageSize};
use crate::wait::handle::{
    Fresh, Handle, State, Step, Submit, SubmitForClient, handle_serde, parse_handle, sealed,
    write_handle,
};
use crate::wait::paging::{Page, after_cursor};

const ORGANIZATION: (&str, usize) = ("aggregates-job:organization", 1);
const OAUTH_CLIENT: (&str, usize) = ("aggregates-job:oauth-client", 2);
pub(crate) const FORMS: &[(&str, usize)] = &[ORGANIZATION, OAUTH_CLIENT];

/// An organization aggregates query job: a [`Handle`] whose string form is
/// `aggregates-job:organization:ID`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OrganizationJob {
    /// The job id.
    pub id: JobId,
    /// The page size its results are fetched with (not part of the string form).
    pub page_size: PageSize,
    fresh: Fresh,
}

impl OrganizationJob {
    /// A job submitted earlier, fetched 100 rows a page; its first poll goes at once.
    pub fn new(id: JobId) -> Self {
        Self {
            id,
            page_size: PageSize::default(),
            fresh: Fresh(false),
        }
    }

    /// Sets the page size its results are fetched with.
    pub fn with_page_size(mut self, page_size: PageSize) -> Self {
        self.page_size = page_size;
        self
    }
}

/// One OAuth client's aggregates query job: a [`Handle`] whose string form is
/// `aggregates-job:oauth-client:CLIENT:ID`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OAuthClientJob {
    /// The OAuth client whose usage the job computes.
    pub client_id: OAuthClientId,
    /// The job id.
    pub id: JobId,
    /// The page size its results are fetched with (not part of the string form).
    pub page_size: PageSize,
    fresh: Fresh,
}

impl OAuthClientJob {
    /// A job submitted earlier, fetched 100 rows a page; its first poll goes at once.
    pub fn new(client_id: OAuthClientId, id: JobId) -> Self {
        Self {
            client_id,
            id,
            page_size: PageSize::default(),
            fresh: Fresh(false),
        }
    }

    /// Sets the page size its results are fetched with.
    pub fn with_page_size(mut self, page_size: PageSize) -> Self {
        self.page_size = page_size;
        self
    }
}

impl fmt::Display for OrganizationJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_handle(f, ORGANIZATION.0, &[self.id.as_str()])
    }
}

impl fmt::Display for OAuthClientJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_handle(
            f,
            OAUTH_CLIENT.0,
            &[self.client_id.as_str(), self.id.as_str()],
        )
    }
}

impl FromStr for OrganizationJob {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (_, ids) = parse_handle(text, &[ORGANIZATION])?;
        Ok(Self::new(ids[0].parse()?))
    }
}

impl FromStr for OAuthClientJob {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (_, ids) = parse_handle(text, &[OAUTH_CLIENT])?;
        Ok(Self::new(
            OAuthClientId::new(ids[0].clone())?,
            ids[1].parse()?,
        ))
    }
}

handle_serde!(OrganizationJob);
handle_serde!(OAuthClientJob);

/// One results GET of a job: its status and, once `Succeeded`, one page of rows.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct JobPage<R> {
    /// `queryStatus`.
    pub status: JobQueryStatus,
    /// The rows of this page (none until the job has succeeded).
    pub rows: Vec<R>,
    /// The URI of the next page; only present when there is one.
    pub next_uri: Option<String>,
    /// Why the job failed, when it failed and the server said.
    pub error_body: Option<ErrorBody>,
}

impl sealed::Sealed for OrganizationJob {}
impl sealed::Sealed for OAuthClientJob {}
impl sealed::Sealed for OrganizationJobQuery {}
impl sealed::Sealed for OAuthClientJobQuery {}

/// The one page type behind both job kinds' results (progenitor generates a distinct type
/// per operation with the same fields).
macro_rules! job_page {
    ($raw:expr) => {{
        let page = $raw;
        JobPage {
            status: page.query_status,
            rows: page.entities,
            next_uri: page.next_uri,
            error_body: page.error_body,
        }
    }};
}

/// The state, status and rows of a job page, for both kinds.
fn read_job<R>(id: &JobId, mut page: JobPage<R>) -> Result<Step<R>, Error> {
    const OPERATION: &str = "aggregates query job results";
    let state = match page.status {
        JobQueryStatus::Succeeded => State::Done,
        JobQueryStatus::Failed => State::Failed(Error::JobFailed {
            job_id: id.clone(),
            error_body: page.error_body.take().map(Box::new),
        }),
        JobQueryStatus::Cancelled => State::Failed(Error::JobCancelled { job_id: id.clone() }),
        _ => State::Pending,
    };
    let next = page
        .next_uri
        .as_deref()
        .map(|uri| after_cursor(OPERATION, uri))
        .transpose()?;
    Ok(Step {
        status: Some(page.status.as_str().to_string()),
        state,
        page: Page {
            rows: page.rows,
            next,
        },
    })
}

/// The `Handle` methods both job kinds share (their fetches differ: distinct operations and
/// generated types).
macro_rules! job_handle_common {
    () => {
        fn id(&self) -> &str {
            self.id.as_str()
        }

        fn read(&self, page: Self::Page) -> Result<Step<Self::Row>, Error> {
            read_job(&self.id, page)
        }

        fn timed_out(&self, waited: Duration, last_status: Option<&str>) -> Error {
            job_timed_out(&self.id, waited, last_status)
        }

        fn submitted_here(&self) -> bool {
            self.fresh.0
        }
    };
}

fn job_timed_out(id: &JobId, waited: Duration, last_status: Option<&str>) -> Error {
    Error::JobDeadlineExceeded {
        job_id: id.clone(),
        waited,
        last_status: last_status.map(JobQueryStatus::from),
    }
}

impl Handle for OrganizationJob {
    type Row = OrganizationPublicApiUsage;
    type Page = JobPage<OrganizationPublicApiUsage>;

    fn kind(&self) -> &'static str {
        ORGANIZATION.0
    }

    async fn fetch(&self, client: &UsageClient, after: Option<&str>) -> Result<Self::Page, Error> {
        let id = self.id.as_str();
        let page_size = Some(self.page_size.get() as i32);
        let page: OrganizationPublicApiUsageResultsResponse = client
            .call(
                "get_usage_aggregates_query_job",
                Some(id),
                |raw| async move {
                    raw.get_usage_aggregates_query_job(id, after, page_size)
                        .await
                },
            )
            .await?;
        Ok(job_page!(page))
    }

    job_handle_common!();
}

impl Handle for OAuthClientJob {
    type Row = ClientPublicApiUsage;
    type Page = JobPage<ClientPublicApiUsage>;

    fn kind(&self) -> &'static str {
        OAUTH_CLIENT.0
    }

    async fn fetch(&self, client: &UsageClient, after: Option<&str>) -> Result<Self::Page, Error> {
        let (client_id, id) = (self.client_id.as_str(), self.id.as_str());
        let page_size = Some(self.page_size.get() as i32);
        let page: ClientPublicApiUsageResultsResponse = client
            .call(
                "get_usage_client_client_id_aggregates_query_job",
                Some(id),
                |raw| async move {
                    raw.get_usage_client_client_id_aggregates_query_job(
                        client_id, id, after, page_size,
                    )
                    .await
                },
            )
            .await?;
        Ok(job_page!(page))
    }

    job_handle_common!();
}

fn job_id(operation: &'static str, id: String) -> Result<JobId, Error> {
    JobId::new(id).map_err(|e| {
        Error::unusable_response(
            operation,
            format!("the response has no usable job id ({e})"),
        )
    })
}

impl Submit for OrganizationJobQuery {
    type Handle = OrganizationJob;

    /// `POST /api/v2/usage/aggregates/query/jobs`.
    async fn submit(&self, client: &UsageClient) -> Result<OrganizationJob, Error> {
        const OPERATION: &str = "post_usage_aggregates_query_jobs";
        let body = self.to_raw();
        let submitted = client
            .call(OPERATION, None, |raw| async move {
                raw.post_usage_aggregates_query_jobs(&body).await
            })
            .await?;
        Ok(OrganizationJob {
            id: job_id(OPERATION, submitted.id)?,
            page_size: self.page_size(),
            fresh: Fresh(true),
        })
    }
}

impl SubmitForClient for OAuthClientJobQuery {
    type Handle = OAuthClientJob;

    /// `POST /api/v2/usage/client/{clientId}/aggregates/query/jobs`.
    async fn submit(
        &self,
        client: &UsageClient,
        client_id: &OAuthClientId,
    ) -> Result<OAuthClientJob, Error> {
        const OPERATION: &str = "post_usage_client_client_id_aggregates_query_jobs";
        let body = self.to_raw();
        let submitted = client
            .call(OPERATION, None, |raw| async move {
                raw.post_usage_client_client_id_aggregates_query_jobs(client_id.as_str(), &body)
                    .await
            })
            .await?;
        Ok(OAuthClientJob {
            client_id: client_id.clone(),
            id: job_id(OPERATION, submitted.id)?,
            page_size: self.page_size(),
            fresh: Fresh(true),
        })
    }
}
