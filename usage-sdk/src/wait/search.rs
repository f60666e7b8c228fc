//! Simple search (`POST /api/v2/usage/simplesearch`): an execution like the legacy queries,
//! polled until `Complete`, whose rows are then read page by page through `cursors.after`.
//! The server caps a search at 20,000 rows. Its handle is [`SimpleSearch`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::client::{UsageClient, execution_id};
use crate::model::error::Error;
use crate::model::ids::ExecutionId;
use crate::model::types::{ApiUsageQueryResult, ApiUsageRow};
use crate::query::jobs::{PageSize, SimpleSearchQuery};
use crate::wait::execution::{execution_timed_out, read_execution};
use crate::wait::handle::{
    Fresh, Handle, Step, Submit, handle_serde, parse_handle, sealed, write_handle,
};

const ORGANIZATION: (&str, usize) = ("simple-search:organization", 1);
pub(crate) const FORMS: &[(&str, usize)] = &[ORGANIZATION];

/// A submitted simple search: a [`Handle`] whose string form is
/// `simple-search:organization:ID`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SimpleSearch {
    /// The execution id.
    pub id: ExecutionId,
    /// The page size its results are fetched with (not part of the string form).
    pub page_size: PageSize,
    fresh: Fresh,
}

impl SimpleSearch {
    /// A search submitted earlier, fetched 100 rows a page; its first poll goes at once.
    pub fn new(id: ExecutionId) -> Self {
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

impl fmt::Display for SimpleSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_handle(f, ORGANIZATION.0, &[self.id.as_str()])
    }
}

impl FromStr for SimpleSearch {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (_, ids) = parse_handle(text, FORMS)?;
        Ok(Self::new(ids[0].parse()?))
    }
}

handle_serde!(SimpleSearch);

impl sealed::Sealed for SimpleSearch {}
impl sealed::Sealed for SimpleSearchQuery {}

impl Handle for SimpleSearch {
    type Row = ApiUsageRow;
    type Page = ApiUsageQueryResult;

    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn kind(&self) -> &'static str {
        ORGANIZATION.0
    }

    /// `GET /api/v2/usage/simplesearch/{executionId}/results`.
    async fn fetch(&self, client: &UsageClient, after: Option<&str>) -> Result<Self::Page, Error> {
        let id = self.id.as_str();
        let page_size = Some(self.page_size.get() as i32);
        client
            .call(
                "get_usage_simplesearch_execution_id_results",
                Some(id),
                |raw| async move {
                    raw.get_usage_simplesearch_execution_id_results(id, after, page_size)
                        .await
                },
            )
            .await
    }

    fn read(&self, result: ApiUsageQueryResult) -> Result<Step<ApiUsageRow>, Error> {
        let next = result
            .cursors
            .as_ref()
            .and_then(|c| c.after.clone())
            .filter(|after| !after.is_empty());
        Ok(read_execution(&self.id, result, next))
    }

    fn timed_out(&self, waited: Duration, last_status: Option<&str>) -> Error {
        execution_timed_out(&self.id, waited, last_status)
    }

    fn submitted_here(&self) -> bool {
        self.fresh.0
    }
}

impl Submit for SimpleSearchQuery {
    type Handle = SimpleSearch;

    /// `POST /api/v2/usage/simplesearch`.
    async fn submit(&self, client: &UsageClient) -> Result<SimpleSearch, Error> {
        const OPERATION: &str = "post_usage_simplesearch";
        let body = self.to_raw();
        let submitted = client
            .call(OPERATION, None, |raw| async move {
                raw.post_usage_simplesearch(&body).await
            })
            .await?;
        Ok(SimpleSearch {
            id: execution_id(OPERATION, submitted)?,
            page_size: self.page_size(),
            fresh: Fresh(true),
        })
    }
}
