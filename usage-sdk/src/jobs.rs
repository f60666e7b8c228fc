//! The aggregates query jobs (Genesys' successor to the legacy usage queries, 2025-03-31):
//! submit a job, poll it while `Queued` or `Running`, then read its rows page by page.
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
//! let mut rows = client.organization_aggregates(&query).await?;
//! // One page in memory at a time; `Rows` is also a `futures_core::Stream`.
//! while let Some(row) = rows.next_row().await {
//!     let row = row?;
//!     println!("{:?} {:?}", row.template_uri, row.request_count);
//! }
//! # Ok(()) }
//! ```

use std::future::Future;
use std::time::Duration;

use crate::client::UsageClient;
use crate::error::Error;
use crate::ids::{JobId, OAuthClientId};
use crate::job_query::{OAuthClientJobQuery, OrganizationJobQuery, PageSize};
use crate::open_enum::JobQueryStatus;
use crate::paging::{Page, Rows, after_cursor};
use crate::poller::{Poll, PollPolicy, poll_until};
use crate::types::{
    ClientPublicApiUsage, ClientPublicApiUsageResultsResponse, ErrorBody,
    OrganizationPublicApiUsage, OrganizationPublicApiUsageResultsResponse,
};

/// An organization aggregates query job: what to poll and page through.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OrganizationJob {
    /// The job id.
    pub id: JobId,
    /// The page size its results are fetched with.
    pub page_size: PageSize,
}

impl OrganizationJob {
    /// A job submitted earlier (e.g. before a deadline), fetched 100 rows a page.
    pub fn new(id: JobId) -> Self {
        Self {
            id,
            page_size: PageSize::default(),
        }
    }

    /// Sets the page size its results are fetched with.
    pub fn with_page_size(mut self, page_size: PageSize) -> Self {
        self.page_size = page_size;
        self
    }
}

/// One OAuth client's aggregates query job.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OAuthClientJob {
    /// The OAuth client whose usage the job computes.
    pub client_id: OAuthClientId,
    /// The job id.
    pub id: JobId,
    /// The page size its results are fetched with.
    pub page_size: PageSize,
}

impl OAuthClientJob {
    /// A job submitted earlier, fetched 100 rows a page.
    pub fn new(client_id: OAuthClientId, id: JobId) -> Self {
        Self {
            client_id,
            id,
            page_size: PageSize::default(),
        }
    }

    /// Sets the page size its results are fetched with.
    pub fn with_page_size(mut self, page_size: PageSize) -> Self {
        self.page_size = page_size;
        self
    }
}

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

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::OrganizationJob {}
    impl Sealed for super::OAuthClientJob {}
}

/// An aggregates query job of either kind ([`OrganizationJob`], [`OAuthClientJob`]).
pub trait UsageJob: sealed::Sealed + Clone + Send + Sync + 'static {
    /// The row type of its results.
    type Row: Send + 'static;

    /// The job id.
    fn id(&self) -> &JobId;

    /// The page size its results are fetched with.
    fn page_size(&self) -> PageSize;

    /// One results GET (the implementation behind [`UsageClient::fetch_job_page`]).
    #[doc(hidden)]
    fn fetch(
        &self,
        client: &UsageClient,
        after: Option<&str>,
    ) -> impl Future<Output = Result<JobPage<Self::Row>, Error>> + Send;
}

impl UsageJob for OrganizationJob {
    type Row = OrganizationPublicApiUsage;

    fn id(&self) -> &JobId {
        &self.id
    }

    fn page_size(&self) -> PageSize {
        self.page_size
    }

    async fn fetch(
        &self,
        client: &UsageClient,
        after: Option<&str>,
    ) -> Result<JobPage<Self::Row>, Error> {
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
        Ok(JobPage {
            status: page.query_status,
            rows: page.entities,
            next_uri: page.next_uri,
            error_body: page.error_body,
        })
    }
}

impl UsageJob for OAuthClientJob {
    type Row = ClientPublicApiUsage;

    fn id(&self) -> &JobId {
        &self.id
    }

    fn page_size(&self) -> PageSize {
        self.page_size
    }

    async fn fetch(
        &self,
        client: &UsageClient,
        after: Option<&str>,
    ) -> Result<JobPage<Self::Row>, Error> {
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
        Ok(JobPage {
            status: page.query_status,
            rows: page.entities,
            next_uri: page.next_uri,
            error_body: page.error_body,
        })
    }
}

/// What a job waiter saw on one poll.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct JobPollEvent<'a> {
    /// The job polled.
    pub job_id: &'a JobId,
    /// The poll number, from 1.
    pub poll: u32,
    /// The status the server reported.
    pub status: Option<&'a JobQueryStatus>,
    /// Time since the waiter started.
    pub elapsed: Duration,
}

/// The error of a job page that reports the job `Failed` (with its `errorBody`) or
/// `Cancelled`, whether met while waiting or while paging.
fn job_failure<R>(id: &JobId, page: &mut JobPage<R>) -> Option<Error> {
    match page.status {
        JobQueryStatus::Failed => Some(Error::JobFailed {
            job_id: id.clone(),
            error_body: page.error_body.take().map(Box::new),
        }),
        JobQueryStatus::Cancelled => Some(Error::JobCancelled { job_id: id.clone() }),
        _ => None,
    }
}

fn job_id(operation: &'static str, id: String) -> Result<JobId, Error> {
    JobId::new(id).map_err(|e| {
        Error::unusable_response(
            operation,
            format!("the response has no usable job id ({e})"),
        )
    })
}

impl UsageClient {
    /// `POST /api/v2/usage/aggregates/query/jobs`: submits an organization aggregates job.
    pub async fn submit_organization_job(
        &self,
        query: &OrganizationJobQuery,
    ) -> Result<OrganizationJob, Error> {
        const OPERATION: &str = "post_usage_aggregates_query_jobs";
        let body = query.to_raw();
        let submitted = self
            .call(OPERATION, None, |raw| async move {
                raw.post_usage_aggregates_query_jobs(&body).await
            })
            .await?;
        Ok(OrganizationJob {
            id: job_id(OPERATION, submitted.id)?,
            page_size: query.page_size(),
        })
    }

    /// `POST /api/v2/usage/client/{clientId}/aggregates/query/jobs`: submits one OAuth
    /// client's aggregates job.
    pub async fn submit_oauth_client_job(
        &self,
        client_id: &OAuthClientId,
        query: &OAuthClientJobQuery,
    ) -> Result<OAuthClientJob, Error> {
        const OPERATION: &str = "post_usage_client_client_id_aggregates_query_jobs";
        let body = query.to_raw();
        let submitted = self
            .call(OPERATION, None, |raw| async move {
                raw.post_usage_client_client_id_aggregates_query_jobs(client_id.as_str(), &body)
                    .await
            })
            .await?;
        Ok(OAuthClientJob {
            client_id: client_id.clone(),
            id: job_id(OPERATION, submitted.id)?,
            page_size: query.page_size(),
        })
    }

    /// Fetches a job's results once: its status and, once `Succeeded`, the page after the
    /// `after` cursor (the first page without one).
    pub async fn fetch_job_page<J: UsageJob>(
        &self,
        job: &J,
        after: Option<&str>,
    ) -> Result<JobPage<J::Row>, Error> {
        job.fetch(self, after).await
    }

    /// Submits an organization aggregates job, waits for it, and streams its rows.
    pub async fn organization_aggregates(
        &self,
        query: &OrganizationJobQuery,
    ) -> Result<Rows<OrganizationPublicApiUsage>, Error> {
        let job = self.submit_organization_job(query).await?;
        self.job_rows(&job).await
    }

    /// Submits one OAuth client's aggregates job, waits for it, and streams its rows.
    pub async fn oauth_client_aggregates(
        &self,
        client_id: &OAuthClientId,
        query: &OAuthClientJobQuery,
    ) -> Result<Rows<ClientPublicApiUsage>, Error> {
        let job = self.submit_oauth_client_job(client_id, query).await?;
        self.job_rows(&job).await
    }

    /// Waits for `job` with the configured [`PollPolicy`] and streams its rows; also picks up
    /// a job submitted earlier (`OrganizationJob::new(id)`).
    pub async fn job_rows<J: UsageJob>(&self, job: &J) -> Result<Rows<J::Row>, Error> {
        self.job_rows_observed(job, &self.shared.config.poll, |_| {})
            .await
    }

    /// Waits for `job` with `policy`, calling `observe` after every poll, then streams its
    /// rows.
    ///
    /// `Queued`, `Running` and statuses this crate does not know mean "not finished";
    /// `Succeeded` starts the stream with the page that poll returned; `Failed` is
    /// [`Error::JobFailed`] (with the job's `errorBody` when present), `Cancelled`
    /// [`Error::JobCancelled`], and a passed deadline [`Error::JobDeadlineExceeded`].
    pub async fn job_rows_observed<J: UsageJob>(
        &self,
        job: &J,
        policy: &PollPolicy,
        mut observe: impl FnMut(&JobPollEvent<'_>),
    ) -> Result<Rows<J::Row>, Error> {
        let id = job.id();
        let poll = Poll {
            fetch: || job.fetch(self, None),
            status: |page: &JobPage<J::Row>| Some(page.status.clone()),
            finish: |mut page: JobPage<J::Row>, _polls| {
                if let Some(failure) = job_failure(id, &mut page) {
                    Some(Err(failure))
                } else {
                    matches!(page.status, JobQueryStatus::Succeeded).then_some(Ok(page))
                }
            },
            timed_out: |waited, last_status| Error::JobDeadlineExceeded {
                job_id: id.clone(),
                waited,
                last_status,
            },
        };
        let first = poll_until(self.shared.config.clock.as_ref(), policy, poll, |polled| {
            tracing::debug!(
                job_id = %id,
                poll = polled.poll,
                status = polled.status.map_or("", JobQueryStatus::as_str),
                "polled aggregates query job"
            );
            observe(&JobPollEvent {
                job_id: id,
                poll: polled.poll,
                status: polled.status,
                elapsed: polled.elapsed,
            });
        })
        .await?;
        self.job_stream(job.clone(), first)
    }

    /// The rows of a succeeded job, from its first page on.
    fn job_stream<J: UsageJob>(
        &self,
        job: J,
        first: JobPage<J::Row>,
    ) -> Result<Rows<J::Row>, Error> {
        const OPERATION: &str = "aggregates query job results";
        let next = |page: &JobPage<J::Row>| {
            page.next_uri
                .as_deref()
                .map(|uri| after_cursor(OPERATION, uri))
                .transpose()
        };
        let first_next = next(&first)?;
        let client = self.clone();
        Ok(Rows::new(
            OPERATION,
            Page {
                rows: first.rows,
                next: first_next,
            },
            move |cursor| {
                let (client, job) = (client.clone(), job.clone());
                Box::pin(async move {
                    let mut page = job.fetch(&client, Some(&cursor)).await?;
                    if let Some(failure) = job_failure(job.id(), &mut page) {
                        return Err(failure);
                    }
                    Ok(Page {
                        next: next(&page)?,
                        rows: page.rows,
                    })
                })
            },
        ))
    }
}
