//! The one waiter and the client's query methods, for every kind: [`UsageClient::submit`]
//! (or [`UsageClient::oauth_client`] for one client's queries) gives a handle,
//! [`UsageClient::wait`] polls it on one schedule and reads its rows as one [`Rows`] stream,
//! [`UsageClient::rows`] does both. [`AnyHandle`] parses a stored handle of any kind.
//!
//! ```no_run
//! # async fn run(client: usage_sdk::UsageClient) -> Result<(), usage_sdk::Error> {
//! use usage_sdk::{AnyHandle, Interval, OrganizationJob, OrganizationJobQuery};
//!
//! let query = OrganizationJobQuery::builder(Interval::last_full_days(7)?).build()?;
//! let job = client.submit(&query).await?;
//! let stored = job.to_string(); // "aggregates-job:organization:<id>"
//! // ... later, maybe in another process:
//! let job: OrganizationJob = stored.parse()?;
//! let mut rows = client.wait(&job).await?; // a finished job: its first page at once
//! while let Some(row) = rows.try_next().await? {
//!     println!("{:?}", row.request_count);
//! }
//! // A program that stores handles of several kinds dispatches on what it reads back:
//! match stored.parse::<AnyHandle>()? {
//!     AnyHandle::OrganizationJob(job) => { client.wait(&job).await?; }
//!     _ => {}
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;

use crate::client::UsageClient;
use crate::http::poller::{Poll, PollPolicy, poll_until};
use crate::model::error::Error;
use crate::model::ids::OAuthClientId;
use crate::wait::execution::Execution;
use crate::wait::handle::{
    Handle, State, Step, Submit, SubmitForClient, WaitEvent, handle_serde, parse_handle,
};
use crate::wait::jobs::{OAuthClientJob, OrganizationJob};
use crate::wait::paging::Rows;
use crate::wait::search::SimpleSearch;

impl UsageClient {
    /// Submits an organization's query of any kind ([`crate::OrganizationJobQuery`],
    /// [`crate::OrganizationQuery`], [`crate::SimpleSearchQuery`]) and returns its handle.
    pub async fn submit<Q: Submit>(&self, query: &Q) -> Result<Q::Handle, Error> {
        query.submit(self).await
    }

    /// Submits `query`, waits for it with the client's [`PollPolicy`], and reads its rows.
    pub async fn rows<Q: Submit>(
        &self,
        query: &Q,
    ) -> Result<Rows<<Q::Handle as Handle>::Row>, Error> {
        let handle = self.submit(query).await?;
        self.wait(&handle).await
    }

    /// One OAuth client's queries: `client.oauth_client(&id).submit(&query)`.
    pub fn oauth_client<'a>(&'a self, client_id: &'a OAuthClientId) -> OAuthClientScope<'a> {
        OAuthClientScope {
            client: self,
            client_id,
        }
    }

    /// Waits for `handle` with the client's [`PollPolicy`] and reads its rows.
    ///
    /// Unknown and in-progress statuses mean "not finished"; a failed or cancelled query is
    /// its kind's error ([`Error::QueryFailed`], [`Error::JobFailed`],
    /// [`Error::JobCancelled`]); a passed deadline is [`Error::DeadlineExceeded`] or
    /// [`Error::JobDeadlineExceeded`], with the id to resume from.
    pub async fn wait<H: Handle>(&self, handle: &H) -> Result<Rows<H::Row>, Error> {
        self.wait_observed(handle, &self.shared.config.poll, |_| {})
            .await
    }

    /// Like [`wait`](Self::wait), with `policy`, calling `observe` after every poll.
    pub async fn wait_observed<H: Handle>(
        &self,
        handle: &H,
        policy: &PollPolicy,
        observe: impl FnMut(&WaitEvent<'_>),
    ) -> Result<Rows<H::Row>, Error> {
        self.read_from(handle, policy, None, observe).await
    }

    /// Reads the rows of `handle` from the page after `cursor` (a [`crate::RowsPage::next`]
    /// kept from an earlier read), waiting first if the query is not finished.
    pub async fn rows_after<H: Handle>(
        &self,
        handle: &H,
        cursor: &str,
    ) -> Result<Rows<H::Row>, Error> {
        let policy = self.shared.config.poll.clone();
        self.read_from(handle, &policy, Some(cursor), |_| {}).await
    }

    /// One results GET of `handle`: its status and, once finished, the page after `after`
    /// (the first without one).
    pub async fn fetch_page<H: Handle>(
        &self,
        handle: &H,
        after: Option<&str>,
    ) -> Result<H::Page, Error> {
        handle.fetch(self, after).await
    }

    /// The one waiter behind every kind.
    async fn read_from<H: Handle>(
        &self,
        handle: &H,
        policy: &PollPolicy,
        after: Option<&str>,
        mut observe: impl FnMut(&WaitEvent<'_>),
    ) -> Result<Rows<H::Row>, Error> {
        let kind = handle.kind();
        let poll = Poll {
            fetch: || async { handle.read(handle.fetch(self, after).await?) },
            status: |step: &Step<H::Row>| step.status.clone(),
            finish: |step: Step<H::Row>, _polls| match step.state {
                State::Pending => None,
                State::Done => Some(Ok(step.page)),
                State::Failed(error) => Some(Err(error)),
            },
            timed_out: |waited, last_status: Option<String>| {
                handle.timed_out(waited, last_status.as_deref())
            },
            at_once: !handle.submitted_here(),
        };
        let first = poll_until(self.shared.config.clock.as_ref(), policy, poll, |polled| {
            let status = polled.status.map(String::as_str);
            tracing::debug!(
                handle = kind,
                id = handle.id(),
                poll = polled.poll,
                status = status.unwrap_or(""),
                "polled"
            );
            observe(&WaitEvent {
                kind,
                id: handle.id(),
                poll: polled.poll,
                status,
                elapsed: polled.elapsed,
            });
        })
        .await?;
        let (client, handle) = (self.clone(), handle.clone());
        Ok(Rows::new(kind, first, move |cursor| {
            let (client, handle) = (client.clone(), handle.clone());
            Box::pin(async move {
                let step = handle.read(handle.fetch(&client, Some(&cursor)).await?)?;
                match step.state {
                    State::Failed(error) => Err(error),
                    // A later page is read whatever status it repeats: the query finished.
                    State::Pending | State::Done => Ok(step.page),
                }
            })
        }))
    }
}

/// One OAuth client's queries ([`UsageClient::oauth_client`]).
#[derive(Clone, Copy, Debug)]
pub struct OAuthClientScope<'a> {
    client: &'a UsageClient,
    client_id: &'a OAuthClientId,
}

impl OAuthClientScope<'_> {
    /// Submits the client's query of any kind ([`crate::OAuthClientJobQuery`],
    /// [`crate::OAuthClientQuery`], or [`crate::Days`] for the usage summary).
    pub async fn submit<Q: SubmitForClient>(&self, query: &Q) -> Result<Q::Handle, Error> {
        query.submit(self.client, self.client_id).await
    }

    /// Submits `query`, waits for it, and reads its rows.
    pub async fn rows<Q: SubmitForClient>(
        &self,
        query: &Q,
    ) -> Result<Rows<<Q::Handle as Handle>::Row>, Error> {
        let handle = self.submit(query).await?;
        self.client.wait(&handle).await
    }
}

/// A handle of any kind, parsed from its string form: for programs that store handles of
/// several kinds and dispatch on what they read back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnyHandle {
    /// `usage-query:organization:ID` or `usage-query:oauth-client:CLIENT:ID`.
    Execution(Execution),
    /// `aggregates-job:organization:ID`.
    OrganizationJob(OrganizationJob),
    /// `aggregates-job:oauth-client:CLIENT:ID`.
    OAuthClientJob(OAuthClientJob),
    /// `simple-search:organization:ID`.
    SimpleSearch(SimpleSearch),
}

impl AnyHandle {
    /// Every handle's form.
    fn forms() -> Vec<(&'static str, usize)> {
        [
            crate::wait::execution::FORMS,
            crate::wait::jobs::FORMS,
            crate::wait::search::FORMS,
        ]
        .concat()
    }
}

impl FromStr for AnyHandle {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (form, _) = parse_handle(text, &Self::forms())?;
        Ok(match form.split(':').next() {
            Some("usage-query") => AnyHandle::Execution(text.parse()?),
            Some("simple-search") => AnyHandle::SimpleSearch(text.parse()?),
            _ if form.ends_with("organization") => AnyHandle::OrganizationJob(text.parse()?),
            _ => AnyHandle::OAuthClientJob(text.parse()?),
        })
    }
}

impl fmt::Display for AnyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyHandle::Execution(h) => h.fmt(f),
            AnyHandle::OrganizationJob(h) => h.fmt(f),
            AnyHandle::OAuthClientJob(h) => h.fmt(f),
            AnyHandle::SimpleSearch(h) => h.fmt(f),
        }
    }
}

handle_serde!(AnyHandle);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_string_form_and_serde() {
        let client = OAuthClientId::new("c:1%x").unwrap();
        let handles = [
            AnyHandle::Execution(Execution::organization("e-1".parse().unwrap())),
            AnyHandle::Execution(Execution::oauth_client(
                client.clone(),
                "e:2".parse().unwrap(),
            )),
            AnyHandle::OrganizationJob(OrganizationJob::new("j-1".parse().unwrap())),
            AnyHandle::OAuthClientJob(OAuthClientJob::new(client, "j/2".parse().unwrap())),
            AnyHandle::SimpleSearch(SimpleSearch::new("s-1".parse().unwrap())),
        ];
        for handle in handles {
            let text = handle.to_string();
            assert_eq!(text.parse::<AnyHandle>().unwrap(), handle, "{text}");
        }
        let job = OrganizationJob::new("j-1".parse().unwrap());
        assert_eq!(job.to_string(), "aggregates-job:organization:j-1");
        let json = serde_json::to_string(&job).unwrap();
        assert_eq!(json, "\"aggregates-job:organization:j-1\"");
        assert_eq!(serde_json::from_str::<OrganizationJob>(&json).unwrap(), job);
    }

    #[test]
    fn a_malformed_or_other_kind_of_handle_is_a_clear_error() {
        for bad in [
            "",
            "j-1",
            "aggregates-job:organization",
            "aggregates-job:organization:",
            "aggregates-job:organization:a:b",
            "aggregates-job:galaxy:j-1",
            "usage-query:oauth-client:c-1",
        ] {
            let error = bad.parse::<AnyHandle>().unwrap_err();
            assert!(matches!(error, Error::InvalidInput(_)), "{bad:?}: {error}");
        }
        let error = "simple-search:organization:s-1"
            .parse::<OrganizationJob>()
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not a handle of the form aggregates-job:organization:ID"),
            "{error}"
        );
    }
}
