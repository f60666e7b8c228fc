//! Fault injection: added latency, injected 503s and dropped connections.
//!
//! Shares are drawn from a seeded splitmix64 stream, one draw per request in arrival order,
//! so a sequential test sees the same faults on every run. Forced faults
//! ([`super::RunningStandIn::inject`]) come first and are used up one request at a time.

use std::collections::VecDeque;
use std::time::Duration;

use super::data::SplitMix64;

/// A fault the stand-in can force on the next API requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Answer `503` with an `ErrorBody` (`service.unavailable`).
    Unavailable,
    /// Close the connection without answering.
    Drop,
    /// Answer `429` (`too.many.requests.retry.after`) with `Retry-After: 1`, whatever the
    /// rate limiter says.
    RateLimited,
    /// Answer `500` with an `ErrorBody` (`internal.server.error`).
    InternalError,
}

/// The fault settings, changeable while the stand-in runs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FaultSettings {
    /// Added before every response (and before a dropped connection closes).
    pub latency: Duration,
    /// Share (0.0–1.0) of requests answered with a 503 `service.unavailable`.
    pub unavailable_share: f64,
    /// Share (0.0–1.0) of requests whose connection is closed without an answer.
    pub drop_share: f64,
    /// Whether faults also hit `POST /oauth/token` (by default only `/api/v2/…` is hit).
    pub on_token_endpoint: bool,
}

impl Default for FaultSettings {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            unavailable_share: 0.0,
            drop_share: 0.0,
            on_token_endpoint: false,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Faults {
    pub(crate) settings: FaultSettings,
    forced: VecDeque<Fault>,
    rng: SplitMix64,
}

impl Faults {
    pub(crate) fn new(settings: FaultSettings, seed: u64) -> Self {
        Self {
            settings,
            forced: VecDeque::new(),
            rng: SplitMix64::new(seed ^ 0xFA17_0000_0000_0003),
        }
    }

    pub(crate) fn force(&mut self, fault: Fault, count: usize) {
        self.forced.extend(std::iter::repeat_n(fault, count));
    }

    /// The fault for the next request, if any.
    pub(crate) fn draw(&mut self) -> Option<Fault> {
        if let Some(fault) = self.forced.pop_front() {
            return Some(fault);
        }
        let drop_share = self.settings.drop_share.clamp(0.0, 1.0);
        let unavailable_share = self.settings.unavailable_share.clamp(0.0, 1.0);
        if drop_share == 0.0 && unavailable_share == 0.0 {
            return None;
        }
        let x = self.rng.next_f64();
        if x < drop_share {
            Some(Fault::Drop)
        } else if x < drop_share + unavailable_share {
            Some(Fault::Unavailable)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_faults_come_first_in_queue_order() {
        let mut faults = Faults::new(FaultSettings::default(), 1);
        faults.force(Fault::Unavailable, 2);
        faults.force(Fault::Drop, 1);
        assert_eq!(faults.draw(), Some(Fault::Unavailable));
        assert_eq!(faults.draw(), Some(Fault::Unavailable));
        assert_eq!(faults.draw(), Some(Fault::Drop));
        assert_eq!(faults.draw(), None);
    }

    #[test]
    fn shares_are_roughly_honoured() {
        let settings = FaultSettings {
            unavailable_share: 0.3,
            drop_share: 0.1,
            ..FaultSettings::default()
        };
        let mut faults = Faults::new(settings, 9);
        let draws: Vec<_> = (0..10_000).map(|_| faults.draw()).collect();
        let count = |f| draws.iter().filter(|d| **d == Some(f)).count();
        assert!((2700..3300).contains(&count(Fault::Unavailable)));
        assert!((800..1200).contains(&count(Fault::Drop)));
    }
}
