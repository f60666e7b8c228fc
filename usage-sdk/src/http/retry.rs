//! When a failed attempt is sent again, and after how long.
//!
//! Genesys' guidance (developer blog, "Building Resiliency"): 429 and 502/503/504 are
//! transient, 500 is not. On top of that this crate never re-sends a request the server may
//! have processed unless it is idempotent: a POST is retried only on 429, 503 and a refused
//! connection, never after a read timeout.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::model::time::jitter_fraction;

/// How failed attempts are retried. On by default; [`RetryPolicy::disabled`] turns it off.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included. 1 disables retries.
    pub max_attempts: u32,
    /// Upper bound on the time spent on one call, waits included.
    pub max_elapsed: Duration,
    /// The first backoff when the server gave no `Retry-After`.
    pub initial_backoff: Duration,
    /// The largest backoff between two attempts.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured. A 429 or 503 asking for longer (daily-limit
    /// breaches can ask for hours) is returned as an error at once, as the Java and Go SDKs
    /// do above 180 s.
    pub retry_after_cap: Duration,
    /// Randomise backoffs (not `Retry-After` waits) so that many clients do not retry in step.
    pub jitter: bool,
    /// After a 429, hold back every request of the client until its `Retry-After` has
    /// passed, then send at the rate the server admitted instead of all at once (see
    /// `src/throttle.rs`). On by default: without it, many concurrent calls on one client
    /// come back together after a `Retry-After` and are refused again (the `fanout`
    /// benchmark measures both; see the README's Performance section). Turn it off to have
    /// every wait be exactly the server's `Retry-After`.
    pub rate_limit_pacing: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_elapsed: Duration::from_secs(300),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(180),
            jitter: true,
            rate_limit_pacing: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: every call makes exactly one attempt.
    ///
    /// Rate-limit pacing stays on: after a 429, the client's later calls still wait out its
    /// `Retry-After` before their one attempt (a wait, not a retry). For no waiting at all:
    /// `RetryPolicy::disabled().with_rate_limit_pacing(false)`.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets [`max_attempts`](Self::max_attempts) (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`max_elapsed`](Self::max_elapsed).
    pub fn with_max_elapsed(mut self, limit: Duration) -> Self {
        self.max_elapsed = limit;
        self
    }

    /// Sets the backoff range used when the server gives no `Retry-After`.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets [`retry_after_cap`](Self::retry_after_cap).
    pub fn with_retry_after_cap(mut self, cap: Duration) -> Self {
        self.retry_after_cap = cap;
        self
    }

    /// Sets [`jitter`](Self::jitter).
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`rate_limit_pacing`](Self::rate_limit_pacing).
    pub fn with_rate_limit_pacing(mut self, on: bool) -> Self {
        self.rate_limit_pacing = on;
        self
    }

    /// The exponential backoff before attempt `attempt + 1`: initial·2^(attempt−1), capped,
    /// with "equal jitter" (half fixed, half random) when enabled.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_backoff);
        if self.jitter {
            exp / 2 + exp.mul_f64(jitter_fraction() / 2.0)
        } else {
            exp
        }
    }

    /// Decides what to do after attempt number `attempt` produced `outcome`.
    pub(crate) fn decide(&self, outcome: Outcome, idempotent: bool, attempt: u32) -> Decision {
        let retry_after = match outcome {
            Outcome::Status(_, retry_after) => retry_after,
            Outcome::Transport(_) => None,
        };
        if let Some(wait) = retry_after
            && wait > self.retry_after_cap
            && matches!(outcome, Outcome::Status(s, _) if s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::SERVICE_UNAVAILABLE)
        {
            return Decision::GiveUp(GiveUp::RetryAfterTooLong(wait));
        }
        let retryable = match outcome {
            // The server did not process these: safe for any method.
            Outcome::Status(StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE, _) => {
                true
            }
            Outcome::Status(
                StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT,
                _,
            ) => idempotent,
            Outcome::Status(..) => false,
            // A refused connection never reached the server.
            Outcome::Transport(TransportFailure::Connect) => true,
            // The same certificate is refused the same way every time: permanent.
            Outcome::Transport(TransportFailure::Certificate) => false,
            // The request may have been processed: only idempotent calls go again.
            Outcome::Transport(TransportFailure::Other) => idempotent,
        };
        if !retryable {
            return Decision::GiveUp(GiveUp::NotRetryable);
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp(GiveUp::Exhausted);
        }
        Decision::Retry(retry_after.unwrap_or_else(|| self.backoff(attempt)))
    }
}

/// What one attempt produced, as far as retrying is concerned.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    /// A response: its status and its `Retry-After`, parsed.
    Status(StatusCode, Option<Duration>),
    Transport(TransportFailure),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransportFailure {
    /// The connection was never established: nothing was sent.
    Connect,
    /// The client refused the server's TLS certificate (unknown issuer, name mismatch,
    /// expired): nothing was sent, and another attempt would be refused again.
    Certificate,
    /// Anything after connecting: a timeout, a reset, a truncated body.
    Other,
}

impl TransportFailure {
    pub(crate) fn of(error: &reqwest::Error) -> Self {
        if crate::model::certificate::refused(error).is_some() {
            TransportFailure::Certificate
        } else if error.is_connect() && !error.is_timeout() {
            TransportFailure::Connect
        } else {
            TransportFailure::Other
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Decision {
    Retry(Duration),
    GiveUp(GiveUp),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum GiveUp {
    NotRetryable,
    Exhausted,
    RetryAfterTooLong(Duration),
}

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3), a date counted from
/// `now` (the client's [`crate::model::time::Clock::wall_now`], so tests can pin it). Genesys sends
/// seconds; gateways in front of it may send dates.
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now = chrono::DateTime::<chrono::Utc>::from(now);
    let wait = date.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(value) = retry_after {
            map.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn decide(status: u16, retry_after: Option<&str>, idempotent: bool) -> Decision {
        let policy = RetryPolicy::default().with_jitter(false);
        let map = headers(retry_after);
        policy.decide(
            Outcome::Status(
                StatusCode::from_u16(status).unwrap(),
                parse_retry_after(&map, SystemTime::now()),
            ),
            idempotent,
            1,
        )
    }

    #[test]
    fn retry_after_seconds_is_honoured_for_any_method() {
        assert_eq!(
            decide(429, Some("7"), false),
            Decision::Retry(Duration::from_secs(7))
        );
        assert_eq!(
            decide(503, Some("2"), false),
            Decision::Retry(Duration::from_secs(2))
        );
    }

    #[test]
    fn retry_after_http_date_counts_from_the_clock_given() {
        // A fixed "now", as an injected clock gives it: the wait is exact.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let at = chrono::DateTime::<chrono::Utc>::from(now) + chrono::Duration::seconds(30);
        let map = headers(Some(&at.to_rfc2822().replace("+0000", "GMT")));
        assert_eq!(parse_retry_after(&map, now), Some(Duration::from_secs(30)));
        // A date in the past means "now".
        let later = now + Duration::from_secs(60);
        assert_eq!(parse_retry_after(&map, later), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_above_the_cap_gives_up() {
        assert_eq!(
            decide(429, Some("3600"), true),
            Decision::GiveUp(GiveUp::RetryAfterTooLong(Duration::from_secs(3600)))
        );
    }

    #[test]
    fn gateway_errors_are_retried_only_for_idempotent_calls() {
        assert_eq!(
            decide(502, None, true),
            Decision::Retry(Duration::from_millis(500))
        );
        assert_eq!(
            decide(504, None, false),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
        assert_eq!(
            decide(500, None, true),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
        assert_eq!(
            decide(400, None, true),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
    }

    #[test]
    fn transport_failures_retry_posts_only_when_nothing_was_sent() {
        let policy = RetryPolicy::default();
        let connect = Outcome::Transport(TransportFailure::Connect);
        let other = Outcome::Transport(TransportFailure::Other);
        assert!(matches!(
            policy.decide(connect, false, 1),
            Decision::Retry(_)
        ));
        assert!(matches!(policy.decide(other, true, 1), Decision::Retry(_)));
        assert_eq!(
            policy.decide(other, false, 1),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
    }

    #[test]
    fn a_refused_certificate_is_never_retried_even_for_a_get() {
        let certificate = Outcome::Transport(TransportFailure::Certificate);
        for idempotent in [true, false] {
            assert_eq!(
                RetryPolicy::default().decide(certificate, idempotent, 1),
                Decision::GiveUp(GiveUp::NotRetryable)
            );
        }
    }

    #[test]
    fn backoff_grows_exponentially_to_the_cap_and_jitter_stays_in_range() {
        let policy = RetryPolicy::default()
            .with_backoff(Duration::from_secs(1), Duration::from_secs(5))
            .with_jitter(false);
        let waits: Vec<u64> = (1..=5).map(|a| policy.backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        let jittered = policy.with_jitter(true);
        for _ in 0..100 {
            let wait = jittered.backoff(3);
            assert!(
                wait >= Duration::from_secs(2) && wait <= Duration::from_secs(4),
                "{wait:?}"
            );
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = RetryPolicy::default().with_max_attempts(2);
        let outcome = Outcome::Status(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(1)));
        assert!(matches!(
            policy.decide(outcome, true, 1),
            Decision::Retry(_)
        ));
        assert_eq!(
            policy.decide(outcome, true, 2),
            Decision::GiveUp(GiveUp::Exhausted)
        );
    }
}
