//! [`Rows`]: the rows of a paged result as one async stream, for every paged operation.
//!
//! The next page is fetched only when the consumer has taken every row of the current one, so
//! at most one page is held in memory. A page is a GET, retried by the transport like any
//! other; rows are handed out only once their whole page has been read and decoded, so a
//! retried page never duplicates or drops rows.
//!
//! Paging always ends: a cursor already followed in the same result (a server whose cursors
//! cycle, `c1 → c0 → c1 → …`) is an error, and [`Rows::max_pages`] / [`Rows::max_rows`] cap
//! how far a caller is willing to read.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::model::error::{Error, PagingLimit};

/// One page of rows and the cursor of the next, if any.
pub(crate) struct Page<R> {
    pub(crate) rows: Vec<R>,
    /// The `after` cursor of the next page; `None` on the last.
    pub(crate) next: Option<String>,
}

/// One page of a [`Rows`] stream ([`Rows::try_next_page`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RowsPage<R> {
    /// The page's rows (those not yet read one by one).
    pub rows: Vec<R>,
    /// The cursor to read on from after this page ([`crate::UsageClient::rows_after`]);
    /// `None` after the last page.
    pub next: Option<String>,
}

type PageFuture<R> = Pin<Box<dyn Future<Output = Result<Page<R>, Error>> + Send>>;
type FetchPage<R> = Box<dyn FnMut(String) -> PageFuture<R> + Send>;

/// The rows of a paged result, across pages, as a [`Stream`] of `Result<R, Error>`.
///
/// Use it with any stream combinator (`futures::StreamExt::next`, `try_collect`, ...), or with
/// [`Rows::try_next`], [`Rows::try_collect`] and [`Rows::try_next_page`] without one. After an error the stream ends.
#[must_use = "a stream does nothing unless polled"]
pub struct Rows<R> {
    current: std::vec::IntoIter<R>,
    /// The cursor of the next page to fetch, kept while that page is in flight.
    next: Option<String>,
    /// Every cursor followed so far: a page pointing back at one of them would start a cycle.
    /// One short string per page, far less than the page itself.
    followed: HashSet<String>,
    fetch: FetchPage<R>,
    in_flight: Option<PageFuture<R>>,
    operation: &'static str,
    pages: u32,
    /// Rows handed out so far.
    rows: u64,
    max_pages: Option<u32>,
    max_rows: Option<u64>,
    done: bool,
}

impl<R> fmt::Debug for Rows<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("operation", &self.operation)
            .field("rows_left_in_page", &self.current.len())
            .field("pages_fetched", &self.pages)
            .field("rows_returned", &self.rows)
            .field("more_pages", &self.next.is_some())
            .field("max_pages", &self.max_pages)
            .field("max_rows", &self.max_rows)
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
            followed: HashSet::new(),
            fetch: Box::new(fetch),
            in_flight: None,
            operation,
            pages: 1,
            rows: 0,
            max_pages: None,
            max_rows: None,
            done: false,
        }
    }

    /// Ends the stream with [`Error::PagingLimitExceeded`] instead of fetching a page beyond
    /// the `max`th (the first page counts). For callers that must bound the requests one
    /// result may cost; by default there is no limit (cursor cycles still end the stream).
    pub fn max_pages(mut self, max: u32) -> Self {
        self.max_pages = Some(max);
        self
    }

    /// Ends the stream with [`Error::PagingLimitExceeded`] instead of handing out a row
    /// beyond the `max`th. For callers that keep every row in memory; by default there is no
    /// limit.
    pub fn max_rows(mut self, max: u64) -> Self {
        self.max_rows = Some(max);
        self
    }

    /// The next row, `Ok(None)` after the last one (and after an error), as
    /// `futures::TryStreamExt::try_next` does.
    pub fn try_next(&mut self) -> impl Future<Output = Result<Option<R>, Error>> + Send + '_ {
        // Not an `async fn` around `poll_next`: each layer (its `Option<Result>`, the
        // transpose, the async body's output) moved the row again, and rows are large.
        std::future::poll_fn(move |cx| self.poll_row(cx))
    }

    /// Reads every remaining row into memory, as `futures::TryStreamExt::try_collect` does.
    /// For small results: a large one is better consumed row by row.
    pub async fn try_collect(mut self) -> Result<Vec<R>, Error> {
        let mut rows = Vec::with_capacity(self.current.len());
        while let Some(row) = self.try_next().await? {
            rows.push(row);
        }
        Ok(rows)
    }

    /// The rest of the current page (or the next page, once the current one is read), with
    /// the cursor to resume from after it ([`crate::UsageClient::rows_after`]); `Ok(None)`
    /// after the last page. For readers that checkpoint: store `next` once the page's rows
    /// are safely kept, and a restart neither repeats nor skips a row.
    pub async fn try_next_page(&mut self) -> Result<Option<RowsPage<R>>, Error> {
        // Reads one row to make the stream fetch the next page when the current one is
        // spent, then hands out that row with the rest of its page.
        let Some(first) = self.try_next().await? else {
            return Ok(None);
        };
        // Within max_rows: a row beyond it stays for try_next to refuse.
        let allowed = self
            .max_rows
            .map_or(usize::MAX, |max| max.saturating_sub(self.rows) as usize);
        let mut rows = Vec::with_capacity(self.current.len().min(allowed) + 1);
        rows.push(first);
        rows.extend(self.current.by_ref().take(allowed));
        self.rows += rows.len() as u64 - 1;
        Ok(Some(RowsPage {
            rows,
            next: self.next.clone(),
        }))
    }

    /// How many pages have been fetched so far (the first included).
    pub fn pages_fetched(&self) -> u32 {
        self.pages
    }

    /// How many rows have been handed out so far.
    pub fn rows_returned(&self) -> u64 {
        self.rows
    }

    /// Ends the stream with `error`.
    fn fail(&mut self, error: Error) -> Poll<Result<Option<R>, Error>> {
        self.done = true;
        self.next = None;
        self.in_flight = None;
        self.current = Vec::new().into_iter();
        Poll::Ready(Err(error))
    }

    /// The next row, fetching the next page when the current one is spent: the one body of
    /// [`Rows::try_next`] and [`Stream::poll_next`].
    fn poll_row(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<R>, Error>> {
        loop {
            if self.current.len() > 0 {
                if self.max_rows.is_some_and(|max| self.rows >= max) {
                    let limit = PagingLimit::Rows(self.rows);
                    return self.fail(Error::PagingLimitExceeded {
                        operation: self.operation,
                        limit,
                    });
                }
                if let Some(row) = self.current.next() {
                    self.rows += 1;
                    return Poll::Ready(Ok(Some(row)));
                }
            }
            if self.done {
                return Poll::Ready(Ok(None));
            }
            if self.in_flight.is_none() {
                let Some(cursor) = &self.next else {
                    self.done = true;
                    return Poll::Ready(Ok(None));
                };
                if self.max_pages.is_some_and(|max| self.pages >= max) {
                    let limit = PagingLimit::Pages(self.pages);
                    return self.fail(Error::PagingLimitExceeded {
                        operation: self.operation,
                        limit,
                    });
                }
                // Any cursor seen before in self result starts a cycle (the self-loop
                // `c1 → c1` and the longer `c1 → c0 → c1` alike): an error, not a silent end
                // and not an endless read.
                if !self.followed.insert(cursor.clone()) {
                    let what = format!(
                        "the cursor {:?} after page {} was already followed: the result's \
                         cursors form a cycle",
                        crate::model::error::snippet(cursor.as_bytes(), 100),
                        self.pages
                    );
                    return self.fail(Error::unusable_response(self.operation, what));
                }
                // The spent page's buffer goes before the next page arrives, not after: one
                // page in memory at a time, and its space is there for the next to reuse.
                self.current = Vec::new().into_iter();
                self.in_flight = Some((self.fetch)(cursor.clone()));
            }
            let in_flight = self.in_flight.as_mut().expect("set above");
            let page = match in_flight.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(page) => page,
            };
            self.in_flight = None;
            match page {
                Ok(page) => {
                    self.pages += 1;
                    // An empty page ends the result, whatever cursor it carries.
                    self.next = page.next.filter(|_| !page.rows.is_empty());
                    self.current = page.rows.into_iter();
                }
                Err(error) => return self.fail(error),
            }
        }
    }
}

impl<R> Unpin for Rows<R> {}

impl<R: Send + 'static> Stream for Rows<R> {
    type Item = Result<R, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_row(cx).map(Result::transpose)
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
                    crate::model::error::snippet(next_uri.as_bytes(), 200)
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
        assert_eq!(rows.try_next().await.unwrap().unwrap(), 1);
        assert_eq!(rows.try_next().await.unwrap().unwrap(), 2);
        assert_eq!(fetched.load(Ordering::SeqCst), 0);
        assert_eq!(rows.try_next().await.unwrap().unwrap(), 3);
        assert_eq!(fetched.load(Ordering::SeqCst), 1);
        assert!(rows.try_next().await.unwrap().is_none());
        assert!(rows.try_next().await.unwrap().is_none());
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
        assert_eq!(rows.try_next().await.unwrap().unwrap(), 1);
        // Page p2 was read once, legitimately; following it again is refused.
        assert_eq!(rows.try_next().await.unwrap().unwrap(), 2);
        let err = rows.try_next().await.unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("already followed") && message.contains("p2"),
            "{message}"
        );
        // The body was valid JSON: the message says what is wrong with it, not "body starts".
        assert!(
            message.contains("unusable response") && !message.contains("body starts"),
            "{message}"
        );
        assert!(rows.try_next().await.unwrap().is_none());
    }

    /// A scripted result: `next[cursor]` is the cursor the page fetched with `cursor` points
    /// at; every page holds one row, its cursor.
    fn scripted(first_next: &str, links: &'static [(&'static str, &'static str)]) -> Rows<String> {
        Rows::new(
            "op",
            Page {
                rows: vec!["p0".to_string()],
                next: Some(first_next.to_string()),
            },
            move |cursor| {
                let next = links
                    .iter()
                    .find(|(from, _)| *from == cursor)
                    .map(|(_, to)| to.to_string());
                Box::pin(async move {
                    Ok(Page {
                        rows: vec![cursor],
                        next,
                    })
                })
            },
        )
    }

    async fn drain(mut rows: Rows<String>) -> (Vec<String>, Option<Error>) {
        let mut seen = Vec::new();
        loop {
            match rows.try_next().await {
                Ok(Some(row)) => seen.push(row),
                Ok(None) => return (seen, None),
                Err(error) => {
                    assert!(
                        rows.try_next().await.unwrap().is_none(),
                        "the stream ends after an error"
                    );
                    return (seen, Some(error));
                }
            }
        }
    }

    #[tokio::test]
    async fn a_cursor_cycle_of_any_length_is_an_error_after_each_page_is_read_once() {
        // p0 → c1 → c0 → c1 → …: the server, which kept a report running forever.
        let (rows, error) = drain(scripted("c1", &[("c1", "c0"), ("c0", "c1")])).await;
        assert_eq!(rows, ["p0", "c1", "c0"]);
        let message = error.expect("a cycle is an error").to_string();
        assert!(
            message.contains("cycle") && message.contains("\"c1\""),
            "{message}"
        );
        // A longer cycle back to the first cursor.
        let (rows, error) = drain(scripted(
            "a",
            &[("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")],
        ))
        .await;
        assert_eq!(rows, ["p0", "a", "b", "c", "d"]);
        assert!(matches!(error, Some(Error::Decode(_))));
        // A chain that ends is read to its end.
        let (rows, error) = drain(scripted("a", &[("a", "b")])).await;
        assert_eq!(rows, ["p0", "a", "b"]);
        assert!(error.is_none());
    }

    #[tokio::test]
    async fn page_and_row_limits_end_the_stream_with_a_typed_error_at_exactly_the_limit() {
        const CHAIN: &[(&str, &str)] = &[("a", "b"), ("b", "c"), ("c", "d")];
        // Four pages exist; three are allowed: every row of the three, then the error,
        // without fetching the fourth.
        let (rows, error) = drain(scripted("a", CHAIN).max_pages(3)).await;
        assert_eq!(rows, ["p0", "a", "b"]);
        match error {
            Some(Error::PagingLimitExceeded {
                limit: PagingLimit::Pages(3),
                ..
            }) => {}
            other => panic!("expected the page limit, got {other:?}"),
        }
        // A limit the result fits in exactly is no error.
        let (rows, error) = drain(scripted("a", CHAIN).max_pages(5)).await;
        assert_eq!((rows.len(), error.is_none()), (5, true));
        let (rows, error) = drain(scripted("a", CHAIN).max_rows(5)).await;
        assert_eq!((rows.len(), error.is_none()), (5, true));
        let (rows, error) = drain(scripted("a", CHAIN).max_rows(2)).await;
        assert_eq!(rows, ["p0", "a"]);
        let error = error.expect("the row limit is an error");
        assert!(matches!(
            error,
            Error::PagingLimitExceeded {
                limit: PagingLimit::Rows(2),
                ..
            }
        ));
        assert!(error.to_string().contains("more than 2 row(s)"), "{error}");
    }

    #[tokio::test]
    async fn the_page_view_gives_each_pages_rows_and_the_cursor_to_resume_from() {
        const CHAIN: &[(&str, &str)] = &[("a", "b")];
        let mut rows = scripted("a", CHAIN);
        // One row read alone: the page view hands out the rest of that page.
        assert_eq!(rows.try_next().await.unwrap().as_deref(), Some("p0"));
        let page = rows.try_next_page().await.unwrap().unwrap();
        assert_eq!(
            (page.rows, page.next.as_deref()),
            (vec!["a".to_string()], Some("b"))
        );
        let page = rows.try_next_page().await.unwrap().unwrap();
        assert_eq!((page.rows, page.next), (vec!["b".to_string()], None));
        assert!(rows.try_next_page().await.unwrap().is_none());
        assert_eq!(rows.rows_returned(), 3);
        // The page view keeps to max_rows too.
        let mut rows = scripted("a", CHAIN).max_rows(1);
        assert_eq!(rows.try_next_page().await.unwrap().unwrap().rows, ["p0"]);
        assert!(rows.try_next_page().await.is_err());
    }
}
