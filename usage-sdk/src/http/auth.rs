//! Access tokens: a static token, or the OAuth client credentials grant with a cached token
//! renewed before it expires.
//!
//! Concurrent callers share one token request: the cache is behind an async mutex held
//! while a token is fetched, so 50 calls on a cold client make one request and 49 wait for
//! it. A 401 from the API invalidates the token it was sent with (and only that one, so 50
//! concurrent 401s also cause a single renewal).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::http::config::{Config, Credentials};
use crate::http::transport::{Attempts, body_too_large, send};
use crate::model::error::{AuthError, Error, TransportError};
use crate::model::secret::{Bearer, Secret};

/// The longest token lifetime believed, in seconds.
const MAX_LIFETIME_S: u64 = 366 * 86_400;

/// Where tokens come from.
#[derive(Debug)]
pub(crate) enum TokenSource {
    Static(Bearer),
    ClientCredentials(ClientCredentialsFlow),
}

#[derive(Debug)]
pub(crate) struct ClientCredentialsFlow {
    client_id: String,
    client_secret: Secret,
    token_url: String,
    cache: Mutex<Option<CachedToken>>,
    requests: AtomicU64,
}

#[derive(Debug, Clone)]
struct CachedToken {
    bearer: Bearer,
    renew_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
    description: Option<String>,
}

impl TokenSource {
    pub(crate) fn new(config: &Config) -> Result<Self, Error> {
        Ok(match &config.credentials {
            Credentials::AccessToken(token) => TokenSource::Static(Bearer::new(token.expose())?),
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => TokenSource::ClientCredentials(ClientCredentialsFlow {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                token_url: config.token_url.clone(),
                cache: Mutex::new(None),
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// Whether a rejected token can be replaced by a new one.
    pub(crate) fn can_renew(&self) -> bool {
        matches!(self, TokenSource::ClientCredentials(_))
    }

    /// How many token requests have been sent.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn token_requests(&self) -> u64 {
        match self {
            TokenSource::Static(_) => 0,
            TokenSource::ClientCredentials(flow) => flow.requests.load(Ordering::Relaxed),
        }
    }

    /// A token that is valid now, fetching one if needed.
    pub(crate) async fn bearer(
        &self,
        http: &reqwest::Client,
        config: &Arc<Config>,
    ) -> Result<Bearer, Error> {
        let flow = match self {
            TokenSource::Static(bearer) => return Ok(bearer.clone()),
            TokenSource::ClientCredentials(flow) => flow,
        };
        let mut cache = flow.cache.lock().await;
        let now = config.clock.now();
        if let Some(token) = cache.as_ref().filter(|t| now < t.renew_at) {
            return Ok(token.bearer.clone());
        }
        let fresh = flow.fetch(http, config).await?;
        let bearer = fresh.bearer.clone();
        *cache = Some(fresh);
        Ok(bearer)
    }

    /// Forgets `rejected` if it is still the cached token.
    pub(crate) async fn invalidate(&self, rejected: &Bearer) {
        if let TokenSource::ClientCredentials(flow) = self {
            let mut cache = flow.cache.lock().await;
            if cache.as_ref().is_some_and(|t| &t.bearer == rejected) {
                *cache = None;
            }
        }
    }
}

impl ClientCredentialsFlow {
    async fn fetch(
        &self,
        http: &reqwest::Client,
        config: &Arc<Config>,
    ) -> Result<CachedToken, Error> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let request = http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body("grant_type=client_credentials")
            .build()
            .map_err(|source| transport_error(&self.token_url, source))?;
        let attempts = Attempts::default();
        let requested_at = config.clock.now();
        let response = send(http, request, "oauth_token", config, &attempts, None, None)
            .await
            .map_err(|source| transport_error(&self.token_url, source))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|source| match body_too_large(&source) {
                Some(too_large) => Error::ResponseTooLarge {
                    operation: "oauth_token",
                    status: status.as_u16(),
                    limit: too_large.limit,
                    content_length: too_large.content_length,
                },
                None => transport_error(&self.token_url, source),
            })?;
        if !status.is_success() {
            let parsed: Option<TokenError> = serde_json::from_slice(&body).ok();
            let (error, description) = match parsed {
                Some(e) => (e.error, e.error_description.or(e.description)),
                None => (None, None),
            };
            return Err(Error::Auth(AuthError::Rejected {
                status: status.as_u16(),
                error,
                description,
            }));
        }
        // The body holds the token: never quote it in an error.
        let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            Error::Auth(AuthError::Malformed {
                problem: format!(
                    "not a token response ({} bytes): {}",
                    body.len(),
                    e.classify_name()
                ),
            })
        })?;
        if token.access_token.is_empty() {
            return Err(Error::Auth(AuthError::Malformed {
                problem: "access_token is empty".into(),
            }));
        }
        // Genesys tokens live 24 h; renew a little early (a tenth of the lifetime, at most a
        // minute) so a call never starts with a token about to expire.
        // Capped at a year: a hostile `expires_in` (u64::MAX) must not overflow `Instant`.
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(86_399).min(MAX_LIFETIME_S));
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        tracing::debug!(lifetime_s = lifetime.as_secs(), "obtained an access token");
        Ok(CachedToken {
            bearer: Bearer::new(&token.access_token)?,
            renew_at: requested_at + lifetime - margin,
        })
    }
}

fn transport_error(token_url: &str, source: reqwest::Error) -> Error {
    Error::Auth(AuthError::Transport {
        token_url: token_url.to_string(),
        source: TransportError::new(source),
    })
}

/// A name for serde_json's error category, without quoting input.
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "missing or mistyped fields",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}
