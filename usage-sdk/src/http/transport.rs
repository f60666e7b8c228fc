//! Sending one request: retries with backoff and `Retry-After`, pacing after a 429, a size
//! limit on bodies, and a tracing span per attempt, recording what the attempts saw. Used by
//! the generated client's hooks (`hooks.rs`) and by the token request.

use std::fmt;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Method, Request, Response, ResponseBuilderExt, StatusCode};
use tracing::Instrument;

use crate::http::config::Config;
use crate::http::retry::{Decision, GiveUp, Outcome, TransportFailure, parse_retry_after};
use crate::http::throttle::Throttle;

/// What the attempts of one call saw; read when mapping a failure to [`crate::Error`].
#[derive(Debug, Default)]
pub(crate) struct Attempts(Mutex<AttemptRecord>);

#[derive(Debug, Default, Clone)]
pub(crate) struct AttemptRecord {
    pub(crate) count: u32,
    pub(crate) status: Option<StatusCode>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) gave_up: Option<GiveUpReason>,
}

/// Why the retry loop stopped on a failure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum GiveUpReason {
    RetryAfterTooLong(Duration),
    Exhausted,
}

impl Attempts {
    pub(crate) fn snapshot(&self) -> AttemptRecord {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AttemptRecord> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The memory of the last body read whole, kept for the next one. A page of rows is a body
/// of a few hundred KB, read into one buffer: a fresh buffer per page made the allocator hand
/// back and fault in that much memory again on every page (streaming 1,000 pages of 1,000
/// rows, `USAGE_SDK_BENCH_ONLY="sdk 1000000"` on the stream benchmark under `/usr/bin/time`:
/// 35k-146k minor page faults, 3.6k-8.6k with the buffer reused, ~3.3k of them start-up). A buffer still referenced elsewhere is left alone;
/// one below [`BodyBuffer::KEEP_AT_LEAST`] or grown past [`BodyBuffer::KEEP_AT_MOST`] is not
/// kept. Per client, so it goes with it.
#[derive(Debug, Default)]
pub(crate) struct BodyBuffer(Mutex<Option<Bytes>>);

impl BodyBuffer {
    /// The smallest body worth keeping: below it a fresh buffer costs less than holding one
    /// (the allocator serves small sizes from memory it keeps anyway).
    const KEEP_AT_LEAST: usize = 64 << 10;

    /// The largest buffer kept between calls: one unusually large body is not held for the
    /// life of the client. Also the most reserved ahead of a body on its Content-Length's word.
    const KEEP_AT_MOST: usize = 4 << 20;

    /// An empty buffer: the last body's memory if nothing else holds it any more.
    fn take(&self) -> BytesMut {
        let last = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        match last.map(Bytes::try_into_mut) {
            Some(Ok(mut buffer)) if buffer.capacity() <= Self::KEEP_AT_MOST => {
                buffer.clear();
                buffer
            }
            _ => BytesMut::new(),
        }
    }

    /// Keeps `body` (a reference: the caller reads it too) for the next [`BodyBuffer::take`],
    /// if it is large enough to be worth it and small enough not to hold on to.
    fn keep(&self, body: &Bytes) {
        if !(Self::KEEP_AT_LEAST..=Self::KEEP_AT_MOST).contains(&body.len()) {
            return;
        }
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(body.clone());
    }
}

/// The POSTs that only read (the operational events queries: a body instead of query
/// parameters, nothing created on the server), so they may be repeated after the server might
/// have acted, like a GET. Every other POST submits a query execution or job, and a repeat
/// would submit it twice.
const READ_ONLY_POSTS: &[&str] = &[
    "post_usage_events_query",
    "post_usage_events_aggregates_query",
];

/// Sends `request`, retrying as the config's [`crate::RetryPolicy`] allows, and returns the
/// last response or transport error. Retryable statuses that run out of attempts come back as
/// responses, so the caller sees the server's own error body. A body read here (see below)
/// goes into the buffer of `bodies`, if given.
pub(crate) async fn send(
    http: &reqwest::Client,
    request: Request,
    operation: &'static str,
    config: &Config,
    attempts: &Attempts,
    throttle: Option<&Throttle>,
    bodies: Option<&BodyBuffer>,
) -> reqwest::Result<Response> {
    let policy = &config.retry;
    let clock = &config.clock;
    let idempotent = request.method() == Method::GET || READ_ONLY_POSTS.contains(&operation);
    let started = clock.now();
    let mut pending = Some(request);
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let current = pending.take().expect("a request is pending while looping");
        // Keep a copy only if another attempt may follow (bodies here are always buffered).
        if attempt < policy.max_attempts {
            pending = current.try_clone();
        }
        let span = tracing::debug_span!(
            "usage_sdk.attempt",
            operation,
            attempt,
            status = tracing::field::Empty,
            correlation_id = tracing::field::Empty,
        );
        let ticket = match throttle {
            Some(throttle) => Some(throttle.acquire(clock.as_ref()).await),
            None => None,
        };
        // Counted as it goes out: every `send` of the call, a resend after a 401 renewal
        // included (a second `send` on the same record), as `ApiError::attempts` says.
        attempts.lock().count += 1;
        let result = http.execute(current).instrument(span.clone()).await;
        // Parsed once, against the client's clock (an HTTP-date counts from its wall time).
        let retry_after = result
            .as_ref()
            .ok()
            .and_then(|response| parse_retry_after(response.headers(), clock.wall_now()));
        if let (Some(throttle), Some(ticket), Ok(response)) = (throttle, ticket, &result) {
            throttle.observe(ticket, response.status(), retry_after, clock.now());
        }
        let result = match result {
            Ok(response) => {
                let record = record_response(attempts, &response, retry_after);
                span.record("status", response.status().as_u16());
                if let Some(id) = &record {
                    span.record("correlation_id", id.as_str());
                }
                let response = limit_body(response, config.max_response_size);
                // A GET's body is read inside the attempt, so a connection dropped or stalled
                // mid-body is retried like any other transport failure (the generated client
                // would read it after this loop, out of reach of retries). A POST's body is
                // left to the caller: its request is never re-sent once it may have been
                // processed.
                if idempotent {
                    read_whole(response, bodies).instrument(span.clone()).await
                } else {
                    Ok(response)
                }
            }
            Err(error) => Err(error),
        };
        let outcome = match &result {
            Ok(response) => Outcome::Status(response.status(), retry_after),
            // The same request would get the same body: not retried.
            Err(error) if body_too_large(error).is_some() => return result,
            Err(error) => {
                span.in_scope(|| tracing::debug!(error = %error, "attempt failed in transport"));
                Outcome::Transport(TransportFailure::of(error))
            }
        };
        let decision = if pending.is_none() && attempt < policy.max_attempts {
            Decision::GiveUp(GiveUp::NotRetryable)
        } else {
            policy.decide(outcome, idempotent, attempt)
        };
        let wait = match decision {
            Decision::Retry(wait) => wait,
            Decision::GiveUp(reason) => {
                attempts.lock().gave_up = match reason {
                    GiveUp::RetryAfterTooLong(wait) => Some(GiveUpReason::RetryAfterTooLong(wait)),
                    GiveUp::Exhausted => Some(GiveUpReason::Exhausted),
                    GiveUp::NotRetryable => None,
                };
                return result;
            }
        };
        // Checked: a hostile `Retry-After` (u64::MAX seconds) under a raised cap, or an
        // unlimited `max_elapsed`, must not overflow `Instant`. A wait past the end of
        // representable time ends the call; an unrepresentable limit is no limit.
        let resume_at = clock.now().checked_add(wait);
        let limit = started.checked_add(policy.max_elapsed);
        if resume_at.is_none() || limit.is_some_and(|limit| resume_at > Some(limit)) {
            attempts.lock().gave_up = Some(GiveUpReason::Exhausted);
            return result;
        }
        span.in_scope(|| tracing::debug!(wait_ms = wait.as_millis() as u64, "retrying"));
        drop(result);
        clock.sleep(wait).await;
    }
}

/// Reads the whole body of `response` (already size-limited) into a buffer of `bodies`, if
/// given, and hands back an equivalent response holding it, for the generated client to read
/// again at no cost.
async fn read_whole(response: Response, bodies: Option<&BodyBuffer>) -> reqwest::Result<Response> {
    use http_body_util::BodyExt;
    let url = response.url().clone();
    // Room for the announced length, within reason: a server's word is not an allocation.
    let expected = response.content_length().map_or(0, |length| {
        length.min(BodyBuffer::KEEP_AT_MOST as u64) as usize
    });
    let (parts, mut body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let mut buffer = bodies.map_or_else(BytesMut::new, BodyBuffer::take);
    buffer.reserve(expected);
    while let Some(frame) = body.frame().await {
        // Trailers carry no body bytes (`collect().to_bytes()` dropped them too).
        if let Ok(data) = frame?.into_data() {
            buffer.extend_from_slice(&data);
        }
    }
    let bytes = buffer.freeze();
    if let Some(bodies) = bodies {
        bodies.keep(&bytes);
    }
    Ok(rebuild(url, parts, reqwest::Body::from(bytes)))
}

/// A response from the parts of another and a new body (`http::Response` drops the URL, so
/// it is passed back in).
fn rebuild(url: reqwest::Url, parts: http::response::Parts, body: reqwest::Body) -> Response {
    let mut rebuilt = http::Response::builder()
        .url(url)
        .body(body)
        .expect("an empty builder with a body is a valid response");
    *rebuilt.status_mut() = parts.status;
    *rebuilt.version_mut() = parts.version;
    *rebuilt.headers_mut() = parts.headers;
    rebuilt.extensions_mut().extend(parts.extensions);
    Response::from(rebuilt)
}

/// A response body larger than [`crate::ConfigBuilder::max_response_size`]: the error its
/// body yields instead of more bytes, found again in the `reqwest::Error` chain by
/// [`body_too_large`].
#[derive(Debug)]
pub(crate) struct BodyTooLarge {
    pub(crate) limit: u64,
    /// The `Content-Length` when it alone gave the body away (nothing was read then).
    pub(crate) content_length: Option<u64>,
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "response body larger than {} bytes", self.limit)
    }
}

impl std::error::Error for BodyTooLarge {}

/// The [`BodyTooLarge`] behind a body read error, if that is what it was.
pub(crate) fn body_too_large(error: &reqwest::Error) -> Option<&BodyTooLarge> {
    let mut source = std::error::Error::source(error);
    while let Some(error) = source {
        if let Some(too_large) = error.downcast_ref::<BodyTooLarge>() {
            return Some(too_large);
        }
        source = error.source();
    }
    None
}

/// Puts a size limit on the body of `response`, which the generated client reads whole. A
/// `Content-Length` over the limit is refused before any of the body is read (dropping the
/// body closes the connection); a body without one, or a decompressed one, fails as soon
/// as it passes the limit. Either way the read yields [`BodyTooLarge`].
fn limit_body(response: Response, limit: u64) -> Response {
    // Fast path: with a Content-Length within the limit hyper delivers exactly that many
    // bytes (reqwest hides the length of bodies it decompresses), so no wrapper is needed.
    if response
        .content_length()
        .is_some_and(|length| length <= limit)
    {
        return response;
    }
    let url = response.url().clone();
    let declared = response.content_length().filter(|length| *length > limit);
    let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let limited = LimitedBody {
        inner: if declared.is_some() {
            reqwest::Body::from(Vec::new())
        } else {
            body
        },
        limit,
        read: 0,
        refused: declared,
    };
    rebuild(url, parts, reqwest::Body::wrap(limited))
}

struct LimitedBody {
    inner: reqwest::Body,
    limit: u64,
    read: u64,
    refused: Option<u64>,
}

impl http_body::Body for LimitedBody {
    type Data = <reqwest::Body as http_body::Body>::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let too_large = |content_length| {
            Poll::Ready(Some(Err(Box::new(BodyTooLarge {
                limit: this.limit,
                content_length,
            }) as Self::Error)))
        };
        if this.refused.is_some() {
            return too_large(this.refused);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.read += frame.data_ref().map_or(0, |data| data.len() as u64);
                if this.read > this.limit {
                    return too_large(None);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.refused.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        if self.refused.is_some() {
            http_body::SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

/// Records what a response said; returns its correlation id.
fn record_response(
    attempts: &Attempts,
    response: &Response,
    retry_after: Option<Duration>,
) -> Option<String> {
    let correlation_id = correlation_id(response.headers());
    let mut record = attempts.lock();
    record.status = Some(response.status());
    record.correlation_id = correlation_id.clone();
    record.retry_after = retry_after;
    correlation_id
}

/// Parsed once, not on every response.
static CORRELATION_ID: HeaderName = HeaderName::from_static("inin-correlation-id");

pub(crate) fn correlation_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(&CORRELATION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body as read_whole makes one: filled into the taken buffer, frozen, kept.
    fn read_into(bodies: &BodyBuffer, text: &[u8]) -> Bytes {
        let mut buffer = bodies.take();
        buffer.extend_from_slice(text);
        let bytes = buffer.freeze();
        bodies.keep(&bytes);
        bytes
    }

    #[test]
    fn the_next_body_reuses_the_last_ones_memory_once_nothing_else_holds_it() {
        let page = |b: u8| vec![b; BodyBuffer::KEEP_AT_LEAST];
        let bodies = BodyBuffer::default();
        let first = read_into(&bodies, &page(b'a'));
        let address = first.as_ptr();
        // Still held by its reader: the next body gets memory of its own.
        let second = read_into(&bodies, &page(b'b'));
        assert_ne!(second.as_ptr(), address);
        assert_eq!(first[..], page(b'a')[..], "the first body is intact");
        drop((first, second));
        // Released: the next body is read into the same memory, and holds only itself.
        let second_address = read_into(&bodies, &page(b'c')).as_ptr();
        let third = read_into(&bodies, b"third body");
        assert_eq!(third.as_ptr(), second_address);
        assert_eq!(&third[..], b"third body");
    }

    #[test]
    fn a_small_body_is_not_kept() {
        let bodies = BodyBuffer::default();
        drop(read_into(&bodies, b"{}"));
        assert_eq!(bodies.take().capacity(), 0);
    }

    #[test]
    fn a_body_past_the_keeping_limit_is_not_held_once_its_reader_lets_go() {
        let bodies = BodyBuffer::default();
        let big = read_into(&bodies, &vec![0u8; BodyBuffer::KEEP_AT_MOST + 1]);
        // The slot did not take a reference: the reader's is the only one.
        assert!(big.is_unique());
        drop(big);
        assert_eq!(bodies.take().capacity(), 0);
    }
}
