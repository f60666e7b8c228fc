//! [`UsageClient`]: the Usage API with auth, retries, typed inputs and typed errors; here the
//! legacy operations and the one path every call takes ([`UsageClient::call`]). The jobs and
//! simple search live beside it (`jobs.rs`, `search.rs`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use progenitor_client::{ClientInfo, ResponseValue};
use tracing::Instrument;

use crate::http::auth::TokenSource;
use crate::http::config::{Config, ConfigBuilder, FromConfig};
use crate::http::raw;
use crate::http::session::{Session, Shared};
use crate::http::throttle::Throttle;
use crate::http::transport::{AttemptRecord, GiveUpReason, body_too_large, correlation_id};
use crate::model::error::{ApiError, DecodeError, Error, TransportError, snippet};
use crate::model::ids::ExecutionId;
use crate::model::types::{ErrorBody, UsageExecutionResult};

/// A client of the Genesys Cloud Usage API. Cheap to clone; clones share the connection pool
/// and the token cache.
#[derive(Clone)]
pub struct UsageClient {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for UsageClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageClient")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl FromConfig for UsageClient {
    fn from_config(config: Config) -> Result<Self, Error> {
        UsageClient::new(config)
    }
}

impl UsageClient {
    /// A client for `config`.
    pub fn new(config: Config) -> Result<Self, Error> {
        let mut http = crate::http::tls::http_client_builder(&config.extra_roots)?;
        if config.is_loopback() {
            // HTTP_PROXY and friends apply to every host, loopback included: the token would
            // leave the machine, in clear, to reach a server on this one.
            http = http.no_proxy();
        }
        let http = http
            .connect_timeout(config.timeouts.connect)
            .timeout(config.timeouts.request)
            .user_agent(config.user_agent.clone())
            // The API never redirects; following one could send the token somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::invalid("config", format!("cannot build the HTTP client: {e}")))?;
        let tokens = TokenSource::new(&config)?;
        let throttle = config
            .retry
            .rate_limit_pacing
            .then(|| Arc::new(Throttle::new(config.retry.retry_after_cap)));
        Ok(Self {
            shared: Arc::new(Shared {
                config: Arc::new(config),
                tokens,
                http,
                throttle,
                bodies: Default::default(),
            }),
        })
    }

    /// A client configured from the `GENESYSCLOUD_*` environment variables
    /// (see [`Config::from_env`]).
    pub fn from_env() -> Result<Self, Error> {
        Self::new(Config::from_env()?.build()?)
    }

    /// A builder whose `build()` checks the configuration and returns the client:
    /// `UsageClient::builder().region(Region::EuWest1).client_credentials(id, secret).build()?`.
    pub fn builder() -> ConfigBuilder<UsageClient> {
        ConfigBuilder::default()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The generated client, for calls this layer does not wrap. Its requests go through the
    /// same hooks as this client's: the token (renewed once after a 401), retries with
    /// `Retry-After`, pacing and the body size limit. Its errors are the generated ones.
    pub fn raw(&self) -> raw::Client {
        self.raw_client(None)
    }

    fn raw_client(&self, bearer: Option<crate::model::secret::Bearer>) -> raw::Client {
        raw::Client::new_with_client(
            &self.shared.config.base_url,
            self.shared.http.clone(),
            Session::new(self.shared.clone(), bearer),
        )
    }

    /// How many token requests this client (and its clones) has sent.
    #[cfg(any(test, feature = "test-util"))]
    pub fn token_requests(&self) -> u64 {
        self.shared.tokens.token_requests()
    }

    /// Runs one generated operation on its own session: a span for the call, a fresh token
    /// (a failure to get one is a typed [`Error::Auth`]), and the mapping of every failure to
    /// [`Error`] with what the attempts recorded. The hooks do the rest (retries, the 401
    /// renewal).
    pub(crate) async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        execution_id: Option<&str>,
        op: F,
    ) -> Result<T, Error>
    where
        F: FnOnce(raw::Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<ErrorBody>>>,
    {
        let span = tracing::info_span!(
            "usage_sdk.call",
            operation,
            execution_id = execution_id.unwrap_or(""),
            status = tracing::field::Empty,
            correlation_id = tracing::field::Empty,
        );
        async {
            let shared = &self.shared;
            let bearer = shared.tokens.bearer(&shared.http, &shared.config).await?;
            let raw = self.raw_client(Some(bearer));
            let session = raw.inner().clone();
            let result = op(raw).await;
            let record = session.record();
            if let Some(status) = record.status {
                tracing::Span::current().record("status", status.as_u16());
            }
            if let Some(id) = &record.correlation_id {
                tracing::Span::current().record("correlation_id", id.as_str());
            }
            match result {
                Ok(value) => Ok(value.into_inner()),
                Err(error) => {
                    let cap = shared.config.retry.retry_after_cap;
                    Err(map_error(operation, error, &record, cap).await)
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// The execution id of a submit response, or a decode error naming `operation`.
pub(crate) fn execution_id(
    operation: &'static str,
    result: UsageExecutionResult,
) -> Result<ExecutionId, Error> {
    ExecutionId::new(result.execution_id.unwrap_or_default()).map_err(|e| {
        Error::unusable_response(
            operation,
            format!("the response has no usable executionId ({e})"),
        )
    })
}

/// Maps a generated-client failure to [`Error`], using what the attempts recorded (status,
/// correlation id, `Retry-After`) where the generated error lost it.
async fn map_error(
    operation: &'static str,
    error: progenitor_client::Error<ErrorBody>,
    record: &AttemptRecord,
    retry_after_cap: Duration,
) -> Error {
    use progenitor_client::Error as Raw;
    let attempts = record.count.max(1);
    let api = |status: u16, body: Option<ErrorBody>, correlation_id: Option<String>| {
        let retry_after_cap = matches!(record.gave_up, Some(GiveUpReason::RetryAfterTooLong(_)))
            .then_some(retry_after_cap);
        Error::Api(Box::new(ApiError {
            operation,
            status,
            body,
            correlation_id: correlation_id.or_else(|| record.correlation_id.clone()),
            retry_after: record.retry_after,
            retry_after_cap,
            attempts,
        }))
    };
    match error {
        Raw::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let correlation_id = correlation_id(response.headers());
            api(status, Some(response.into_inner()), correlation_id)
        }
        Raw::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let correlation_id = correlation_id(response.headers());
            let body = response.bytes().await.unwrap_or_default();
            if status >= 300 {
                api(status, serde_json::from_slice(&body).ok(), correlation_id)
            } else {
                Error::Decode(Box::new(DecodeError {
                    operation,
                    status,
                    correlation_id,
                    snippet: snippet(&body, 200),
                    source: None,
                    problem: Some(format!(
                        "HTTP {status}, a status the API does not define for this operation"
                    )),
                }))
            }
        }
        Raw::InvalidResponsePayload(body, source) => {
            let status = record.status.map_or(0, |s| s.as_u16());
            if status >= 300 {
                // An error status whose body is not an ErrorBody (an HTML page from a proxy):
                // the status is what matters.
                api(status, None, None)
            } else {
                Error::Decode(Box::new(DecodeError {
                    operation,
                    status,
                    correlation_id: record.correlation_id.clone(),
                    snippet: snippet(&body, 200),
                    source: Some(source),
                    problem: None,
                }))
            }
        }
        // A GET's body is read in the transport (an exec error), a POST's by the generated
        // client (a body error): either way the marker is in the chain.
        Raw::ResponseBodyError(source) | Raw::CommunicationError(source)
            if body_too_large(&source).is_some() =>
        {
            let too_large = body_too_large(&source).expect("checked in the guard");
            Error::ResponseTooLarge {
                operation,
                status: record.status.map_or(0, |s| s.as_u16()),
                limit: too_large.limit,
                content_length: too_large.content_length,
            }
        }
        Raw::CommunicationError(source)
        | Raw::ResponseBodyError(source)
        | Raw::InvalidUpgrade(source) => Error::Transport {
            operation,
            attempts,
            source: TransportError::new(source),
        },
        Raw::InvalidRequest(problem) | Raw::Custom(problem) => Error::invalid("request", problem),
    }
}
