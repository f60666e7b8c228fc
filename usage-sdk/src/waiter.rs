//! Waiters of the legacy operations: submit a usage query, then poll its results until
//! `Complete` or `Failed` (on the schedule of [`PollPolicy`], see [`crate::poller`]).

use std::time::Duration;

use crate::client::{Execution, UsageClient};
use crate::error::Error;
use crate::ids::{ExecutionId, OAuthClientId};
use crate::open_enum::QueryStatus;
use crate::poller::{Poll, PollPolicy, poll_until};
use crate::query::{Days, OAuthClientQuery, OrganizationQuery};
use crate::types::{ApiUsageQueryResult, ApiUsageRow, Cursors};

/// The rows of a completed usage query execution.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UsageReport {
    /// The execution that produced the rows.
    pub execution: Execution,
    /// The rows, as the API sent them. Dimensions not grouped by are `Some("")`.
    pub rows: Vec<ApiUsageRow>,
    /// Pagination cursors, if the server sent any (not used by these endpoints today).
    pub cursors: Option<Cursors>,
    /// How many times the results were fetched.
    pub polls: u32,
}

/// What a waiter saw on one poll.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct PollEvent<'a> {
    /// The execution polled.
    pub execution: &'a Execution,
    /// The poll number, from 1.
    pub poll: u32,
    /// The status the server reported, if any.
    pub status: Option<&'a QueryStatus>,
    /// Time since the waiter started.
    pub elapsed: Duration,
}

impl UsageClient {
    /// Submits an organization usage query and waits for its rows.
    pub async fn organization_usage(
        &self,
        query: &OrganizationQuery,
    ) -> Result<UsageReport, Error> {
        let execution = self.submit_organization_query(query).await?;
        self.wait_for(&execution).await
    }

    /// Submits one OAuth client's usage query and waits for its rows.
    pub async fn oauth_client_usage(
        &self,
        client_id: &OAuthClientId,
        query: &OAuthClientQuery,
    ) -> Result<UsageReport, Error> {
        let execution = self.submit_oauth_client_query(client_id, query).await?;
        self.wait_for(&execution).await
    }

    /// Submits an OAuth client's usage summary of the last `days` days and waits for its rows.
    pub async fn oauth_client_usage_summary(
        &self,
        client_id: &OAuthClientId,
        days: Days,
    ) -> Result<UsageReport, Error> {
        let execution = self
            .submit_oauth_client_usage_summary(client_id, days)
            .await?;
        self.wait_for(&execution).await
    }

    /// Picks up an organization query submitted earlier (e.g. after a deadline).
    pub async fn resume_organization_query(
        &self,
        execution_id: ExecutionId,
    ) -> Result<UsageReport, Error> {
        self.wait_for(&Execution::organization(execution_id)).await
    }

    /// Picks up an OAuth client query or summary submitted earlier.
    pub async fn resume_oauth_client_query(
        &self,
        client_id: OAuthClientId,
        execution_id: ExecutionId,
    ) -> Result<UsageReport, Error> {
        self.wait_for(&Execution::oauth_client(client_id, execution_id))
            .await
    }

    /// Polls `execution` with the configured [`PollPolicy`] until it completes or fails.
    pub async fn wait_for(&self, execution: &Execution) -> Result<UsageReport, Error> {
        self.wait_with(execution, &self.shared.config.poll).await
    }

    /// Polls `execution` with `policy` until it completes or fails.
    ///
    /// `Complete` returns the rows; `Failed` returns [`Error::QueryFailed`]; `Running`, a
    /// missing status or one this crate does not know yet means "not finished". Each poll
    /// retries and honours `Retry-After` like any other call.
    pub async fn wait_with(
        &self,
        execution: &Execution,
        policy: &PollPolicy,
    ) -> Result<UsageReport, Error> {
        self.wait_observed(execution, policy, |_| {}).await
    }

    /// Like [`wait_with`](Self::wait_with), calling `observe` after every poll (for progress
    /// output).
    pub async fn wait_observed(
        &self,
        execution: &Execution,
        policy: &PollPolicy,
        mut observe: impl FnMut(&PollEvent<'_>),
    ) -> Result<UsageReport, Error> {
        let poll = Poll {
            fetch: || self.fetch_results(execution),
            status: |result: &ApiUsageQueryResult| result.query_status.clone(),
            finish: |result: ApiUsageQueryResult, polls| match result.query_status {
                Some(QueryStatus::Complete) => Some(Ok(UsageReport {
                    execution: execution.clone(),
                    rows: result.results,
                    cursors: result.cursors,
                    polls,
                })),
                Some(QueryStatus::Failed) => Some(Err(Error::QueryFailed {
                    execution_id: execution.id.clone(),
                })),
                _ => None,
            },
            timed_out: |waited, last_status| Error::DeadlineExceeded {
                execution_id: execution.id.clone(),
                waited,
                last_status,
            },
        };
        poll_until(self.shared.config.clock.as_ref(), policy, poll, |polled| {
            tracing::debug!(
                execution_id = %execution.id,
                poll = polled.poll,
                status = polled.status.map_or("", QueryStatus::as_str),
                "polled usage query results"
            );
            observe(&PollEvent {
                execution,
                poll: polled.poll,
                status: polled.status,
                elapsed: polled.elapsed,
            });
        })
        .await
    }
}
