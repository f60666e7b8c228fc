//! The one error type of the crate.
//!
//! Every variant says what happened and what to do about it, carries the server's
//! correlation id when there was one, and never contains a secret: the client secret and
//! access tokens are not part of any error, and bodies from the token endpoint are never
//! quoted.

use std::fmt;
use std::time::Duration;

use crate::model::ids::{ExecutionId, JobId};
pub use crate::model::input::InvalidInput;
use crate::model::open_enum::{JobQueryStatus, QueryStatus};
use crate::model::types::ErrorBody;

/// Anything that can go wrong in a call to the Usage API.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status (4xx/5xx, or 3xx, which this API never sends).
    Api(Box<ApiError>),
    /// An access token could not be obtained.
    Auth(AuthError),
    /// A usage query execution ended with `queryStatus: Failed`. Genesys gives no reason;
    /// submitting the query again is the only remedy.
    QueryFailed {
        /// The execution that failed.
        execution_id: ExecutionId,
    },
    /// A waiter's deadline passed before the execution completed. The execution may still
    /// complete: pass `execution_id` to a `resume_*` call to pick it up later.
    DeadlineExceeded {
        /// The execution still being computed.
        execution_id: ExecutionId,
        /// How long the waiter waited.
        waited: Duration,
        /// The last status the server reported.
        last_status: Option<QueryStatus>,
    },
    /// An aggregates query job ended with `queryStatus: Failed`.
    JobFailed {
        /// The job that failed.
        job_id: JobId,
        /// The job's `errorBody`, when the server included one (it "may not be included even
        /// if the state is FAILURE").
        error_body: Option<Box<ErrorBody>>,
    },
    /// An aggregates query job ended with `queryStatus: Cancelled`.
    JobCancelled {
        /// The job that was cancelled.
        job_id: JobId,
    },
    /// A job waiter's deadline passed before the job succeeded. The job may still succeed:
    /// wait for it again by its id (e.g. [`crate::OrganizationJob::new`]).
    JobDeadlineExceeded {
        /// The job still being computed.
        job_id: JobId,
        /// How long the waiter waited.
        waited: Duration,
        /// The last status the server reported.
        last_status: Option<JobQueryStatus>,
    },
    /// The caller's input was rejected before any request was sent.
    InvalidInput(InvalidInput),
    /// The request could not be sent or the response could not be read (connection refused
    /// or reset, timeout, TLS). Retries, if enabled, were exhausted first.
    Transport {
        /// The operation being called.
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying error.
        source: TransportError,
    },
    /// The server answered, but the body is not what the API defines.
    Decode(Box<DecodeError>),
    /// A row stream reached a limit its reader set ([`crate::Rows::max_pages`],
    /// [`crate::Rows::max_rows`]) before the result ended.
    PagingLimitExceeded {
        /// The paged operation.
        operation: &'static str,
        /// The limit that was reached.
        limit: PagingLimit,
    },
    /// An operational events query (`postUsageEventsQuery`, `postUsageEventsAggregatesQuery`)
    /// asked for an interval further back than Genesys keeps events: HTTP 400 with code
    /// `usage.events.too.old`. The answer is the same however often it is asked: query a more
    /// recent interval. The API error is kept whole.
    EventsTooOld(Box<ApiError>),
    /// The response body was larger than [`crate::ConfigBuilder::max_response_size`]; it was
    /// not read further. Not retried.
    ResponseTooLarge {
        /// The operation called (`oauth_token` for the token request).
        operation: &'static str,
        /// The HTTP status of the response.
        status: u16,
        /// The limit in force, in bytes.
        limit: u64,
        /// The `Content-Length` the server announced, when that alone was over the limit.
        content_length: Option<u64>,
    },
}

/// Which limit of a row stream was reached ([`Error::PagingLimitExceeded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingLimit {
    /// Pages fetched, the first included ([`crate::Rows::max_pages`]).
    Pages(u32),
    /// Rows handed out ([`crate::Rows::max_rows`]).
    Rows(u64),
}

impl Error {
    /// The HTTP status of an API error, if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) | Error::EventsTooOld(api) => Some(api.status),
            Error::Auth(AuthError::Rejected { status, .. }) => Some(*status),
            Error::Decode(decode) => Some(decode.status),
            Error::ResponseTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `ININ-Correlation-Id` of the response behind this error, for Genesys support.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) | Error::EventsTooOld(api) => api.correlation_id.as_deref(),
            Error::Decode(decode) => decode.correlation_id.as_deref(),
            _ => None,
        }
    }

    /// The execution id this error concerns, if any.
    pub fn execution_id(&self) -> Option<&ExecutionId> {
        match self {
            Error::QueryFailed { execution_id } | Error::DeadlineExceeded { execution_id, .. } => {
                Some(execution_id)
            }
            _ => None,
        }
    }

    /// The aggregates query job id this error concerns, if any.
    pub fn job_id(&self) -> Option<&JobId> {
        match self {
            Error::JobFailed { job_id, .. }
            | Error::JobCancelled { job_id }
            | Error::JobDeadlineExceeded { job_id, .. } => Some(job_id),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput::new(field, problem))
    }

    /// A 200 response of `operation` that parsed but cannot be used (an id missing, a cursor
    /// that leads nowhere): a decode error saying `what`.
    pub(crate) fn unusable_response(operation: &'static str, what: String) -> Self {
        Error::Decode(Box::new(DecodeError {
            operation,
            status: 200,
            correlation_id: None,
            snippet: String::new(),
            source: None,
            problem: Some(what),
        }))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(api) => api.fmt(f),
            Error::EventsTooOld(api) => write!(
                f,
                "the interval reaches further back than Genesys keeps operational events; \
                 query a more recent interval ({api})"
            ),
            Error::Auth(auth) => auth.fmt(f),
            Error::QueryFailed { execution_id } => write!(
                f,
                "usage query execution {execution_id} failed on the server (queryStatus Failed); submit the query again"
            ),
            Error::DeadlineExceeded {
                execution_id,
                waited,
                last_status,
            } => {
                write!(
                    f,
                    "usage query execution {execution_id} did not complete within {:.1} s",
                    waited.as_secs_f64()
                )?;
                if let Some(status) = last_status {
                    write!(f, " (last status {status})")?;
                }
                write!(
                    f,
                    "; resume it later with its execution id or raise the deadline"
                )
            }
            Error::JobFailed { job_id, error_body } => {
                write!(f, "aggregates query job {job_id} failed on the server")?;
                match error_body.as_deref() {
                    Some(body) => {
                        if let Some(code) = &body.code {
                            write!(f, ": {code}")?;
                        }
                        if let Some(message) = &body.message {
                            write!(f, ": {message}")?;
                        }
                        Ok(())
                    }
                    None => write!(f, " (no errorBody given); submit the job again"),
                }
            }
            Error::JobCancelled { job_id } => {
                write!(
                    f,
                    "aggregates query job {job_id} was cancelled; submit it again"
                )
            }
            Error::JobDeadlineExceeded {
                job_id,
                waited,
                last_status,
            } => {
                write!(
                    f,
                    "aggregates query job {job_id} did not succeed within {:.1} s",
                    waited.as_secs_f64()
                )?;
                if let Some(status) = last_status {
                    write!(f, " (last status {status})")?;
                }
                write!(f, "; wait for it again by its job id or raise the deadline")
            }
            Error::InvalidInput(invalid) => invalid.fmt(f),
            Error::Transport {
                operation,
                attempts,
                source,
            } => {
                let what = if source.is_certificate() {
                    "could not connect securely"
                } else if source.is_timeout() {
                    "timed out"
                } else if source.is_connect() {
                    "could not connect"
                } else {
                    "failed in transport"
                };
                write!(
                    f,
                    "{operation} {what} after {attempts} attempt(s): {source}"
                )
            }
            Error::Decode(decode) => decode.fmt(f),
            Error::PagingLimitExceeded { operation, limit } => match limit {
                PagingLimit::Pages(pages) => write!(
                    f,
                    "{operation}: the result has more than {pages} page(s), the limit set for \
                     reading it; narrow the query or raise the page limit"
                ),
                PagingLimit::Rows(rows) => write!(
                    f,
                    "{operation}: the result has more than {rows} row(s), the limit set for \
                     reading it; narrow the query or raise the row limit"
                ),
            },
            Error::ResponseTooLarge {
                operation,
                status,
                limit,
                content_length,
            } => {
                write!(f, "{operation} returned HTTP {status} with a body ")?;
                match content_length {
                    Some(length) => write!(f, "of {length} bytes")?,
                    None => write!(f, "of more than {limit} bytes")?,
                }
                write!(
                    f,
                    ", over the {limit}-byte limit; raise ConfigBuilder::max_response_size if such a response is expected"
                )
            }
        }
    }
}

impl From<InvalidInput> for Error {
    fn from(invalid: InvalidInput) -> Self {
        Error::InvalidInput(invalid)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::Decode(decode) => decode.source.as_ref().map(|e| e as _),
            Error::Auth(AuthError::Transport { source, .. }) => Some(source),
            _ => None,
        }
    }
}

/// Why a request could not be sent or its response read: connection refused or reset,
/// timeout, TLS. The HTTP library's own error is its [`source`](std::error::Error::source),
/// not part of this crate's API, so it can change without a breaking release.
#[derive(Debug)]
pub struct TransportError(reqwest::Error);

impl TransportError {
    /// Wraps `error` without its URL (which names the host and path, not secrets, but is
    /// already in the operation).
    pub(crate) fn new(error: reqwest::Error) -> Self {
        Self(error.without_url())
    }

    /// Whether a timeout (connect or request) ended it.
    pub fn is_timeout(&self) -> bool {
        self.0.is_timeout()
    }

    /// Whether the connection could not be made.
    pub fn is_connect(&self) -> bool {
        self.0.is_connect()
    }

    /// Whether the client refused the server's TLS certificate (unknown issuer, name
    /// mismatch, expired, not yet valid, or otherwise invalid). Such a failure is permanent:
    /// it is never retried. The message names the cause and how to trust a CA.
    pub fn is_certificate(&self) -> bool {
        crate::model::certificate::refused(&self.0).is_some()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // reqwest's own words ("error sending request") would hide the cause.
        match crate::model::certificate::refused(&self.0) {
            Some(problem) => write!(
                f,
                "the server's TLS certificate was refused: {}; {}",
                crate::model::certificate::describe(problem),
                crate::model::certificate::HOW_TO_TRUST_A_CA
            ),
            None => self.0.fmt(f),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// An error status from the Usage API, with Genesys' `ErrorBody` when the body parsed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation called, e.g. `post_usage_query`.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The parsed error body, when the server sent one.
    pub body: Option<ErrorBody>,
    /// The `ININ-Correlation-Id` response header.
    pub correlation_id: Option<String>,
    /// The `Retry-After` the server asked for, if any.
    pub retry_after: Option<Duration>,
    /// Set when the call gave up because `Retry-After` was longer than the configured cap.
    pub retry_after_cap: Option<Duration>,
    /// How many attempts were made (retries included).
    pub attempts: u32,
}

impl ApiError {
    /// `ErrorBody.code`, e.g. `too.many.requests.retry.after`.
    pub fn code(&self) -> Option<&str> {
        self.body.as_ref()?.code.as_deref()
    }

    /// `ErrorBody.message`.
    pub fn message(&self) -> Option<&str> {
        self.body.as_ref()?.message.as_deref()
    }

    /// `ErrorBody.contextId`.
    pub fn context_id(&self) -> Option<&str> {
        self.body.as_ref()?.context_id.as_deref()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with HTTP {}", self.operation, self.status)?;
        if let Some(code) = self.code() {
            write!(f, " {code}")?;
        }
        if let Some(message) = self.message() {
            write!(f, ": {message}")?;
        }
        if let (Some(wait), Some(cap)) = (self.retry_after, self.retry_after_cap) {
            write!(
                f,
                " (the server asked to retry after {} s, longer than the {} s cap; raise RetryPolicy::retry_after_cap or try later)",
                wait.as_secs(),
                cap.as_secs()
            )?;
        } else if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        if let Some(id) = self.correlation_id.as_deref().or(self.context_id()) {
            write!(f, " [correlation id {id}]")?;
        }
        Ok(())
    }
}

/// Why an access token could not be obtained.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused the credentials (OAuth `error`/`error_description`).
    Rejected {
        /// The HTTP status of the token response.
        status: u16,
        /// OAuth `error`, e.g. `invalid_client` or `unauthorized_client`.
        error: Option<String>,
        /// OAuth `error_description` (or Genesys' `description`).
        description: Option<String>,
    },
    /// The token endpoint could not be reached.
    Transport {
        /// The token URL (it carries no secret).
        token_url: String,
        /// The underlying error.
        source: TransportError,
    },
    /// The token endpoint answered 2xx with a body that is not a token response. The body is
    /// not quoted: it may hold a token.
    Malformed {
        /// What was wrong with it.
        problem: String,
    },
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Rejected {
                status,
                error,
                description,
            } => {
                write!(
                    f,
                    "the token endpoint refused the client credentials (HTTP {status}"
                )?;
                if let Some(error) = error {
                    write!(f, ", {error}")?;
                }
                write!(f, ")")?;
                if let Some(description) = description {
                    write!(f, ": {description}")?;
                }
                write!(
                    f,
                    "; check the OAuth client id, secret, grant type and region"
                )
            }
            AuthError::Transport { token_url, source } => {
                write!(f, "cannot reach the token endpoint {token_url}: {source}")
            }
            AuthError::Malformed { problem } => {
                write!(f, "the token endpoint sent an unusable response: {problem}")
            }
        }
    }
}

/// A response whose body does not match the API definition.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    /// The operation called.
    pub operation: &'static str,
    /// The HTTP status of the response.
    pub status: u16,
    /// The `ININ-Correlation-Id` response header.
    pub correlation_id: Option<String>,
    /// The start of the body (at most 200 characters, lossy UTF-8).
    pub snippet: String,
    /// The JSON error, when the body was not valid JSON for the expected type.
    pub source: Option<serde_json::Error>,
    /// What was wrong otherwise: a status the API does not define for the operation, or a
    /// body that parsed but cannot be used (an id missing, a cursor that leads nowhere).
    pub problem: Option<String>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Some(problem) => write!(f, "{} sent an unusable response: {problem}", self.operation)?,
            None => write!(
                f,
                "{} returned HTTP {} with a body that is not the expected JSON",
                self.operation, self.status
            )?,
        }
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        if !self.snippet.is_empty() || self.problem.is_none() {
            write!(f, "; body starts {:?}", self.snippet)?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " [correlation id {id}]")?;
        }
        Ok(())
    }
}

/// The first `limit` characters of a body, lossily decoded, for error messages.
pub(crate) fn snippet(body: &[u8], limit: usize) -> String {
    let head = &body[..body.len().min(limit * 4)];
    let text = String::from_utf8_lossy(head);
    let mut out: String = text.chars().take(limit).collect();
    if out.len() < body.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(problem: Option<&str>, snippet: &str) -> String {
        DecodeError {
            operation: "getUsageQueryExecutionIdResults",
            status: 204,
            correlation_id: Some("corr-1".into()),
            snippet: snippet.into(),
            source: None,
            problem: problem.map(String::from),
        }
        .to_string()
    }

    #[test]
    fn a_decode_error_says_what_was_wrong_and_shows_a_body_only_when_there_is_one() {
        let not_json = decode(None, "<html>");
        assert!(
            not_json.contains("HTTP 204 with a body that is not the expected JSON")
                && not_json.contains(r#"body starts "<html>""#)
                && not_json.ends_with("[correlation id corr-1]"),
            "{not_json}"
        );
        let status = decode(Some("HTTP 204, a status the API does not define"), "");
        assert!(
            status.contains("sent an unusable response: HTTP 204")
                && !status.contains("body starts")
                && !status.contains("not the expected JSON"),
            "{status}"
        );
        let with_body = decode(Some("HTTP 206, a status the API does not define"), "{}");
        assert!(with_body.contains(r#"body starts "{}""#), "{with_body}");
    }
}
