//! [`Rows`]: the rows of a paged result as one async stream, for every paged operation.
//!
//! The next page is fetched only when the consumer has taken every row of the current one, so
//! at most one page is held in memory. A page is a GET, retried by the transport like any
//! other; rows are handed out only once their whole page has been read and decoded, so a
//! retried page never duplicates or drops rows.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::Error;

/// One page of rows and the cursor of the next, if any.
pub(crate) struct Page<R> {
    pub(crate) rows: Vec<R>,
    /// The `after` cursor of the next page; `None` on the last.
    pub(crate) next: Option<String>,
}

type PageFuture<R> = Pin<Box<dyn Future<Output = Result<Page<R>, Error>> + Send>>;
type FetchPage<R> = Box<dyn FnMut(String) -> PageFuture<R> + Send>;

/// The rows of a paged result, across pages, as a [`Stream`] of `Result<R, Error>`.
///
/// Use it with any stream combinator (`futures::StreamExt::next`, `try_collect`, ...), or with
/// [`Rows::next_row`] and [`Rows::collect_all`] without one. After an error the stream ends.
#[must_use = "a stream does nothing unless polled"]
pub struct Rows<R> {
    current: std::vec::IntoIter<R>,
    /// The cursor of the next page to fetch, kept while that page is in flight (a page whose
    /// own `next` repeats it is an error).
    next: Option<String>,
    fetch: FetchPage<R>,
    in_flight: Option<PageFuture<R>>,
    operation: &'static str,
    pages: u32,
    done: bool,
}

impl<R> fmt::Debug for Rows<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("operation", &self.operation)
            .field("rows_left_in_page", &self.current.len())
            .field("pages_fetched", &self.pages)
            .field("more_pages", &self.next.is_some())
            .finish_non_exhaustive()
    }
}

impl<R: Send + 'static> Rows<R> {
    /// A stream that starts with `first` and fetches each further page with `fetch(cursor)`.
    pub(crate) fn new(
        operation: &'static str,
        first: Page<R>,
        fetch: impl FnMut(String) -> PageFuture<R> + Send + 'static,
    ) -> Self {
        Self {
            current: first.rows.into_iter(),
            next: first.next,
            fetch: Box::new(fetch),
            in_flight: None,
            operation,
            pages: 1,
            done: false,
        }
    }

    /// The next row, or `None` after the last one (or after an error).
    pub async fn next_row(&mut self) -> Option<Result<R, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Reads every remaining row into memory. For small results: a large one is better
    /// consumed row by row.
    pub async fn collect_all(mut self) -> Result<Vec<R>, Error> {
        let mut rows = Vec::with_capacity(self.current.len());
        while let Some(row) = self.next_row().await {
            rows.push(row?);
        }
        Ok(rows)
    }

    /// How many pages have been fetched so far (the first included).
    pub fn pages_fetched(&self) -> u32 {
        self.pages
    }
}

impl<R> Unpin for Rows<R> {}

impl<R: Send + 'static> Stream for Rows<R> {
    type Item = Result<R, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(row) = this.current.next() {
                return Poll::Ready(Some(Ok(row)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.in_flight.is_none() {
                match &this.next {
                    Some(cursor) => this.in_flight = Some((this.fetch)(cursor.clone())),
                    None => {
                        this.done = true;
                        return Poll::Ready(None);
                    }
                }
            }
            let in_flight = this.in_flight.as_mut().expect("set above");
            let page = match in_flight.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(page) => page,
            };
            this.in_flight = None;
            match page {
                // A page that points at the cursor it was fetched with would be served
                // forever: an error for every paged operation, not a silent end.
                Ok(page) if page.next == this.next => {
                    this.done = true;
                    let cursor = this.next.take().unwrap_or_default();
                    return Poll::Ready(Some(Err(Error::unusable_response(
                        this.operation,
                        format!(
                            "the next page's cursor repeats the cursor {cursor:?} it was fetched with"
                        ),
                    ))));
                }
                Ok(page) => {
                    this.pages += 1;
                    // An empty page ends the result, whatever cursor it carries: following
                    // cursors of empty pages could loop forever.
                    this.next = page.next.filter(|_| !page.rows.is_empty());
                    this.current = page.rows.into_iter();
                }
                Err(error) => {
                    this.done = true;
                    this.next = None;
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let here = self.current.len();
        if self.done || (self.next.is_none() && self.in_flight.is_none()) {
            (here, Some(here))
        } else {
            (here, None)
        }
    }
}

/// The `after` cursor of a `nextUri` such as
/// `/api/v2/usage/aggregates/query/jobs/{id}?pageSize=100&after=abc`. The form of `nextUri` is
/// not documented; its parameters are the results GET's, so the cursor is read from `after`.
pub(crate) fn after_cursor(operation: &'static str, next_uri: &str) -> Result<String, Error> {
    let base = reqwest::Url::parse("http://base.invalid/").expect("a valid URL");
    base.join(next_uri)
        .ok()
        .and_then(|url| {
            url.query_pairs()
                .find(|(key, _)| key == "after")
                .map(|(_, value)| value.into_owned())
        })
        .filter(|cursor| !cursor.is_empty())
        .ok_or_else(|| {
            Error::unusable_response(
                operation,
                format!(
                    "nextUri {:?} has no after cursor to follow",
                    crate::error::snippet(next_uri.as_bytes(), 200)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_read_from_next_uri_in_any_form() {
        for uri in [
            "/api/v2/usage/aggregates/query/jobs/j1?pageSize=100&after=abc%3D%3D",
            "https://api.mypurecloud.com/api/v2/usage/aggregates/query/jobs/j1?after=abc%3D%3D",
            "?after=abc==",
        ] {
            assert_eq!(after_cursor("op", uri).unwrap(), "abc==", "{uri}");
        }
        for bad in ["/api/v2/jobs/j1?pageSize=100", "/x?after=", ""] {
            assert!(
                matches!(after_cursor("op", bad), Err(Error::Decode(_))),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn pages_are_fetched_only_when_their_rows_are_wanted() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};
        let fetched = Arc::new(AtomicU32::new(0));
        let counter = fetched.clone();
        let mut rows = Rows::new(
            "op",
            Page {
                rows: vec![1, 2],
                next: Some("p2".into()),
            },
            move |cursor| {
                counter.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    Ok(match cursor.as_str() {
                        "p2" => Page {
                            rows: vec![3],
                            next: Some("p3".into()),
                        },
                        // An empty page ends the stream even with a cursor.
                        _ => Page {
                            rows: vec![],
                            next: Some("p4".into()),
                        },
                    })
                })
            },
        );
        assert_eq!(rows.next_row().await.unwrap().unwrap(), 1);
        assert_eq!(rows.next_row().await.unwrap().unwrap(), 2);
        assert_eq!(fetched.load(Ordering::SeqCst), 0);
        assert_eq!(rows.next_row().await.unwrap().unwrap(), 3);
        assert_eq!(fetched.load(Ordering::SeqCst), 1);
        assert!(rows.next_row().await.is_none());
        assert!(rows.next_row().await.is_none());
        assert_eq!(fetched.load(Ordering::SeqCst), 2);
        assert_eq!(rows.pages_fetched(), 3);
    }

    #[tokio::test]
    async fn a_cursor_that_repeats_itself_is_an_error_not_a_loop() {
        let mut rows = Rows::new(
            "op",
            Page {
                rows: vec![1],
                next: Some("p2".into()),
            },
            |cursor| {
                Box::pin(async move {
                    Ok(Page {
                        rows: vec![2],
                        next: Some(cursor),
                    })
                })
            },
        );
        assert_eq!(rows.next_row().await.unwrap().unwrap(), 1);
        let err = rows.next_row().await.unwrap().unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("repeats the cursor") && message.contains("p2"),
            "{message}"
        );
        // The body was valid JSON: the message says what is wrong with it, not "body starts".
        assert!(
            message.contains("unusable response") && !message.contains("body starts"),
            "{message}"
        );
        assert!(rows.next_row().await.is_none());
    }
}
