//! Simple search (`POST /api/v2/usage/simplesearch`): an execution like the legacy queries,
//! polled until `Complete`, whose rows are then read page by page through `cursors.after`.
//! The server caps a search at 20,000 rows.

use crate::client::{UsageClient, execution_id};
use crate::error::Error;
use crate::ids::ExecutionId;
use crate::job_query::{PageSize, SimpleSearchQuery};
use crate::open_enum::QueryStatus;
use crate::paging::{Page, Rows};
use crate::poller::{Poll, PollPolicy, poll_until};
use crate::types::{ApiUsageQueryResult, ApiUsageRow};

/// A submitted simple search: what to poll and page through.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SimpleSearch {
    /// The execution id.
    pub id: ExecutionId,
    /// The page size its results are fetched with.
    pub page_size: PageSize,
}

impl SimpleSearch {
    /// A search submitted earlier, fetched 100 rows a page.
    pub fn new(id: ExecutionId) -> Self {
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

/// The `after` cursor of a results page, when it names one.
fn next_cursor(result: &ApiUsageQueryResult) -> Option<String> {
    result
        .cursors
        .as_ref()
        .and_then(|c| c.after.clone())
        .filter(|after| !after.is_empty())
}

impl UsageClient {
    /// `POST /api/v2/usage/simplesearch`: submits a simple search.
    pub async fn submit_simple_search(
        &self,
        query: &SimpleSearchQuery,
    ) -> Result<SimpleSearch, Error> {
        const OPERATION: &str = "post_usage_simplesearch";
        let body = query.to_raw();
        let submitted = self
            .call(OPERATION, None, |raw| async move {
                raw.post_usage_simplesearch(&body).await
            })
            .await?;
        let id = execution_id(OPERATION, submitted)?;
        Ok(SimpleSearch {
            id,
            page_size: query.page_size(),
        })
    }

    /// `GET /api/v2/usage/simplesearch/{executionId}/results`, once: the status and, once
    /// `Complete`, the page after the `after` cursor.
    pub async fn fetch_simple_search_page(
        &self,
        search: &SimpleSearch,
        after: Option<&str>,
    ) -> Result<ApiUsageQueryResult, Error> {
        let id = search.id.as_str();
        let page_size = Some(search.page_size.get() as i32);
        self.call(
            "get_usage_simplesearch_execution_id_results",
            Some(id),
            |raw| async move {
                raw.get_usage_simplesearch_execution_id_results(id, after, page_size)
                    .await
            },
        )
        .await
    }

    /// Submits a simple search, waits for it, and streams its rows.
    pub async fn simple_search(
        &self,
        query: &SimpleSearchQuery,
    ) -> Result<Rows<ApiUsageRow>, Error> {
        let search = self.submit_simple_search(query).await?;
        self.simple_search_rows(&search).await
    }

    /// Waits for `search` with the configured [`PollPolicy`] and streams its rows.
    pub async fn simple_search_rows(
        &self,
        search: &SimpleSearch,
    ) -> Result<Rows<ApiUsageRow>, Error> {
        self.simple_search_rows_with(search, &self.shared.config.poll)
            .await
    }

    /// Waits for `search` with `policy` and streams its rows. `Failed` is
    /// [`Error::QueryFailed`], a passed deadline [`Error::DeadlineExceeded`]; `Running` and
    /// unknown statuses mean "not finished".
    pub async fn simple_search_rows_with(
        &self,
        search: &SimpleSearch,
        policy: &PollPolicy,
    ) -> Result<Rows<ApiUsageRow>, Error> {
        let id = &search.id;
        let poll = Poll {
            fetch: || self.fetch_simple_search_page(search, None),
            status: |result: &ApiUsageQueryResult| result.query_status.clone(),
            finish: |result: ApiUsageQueryResult, _polls| match result.query_status {
                Some(QueryStatus::Complete) => Some(Ok(result)),
                Some(QueryStatus::Failed) => Some(Err(Error::QueryFailed {
                    execution_id: id.clone(),
                })),
                _ => None,
            },
            timed_out: |waited, last_status| Error::DeadlineExceeded {
                execution_id: id.clone(),
                waited,
                last_status,
            },
        };
        let first = poll_until(self.shared.config.clock.as_ref(), policy, poll, |polled| {
            tracing::debug!(
                execution_id = %id,
                poll = polled.poll,
                status = polled.status.map_or("", QueryStatus::as_str),
                "polled simple search results"
            );
        })
        .await?;
        let next = next_cursor(&first);
        let (client, search) = (self.clone(), search.clone());
        Ok(Rows::new(
            "simple search results",
            Page {
                rows: first.results,
                next,
            },
            move |cursor| {
                let (client, search) = (client.clone(), search.clone());
                Box::pin(async move {
                    let page = client
                        .fetch_simple_search_page(&search, Some(&cursor))
                        .await?;
                    if page.query_status == Some(QueryStatus::Failed) {
                        return Err(Error::QueryFailed {
                            execution_id: search.id.clone(),
                        });
                    }
                    Ok(Page {
                        next: next_cursor(&page),
                        rows: page.results,
                    })
                })
            },
        ))
    }
}
