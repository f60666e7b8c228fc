//! A local stand-in for the Genesys Cloud Usage API (like stripe-mock for Stripe).
//!
//! [`StandIn::builder`] configures it, [`StandInBuilder::start`] binds `127.0.0.1` (a free
//! port by default) and serves the fifteen Usage operations plus `POST /oauth/token` over
//! HTTP/1.1 until the [`RunningStandIn`] is dropped:
//!
//! | Operation | Route |
//! |---|---|
//! | token | `POST /oauth/token` |
//! | organization query (legacy) | `POST /api/v2/usage/query`, `GET /api/v2/usage/query/{executionId}/results` |
//! | client query (legacy) | `POST /api/v2/oauth/clients/{clientId}/usage/query`, `GET /api/v2/oauth/clients/{clientId}/usage/query/results/{executionId}` |
//! | client summary (legacy) | `GET /api/v2/oauth/clients/{clientId}/usage/summary?days=N` |
//! | simple search (legacy) | `POST /api/v2/usage/simplesearch`, `GET /api/v2/usage/simplesearch/{executionId}/results?pageSize=&after=` |
//! | organization jobs | `POST /api/v2/usage/aggregates/query/jobs`, `GET /api/v2/usage/aggregates/query/jobs/{jobId}?pageSize=&after=` |
//! | client jobs | `POST /api/v2/usage/client/{clientId}/aggregates/query/jobs`, `GET /api/v2/usage/client/{clientId}/aggregates/query/jobs/{jobId}?pageSize=&after=` |
//! | operational events | `GET /api/v2/usage/events/definitions`, `GET /api/v2/usage/events/definitions/{eventDefinitionId}`, `POST /api/v2/usage/events/query?pageSize=&after=&before=`, `POST /api/v2/usage/events/aggregates/query` |
//!
//! It behaves like the real API as far as the public sources describe it:
//!
//! - **Auth**: client credentials (`Authorization: Basic`, `grant_type=client_credentials`)
//!   for several seeded OAuth clients, one of them the demo client ([`DEMO_CLIENT_ID`],
//!   [`DEMO_CLIENT_SECRET`]); every `/api/v2` call needs `Authorization: Bearer <token>`,
//!   else 401 `authentication.required` (missing) or `bad.credentials` (unknown, expired).
//! - **Executions**: the two POSTs and the summary GET answer 202 with
//!   `{"executionId","resultsUri"}`; the results GETs answer `{"queryStatus":"Running"}` for
//!   [`StandInBuilder::execution_time`], then `Complete` with `results`, or `Failed`.
//! - **Data**: deterministic per [`StandInBuilder::seed`]: daily counts per (OAuth client,
//!   user, template URI, HTTP method) for [`StandInBuilder::history_days`] full UTC days
//!   before today. `interval`, `granularity`, `groupBy` and `metrics` are honoured;
//!   ungrouped dimensions are `""`, `date` is present only with a granularity (first day of
//!   the bucket; weeks start on Monday), `status429 ⊆ status400` and
//!   `requests = status200 + status300 + status400 + status500`.
//! - **Aggregates query jobs** (the service Genesys introduced on 2025-03-31): the POSTs answer 202
//!   with `{"id","resultsUri","selfUri"}`; the GET answers 202 `{"queryStatus":"Queued"}`,
//!   then 202 `Running` ([`StandInBuilder::job_times`]), then 200 `Succeeded` with one page of
//!   `entities` and, only when another page exists, a relative `nextUri`
//!   (`{path}?pageSize=N&after=CURSOR`). `pageSize` defaults to 100 and must be 1..=1000;
//!   cursors are 24 opaque hex digits tied to their job. A job forced to fail
//!   ([`RunningStandIn::next_jobs`], [`JobOutcome`]) answers **200** (not 202: it is
//!   finished) with `{"queryStatus":"Failed","errorBody":{..}}` (`internal.server.error`);
//!   a cancelled one 200 `{"queryStatus":"Cancelled"}`. The interval must start at most a
//!   calendar year before today and span at most 90 days (400 `invalid.date`); days count as in the
//!   legacy queries (a day whose first instant lies in `[start, end)`). Filters
//!   (`templateUris`, `httpMethods`, `platforms`, `userIds`, `oauthClientIds`,
//!   `organizationIds`) and `sortBy` (any row field, `Asc`/`Desc`; ties keep date-then-
//!   dimension order, so pages never overlap) are honoured. **Ungrouped dimensions are
//!   absent** (not `""` as in the legacy rows: `oauthClient`, `user` and `date` are objects
//!   and dates there, and `httpMethod` an enum); grouping by `OauthClientId` reports the
//!   client's `{id, name, selfUri}`, by `OauthClientName` only its `name`; `user` is absent
//!   for client-credentials traffic. No `groupBy` means per OAuth client (organization) or one
//!   row per date bucket (client). `date` is `yyyy-MM-dd`; `requestCount` replaces
//!   `requests`. `platform` is `"API"` or `"PureCloud"` per series (Genesys does not publish
//!   the values).
//! - **Built-in clients**: the jobs also count one seeded built-in Genesys client
//!   ([`BUILTIN_CLIENT_ID`], [`BUILTIN_CLIENT_NAME`], platform `"PureCloud"`) that the legacy
//!   query, summary and simple search leave out, so totals differ between the APIs as on
//!   the real service. It has no credentials and no client paths.
//! - **Simple search**: 202 `{"executionId","resultsUri"}`, then `{"queryStatus":"Running"}`
//!   and `Complete` with one page of legacy `results` (default 100, 1..=1000) and
//!   `cursors.after` only when another page exists. `metrics` are the columns: rows are per
//!   requested `Date`/`ClientName`/`TemplateUri`/`HttpMethod` (all four without `metrics`),
//!   columns not requested are absent, and there is no `requests` column. At most 20,000 rows.
//! - **Operational events**: seven seeded definitions, each named `Demo: …` and described as
//!   demo data, and their events over the last 90 full UTC days (Genesys does not say how
//!   long it keeps them), about the seeded OAuth clients where that makes sense, each a pure
//!   function of the seed, definition and day. The query honours `eventDefinitionIds`,
//!   `searchTerm` (case-insensitive, any string field) and `sortOrder` (default `DESC`, newest
//!   first), pages with `pageSize` (a string parameter: 1..=200, default 25, else 400
//!   `invalid.query.param.value`) and opaque `after`/`before` cursors tied to the query, with
//!   relative `nextUri`/`previousUri`. An interval that ends before the kept days is 400
//!   `usage.events.too.old`; an unknown definition id is 404 `entity.not.found`.
//! - **Validation**: 400 `invalid.date`, `invalid.value`, `bad.request`,
//!   `invalid.query.param.value`; 404 `not.found`.
//! - **Rate limiting**: a token bucket per access token; 429 `too.many.requests.retry.after`
//!   with `Retry-After`, and `inin-ratelimit-*` headers on every authenticated API response
//!   (see the model below).
//! - **Correlation**: an `ININ-Correlation-Id` on every response, equal to the error body's
//!   `contextId`.
//! - **Faults**: latency, a seeded share of 503s and of dropped connections, and faults
//!   forced on the next requests ([`RunningStandIn::inject`]).
//!
//! # The rate-limit model
//!
//! Each access token has a bucket of `requests` (default 300) that refills continuously at
//! `requests / window` (default 60 s, i.e. 5 per second). A fresh token can burst the whole
//! bucket, then sustain the refill rate: `rate_limit(3000, 60 s)` drives a steady 50
//! requests per second. Every request to `/api/v2/…` with a valid token takes one; the token
//! endpoint, unauthenticated requests and unknown paths are not limited. Headers, after the
//! request: `inin-ratelimit-allowed` = the limit, `inin-ratelimit-count` = requests in use
//! (limit minus room left, rounded up), `inin-ratelimit-reset` = whole seconds until the
//! bucket is full again. A 429's `Retry-After` is the whole number of seconds (at least 1)
//! until one request fits. Genesys does not document these semantics; the names and the
//! 300/min default come from its blog and forum.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use usage_sdk_stand_in::StandIn;
//!
//! let stand_in = StandIn::builder()
//!     .execution_time(Duration::from_millis(100))
//!     .start()
//!     .await?;
//! let base_url = stand_in.base_url(); // http://127.0.0.1:PORT
//! let demo = stand_in.demo_client(); // id + secret for POST {base_url}/oauth/token
//! # let _ = (base_url, demo);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod auth;
mod data;
mod events;
mod executions;
mod faults;
mod http;
mod jobs;
mod paged;
mod query;
mod rate_limit;
mod simple_search;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use chrono::NaiveDate;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use data::{
    BUILTIN_CLIENT_ID, BUILTIN_CLIENT_NAME, DEMO_CLIENT_ID, DEMO_CLIENT_NAME, DEMO_CLIENT_SECRET,
    OAuthClient,
};
pub use faults::{Fault, FaultSettings};
pub use paged::JobOutcome;
pub use query::ExecutionRequest;

/// Decides whether an execution fails (`queryStatus: "Failed"`).
pub type FailurePredicate = Arc<dyn Fn(&ExecutionRequest) -> bool + Send + Sync>;

/// Entry point: `StandIn::builder()`.
#[derive(Debug)]
#[non_exhaustive]
pub struct StandIn;

impl StandIn {
    /// A builder with the defaults listed on each knob.
    pub fn builder() -> StandInBuilder {
        StandInBuilder::default()
    }
}

/// Configures a stand-in; [`StandInBuilder::start`] runs it.
#[derive(Clone)]
pub struct StandInBuilder {
    seed: u64,
    port: u16,
    oauth_clients: usize,
    today: Option<NaiveDate>,
    history_days: u32,
    token_lifetime: Duration,
    execution_time: Duration,
    queued_for: Duration,
    job_times: (Duration, Duration),
    fail_every_execution: bool,
    fail_when: Option<FailurePredicate>,
    rate_limit: Option<(u32, Duration)>,
    faults: FaultSettings,
    unauthorized_client: bool,
}

impl Default for StandInBuilder {
    fn default() -> Self {
        Self {
            seed: 0x5EED_0F0A_11C0,
            port: 0,
            oauth_clients: 6,
            today: None,
            history_days: 730,
            token_lifetime: Duration::from_secs(86_399),
            execution_time: Duration::from_secs(2),
            queued_for: Duration::ZERO,
            job_times: (Duration::from_millis(500), Duration::from_secs(2)),
            fail_every_execution: false,
            fail_when: None,
            rate_limit: Some((300, Duration::from_secs(60))),
            faults: FaultSettings::default(),
            unauthorized_client: false,
        }
    }
}

impl fmt::Debug for StandInBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StandInBuilder")
            .field("seed", &self.seed)
            .field("port", &self.port)
            .field("oauth_clients", &self.oauth_clients)
            .field("today", &self.today)
            .field("history_days", &self.history_days)
            .field("token_lifetime", &self.token_lifetime)
            .field("execution_time", &self.execution_time)
            .field("queued_for", &self.queued_for)
            .field("job_times", &self.job_times)
            .field("fail_every_execution", &self.fail_every_execution)
            .field("fail_when", &self.fail_when.as_ref().map(|_| "<predicate>"))
            .field("rate_limit", &self.rate_limit)
            .field("faults", &self.faults)
            .field("unauthorized_client", &self.unauthorized_client)
            .finish()
    }
}

impl StandInBuilder {
    /// Seed of the data set, ids, tokens and fault draws. Default: a fixed constant, so two
    /// stand-ins started the same day serve the same data.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Port on 127.0.0.1. Default 0: a free port chosen by the OS.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Number of OAuth clients in the organization, the demo client included (clamped to
    /// 1..=8). Default 6.
    pub fn oauth_clients(mut self, count: usize) -> Self {
        self.oauth_clients = count;
        self
    }

    /// Pins "today" (UTC): data exists for the `history_days` days before it. Default: the
    /// current UTC date, read on each request.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// How many full days of data before today exist. Default 730.
    pub fn history_days(mut self, days: u32) -> Self {
        self.history_days = days;
        self
    }

    /// Lifetime of issued access tokens; `expires_in` is it in whole seconds, rounded up.
    /// Default 86 399 s, as observed on the real service.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// How long an execution reports `Running` before `Complete` or `Failed`. Zero completes
    /// at once. Default 2 s.
    pub fn execution_time(mut self, duration: Duration) -> Self {
        self.execution_time = duration;
        self
    }

    /// How long an execution first reports `queryStatus: "Queued"`, a value outside the
    /// spec's enum (clients must treat it as not finished). Default zero: never.
    pub fn queued_for(mut self, duration: Duration) -> Self {
        self.queued_for = duration;
        self
    }

    /// How long an aggregates query job reports `Queued`, then `Running` (both with 202),
    /// before its outcome ([`JobOutcome`]). Default 500 ms queued, 2 s running.
    pub fn job_times(mut self, queued: Duration, running: Duration) -> Self {
        self.job_times = (queued, running);
        self
    }

    /// Every execution (legacy queries, summaries and simple searches) ends `Failed`.
    /// Default false. Aggregates query jobs fail with [`RunningStandIn::next_jobs`].
    pub fn fail_every_execution(mut self, fail: bool) -> Self {
        self.fail_every_execution = fail;
        self
    }

    /// Executions for which `predicate` returns true end `Failed`. Default: none.
    pub fn fail_executions_when(
        mut self,
        predicate: impl Fn(&ExecutionRequest) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.fail_when = Some(Arc::new(predicate));
        self
    }

    /// Per-token limit: a bucket of `requests` refilled smoothly over `window` (see the
    /// [module docs](self#the-rate-limit-model)). Default 300 per 60 s, the Genesys default
    /// for client credentials.
    pub fn rate_limit(mut self, requests: u32, window: Duration) -> Self {
        self.rate_limit = Some((requests, window));
        self
    }

    /// No rate limiting (and no `inin-ratelimit-*` headers).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// Latency added to every response. Default zero.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.faults.latency = latency;
        self
    }

    /// Share (0.0–1.0, seeded draws) of API requests answered 503 `service.unavailable`.
    /// Default 0.
    pub fn unavailable_share(mut self, share: f64) -> Self {
        self.faults.unavailable_share = share;
        self
    }

    /// Share (0.0–1.0, seeded draws) of API requests whose connection is closed without an
    /// answer. Default 0.
    pub fn drop_share(mut self, share: f64) -> Self {
        self.faults.drop_share = share;
        self
    }

    /// Whether the fault shares and forced faults also hit `POST /oauth/token`. Default
    /// false (latency always applies).
    pub fn faults_on_token_endpoint(mut self, on: bool) -> Self {
        self.faults.on_token_endpoint = on;
        self
    }

    /// Refuse every token request with valid credentials with 400 `unauthorized_client`.
    /// Default false.
    pub fn unauthorized_client(mut self, refuse: bool) -> Self {
        self.unauthorized_client = refuse;
        self
    }

    /// Binds 127.0.0.1 and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<RunningStandIn, io::Error> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let data = data::Dataset::generate(self.seed, self.oauth_clients);
        let shared = Arc::new(http::Shared::new(self, data));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(http::serve(listener, shared.clone(), shutdown_rx));
        Ok(RunningStandIn {
            addr,
            shared,
            shutdown,
            task: Some(task),
        })
    }
}

/// The operations the stand-in serves, for the request counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST /oauth/token`
    Token,
    /// `POST /api/v2/usage/query`
    PostUsageQuery,
    /// `GET /api/v2/usage/query/{executionId}/results`
    GetUsageQueryResults,
    /// `POST /api/v2/oauth/clients/{clientId}/usage/query`
    PostClientUsageQuery,
    /// `GET /api/v2/oauth/clients/{clientId}/usage/query/results/{executionId}`
    GetClientUsageQueryResults,
    /// `GET /api/v2/oauth/clients/{clientId}/usage/summary`
    GetClientUsageSummary,
    /// `POST /api/v2/usage/aggregates/query/jobs`
    PostAggregatesQueryJobs,
    /// `GET /api/v2/usage/aggregates/query/jobs/{jobId}`
    GetAggregatesQueryJob,
    /// `POST /api/v2/usage/client/{clientId}/aggregates/query/jobs`
    PostClientAggregatesQueryJobs,
    /// `GET /api/v2/usage/client/{clientId}/aggregates/query/jobs/{jobId}`
    GetClientAggregatesQueryJob,
    /// `POST /api/v2/usage/simplesearch`
    PostSimpleSearch,
    /// `GET /api/v2/usage/simplesearch/{executionId}/results`
    GetSimpleSearchResults,
    /// `GET /api/v2/usage/events/definitions`
    GetEventDefinitions,
    /// `GET /api/v2/usage/events/definitions/{eventDefinitionId}`
    GetEventDefinition,
    /// `POST /api/v2/usage/events/query`
    PostEventsQuery,
    /// `POST /api/v2/usage/events/aggregates/query`
    PostEventsAggregatesQuery,
    /// Anything else (answered 404).
    Unknown,
}

impl Route {
    /// The fifteen operations of the Usage API it serves, in the spec's order.
    pub const API: [Route; 15] = [
        Route::PostUsageQuery,
        Route::GetUsageQueryResults,
        Route::PostClientUsageQuery,
        Route::GetClientUsageQueryResults,
        Route::GetClientUsageSummary,
        Route::PostSimpleSearch,
        Route::GetSimpleSearchResults,
        Route::PostAggregatesQueryJobs,
        Route::GetAggregatesQueryJob,
        Route::PostClientAggregatesQueryJobs,
        Route::GetClientAggregatesQueryJob,
        Route::GetEventDefinitions,
        Route::GetEventDefinition,
        Route::PostEventsQuery,
        Route::PostEventsAggregatesQuery,
    ];

    /// Method and path template, e.g. `POST /api/v2/usage/query`.
    pub fn template(self) -> &'static str {
        match self {
            Route::Token => "POST /oauth/token",
            Route::PostUsageQuery => "POST /api/v2/usage/query",
            Route::GetUsageQueryResults => "GET /api/v2/usage/query/{executionId}/results",
            Route::PostClientUsageQuery => "POST /api/v2/oauth/clients/{clientId}/usage/query",
            Route::GetClientUsageQueryResults => {
                "GET /api/v2/oauth/clients/{clientId}/usage/query/results/{executionId}"
            }
            Route::GetClientUsageSummary => "GET /api/v2/oauth/clients/{clientId}/usage/summary",
            Route::PostAggregatesQueryJobs => "POST /api/v2/usage/aggregates/query/jobs",
            Route::GetAggregatesQueryJob => "GET /api/v2/usage/aggregates/query/jobs/{jobId}",
            Route::PostClientAggregatesQueryJobs => {
                "POST /api/v2/usage/client/{clientId}/aggregates/query/jobs"
            }
            Route::GetClientAggregatesQueryJob => {
                "GET /api/v2/usage/client/{clientId}/aggregates/query/jobs/{jobId}"
            }
            Route::PostSimpleSearch => "POST /api/v2/usage/simplesearch",
            Route::GetSimpleSearchResults => "GET /api/v2/usage/simplesearch/{executionId}/results",
            Route::GetEventDefinitions => "GET /api/v2/usage/events/definitions",
            Route::GetEventDefinition => "GET /api/v2/usage/events/definitions/{eventDefinitionId}",
            Route::PostEventsQuery => "POST /api/v2/usage/events/query",
            Route::PostEventsAggregatesQuery => "POST /api/v2/usage/events/aggregates/query",
            Route::Unknown => "(unknown)",
        }
    }
}

/// Counters since start (or the last [`RunningStandIn::reset_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StandInStats {
    /// Requests received per route, faulted ones included.
    pub requests: BTreeMap<Route, u64>,
    /// Responses sent per HTTP status (dropped connections are not responses).
    pub responses: BTreeMap<u16, u64>,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Executions started (both POSTs, the summary and simple searches).
    pub executions_started: u64,
    /// Aggregates query jobs started (organization and client).
    pub jobs_started: u64,
    /// 429s sent (by the limiter or forced).
    pub rate_limited: u64,
    /// Connections closed without an answer (drop faults).
    pub dropped: u64,
    /// TCP connections accepted.
    pub connections: u64,
}

impl StandInStats {
    /// Requests received on `route`.
    pub fn requests_to(&self, route: Route) -> u64 {
        self.requests.get(&route).copied().unwrap_or(0)
    }

    /// Requests received on `POST /oauth/token`.
    pub fn token_requests(&self) -> u64 {
        self.requests_to(Route::Token)
    }

    /// Responses sent with `status`.
    pub fn responses_with(&self, status: u16) -> u64 {
        self.responses.get(&status).copied().unwrap_or(0)
    }

    /// All requests received.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
}

/// A running stand-in; dropping it stops the server and closes its connections.
pub struct RunningStandIn {
    addr: SocketAddr,
    shared: Arc<http::Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningStandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningStandIn")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningStandIn {
    /// `http://127.0.0.1:PORT`, the API base URL; the token endpoint is
    /// `{base_url}/oauth/token` (the SDK rule `//api.` → `//login.` leaves it unchanged).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The demo OAuth client ([`DEMO_CLIENT_ID`], [`DEMO_CLIENT_SECRET`]).
    pub fn demo_client(&self) -> &OAuthClient {
        &self.shared.data.clients[0]
    }

    /// Every OAuth client of the organization, the demo client first.
    pub fn oauth_clients(&self) -> &[OAuthClient] {
        &self.shared.data.clients
    }

    /// The organization id reported when grouping by `OrganizationId`.
    pub fn organization_id(&self) -> &str {
        &self.shared.data.organization_id
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StandInStats {
        self.shared.lock().stats.clone()
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.shared.lock().stats = StandInStats::default();
    }

    /// Forces `fault` on the next `count` API requests (queued after faults already forced).
    pub fn inject(&self, fault: Fault, count: usize) {
        self.shared.lock().faults.force(fault, count);
    }

    /// The current fault settings.
    pub fn fault_settings(&self) -> FaultSettings {
        self.shared.lock().faults.settings.clone()
    }

    /// Replaces the fault settings (latency, shares) for the requests that follow.
    pub fn set_fault_settings(&self, settings: FaultSettings) {
        self.shared.lock().faults.settings = settings;
    }

    /// Makes every later execution fail (or not).
    pub fn set_fail_every_execution(&self, fail: bool) {
        self.shared.lock().knobs.fail_every_execution = fail;
    }

    /// Forces `outcome` on the next `count` aggregates query jobs (queued after outcomes
    /// already forced); the jobs still go through `Queued` and `Running` first.
    pub fn next_jobs(&self, outcome: JobOutcome, count: usize) {
        self.shared.lock().paged.force(outcome, count);
    }

    /// Changes how long later aggregates query jobs report `Queued`, then `Running`.
    pub fn set_job_times(&self, queued: Duration, running: Duration) {
        self.shared.lock().knobs.job_times = paged::Timeline {
            queued_for: queued,
            running_for: running,
        };
    }

    /// The built-in Genesys OAuth clients: their traffic is in the aggregates query jobs
    /// only; they cannot get tokens.
    pub fn builtin_clients(&self) -> &[OAuthClient] {
        &self.shared.data.builtin_clients
    }

    /// Changes how long later executions report `Running`.
    pub fn set_execution_time(&self, duration: Duration) {
        self.shared.lock().knobs.execution_time = duration;
    }

    /// Expires every access token issued so far: their next use answers 401
    /// `bad.credentials`.
    pub fn expire_tokens(&self) {
        self.shared
            .lock()
            .tokens
            .expire_all(tokio::time::Instant::now());
    }

    /// Stops the server and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningStandIn {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Recovers the guard of a poisoned lock: the state stays usable after a panicking test.
fn recover<T>(result: Result<T, PoisonError<T>>) -> T {
    result.unwrap_or_else(PoisonError::into_inner)
}

#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<RunningStandIn>();
    is::<StandInBuilder>();
}

/// The README's examples, compiled as doctests so they cannot rot. Here rather than in
/// usage-sdk: this crate sees both, and its example tests a client against the stand-in.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
