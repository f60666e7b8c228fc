//! Per-token rate limiting.
//!
//! The model is a token bucket per access token: it holds up to `limit` requests and refills
//! continuously at `limit / window` (the Genesys default, 300 per 60 s, refills 5 per second).
//! A fresh token can burst `limit` requests at once; after that it can sustain the refill
//! rate indefinitely, so a configured 3000 per 60 s drives a steady 50 requests per second.
//!
//! The `inin-ratelimit-*` headers describe the bucket after the request: `count` = requests
//! in use (capacity minus what is left, rounded up), `allowed` = the limit, `reset` = whole
//! seconds until the bucket is full again. A 429's `Retry-After` is the whole number of
//! seconds (at least 1) until one request fits.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// The outcome of [`RateLimiter::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) allowed: bool,
    pub(crate) count: u64,
    pub(crate) limit: u64,
    pub(crate) reset_secs: u64,
    /// Set when `allowed` is false.
    pub(crate) retry_after_secs: u64,
}

#[derive(Debug)]
struct Bucket {
    available: f64,
    updated: Instant,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u64,
    per_sec: f64,
    buckets: HashMap<String, Bucket>,
}

impl RateLimiter {
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        let limit = u64::from(limit.max(1));
        let window = window.as_secs_f64().max(0.001);
        Self {
            limit,
            per_sec: limit as f64 / window,
            buckets: HashMap::new(),
        }
    }

    /// The bucket size.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Takes one request from `key`'s bucket if it has room.
    pub(crate) fn check(&mut self, key: &str, now: Instant) -> Verdict {
        let capacity = self.limit as f64;
        let bucket = self.buckets.entry(key.to_string()).or_insert(Bucket {
            available: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.available = (bucket.available + elapsed * self.per_sec).min(capacity);
        bucket.updated = now;
        let allowed = bucket.available >= 1.0;
        if allowed {
            bucket.available -= 1.0;
        }
        let used = capacity - bucket.available;
        Verdict {
            allowed,
            count: used.ceil() as u64,
            limit: self.limit,
            reset_secs: (used / self.per_sec).ceil() as u64,
            retry_after_secs: if allowed {
                0
            } else {
                ((1.0 - bucket.available) / self.per_sec).ceil().max(1.0) as u64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_bursts_to_its_limit_then_refills_smoothly() {
        let mut limiter = RateLimiter::new(3, Duration::from_secs(3));
        let t0 = Instant::now();
        for n in 1..=3 {
            let v = limiter.check("a", t0);
            assert!(v.allowed);
            assert_eq!(v.count, n);
            assert_eq!(v.limit, 3);
        }
        let refused = limiter.check("a", t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        assert_eq!(refused.reset_secs, 3);
        assert!(limiter.check("b", t0).allowed, "buckets are per token");
        assert!(limiter.check("a", t0 + Duration::from_millis(1000)).allowed);
        assert!(!limiter.check("a", t0 + Duration::from_millis(1500)).allowed);
    }
}
