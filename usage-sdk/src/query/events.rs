//! The operational events queries, checked before anything is sent: [`EventQuery`] is the body
//! of `POST /api/v2/usage/events/query` (with the [`EventPageSize`] its pages are read with, a
//! query parameter), and the counts per definition take just an [`Interval`].
//!
//! How far back Genesys keeps events is not documented (reference §11): the interval is not
//! checked for age here, the lenient reading; the server's `usage.events.too.old` comes back
//! as [`Error::EventsTooOld`].

use std::fmt;
use std::str::FromStr;

use crate::model::error::Error;
use crate::model::ids::EventDefinitionId;
use crate::model::types;
use crate::query::jobs::SortOrder;
use crate::query::legacy::{Interval, check_unique};

/// How many events one page holds: 1 to 200 ("Maximum of 200"). The wire parameter is a
/// string; it is checked here as a number before anything is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventPageSize(u8);

impl EventPageSize {
    /// The largest page the server serves.
    pub const MAX: EventPageSize = EventPageSize(200);

    /// A page size, checked: 1 to 200.
    pub fn new(events: u32) -> Result<Self, Error> {
        match u8::try_from(events) {
            Ok(events @ 1..=200) => Ok(Self(events)),
            _ => Err(Error::invalid(
                "pageSize",
                format!(
                    "{events} is out of range; the events query serves 1 to 200 events per page"
                ),
            )),
        }
    }

    /// The number of events.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl Default for EventPageSize {
    /// 25, the page size of Genesys' listings when none is given (the events query does not
    /// document its own default).
    fn default() -> Self {
        Self(25)
    }
}

impl FromStr for EventPageSize {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let events = s.trim().parse::<u32>().map_err(|_| {
            Error::invalid("pageSize", format!("{s:?} is not a number from 1 to 200"))
        })?;
        Self::new(events)
    }
}

impl fmt::Display for EventPageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The longest `searchTerm` sent; the API gives no limit, this one only keeps a runaway
/// argument out of a request body.
const MAX_SEARCH_TERM: usize = 1000;

/// A query of operational events: an interval, optionally narrowed to some definitions and to
/// events containing a search term, newest first unless [`SortOrder::Asc`] is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventQuery {
    interval: Interval,
    definitions: Vec<EventDefinitionId>,
    search_term: Option<String>,
    sort_order: Option<SortOrder>,
    page_size: EventPageSize,
}

impl EventQuery {
    /// A builder for the events of `interval`.
    pub fn builder(interval: Interval) -> EventQueryBuilder {
        EventQueryBuilder(EventQuery {
            interval,
            definitions: Vec::new(),
            search_term: None,
            sort_order: None,
            page_size: EventPageSize::default(),
        })
    }

    /// The interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// The page size the events are read with.
    pub fn page_size(&self) -> EventPageSize {
        self.page_size
    }

    /// The request body.
    pub fn to_raw(&self) -> types::EventQueryRequest {
        types::EventQueryRequest {
            interval: self.interval.to_string(),
            event_definition_ids: self
                .definitions
                .iter()
                .map(|id| id.as_str().to_owned())
                .collect(),
            search_term: self.search_term.clone(),
            sort_order: self.sort_order.map(|order| match order {
                SortOrder::Asc => types::EventQueryRequestSortOrder::Asc,
                SortOrder::Desc => types::EventQueryRequestSortOrder::Desc,
            }),
        }
    }
}

/// Builds an [`EventQuery`].
#[derive(Clone, Debug)]
#[must_use]
pub struct EventQueryBuilder(EventQuery);

impl EventQueryBuilder {
    /// Only events of these definitions (`eventDefinitionIds`); all when none is given.
    pub fn definitions(mut self, ids: impl IntoIterator<Item = EventDefinitionId>) -> Self {
        self.0.definitions = ids.into_iter().collect();
        self
    }

    /// Only events containing `term` (`searchTerm`).
    pub fn search_term(mut self, term: impl Into<String>) -> Self {
        self.0.search_term = Some(term.into());
        self
    }

    /// Oldest first ([`SortOrder::Asc`]) or newest first ([`SortOrder::Desc`], the API's
    /// default).
    pub fn sort_order(mut self, order: SortOrder) -> Self {
        self.0.sort_order = Some(order);
        self
    }

    /// Events per page (25 unless set).
    pub fn page_size(mut self, page_size: EventPageSize) -> Self {
        self.0.page_size = page_size;
        self
    }

    /// Checks the query: no definition twice, a search term that is not blank, without
    /// control characters, and at most 1000 bytes.
    pub fn build(self) -> Result<EventQuery, Error> {
        let query = self.0;
        check_unique("eventDefinitionIds", &query.definitions)?;
        if let Some(term) = &query.search_term {
            if term.trim().is_empty() {
                return Err(Error::invalid(
                    "searchTerm",
                    "is blank; leave it out to match every event",
                ));
            }
            if term.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "searchTerm",
                    format!("{term:?} contains control characters"),
                ));
            }
            if term.len() > MAX_SEARCH_TERM {
                return Err(Error::invalid(
                    "searchTerm",
                    format!(
                        "is {} bytes long; at most {MAX_SEARCH_TERM} are sent",
                        term.len()
                    ),
                ));
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval() -> Interval {
        "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn page_sizes_outside_1_to_200_are_refused_naming_the_range() {
        for bad in [0, 201, 256, 1000, u32::MAX] {
            let err = EventPageSize::new(bad).unwrap_err();
            assert!(err.to_string().contains("1 to 200"), "{err}");
            assert!(err.to_string().contains("pageSize"), "{err}");
        }
        assert_eq!(EventPageSize::new(1).unwrap().get(), 1);
        assert_eq!(EventPageSize::new(200).unwrap(), EventPageSize::MAX);
        assert_eq!(" 50 ".parse::<EventPageSize>().unwrap().get(), 50);
        assert!("fifty".parse::<EventPageSize>().is_err());
    }

    #[test]
    fn the_body_carries_every_filter_in_the_wire_vocabulary() {
        let ids = ["a", "b"].map(|id| EventDefinitionId::new(id).unwrap());
        let query = EventQuery::builder(interval())
            .definitions(ids)
            .search_term("timeout")
            .sort_order(SortOrder::Asc)
            .build()
            .unwrap();
        assert_eq!(
            serde_json::to_value(query.to_raw()).unwrap(),
            serde_json::json!({
                "interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z",
                "eventDefinitionIds": ["a", "b"],
                "searchTerm": "timeout",
                "sortOrder": "ASC",
            })
        );
        let plain = EventQuery::builder(interval()).build().unwrap();
        assert_eq!(
            serde_json::to_value(plain.to_raw()).unwrap(),
            serde_json::json!({"interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z"})
        );
    }

    #[test]
    fn bad_filters_are_refused_before_sending() {
        let id = EventDefinitionId::new("a").unwrap();
        let twice = EventQuery::builder(interval())
            .definitions([id.clone(), id])
            .build()
            .unwrap_err();
        assert!(twice.to_string().contains("listed twice"), "{twice}");
        for (term, says) in [
            ("  ", "blank"),
            ("a\nb", "control"),
            (&"x".repeat(1001), "at most 1000"),
        ] {
            let err = EventQuery::builder(interval())
                .search_term(term)
                .build()
                .unwrap_err();
            assert!(err.to_string().contains("searchTerm"), "{err}");
            assert!(err.to_string().contains(says), "{err}");
        }
    }
}
