//! The operational events (`/api/v2/usage/events`, permission `usage:events:view`): what went
//! wrong or changed in the organization, when, and how often. Unlike the usage queries they
//! are answered at once (no execution or job, nothing to wait for), so there is no handle:
//! [`UsageClient::events`] gives the four operations, and the events of a query are read as
//! the same [`Rows`] stream as every other kind, paged by the `after` cursor of each page's
//! `nextUri`.
//!
//! ```no_run
//! # async fn run(client: usage_sdk::UsageClient) -> Result<(), usage_sdk::Error> {
//! use usage_sdk::{EventQuery, Interval};
//!
//! let query = EventQuery::builder(Interval::last_full_days(7)?).build()?;
//! let mut events = client.events().rows(&query).await?;
//! while let Some(event) = events.try_next().await? {
//!     println!("{:?} {:?}", event.date_created, event.entity_name);
//! }
//! for count in client.events().counts(query.interval()).await?.event_definition_aggregates {
//!     println!("{:?}: {:?}", count.event_definition, count.event_count);
//! }
//! # Ok(()) }
//! ```

use std::sync::{Arc, LazyLock};

use crate::client::UsageClient;
use crate::model::error::Error;
use crate::model::ids::EventDefinitionId;
use crate::model::types::{
    EventAggregatesQueryRequest, EventAggregatesResponse, EventDefinition, EventQueryRequest,
    EventQueryResponse, OperationalEvent,
};
use crate::query::events::EventQuery;
use crate::query::legacy::Interval;
use crate::wait::paging::{Page, Rows};

const QUERY: &str = "post_usage_events_query";
const COUNTS: &str = "post_usage_events_aggregates_query";

/// The operational events operations ([`UsageClient::events`]).
#[derive(Clone, Copy, Debug)]
pub struct Events<'a> {
    client: &'a UsageClient,
}

impl UsageClient {
    /// The operational events: `client.events().rows(&query)`, `.counts(interval)`,
    /// `.definitions()`, `.definition(&id)`.
    pub fn events(&self) -> Events<'_> {
        Events { client: self }
    }
}

impl Events<'_> {
    /// Every event definition (`GET /api/v2/usage/events/definitions`).
    pub async fn definitions(&self) -> Result<Vec<EventDefinition>, Error> {
        let listing = self
            .client
            .call("get_usage_events_definitions", None, |raw| async move {
                raw.get_usage_events_definitions().await
            })
            .await?;
        Ok(listing.entities)
    }

    /// One event definition (`GET /api/v2/usage/events/definitions/{eventDefinitionId}`); an
    /// unknown id is [`Error::Api`] with status 404 and code `entity.not.found`.
    pub async fn definition(&self, id: &EventDefinitionId) -> Result<EventDefinition, Error> {
        let id = id.as_str();
        self.client
            .call("get_usage_events_definition", Some(id), |raw| async move {
                raw.get_usage_events_definition(id).await
            })
            .await
    }

    /// The events of `query`, page by page (`POST /api/v2/usage/events/query`). A page that
    /// fails is sent again (the query only reads), and its events are handed out only once
    /// it has been read whole, so none is lost or repeated.
    pub async fn rows(&self, query: &EventQuery) -> Result<Rows<OperationalEvent>, Error> {
        self.read(query, None).await
    }

    /// The events of `query` from the page after `cursor` (a [`crate::RowsPage::next`] kept
    /// from an earlier read).
    pub async fn rows_after(
        &self,
        query: &EventQuery,
        cursor: &str,
    ) -> Result<Rows<OperationalEvent>, Error> {
        self.read(query, Some(cursor.to_owned())).await
    }

    /// How many events of each definition occurred in `interval`
    /// (`POST /api/v2/usage/events/aggregates/query`).
    pub async fn counts(&self, interval: Interval) -> Result<EventAggregatesResponse, Error> {
        let body = EventAggregatesQueryRequest {
            interval: interval.to_string(),
        };
        self.client
            .call(COUNTS, None, |raw| async move {
                raw.post_usage_events_aggregates_query(&body).await
            })
            .await
            .map_err(too_old)
    }

    async fn read(
        &self,
        query: &EventQuery,
        after: Option<String>,
    ) -> Result<Rows<OperationalEvent>, Error> {
        // The body and page size are the same on every page: made once, shared by the pages.
        let request = Arc::new(PageRequest {
            body: query.to_raw(),
            page_size: query.page_size().to_string(),
        });
        let first = fetch(self.client, &request, after).await?;
        let client = self.client.clone();
        Ok(Rows::new(QUERY, first, move |cursor| {
            let (client, request) = (client.clone(), request.clone());
            Box::pin(async move { fetch(&client, &request, Some(cursor)).await })
        }))
    }
}

/// What every page of one events query sends.
struct PageRequest {
    body: EventQueryRequest,
    page_size: String,
}

/// One page of events, after `after`.
async fn fetch(
    client: &UsageClient,
    request: &PageRequest,
    after: Option<String>,
) -> Result<Page<OperationalEvent>, Error> {
    let (after, page_size) = (after.as_deref(), Some(request.page_size.as_str()));
    let body = &request.body;
    let response: EventQueryResponse = client
        .call(QUERY, None, |raw| async move {
            raw.post_usage_events_query(after, None, page_size, body)
                .await
        })
        .await
        .map_err(too_old)?;
    let next = next_cursor(response.next_uri.as_deref())?;
    Ok(Page {
        rows: response.entities,
        next,
    })
}

/// The `after` cursor of a page's `nextUri` (relative, as Genesys writes it, or absolute);
/// `None` when there is no next page. A `nextUri` that names no cursor would end the stream
/// silently short, so it is an error instead.
fn next_cursor(next_uri: Option<&str>) -> Result<Option<String>, Error> {
    let Some(next_uri) = next_uri.map(str::trim).filter(|uri| !uri.is_empty()) else {
        return Ok(None);
    };
    // Relative URIs resolve against any base; parsed once for every page of every query.
    static BASE: LazyLock<reqwest::Url> =
        LazyLock::new(|| reqwest::Url::parse("http://localhost/").expect("a valid base URL"));
    let after = BASE.join(next_uri).ok().and_then(|url| {
        url.query_pairs()
            .find(|(name, _)| name == "after")
            .map(|(_, value)| value.into_owned())
    });
    match after {
        Some(after) if !after.is_empty() => Ok(Some(after)),
        _ => Err(Error::unusable_response(
            QUERY,
            format!(
                "the page's nextUri {:?} has no after cursor, so the next page cannot be asked for",
                crate::model::error::snippet(next_uri.as_bytes(), 200)
            ),
        )),
    }
}

/// `usage.events.too.old` as its own error case.
fn too_old(error: Error) -> Error {
    match error {
        Error::Api(api) if api.status == 400 && api.code() == Some("usage.events.too.old") => {
            Error::EventsTooOld(api)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_comes_from_the_after_parameter_of_next_uri() {
        for (uri, cursor) in [
            (
                "/api/v2/usage/events/query?after=c1&pageSize=25",
                Some("c1"),
            ),
            (
                "https://api.mypurecloud.com/api/v2/usage/events/query?pageSize=2&after=a%2Fb%3D",
                Some("a/b="),
            ),
            ("", None),
            ("  ", None),
        ] {
            assert_eq!(
                next_cursor(Some(uri)).unwrap().as_deref(),
                cursor,
                "{uri:?}"
            );
        }
        assert_eq!(next_cursor(None).unwrap(), None);
        for uri in [
            "/api/v2/usage/events/query?pageSize=25",
            "/api/v2/usage/events/query?after=",
        ] {
            let err = next_cursor(Some(uri)).unwrap_err();
            assert!(err.to_string().contains("no after cursor"), "{err}");
        }
    }
}
