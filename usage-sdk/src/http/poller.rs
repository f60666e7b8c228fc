//! The one poller behind every wait: legacy executions, simple searches and aggregates jobs.
//!
//! Genesys computes usage asynchronously and asks clients not to hammer the results endpoints
//! (its blog suggests polling every one to two minutes; polling every few milliseconds gets
//! the OAuth client rate-limited). The default [`PollPolicy`] polls about a second after
//! submitting, then backs off with jitter to once a minute.
//!
//! The poller owns the deadline: it is the whole wait, including a fetch in flight and that
//! fetch's retries, so a stalled response cannot hold a caller past it (the final poll, sent
//! at the deadline, gets a grace of a tenth of the deadline, at most a second). Dropping the
//! future stops polling.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::model::error::Error;
use crate::model::time::{Clock, jitter_fraction};

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
    /// How long a waiter waits in all, polls and their retries included, before returning a
    /// deadline error. A deadline too large to represent as an instant means no deadline.
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

    /// Sets the overall [`deadline`](Self::deadline). Any value is safe: one too large to
    /// represent (e.g. `Duration::MAX`) means no deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The wait before poll number `poll` (1-based). Never panics, whatever the fields hold.
    pub(crate) fn delay(&self, poll: u32) -> Duration {
        let growth = self.multiplier.powi(poll.saturating_sub(1).min(64) as i32);
        let scaled = |d: Duration, by: f64| {
            Duration::try_from_secs_f64(d.as_secs_f64() * by).unwrap_or(Duration::MAX)
        };
        let base = scaled(self.initial_delay, growth).min(self.max_delay);
        if self.jitter {
            scaled(base, 0.8 + 0.4 * jitter_fraction()).min(self.max_delay)
        } else {
            base
        }
    }
}

/// What one poll saw, handed to the caller's observer.
pub(crate) struct Polled<'s, S> {
    pub(crate) poll: u32,
    pub(crate) status: Option<&'s S>,
    pub(crate) elapsed: Duration,
}

/// How a poller asks about the thing it waits for.
pub(crate) struct Poll<Fetch, Status, Finish, TimedOut> {
    /// Fetches the current state once (a GET, retried by the transport).
    pub(crate) fetch: Fetch,
    /// The status a fetched state reports, for events and the deadline error.
    pub(crate) status: Status,
    /// `Some` when the fetched state is final: the result, or why it failed.
    pub(crate) finish: Finish,
    /// The error for a passed deadline, from the time waited and the last status seen.
    pub(crate) timed_out: TimedOut,
    /// Poll at once instead of after [`PollPolicy::initial_delay`]: for a query submitted
    /// elsewhere (a resume), whose result may be ready; the schedule then starts over.
    pub(crate) at_once: bool,
}

/// Polls on `policy`'s schedule until `finish` says the state is final or the deadline
/// passes.
pub(crate) async fn poll_until<R, S, T, Fetch, Fut, Status, Finish, TimedOut>(
    clock: &dyn Clock,
    policy: &PollPolicy,
    poll: Poll<Fetch, Status, Finish, TimedOut>,
    mut observe: impl FnMut(Polled<'_, S>),
) -> Result<T, Error>
where
    Fetch: FnMut() -> Fut,
    Fut: Future<Output = Result<R, Error>>,
    Status: Fn(&R) -> Option<S>,
    Finish: FnMut(R, u32) -> Option<Result<T, Error>>,
    TimedOut: FnOnce(Duration, Option<S>) -> Error,
{
    let Poll {
        mut fetch,
        status,
        mut finish,
        timed_out,
        at_once,
    } = poll;
    let started = clock.now();
    // An unrepresentable deadline is no deadline.
    let deadline: Option<Instant> = started.checked_add(policy.deadline);
    let mut polls = 0;
    let mut last_status = None;
    loop {
        let now = clock.now();
        if deadline.is_some_and(|at| now >= at) {
            return Err(timed_out(
                now.saturating_duration_since(started),
                last_status,
            ));
        }
        // The last wait is cut short so the final poll happens at the deadline.
        let mut wait = match (at_once, polls) {
            (true, 0) => Duration::ZERO,
            (true, done) => policy.delay(done),
            (false, done) => policy.delay(done + 1),
        };
        if let Some(at) = deadline {
            wait = wait.min(at.saturating_duration_since(now));
        }
        if !wait.is_zero() {
            clock.sleep(wait).await;
        }
        polls += 1;
        let fetched = match deadline {
            Some(at) => {
                // The last poll is sent at the deadline itself; it gets a short grace (a tenth
                // of the deadline, at most a second) to answer before the wait ends.
                let grace = (policy.deadline / 10).min(Duration::from_secs(1));
                let hard = at.checked_add(grace).unwrap_or(at);
                tokio::select! {
                    biased;
                    fetched = fetch() => fetched,
                    () = clock.deadline(hard) => {
                        tracing::debug!(poll = polls, "deadline passed while a poll was in flight");
                        let waited = clock.now().saturating_duration_since(started);
                        return Err(timed_out(waited, last_status));
                    }
                }
            }
            None => fetch().await,
        }?;
        let current = status(&fetched);
        observe(Polled {
            poll: polls,
            status: current.as_ref(),
            elapsed: clock.now().saturating_duration_since(started),
        });
        match finish(fetched, polls) {
            Some(result) => return result,
            None => last_status = current,
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

    #[test]
    fn extreme_delays_and_multipliers_never_panic() {
        for policy in [
            PollPolicy::default().with_delays(Duration::MAX, Duration::MAX),
            PollPolicy::default().with_multiplier(f64::MAX),
            PollPolicy {
                multiplier: f64::NAN,
                ..PollPolicy::default()
            },
            PollPolicy::default().with_delays(Duration::ZERO, Duration::ZERO),
        ] {
            for poll in [1, 2, 64, u32::MAX] {
                assert!(policy.delay(poll) <= policy.max_delay);
            }
        }
    }
}
