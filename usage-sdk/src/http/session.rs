//! [`Session`]: the generated client's inner value. It carries what every request of a
//! [`crate::UsageClient`] shares (configuration, token source, pacing) and what the attempts
//! of one call saw, so the hooks (`hooks.rs`) can authenticate, retry and renew a
//! rejected token, and the caller can map a failure with everything the generated error lost.
//! State goes down through the client and comes back through the same value; nothing is
//! task-local.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::http::auth::TokenSource;
use crate::http::config::Config;
use crate::http::throttle::Throttle;
use crate::http::transport::{AttemptRecord, Attempts, BodyBuffer};
use crate::model::secret::Bearer;

/// What every request of a client (and its clones) shares.
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) tokens: TokenSource,
    pub(crate) http: reqwest::Client,
    /// The client's pacing under the rate limit (see [`crate::http::throttle`]), if on.
    pub(crate) throttle: Option<Arc<Throttle>>,
    /// The memory of the last body read whole, reused by the next.
    pub(crate) bodies: BodyBuffer,
}

/// The state a generated client made by `UsageClient::raw` carries:
/// its requests get the client's token (renewed once after a 401), its retries and its
/// pacing. Opaque.
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
    call: Arc<Call>,
}

/// One call's state.
#[derive(Default)]
struct Call {
    attempts: Attempts,
    /// The token the call was sent with, once known.
    bearer: Mutex<Option<Bearer>>,
    /// Whether the caller handed the token in (a typed call, which fetched it just before).
    /// A raw client has none of its own and takes the token cache's on every request, so a
    /// kept raw client renews ahead of expiry like the typed calls.
    token_given: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session for one call (or one raw client), starting with `bearer` when the caller
    /// already has a token.
    pub(crate) fn new(shared: Arc<Shared>, bearer: Option<Bearer>) -> Self {
        Self {
            shared,
            call: Arc::new(Call {
                attempts: Attempts::default(),
                token_given: bearer.is_some(),
                bearer: Mutex::new(bearer),
            }),
        }
    }

    pub(crate) fn attempts(&self) -> &Attempts {
        &self.call.attempts
    }

    /// What the attempts saw so far.
    pub(crate) fn record(&self) -> AttemptRecord {
        self.call.attempts.snapshot()
    }

    /// The token the last request was sent with.
    pub(crate) fn bearer(&self) -> Option<Bearer> {
        self.lock_bearer().clone()
    }

    /// The token the caller handed in (or the renewal after a 401 replaced it with); `None`
    /// for a raw client, whose every request asks the token cache.
    pub(crate) fn given_bearer(&self) -> Option<Bearer> {
        self.call.token_given.then(|| self.bearer()).flatten()
    }

    pub(crate) fn set_bearer(&self, bearer: Bearer) {
        *self.lock_bearer() = Some(bearer);
    }

    fn lock_bearer(&self) -> std::sync::MutexGuard<'_, Option<Bearer>> {
        self.call
            .bearer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
