//! The time source and sleep the client waits with, injectable so tests can assert exact
//! waits (retry backoff, `Retry-After`, poll schedules, deadlines, token expiry) without
//! waiting.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
#[cfg(any(test, feature = "test-util"))]
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A boxed sleep future.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the client reads the time and how it waits.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;

    /// The wall-clock time, for HTTP dates (`Retry-After: <date>`). Defaults to the system
    /// time; a test clock moves it with its sleeps.
    fn wall_now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// A future that completes once [`now`](Clock::now) reaches `at`, without counting as a
    /// sleep. Waiters race it against an in-flight request, so an overall deadline holds
    /// whatever the transport is doing. The default waits in real time.
    fn deadline(&self, at: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(at)))
    }
}

/// Real time: `Instant::now` and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

#[cfg(any(test, feature = "test-util"))]
/// A clock for tests: every sleep returns at once, moves the clock forward by its duration
/// and is recorded, so a test can assert the waits the client chose.
#[derive(Debug, Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
#[cfg(any(test, feature = "test-util"))]
struct ManualState {
    start: Instant,
    /// The wall time at `start`.
    wall_start: SystemTime,
    elapsed: Duration,
    sleeps: Vec<Duration>,
    /// Deadlines waiting for the clock to move.
    waiting: Vec<std::task::Waker>,
}

#[cfg(any(test, feature = "test-util"))]
impl ManualState {
    /// Saturates about a century ahead: a test may sleep `Duration::MAX`.
    fn now(&self) -> Instant {
        const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
        self.start + self.elapsed.min(CENTURY)
    }

    fn moved(&mut self) {
        for waker in self.waiting.drain(..) {
            waker.wake();
        }
    }
}

#[cfg(any(test, feature = "test-util"))]
impl ManualClock {
    /// A clock that starts now and only moves when something sleeps or [`advance`](Self::advance) is called.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(ManualState {
                start: Instant::now(),
                // Whole seconds, as HTTP dates are: a date in a test is then exact.
                wall_start: {
                    let since = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .unwrap_or_default();
                    SystemTime::UNIX_EPOCH + Duration::from_secs(since.as_secs())
                },
                elapsed: Duration::ZERO,
                sleeps: Vec::new(),
                waiting: Vec::new(),
            })),
        }
    }

    /// Moves the clock forward without recording a sleep.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.elapsed = state.elapsed.saturating_add(by);
        state.moved();
    }

    /// How far the clock has moved since it was created.
    pub fn elapsed(&self) -> Duration {
        self.lock().elapsed
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.lock().now()
    }

    /// The wall time at creation, moved by the same sleeps and advances as [`Clock::now`].
    fn wall_now(&self) -> SystemTime {
        let state = self.lock();
        state.wall_start + (state.now() - state.start)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut state = self.lock();
        state.elapsed = state.elapsed.saturating_add(duration);
        state.sleeps.push(duration);
        state.moved();
        // Yield once so a sleeping loop still lets other tasks run.
        Box::pin(tokio::task::yield_now())
    }

    /// Completes when sleeps or [`advance`](ManualClock::advance) move the clock to `at`; a
    /// request in flight does not move it.
    fn deadline(&self, at: Instant) -> Sleep {
        let clock = self.clone();
        Box::pin(std::future::poll_fn(move |cx| {
            let mut state = clock.lock();
            if state.now() >= at {
                std::task::Poll::Ready(())
            } else {
                state.waiting.push(cx.waker().clone());
                std::task::Poll::Pending
            }
        }))
    }
}

/// Random jitter without a dependency: a xorshift generator seeded from the standard
/// library's per-process random hasher keys.
pub(crate) fn jitter_fraction() -> f64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(0x9E37_79B9_7F4A_7C15);
            hasher.finish() | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}
