//! Client-wide pacing under the API's rate limit: one `Retry-After` gates every request of
//! the client, and after a gate the client sends at the rate the server just let through.
//!
//! Genesys limits requests per OAuth client (300 a minute by default) and answers the excess
//! with 429 and `Retry-After`. Honouring `Retry-After` per request is not enough when many
//! requests run at once: they all sleep the same seconds, come back together, and most of
//! them are refused again (the `fanout` benchmark measures both ways; its figures are in
//! the README's Performance section with the command). So, per [`crate::UsageClient`] (its
//! clones included):
//!
//! - **Gate**: a 429 with `Retry-After: N` means the client's budget is spent, so no request
//!   of the client starts in the next N seconds, not just the refused one. A `Retry-After`
//!   over [`crate::RetryPolicy::retry_after_cap`] (a daily limit) does not gate: those calls
//!   fail at once instead of blocking everything else for hours.
//! - **Pace**: when a gate opens, the client has learnt what the server allowed: `k`
//!   requests admitted between the previous opening (or the first request) and the moment the
//!   server will admit more. From then on requests start no closer than `span / k` apart,
//!   in the order they asked, instead of all at once. Each admitted request shortens the
//!   interval by 1/5000 (additive increase), so a rate learnt too low creeps up until the
//!   next 429 re-learns it (down).
//! - **Credit**: while the client waited, the server refilled. At the rate just learnt, the
//!   wait since the 429 that set the gate holds `wait / interval` requests, never more than
//!   the `k` the server admitted: that many start at once when the gate opens, and pacing
//!   follows. A limit that refills whole during a `Retry-After` rounded up to seconds
//!   (a bucket of 50 at 50 a second, say) is used again at once instead of never; one whose
//!   `Retry-After` is exact gets a request or two.
//!
//! Only `Retry-After` is trusted: the `inin-ratelimit-*` headers were deprecated by Genesys
//! in 2019 and removed in 2021 ("not always accurate ... applications should not rely on
//! [them]; use the retry-after header", developer forum, "Removal of inin-ratelimit-*
//! response headers"), and are not read. Without a 429 nothing changes: requests go out at
//! once.
//!
//! On by default; [`crate::RetryPolicy::with_rate_limit_pacing`]`(false)` turns it off. It
//! changes nothing until the server answers 429, and then only makes the client wait longer,
//! never shorter, than a `Retry-After`. The learnt rate is an inference (Genesys documents
//! only `Retry-After`); it errs low, because the span it divides by includes the wait.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::model::time::Clock;

/// A cycle that sees no 429 for this long starts over, so the rate is learnt from recent
/// requests and not from an hour of them.
const CYCLE_RESTART: Duration = Duration::from_secs(60);

/// A cycle also starts over at the first request after a pause this long (or twice the
/// pacing interval): a burst after an idle spell is measured from its own start.
const IDLE: Duration = Duration::from_secs(1);

/// How much each admitted request shortens the pacing interval (additive increase).
const SPEED_UP: f64 = 1.0 / 5000.0;

/// Below this interval pacing is dropped: the rate learnt is no limit worth enforcing.
const MIN_INTERVAL: Duration = Duration::from_micros(200);

/// The pacing state shared by the requests of one client.
#[derive(Debug)]
pub(crate) struct Throttle {
    retry_after_cap: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// No request starts before this instant.
    gate: Option<Instant>,
    /// The interval between request starts while paced.
    interval: Option<Duration>,
    /// The earliest start of the next paced request.
    next_slot: Option<Instant>,
    /// The current cycle: counts the requests the server admitted since it began.
    cycle: u64,
    cycle_start: Option<Instant>,
    admitted: u64,
    /// When the last request started.
    last_start: Option<Instant>,
    /// When the 429 that set the gate arrived: the server admitted nothing from then on.
    gated_at: Option<Instant>,
    /// Requests that start at once, without a slot, since the gate opened (the credit).
    credit: u64,
}

/// What [`Throttle::observe`] needs to know about the attempt it started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    cycle: u64,
}

impl Throttle {
    pub(crate) fn new(retry_after_cap: Duration) -> Self {
        Self {
            retry_after_cap,
            state: Mutex::new(State {
                gate: None,
                interval: None,
                next_slot: None,
                cycle: 0,
                cycle_start: None,
                admitted: 0,
                last_start: None,
                gated_at: None,
                credit: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until this client may start a request.
    pub(crate) async fn acquire(&self, clock: &dyn Clock) -> Ticket {
        loop {
            let (start, ticket) = {
                let mut state = self.lock();
                let now = clock.now();
                state.open_gate_if_due(now);
                if let Some(gate) = state.gate {
                    (gate, None)
                } else {
                    let start = if state.credit > 0 {
                        state.credit -= 1;
                        now
                    } else {
                        let start = state.next_slot.map_or(now, |slot| slot.max(now));
                        if let Some(interval) = state.interval {
                            state.next_slot = Some(start + interval);
                        }
                        start
                    };
                    let idle = IDLE.max(state.interval.unwrap_or_default() * 2);
                    let restart = state.cycle_start.is_none_or(|s| start >= s + CYCLE_RESTART)
                        || state.last_start.is_none_or(|last| start >= last + idle);
                    if restart {
                        state.cycle_start = Some(start);
                        state.admitted = 0;
                    }
                    state.last_start = Some(start);
                    (start, Some(Ticket { cycle: state.cycle }))
                }
            };
            let now = clock.now();
            if start > now {
                clock.sleep(start - now).await;
            }
            match ticket {
                // A 429 may have closed a gate while this request waited for its slot.
                Some(ticket) if self.lock().gate.is_none_or(|gate| gate <= clock.now()) => {
                    return ticket;
                }
                _ => {}
            }
        }
    }

    /// Learns from what the server answered to a request started with `ticket`.
    pub(crate) fn observe(
        &self,
        ticket: Ticket,
        status: StatusCode,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        let mut state = self.lock();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let Some(wait) = retry_after.filter(|w| *w <= self.retry_after_cap) else {
                return;
            };
            let Some(until) = now.checked_add(wait) else {
                return;
            };
            if state.gate.is_none_or(|gate| until > gate) {
                state.gate = Some(until);
                state.gated_at = Some(now);
            }
        } else if ticket.cycle == state.cycle {
            state.admitted += 1;
            if let Some(interval) = state.interval {
                let faster = interval.mul_f64(1.0 - SPEED_UP);
                state.interval = (faster >= MIN_INTERVAL).then_some(faster);
            }
        }
    }
}

impl State {
    /// At the first request after a gate: learn the rate the server allowed in the cycle
    /// that ended, and start the next one at the gate.
    fn open_gate_if_due(&mut self, now: Instant) {
        let Some(gate) = self.gate.filter(|gate| *gate <= now) else {
            return;
        };
        let cycle_start = self.cycle_start.unwrap_or(gate);
        let span = gate.saturating_duration_since(cycle_start);
        // Nothing admitted is no evidence of a rate (the 429 may have come from elsewhere):
        // the gate alone then.
        self.interval = u32::try_from(self.admitted)
            .ok()
            .filter(|admitted| *admitted > 0)
            .map(|admitted| span / admitted)
            .filter(|learnt| *learnt >= MIN_INTERVAL);
        // The credit: what the server refilled during the wait, at the rate just learnt.
        let waited = self.gated_at.map_or(Duration::ZERO, |at| {
            gate.saturating_duration_since(at.max(cycle_start))
        });
        self.credit = self.interval.map_or(0, |interval| {
            let fits = waited.as_nanos() / interval.as_nanos().max(1);
            u64::try_from(fits).unwrap_or(u64::MAX).min(self.admitted)
        });
        // The first paced slot after the credit is the server's next refill.
        self.next_slot = Some(match self.interval {
            Some(interval) if self.credit > 0 => gate + interval,
            _ => gate,
        });
        self.gate = None;
        self.gated_at = None;
        self.cycle += 1;
        self.cycle_start = Some(gate);
        self.admitted = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::ManualClock;

    fn retry_after(seconds: u64) -> Option<Duration> {
        Some(Duration::from_secs(seconds))
    }

    fn throttle() -> Throttle {
        Throttle::new(Duration::from_secs(180))
    }

    #[tokio::test]
    async fn without_a_429_requests_start_at_once() {
        let clock = ManualClock::new();
        let throttle = throttle();
        for _ in 0..100 {
            let ticket = throttle.acquire(&clock).await;
            throttle.observe(ticket, StatusCode::OK, None, clock.now());
        }
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn one_retry_after_gates_every_request_of_the_client() {
        let clock = ManualClock::new();
        let throttle = throttle();
        let refused = throttle.acquire(&clock).await;
        throttle.observe(
            refused,
            StatusCode::TOO_MANY_REQUESTS,
            retry_after(3),
            clock.now(),
        );
        let started = clock.now();
        throttle.acquire(&clock).await;
        assert!(clock.now() >= started + Duration::from_secs(3));
        assert_eq!(clock.sleeps(), [Duration::from_secs(3)]);
    }

    #[tokio::test]
    async fn after_a_gate_requests_are_paced_at_the_rate_the_server_admitted() {
        let clock = ManualClock::new();
        let throttle = throttle();
        // 50 admitted, then a 429 asking for a second: 50 per second.
        let tickets: Vec<Ticket> = {
            let mut v = Vec::new();
            for _ in 0..51 {
                v.push(throttle.acquire(&clock).await);
            }
            v
        };
        for ticket in &tickets[..50] {
            throttle.observe(*ticket, StatusCode::OK, None, clock.now());
        }
        throttle.observe(
            tickets[50],
            StatusCode::TOO_MANY_REQUESTS,
            retry_after(1),
            clock.now(),
        );
        let gate = clock.now() + Duration::from_secs(1);
        let mut starts = Vec::new();
        for _ in 0..54 {
            throttle.acquire(&clock).await;
            starts.push(clock.now() - gate);
        }
        let ms: Vec<u128> = starts.iter().map(Duration::as_millis).collect();
        // The second waited refilled all 50 at 50 a second: they go at once, then one per
        // 20 ms.
        assert_eq!(ms[..50], [0; 50]);
        assert_eq!(ms[50..], [20, 40, 60, 80]);
    }

    #[tokio::test]
    async fn the_credit_at_a_gate_is_the_wait_at_the_learnt_rate_and_no_more() {
        let clock = ManualClock::new();
        let throttle = throttle();
        // 50 admitted over 9 s, then a 429 asking for 1 s: 50 in 10 s, one per 200 ms, and
        // the second waited holds 5 of them.
        for _ in 0..50 {
            let ticket = throttle.acquire(&clock).await;
            throttle.observe(ticket, StatusCode::OK, None, clock.now());
            clock.advance(Duration::from_millis(180));
        }
        let refused = throttle.acquire(&clock).await;
        throttle.observe(
            refused,
            StatusCode::TOO_MANY_REQUESTS,
            retry_after(1),
            clock.now(),
        );
        let gate = clock.now() + Duration::from_secs(1);
        let mut starts = Vec::new();
        for _ in 0..7 {
            throttle.acquire(&clock).await;
            starts.push((clock.now() - gate).as_millis());
        }
        assert_eq!(starts, [0, 0, 0, 0, 0, 200, 400]);
        // Never before the gate: Retry-After is honoured whatever the credit.
        assert!(clock.sleeps().iter().sum::<Duration>() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_retry_after_above_the_cap_does_not_gate_other_requests() {
        let clock = ManualClock::new();
        let throttle = throttle();
        let ticket = throttle.acquire(&clock).await;
        throttle.observe(
            ticket,
            StatusCode::TOO_MANY_REQUESTS,
            retry_after(86400),
            clock.now(),
        );
        throttle.acquire(&clock).await;
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn a_429_after_a_gate_closes_it_again() {
        let clock = ManualClock::new();
        let throttle = throttle();
        let first = throttle.acquire(&clock).await;
        throttle.observe(first, StatusCode::OK, None, clock.now());
        let refused = throttle.acquire(&clock).await;
        throttle.observe(
            refused,
            StatusCode::TOO_MANY_REQUESTS,
            retry_after(2),
            clock.now(),
        );
        let gate = clock.now() + Duration::from_secs(2);
        let again = throttle.acquire(&clock).await;
        assert_eq!(clock.now(), gate);
        throttle.observe(
            again,
            StatusCode::TOO_MANY_REQUESTS,
            retry_after(5),
            clock.now(),
        );
        // Nothing was admitted in the 5 s cycle: the new gate, then no pacing.
        throttle.acquire(&clock).await;
        assert_eq!(clock.now(), gate + Duration::from_secs(5));
        throttle.acquire(&clock).await;
        assert_eq!(clock.now(), gate + Duration::from_secs(5));
    }
}
