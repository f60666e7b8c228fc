//! The HTTP side: accept loop, routing, auth and rate-limit checks, and response rendering.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{Duration as Days, NaiveDate, NaiveTime, Utc};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;
use usage_sdk::ErrorBody;
use usage_sdk::raw::types::Limit;

use super::auth::{self, Refusal, TokenStore};
use super::data::{Dataset, SplitMix64};
use super::events::Events;
use super::executions::{Executions, Scope, Timeline};
use super::faults::{Fault, Faults};
use super::paged::{self, JobOutcome, Outcome, Owner, Store};
use super::query::{self, DataWindow, ExecutionRequest, Query};
use super::rate_limit::{RateLimiter, Verdict};
use super::{FailurePredicate, Route, StandInBuilder, StandInStats};
use super::{jobs, simple_search};

/// Largest request body accepted (the real limit is not published).
const MAX_BODY: usize = 1 << 20;

/// Knobs that can change while the stand-in runs.
#[derive(Clone, Debug)]
pub(crate) struct Knobs {
    pub(crate) execution_time: Duration,
    pub(crate) queued_for: Duration,
    pub(crate) fail_every_execution: bool,
    pub(crate) unauthorized_client: bool,
    /// How long aggregates query jobs report `Queued`, then `Running`.
    pub(crate) job_times: paged::Timeline,
}

/// Mutable state, behind one lock held only for short, non-async sections.
pub(crate) struct State {
    pub(crate) tokens: TokenStore,
    executions: Executions,
    /// Aggregates query jobs and simple search executions.
    pub(crate) paged: Store,
    limiter: Option<RateLimiter>,
    pub(crate) faults: Faults,
    pub(crate) knobs: Knobs,
    pub(crate) stats: StandInStats,
    ids: SplitMix64,
}

/// Everything the connections share.
pub(crate) struct Shared {
    pub(crate) data: Dataset,
    events: Events,
    today: Option<NaiveDate>,
    history_days: u32,
    token_lifetime: Duration,
    fail_when: Option<FailurePredicate>,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(builder: StandInBuilder, data: Dataset) -> Self {
        let seed = builder.seed;
        Self {
            events: Events::generate(seed, &data),
            data,
            today: builder.today,
            history_days: builder.history_days,
            token_lifetime: builder.token_lifetime,
            fail_when: builder.fail_when,
            state: Mutex::new(State {
                tokens: TokenStore::new(seed),
                executions: Executions::new(seed),
                paged: Store::new(seed),
                limiter: builder
                    .rate_limit
                    .map(|(requests, window)| RateLimiter::new(requests, window)),
                faults: Faults::new(builder.faults, seed),
                knobs: Knobs {
                    execution_time: builder.execution_time,
                    queued_for: builder.queued_for,
                    fail_every_execution: builder.fail_every_execution,
                    unauthorized_client: builder.unauthorized_client,
                    job_times: paged::Timeline {
                        queued_for: builder.job_times.0,
                        running_for: builder.job_times.1,
                    },
                },
                stats: StandInStats::default(),
                ids: SplitMix64::new(seed ^ 0xC0AA_0000_0000_0005),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        super::recover(self.state.lock())
    }

    fn window(&self) -> DataWindow {
        DataWindow {
            today: self.today.unwrap_or_else(|| Utc::now().date_naive()),
            history_days: self.history_days,
        }
    }
}

/// Accepts connections until `shutdown` changes or its sender is dropped.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        // Without it, small responses wait for the peer's delayed ACK (Nagle): ~40 ms each.
        let _ = stream.set_nodelay(true);
        shared.lock().stats.connections += 1;
        let shared = shared.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(shared.clone(), request));
            let connection = http1::Builder::new()
                .title_case_headers(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// A response before the correlation id and common headers are added.
struct Reply {
    status: u16,
    body: ReplyBody,
    headers: Vec<(&'static str, String)>,
}

enum ReplyBody {
    Json(Value),
    /// The `contextId` is filled in when rendering.
    Error(Box<ErrorBody>),
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: ReplyBody::Json(body),
            headers: Vec::new(),
        }
    }

    fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ReplyBody::Error(Box::new(ErrorBody {
                message: Some(message.into()),
                code: Some(code.to_string()),
                status: Some(i32::from(status)),
                ..ErrorBody::default()
            })),
            headers: Vec::new(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::error(404, "not.found", message)
    }

    fn rate_limited(retry_after_secs: u64, limit: u64) -> Self {
        let mut reply = Self::error(
            429,
            "too.many.requests.retry.after",
            format!(
                "Rate limit exceeded the maximum. Retry the request in [{retry_after_secs}] seconds"
            ),
        );
        if let ReplyBody::Error(body) = &mut reply.body {
            body.message_with_params =
                Some("Rate limit exceeded the maximum. Retry the request in [{0}] seconds".into());
            body.message_params
                .insert("0".into(), Value::String(retry_after_secs.to_string()));
            body.limit = Some(Limit {
                key: Some("client.credentials.token.rate.per.minute".into()),
                namespace: "platform.api".parse().ok(),
                value: i64::try_from(limit).ok(),
            });
        }
        reply
            .headers
            .push((RETRY_AFTER.as_str(), retry_after_secs.to_string()));
        reply
    }

    fn with_rate_headers(mut self, verdict: &Verdict) -> Self {
        self.headers
            .push(("inin-ratelimit-count", verdict.count.to_string()));
        self.headers
            .push(("inin-ratelimit-allowed", verdict.limit.to_string()));
        self.headers
            .push(("inin-ratelimit-reset", verdict.reset_secs.to_string()));
        self
    }

    fn render(self, correlation_id: &str) -> Response<Full<Bytes>> {
        let body = match self.body {
            ReplyBody::Json(value) => value,
            ReplyBody::Error(mut error) => {
                error.context_id = Some(correlation_id.to_string());
                serde_json::to_value(&error).unwrap_or(Value::Null)
            }
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from(bytes)));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(value) = HeaderValue::from_str(correlation_id) {
            headers.insert("inin-correlation-id", value);
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (route, params) = route(request.method(), request.uri().path());
    let (correlation_id, fault, latency) = {
        let mut state = shared.lock();
        *state.stats.requests.entry(route).or_default() += 1;
        let id = state.ids.uuid();
        let fault = if route != Route::Token || state.faults.settings.on_token_endpoint {
            state.faults.draw()
        } else {
            None
        };
        (id, fault, state.faults.settings.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let reply = match fault {
        Some(Fault::Drop) => {
            shared.lock().stats.dropped += 1;
            return Err(Dropped);
        }
        Some(Fault::Unavailable) => Reply::error(
            503,
            "service.unavailable",
            "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).",
        ),
        Some(Fault::InternalError) => Reply::error(
            500,
            "internal.server.error",
            "The server encountered an unexpected condition which prevented it from fulfilling the request.",
        ),
        Some(Fault::RateLimited) => {
            let limit = shared
                .lock()
                .limiter
                .as_ref()
                .map_or(300, RateLimiter::limit);
            Reply::rate_limited(1, limit).with_rate_headers(&Verdict {
                allowed: false,
                count: limit,
                limit,
                reset_secs: 1,
                retry_after_secs: 1,
            })
        }
        None => dispatch(&shared, route, params, request).await?,
    };
    {
        let mut state = shared.lock();
        *state.stats.responses.entry(reply.status).or_default() += 1;
        if reply.status == 429 {
            state.stats.rate_limited += 1;
        }
    }
    Ok(reply.render(&correlation_id))
}

/// Path parameters, percent-decoded.
#[derive(Debug, Default)]
struct Params {
    client_id: String,
    execution_id: String,
}

fn route(method: &Method, path: &str) -> (Route, Params) {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(auth::percent_decode_path)
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut params = Params::default();
    let route = match (method, s.as_slice()) {
        (&Method::POST, ["oauth", "token"]) => Route::Token,
        (&Method::POST, ["api", "v2", "usage", "query"]) => Route::PostUsageQuery,
        (&Method::GET, ["api", "v2", "usage", "query", id, "results"]) if !id.is_empty() => {
            params.execution_id = (*id).to_string();
            Route::GetUsageQueryResults
        }
        (&Method::POST, ["api", "v2", "oauth", "clients", client, "usage", "query"])
            if !client.is_empty() =>
        {
            params.client_id = (*client).to_string();
            Route::PostClientUsageQuery
        }
        (
            &Method::GET,
            [
                "api",
                "v2",
                "oauth",
                "clients",
                client,
                "usage",
                "query",
                "results",
                id,
            ],
        ) if !client.is_empty() && !id.is_empty() => {
            params.client_id = (*client).to_string();
            params.execution_id = (*id).to_string();
            Route::GetClientUsageQueryResults
        }
        (&Method::GET, ["api", "v2", "oauth", "clients", client, "usage", "summary"])
            if !client.is_empty() =>
        {
            params.client_id = (*client).to_string();
            Route::GetClientUsageSummary
        }
        (&Method::POST, ["api", "v2", "usage", "aggregates", "query", "jobs"]) => {
            Route::PostAggregatesQueryJobs
        }
        (&Method::GET, ["api", "v2", "usage", "aggregates", "query", "jobs", id])
            if !id.is_empty() =>
        {
            params.execution_id = (*id).to_string();
            Route::GetAggregatesQueryJob
        }
        (
            &Method::POST,
            [
                "api",
                "v2",
                "usage",
                "client",
                client,
                "aggregates",
                "query",
                "jobs",
            ],
        ) if !client.is_empty() => {
            params.client_id = (*client).to_string();
            Route::PostClientAggregatesQueryJobs
        }
        (
            &Method::GET,
            [
                "api",
                "v2",
                "usage",
                "client",
                client,
                "aggregates",
                "query",
                "jobs",
                id,
            ],
        ) if !client.is_empty() && !id.is_empty() => {
            params.client_id = (*client).to_string();
            params.execution_id = (*id).to_string();
            Route::GetClientAggregatesQueryJob
        }
        (&Method::POST, ["api", "v2", "usage", "simplesearch"]) => Route::PostSimpleSearch,
        (&Method::GET, ["api", "v2", "usage", "simplesearch", id, "results"]) if !id.is_empty() => {
            params.execution_id = (*id).to_string();
            Route::GetSimpleSearchResults
        }
        (&Method::GET, ["api", "v2", "usage", "events", "definitions"]) => {
            Route::GetEventDefinitions
        }
        (&Method::GET, ["api", "v2", "usage", "events", "definitions", id]) if !id.is_empty() => {
            params.execution_id = (*id).to_string();
            Route::GetEventDefinition
        }
        (&Method::POST, ["api", "v2", "usage", "events", "query"]) => Route::PostEventsQuery,
        (&Method::POST, ["api", "v2", "usage", "events", "aggregates", "query"]) => {
            Route::PostEventsAggregatesQuery
        }
        _ => Route::Unknown,
    };
    (route, params)
}

async fn dispatch(
    shared: &Shared,
    route: Route,
    params: Params,
    request: Request<Incoming>,
) -> Result<Reply, Dropped> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query_string = request.uri().query().unwrap_or("").to_string();
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header(AUTHORIZATION);
    let content_type = header(CONTENT_TYPE);
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            if error.is::<http_body_util::LengthLimitError>() {
                return Ok(Reply::error(
                    413,
                    "request.entity.too.large",
                    format!("The request is over the size limit. Maximum bytes: {MAX_BODY}"),
                ));
            }
            // The client went away mid-body.
            return Err(Dropped);
        }
    };

    match route {
        Route::Token => return Ok(token(shared, authorization.as_deref(), &body)),
        Route::Unknown => {
            return Ok(Reply::not_found(format!(
                "The requested resource was not found: {method} {path}"
            )));
        }
        _ => {}
    }

    let now = Instant::now();
    let verdict = {
        let mut state = shared.lock();
        match state.tokens.check(authorization.as_deref(), now) {
            Ok(_client) => {}
            Err(Refusal::Missing) => {
                return Ok(Reply::error(
                    401,
                    "authentication.required",
                    "No authentication bearer token specified in authorization header.",
                ));
            }
            Err(Refusal::Invalid) => {
                return Ok(Reply::error(
                    401,
                    "bad.credentials",
                    "Invalid login credentials.",
                ));
            }
        }
        let token = authorization.as_deref().unwrap_or_default().trim();
        state
            .limiter
            .as_mut()
            .map(|limiter| limiter.check(token, now))
    };
    if let Some(verdict) = &verdict
        && !verdict.allowed
    {
        return Ok(
            Reply::rate_limited(verdict.retry_after_secs, verdict.limit).with_rate_headers(verdict)
        );
    }

    let is_json = content_type
        .as_deref()
        .is_none_or(|ct| ct.to_ascii_lowercase().contains("json"));
    let reply = match route {
        Route::PostUsageQuery
        | Route::PostClientUsageQuery
        | Route::PostAggregatesQueryJobs
        | Route::PostClientAggregatesQueryJobs
        | Route::PostSimpleSearch
        | Route::PostEventsQuery
        | Route::PostEventsAggregatesQuery
            if !is_json =>
        {
            Reply::error(
                415,
                "unsupported.media.type",
                "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect Content-Type value in the header.",
            )
        }
        Route::PostAggregatesQueryJobs => submit_job(shared, Owner::OrganizationJob, None, &body),
        Route::PostClientAggregatesQueryJobs => match client_index(shared, &params.client_id) {
            Err(reply) => reply,
            Ok(index) => submit_job(
                shared,
                Owner::ClientJob(params.client_id.clone()),
                Some(index),
                &body,
            ),
        },
        Route::GetAggregatesQueryJob => job_results(
            shared,
            &params.execution_id,
            &Owner::OrganizationJob,
            &query_string,
            now,
        ),
        Route::GetClientAggregatesQueryJob => match client_index(shared, &params.client_id) {
            Err(reply) => reply,
            Ok(_) => job_results(
                shared,
                &params.execution_id,
                &Owner::ClientJob(params.client_id.clone()),
                &query_string,
                now,
            ),
        },
        Route::PostSimpleSearch => submit_simple_search(shared, &body),
        Route::GetSimpleSearchResults => {
            simple_search_results(shared, &params.execution_id, &query_string, now)
        }
        Route::PostUsageQuery => match query::parse_body(&body, false) {
            Ok((query, request)) => submit(shared, Scope::Organization, None, &query, request),
            Err(e) => Reply::error(400, e.code, e.message),
        },
        Route::PostClientUsageQuery => match client_index(shared, &params.client_id) {
            Err(reply) => reply,
            Ok(index) => match query::parse_body(&body, true) {
                Ok((query, mut request)) => {
                    request.client_id = Some(params.client_id.clone());
                    submit(
                        shared,
                        Scope::Client(params.client_id),
                        Some(index),
                        &query,
                        request,
                    )
                }
                Err(e) => Reply::error(400, e.code, e.message),
            },
        },
        Route::GetClientUsageSummary => match client_index(shared, &params.client_id) {
            Err(reply) => reply,
            Ok(index) => summary(shared, params.client_id, index, &query_string),
        },
        Route::GetUsageQueryResults => {
            results(shared, &params.execution_id, &Scope::Organization, now)
        }
        Route::GetClientUsageQueryResults => match client_index(shared, &params.client_id) {
            Err(reply) => reply,
            Ok(_) => results(
                shared,
                &params.execution_id,
                &Scope::Client(params.client_id.clone()),
                now,
            ),
        },
        Route::GetEventDefinitions => Reply::json(200, shared.events.listing()),
        Route::GetEventDefinition => match shared.events.definition(&params.execution_id) {
            Some(definition) => Reply::json(200, definition),
            None => Reply::error(
                404,
                "entity.not.found",
                format!("Event definition {} was not found.", params.execution_id),
            ),
        },
        Route::PostEventsQuery => {
            match shared.events.query(&body, &query_string, shared.window()) {
                Ok(page) => Reply::json(200, page),
                Err(e) => Reply::error(400, e.code, e.message),
            }
        }
        Route::PostEventsAggregatesQuery => match shared.events.counts(&body, shared.window()) {
            Ok(counts) => Reply::json(200, counts),
            Err(e) => Reply::error(400, e.code, e.message),
        },
        Route::Token | Route::Unknown => unreachable!("handled above"),
    };
    Ok(match &verdict {
        Some(verdict) => reply.with_rate_headers(verdict),
        None => reply,
    })
}

fn token(shared: &Shared, authorization: Option<&str>, form: &[u8]) -> Reply {
    let client = match auth::authenticate(&shared.data.clients, authorization, form) {
        Ok(client) => client,
        Err(error) => {
            let mut reply = Reply::json(error.status, error.body());
            if error.status == 401 {
                reply
                    .headers
                    .push(("www-authenticate", "Basic realm=\"oauth\"".into()));
            }
            return reply;
        }
    };
    let mut state = shared.lock();
    if state.knobs.unauthorized_client {
        let error = auth::UNAUTHORIZED_CLIENT;
        return Reply::json(error.status, error.body());
    }
    let access_token = state
        .tokens
        .issue(&client.id, shared.token_lifetime, Instant::now());
    state.stats.tokens_issued += 1;
    let lifetime = shared.token_lifetime;
    let expires_in = lifetime.as_secs() + u64::from(lifetime.subsec_nanos() > 0);
    let mut reply = Reply::json(
        200,
        json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": expires_in,
        }),
    );
    reply.headers.push(("cache-control", "no-store".into()));
    reply
}

fn client_index(shared: &Shared, client_id: &str) -> Result<usize, Reply> {
    shared
        .data
        .clients
        .iter()
        .position(|c| c.id == client_id)
        .ok_or_else(|| Reply::not_found(format!("OAuth client {client_id} was not found.")))
}

fn summary(shared: &Shared, client_id: String, index: usize, query_string: &str) -> Reply {
    let days = auth::parse_form(query_string.as_bytes())
        .into_iter()
        .find(|(k, _)| k == "days")
        .map(|(_, v)| v)
        .unwrap_or_else(|| "7".to_string());
    let days = match days.trim().parse::<u32>() {
        Ok(n) if (1..=36_500).contains(&n) => n,
        _ => {
            return Reply::error(
                400,
                "invalid.value",
                format!("Invalid value '{days}' for days: expected a positive number of days."),
            );
        }
    };
    // The last `days` full UTC days: the current day is not aggregated yet.
    let today = shared.window().today;
    let start = (today - Days::days(i64::from(days)))
        .and_time(NaiveTime::MIN)
        .and_utc();
    let end = today.and_time(NaiveTime::MIN).and_utc();
    let query = Query {
        start,
        end,
        granularity: None,
        group_by: Vec::new(),
        metrics: Vec::new(),
    };
    let request = ExecutionRequest {
        client_id: Some(client_id.clone()),
        interval: format!(
            "{}/{}",
            start.format("%Y-%m-%dT%H:%M:%SZ"),
            end.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        summary_days: Some(days),
        ..ExecutionRequest::default()
    };
    submit(
        shared,
        Scope::Client(client_id),
        Some(index),
        &query,
        request,
    )
}

fn submit(
    shared: &Shared,
    scope: Scope,
    client: Option<usize>,
    query: &Query,
    request: ExecutionRequest,
) -> Reply {
    let (fail_every, timeline) = {
        let state = shared.lock();
        (
            state.knobs.fail_every_execution,
            Timeline {
                queued_for: state.knobs.queued_for,
                running_for: state.knobs.execution_time,
            },
        )
    };
    let fail = fail_every || shared.fail_when.as_ref().is_some_and(|f| f(&request));
    // Computed outside the lock: a long interval over all clients takes a moment.
    let rows = (!fail).then(|| query::run(&shared.data, query, client, shared.window()));
    let mut state = shared.lock();
    let execution_id = state
        .executions
        .submit(scope.clone(), rows, timeline, Instant::now());
    state.stats.executions_started += 1;
    Reply::json(
        202,
        json!({
            "executionId": execution_id,
            "resultsUri": scope.results_uri(&execution_id),
        }),
    )
}

fn results(shared: &Shared, execution_id: &str, scope: &Scope, now: Instant) -> Reply {
    match shared.lock().executions.result(execution_id, scope, now) {
        Some(body) => Reply::json(200, body),
        None => Reply::not_found(format!("Query execution {execution_id} was not found.")),
    }
}

fn submit_job(shared: &Shared, owner: Owner, client: Option<usize>, body: &[u8]) -> Reply {
    let window = shared.window();
    let job = match jobs::parse(body, client.is_some(), window.today) {
        Ok(job) => job,
        Err(e) => return Reply::error(400, e.code, e.message),
    };
    let (forced, timeline) = {
        let mut state = shared.lock();
        (state.paged.next_forced(), state.knobs.job_times)
    };
    let outcome = match forced.unwrap_or(JobOutcome::Succeeded) {
        JobOutcome::Failed => Outcome::Failed,
        JobOutcome::Cancelled => Outcome::Cancelled,
        // Computed outside the lock, like the legacy executions.
        JobOutcome::Succeeded => Outcome::Rows(jobs::run(&shared.data, &job, client, window)),
    };
    let mut state = shared.lock();
    let id = state
        .paged
        .submit(owner.clone(), outcome, timeline, Instant::now());
    state.stats.jobs_started += 1;
    let uri = owner.results_path(&id);
    Reply::json(202, json!({ "id": id, "resultsUri": uri, "selfUri": uri }))
}

fn job_results(
    shared: &Shared,
    id: &str,
    owner: &Owner,
    query_string: &str,
    now: Instant,
) -> Reply {
    let paging = match paged::paging(query_string) {
        Ok(paging) => paging,
        Err(e) => return Reply::error(400, e.code, e.message),
    };
    match shared.lock().paged.job(id, owner, &paging, now) {
        None => Reply::not_found(format!("Usage query job {id} was not found.")),
        Some(Ok((status, body))) => Reply::json(status, body),
        Some(Err(e)) => Reply::error(400, e.code, e.message),
    }
}

fn submit_simple_search(shared: &Shared, body: &[u8]) -> Reply {
    let search = match simple_search::parse(body) {
        Ok(search) => search,
        Err(e) => return Reply::error(400, e.code, e.message),
    };
    let (fail, timeline) = {
        let state = shared.lock();
        (
            state.knobs.fail_every_execution,
            paged::Timeline {
                queued_for: state.knobs.queued_for,
                running_for: state.knobs.execution_time,
            },
        )
    };
    let outcome = if fail {
        Outcome::Failed
    } else {
        Outcome::Rows(simple_search::run(&shared.data, &search, shared.window()))
    };
    let mut state = shared.lock();
    let id = state
        .paged
        .submit(Owner::SimpleSearch, outcome, timeline, Instant::now());
    state.stats.executions_started += 1;
    Reply::json(
        202,
        json!({
            "executionId": id,
            "resultsUri": Owner::SimpleSearch.results_path(&id),
        }),
    )
}

fn simple_search_results(shared: &Shared, id: &str, query_string: &str, now: Instant) -> Reply {
    let paging = match paged::paging(query_string) {
        Ok(paging) => paging,
        Err(e) => return Reply::error(400, e.code, e.message),
    };
    match shared.lock().paged.simple_search(id, &paging, now) {
        None => Reply::not_found(format!("Simple search execution {id} was not found.")),
        Some(Ok((status, body))) => Reply::json(status, body),
        Some(Err(e)) => Reply::error(400, e.code, e.message),
    }
}
