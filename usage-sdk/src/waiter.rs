//! Waiters: submit a usage query, then poll its results until `Complete` or `Failed`.
//!
//! Genesys computes usage queries asynchronously and asks clients not to hammer the results
//! endpoint (its blog suggests polling every one to two minutes; polling every few
//! milliseconds gets the OAuth client rate-limited). The default schedule polls about a
//! second after submitting, then backs off with jitter to once a minute. Dropping the
//! returned future stops polling.

use std::time::Duration;

use crate::client::{Execution, UsageClient};
use crate::error::Error;
use crate::ids::{ClientId, ExecutionId};
use crate::open_enum::QueryStatus;
use crate::query::{ClientQuery, Days, OrganizationQuery};
use crate::raw::types::{ApiUsageRow, Cursors};
use crate::time::jitter_fraction;

/// When the waiters poll, and for how long.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PollPolicy {
    /// The wait before the first poll.
    pub initial_delay: Duration,
    /// The longest wait between two polls.
    pub max_delay: Duration,
    /// How much each wait grows over the previous one.
    pub multiplier: f64,
    /// Randomise waits by ±20% so that many waiters do not poll in step.
    pub jitter: bool,
    /// How long a waiter waits in all before returning [`Error::DeadlineExceeded`].
    pub deadline: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            multiplier: 2.0,
            jitter: true,
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

impl PollPolicy {
    /// Sets the first wait and the largest wait.
    pub fn with_delays(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_delay = initial;
        self.max_delay = max.max(initial);
        self
    }

    /// Sets the growth factor between waits (at least 1).
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier.max(1.0);
        self
    }

    /// Sets [`jitter`](Self::jitter).
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the overall [`deadline`](Self::deadline).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The wait before poll number `poll` (1-based).
    pub(crate) fn delay(&self, poll: u32) -> Duration {
        let growth = self.multiplier.powi(poll.saturating_sub(1).min(64) as i32);
        let base = self.initial_delay.mul_f64(growth).min(self.max_delay);
        if self.jitter {
            base.mul_f64(0.8 + 0.4 * jitter_fraction())
                .min(self.max_delay)
        } else {
            base
        }
    }
}

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
    pub async fn client_usage(
        &self,
        client_id: &ClientId,
        query: &ClientQuery,
    ) -> Result<UsageReport, Error> {
        let execution = self.submit_client_query(client_id, query).await?;
        self.wait_for(&execution).await
    }

    /// Submits an OAuth client's usage summary of the last `days` days and waits for its rows.
    pub async fn client_usage_summary(
        &self,
        client_id: &ClientId,
        days: Days,
    ) -> Result<UsageReport, Error> {
        let execution = self.submit_client_usage_summary(client_id, days).await?;
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
    pub async fn resume_client_query(
        &self,
        client_id: ClientId,
        execution_id: ExecutionId,
    ) -> Result<UsageReport, Error> {
        self.wait_for(&Execution::client(client_id, execution_id))
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
        let clock = &self.shared.config.clock;
        let started = clock.now();
        let deadline = started + policy.deadline;
        let mut polls = 0;
        let mut last_status = None;
        loop {
            let now = clock.now();
            if now >= deadline {
                return Err(Error::DeadlineExceeded {
                    execution_id: execution.id.clone(),
                    waited: now - started,
                    last_status,
                });
            }
            // The last wait is cut short so the final poll happens at the deadline.
            clock
                .sleep(policy.delay(polls + 1).min(deadline - now))
                .await;
            polls += 1;
            let result = self.fetch_results(execution).await?;
            tracing::debug!(
                execution_id = %execution.id,
                poll = polls,
                status = result.query_status.as_ref().map_or("", QueryStatus::as_str),
                "polled usage query results"
            );
            observe(&PollEvent {
                execution,
                poll: polls,
                status: result.query_status.as_ref(),
                elapsed: clock.now() - started,
            });
            match result.query_status {
                Some(QueryStatus::Complete) => {
                    return Ok(UsageReport {
                        execution: execution.clone(),
                        rows: result.results,
                        cursors: result.cursors,
                        polls,
                    });
                }
                Some(QueryStatus::Failed) => {
                    return Err(Error::QueryFailed {
                        execution_id: execution.id.clone(),
                    });
                }
                other => last_status = other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_starts_at_a_second_and_caps_at_a_minute() {
        let policy = PollPolicy::default().with_jitter(false);
        let waits: Vec<u64> = (1..=9).map(|p| policy.delay(p).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_under_the_cap() {
        let policy = PollPolicy::default();
        for _ in 0..200 {
            let first = policy.delay(1);
            assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200));
            assert!(policy.delay(20) <= Duration::from_secs(60));
        }
    }
}
