//! [`Execution`]: the handle of the legacy usage queries and the client usage summary,
//! submitted with [`crate::UsageClient::submit`] (or a client scope's `submit`) and read
//! through the one waiter like every kind. Their results come in one response: one page.

use std::fmt;
use std::time::Duration;

use crate::client::{UsageClient, execution_id};
use crate::model::error::Error;
use crate::model::ids::{ExecutionId, OAuthClientId};
use crate::model::open_enum::QueryStatus;
use crate::model::types::{ApiUsageQueryResult, ApiUsageRow};
use crate::query::legacy::{Days, OAuthClientQuery, OrganizationQuery};
use crate::wait::handle::{
    Fresh, Handle, State, Step, Submit, SubmitForClient, parse_handle, sealed, write_handle,
};
use crate::wait::paging::Page;

/// A submitted legacy usage query or client usage summary: a [`Handle`] whose string form
/// is `usage-query:organization:ID` or `usage-query:oauth-client:CLIENT:ID`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Execution {
    /// The execution id.
    pub id: ExecutionId,
    /// Whose results endpoint serves it.
    pub scope: ExecutionScope,
    fresh: Fresh,
}

/// Which results endpoint serves an execution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionScope {
    /// `GET /api/v2/usage/query/{executionId}/results`.
    Organization,
    /// `GET /api/v2/oauth/clients/{clientId}/usage/query/results/{executionId}` (client queries
    /// and the client usage summary).
    OAuthClient(OAuthClientId),
}

impl Execution {
    /// An organization query execution.
    pub fn organization(id: ExecutionId) -> Self {
        Self {
            id,
            scope: ExecutionScope::Organization,
            fresh: Fresh(false),
        }
    }

    /// An OAuth client query (or summary) execution.
    pub fn oauth_client(client_id: OAuthClientId, id: ExecutionId) -> Self {
        Self {
            id,
            scope: ExecutionScope::OAuthClient(client_id),
            fresh: Fresh(false),
        }
    }

    fn submitted(mut self) -> Self {
        self.fresh = Fresh(true);
        self
    }
}

impl fmt::Display for Execution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            ExecutionScope::Organization => write_handle(f, ORGANIZATION.0, &[self.id.as_str()]),
            ExecutionScope::OAuthClient(client) => {
                write_handle(f, OAUTH_CLIENT.0, &[client.as_str(), self.id.as_str()])
            }
        }
    }
}

impl Handle for Execution {
    type Row = ApiUsageRow;
    type Page = ApiUsageQueryResult;

    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn kind(&self) -> &'static str {
        match self.scope {
            ExecutionScope::Organization => ORGANIZATION.0,
            ExecutionScope::OAuthClient(_) => OAUTH_CLIENT.0,
        }
    }

    async fn fetch(
        &self,
        client: &UsageClient,
        _after: Option<&str>,
    ) -> Result<ApiUsageQueryResult, Error> {
        let id = self.id.as_str();
        match &self.scope {
            ExecutionScope::Organization => {
                client
                    .call(
                        "get_usage_query_execution_id_results",
                        Some(id),
                        |raw| async move { raw.get_usage_query_execution_id_results(id).await },
                    )
                    .await
            }
            ExecutionScope::OAuthClient(client_id) => {
                client
                    .call(
                        "get_oauth_client_usage_query_result",
                        Some(id),
                        |raw| async move {
                            raw.get_oauth_client_usage_query_result(client_id.as_str(), id)
                                .await
                        },
                    )
                    .await
            }
        }
    }

    fn read(&self, result: ApiUsageQueryResult) -> Result<Step<ApiUsageRow>, Error> {
        // The legacy results come in one response: one page, no cursor to follow.
        Ok(read_execution(&self.id, result, None))
    }

    fn timed_out(&self, waited: Duration, last_status: Option<&str>) -> Error {
        execution_timed_out(&self.id, waited, last_status)
    }

    fn submitted_here(&self) -> bool {
        self.fresh.0
    }
}

/// The state, status and rows of an execution's results (legacy queries and simple search
/// share the result type and its statuses); `next` is the cursor of the next page, if any.
pub(crate) fn read_execution(
    id: &ExecutionId,
    result: ApiUsageQueryResult,
    next: Option<String>,
) -> Step<ApiUsageRow> {
    let state = match result.query_status {
        Some(QueryStatus::Complete) => State::Done,
        Some(QueryStatus::Failed) => State::Failed(Error::QueryFailed {
            execution_id: id.clone(),
        }),
        _ => State::Pending,
    };
    Step {
        status: result.query_status.map(|s| s.as_str().to_string()),
        state,
        page: Page {
            rows: result.results,
            next,
        },
    }
}

/// The deadline error of an execution (legacy query or simple search).
pub(crate) fn execution_timed_out(
    id: &ExecutionId,
    waited: Duration,
    last_status: Option<&str>,
) -> Error {
    Error::DeadlineExceeded {
        execution_id: id.clone(),
        waited,
        last_status: last_status.map(QueryStatus::from),
    }
}

impl Submit for OrganizationQuery {
    type Handle = Execution;

    /// `POST /api/v2/usage/query`.
    async fn submit(&self, client: &UsageClient) -> Result<Execution, Error> {
        let body = self.to_raw();
        let result = client
            .call("post_usage_query", None, |raw| async move {
                raw.post_usage_query(&body).await
            })
            .await?;
        Ok(Execution::organization(execution_id("post_usage_query", result)?).submitted())
    }
}

impl SubmitForClient for OAuthClientQuery {
    type Handle = Execution;

    /// `POST /api/v2/oauth/clients/{clientId}/usage/query`.
    async fn submit(
        &self,
        client: &UsageClient,
        client_id: &OAuthClientId,
    ) -> Result<Execution, Error> {
        let body = self.to_raw();
        let result = client
            .call("post_oauth_client_usage_query", None, |raw| async move {
                raw.post_oauth_client_usage_query(client_id.as_str(), &body)
                    .await
            })
            .await?;
        let id = execution_id("post_oauth_client_usage_query", result)?;
        Ok(Execution::oauth_client(client_id.clone(), id).submitted())
    }
}

/// The client usage summary of the last `days` days is submitted like a query:
/// `client.oauth_client(&id).submit(&Days::new(30)?)`.
impl SubmitForClient for Days {
    type Handle = Execution;

    /// `GET /api/v2/oauth/clients/{clientId}/usage/summary?days=N`; its results come from
    /// the client results endpoint.
    async fn submit(
        &self,
        client: &UsageClient,
        client_id: &OAuthClientId,
    ) -> Result<Execution, Error> {
        let days = self.get().to_string();
        let result = client
            .call("get_oauth_client_usage_summary", None, |raw| async move {
                raw.get_oauth_client_usage_summary(client_id.as_str(), Some(days.as_str()))
                    .await
            })
            .await?;
        let id = execution_id("get_oauth_client_usage_summary", result)?;
        Ok(Execution::oauth_client(client_id.clone(), id).submitted())
    }
}

impl std::str::FromStr for Execution {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (form, ids) = parse_handle(text, &[ORGANIZATION, OAUTH_CLIENT])?;
        Ok(if form == ORGANIZATION.0 {
            Execution::organization(ids[0].parse()?)
        } else {
            Execution::oauth_client(OAuthClientId::new(ids[0].clone())?, ids[1].parse()?)
        })
    }
}

crate::wait::handle::handle_serde!(Execution);

impl sealed::Sealed for Execution {}
impl sealed::Sealed for OrganizationQuery {}
impl sealed::Sealed for OAuthClientQuery {}
impl sealed::Sealed for Days {}

const ORGANIZATION: (&str, usize) = ("usage-query:organization", 1);
const OAUTH_CLIENT: (&str, usize) = ("usage-query:oauth-client", 2);
pub(crate) const FORMS: &[(&str, usize)] = &[ORGANIZATION, OAUTH_CLIENT];
