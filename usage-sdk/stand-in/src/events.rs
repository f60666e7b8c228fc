//! The operational events (`/api/v2/usage/events`): seeded definitions, and events over the
//! seeded days, each a pure function of the seed, the definition and the day (like the
//! usage counts), so the same seed serves the same events whatever day it starts.
//!
//! Genesys does not publish its definition names or how long it keeps events (reference
//! §11): the definitions here are plausible and say they are demo data, and events are kept
//! for [`KEPT_DAYS`] full UTC days before today. An interval that ends before the oldest
//! kept day is 400 `usage.events.too.old`; one that only starts before it gets the days kept
//! (the lenient reading of "doesn't contain any events because it's too far in the past").
//!
//! Pages: `pageSize` (a string on the wire, 1..=200, default 25) and opaque `after` /
//! `before` cursors (an offset and a check derived from the query body, so a cursor of
//! another query is refused), `nextUri` / `previousUri` relative to the API host.

use chrono::{DateTime, Duration as Days, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Value, json};

use super::auth;
use super::data::{Dataset, SplitMix64, mix};
use super::jobs::{interval, object, strings};
use super::paged::page_size;
use super::query::{DataWindow, QueryError};

/// How many full UTC days before today events are kept (Genesys does not say).
pub(crate) const KEPT_DAYS: u32 = 90;
/// `pageSize` when absent; Genesys' listings default to 25.
const DEFAULT_PAGE_SIZE: usize = 25;
/// "Maximum of 200."
const MAX_PAGE_SIZE: usize = 200;

const QUERY_PATH: &str = "/api/v2/usage/events/query";

/// What kind of thing a definition's events are about, which decides their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    /// A data action: an error code.
    DataAction,
    /// An Architect flow: an error code, and the conversation it ran in.
    Flow,
    /// A seeded OAuth client: the client's id and name.
    OAuthClient,
    /// A setting that changed: previous and current values.
    Setting,
    /// A phone number: the number, an external contact.
    PhoneNumber,
}

/// `(name, description, subject, events per day at most)`; every name says it is demo data.
const DEFINITIONS: &[(&str, &str, Subject, u64)] = &[
    (
        "Demo: data action failed",
        "DEMO DATA (usage-sdk stand-in): a data action returned an error.",
        Subject::DataAction,
        6,
    ),
    (
        "Demo: data action timed out",
        "DEMO DATA (usage-sdk stand-in): a data action did not answer in time.",
        Subject::DataAction,
        3,
    ),
    (
        "Demo: Architect flow error",
        "DEMO DATA (usage-sdk stand-in): a flow took its error path.",
        Subject::Flow,
        5,
    ),
    (
        "Demo: OAuth client rate limited",
        "DEMO DATA (usage-sdk stand-in): an OAuth client received 429 responses.",
        Subject::OAuthClient,
        4,
    ),
    (
        "Demo: OAuth client secret rotated",
        "DEMO DATA (usage-sdk stand-in): an OAuth client's secret changed.",
        Subject::OAuthClient,
        1,
    ),
    (
        "Demo: integration setting changed",
        "DEMO DATA (usage-sdk stand-in): an integration's configuration changed.",
        Subject::Setting,
        2,
    ),
    (
        "Demo: outbound number blocked",
        "DEMO DATA (usage-sdk stand-in): a call to a phone number was refused by policy.",
        Subject::PhoneNumber,
        2,
    ),
];

const DATA_ACTIONS: &[&str] = &[
    "Demo CRM contact lookup",
    "Demo order status",
    "Demo ticket create",
];
const FLOWS: &[&str] = &["Demo inbound main menu", "Demo callback scheduler"];
const SETTINGS: &[&str] = &["Demo web services integration", "Demo SMS gateway"];
const ERROR_CODES: &[&str] = &[
    "action.remote.endpoint.failure",
    "action.timeout",
    "flow.error.unhandled",
    "too.many.requests",
];

/// One seeded definition.
#[derive(Clone, Debug)]
pub(crate) struct Definition {
    pub(crate) id: String,
    name: &'static str,
    description: &'static str,
    subject: Subject,
    per_day: u64,
}

/// The seeded definitions and what their events are made from.
#[derive(Clone, Debug)]
pub(crate) struct Events {
    seed: u64,
    pub(crate) definitions: Vec<Definition>,
    /// `(id, name)` of the seeded OAuth clients (the OAuth client events are about them).
    clients: Vec<(String, String)>,
}

impl Events {
    pub(crate) fn generate(seed: u64, data: &Dataset) -> Self {
        let mut rng = SplitMix64::new(seed ^ 0x0e7e_47de_f1a1_7105);
        let definitions = DEFINITIONS
            .iter()
            .map(|&(name, description, subject, per_day)| Definition {
                id: rng.uuid(),
                name,
                description,
                subject,
                per_day,
            })
            .collect();
        let clients = data
            .clients
            .iter()
            .map(|client| (client.id.clone(), client.name.clone()))
            .collect();
        Self {
            seed,
            definitions,
            clients,
        }
    }

    /// `GET /api/v2/usage/events/definitions`.
    pub(crate) fn listing(&self) -> Value {
        json!({ "entities": self.definitions.iter().map(definition_json).collect::<Vec<_>>() })
    }

    /// `GET /api/v2/usage/events/definitions/{id}`, `None` for an unknown id.
    pub(crate) fn definition(&self, id: &str) -> Option<Value> {
        self.definitions
            .iter()
            .find(|d| d.id == id)
            .map(definition_json)
    }

    /// The events of `definition` on `day`, in time order.
    fn day(&self, index: usize, day: NaiveDate) -> Vec<Event> {
        let definition = &self.definitions[index];
        let day_number = day.signed_duration_since(NaiveDate::MIN).num_days() as u64;
        let mut rng = SplitMix64::new(mix(self.seed ^ mix(index as u64 + 1) ^ mix(day_number)));
        let count = rng.below(definition.per_day + 1);
        let mut seconds: Vec<u64> = (0..count).map(|_| rng.below(86_400)).collect();
        seconds.sort_unstable();
        seconds
            .into_iter()
            .map(|second| {
                let at = day.and_time(NaiveTime::MIN).and_utc() + Days::seconds(second as i64);
                Event {
                    definition: index,
                    at,
                    draw: rng.next_u64(),
                }
            })
            .collect()
    }

    /// The events of `definitions` (indexes) whose time lies in `[start, end)`, on the kept
    /// days.
    fn between(
        &self,
        definitions: &[usize],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        window: DataWindow,
    ) -> Vec<Event> {
        let oldest = oldest_kept(window);
        let first = start.date_naive().max(oldest);
        let last = (end.date_naive()).min(window.today - Days::days(1));
        let mut events = Vec::new();
        let mut day = first;
        while day <= last {
            for &index in definitions {
                events.extend(
                    self.day(index, day)
                        .into_iter()
                        .filter(|e| start <= e.at && e.at < end),
                );
            }
            day += Days::days(1);
        }
        // Oldest first; events of one instant in definition order, so pages never overlap.
        events.sort_by_key(|event| (event.at, event.definition));
        events
    }

    fn event_json(&self, event: &Event) -> Value {
        let definition = &self.definitions[event.definition];
        let mut rng = SplitMix64::new(event.draw);
        let pick = |rng: &mut SplitMix64, list: &[&'static str]| {
            list[rng.below(list.len() as u64) as usize]
        };
        let mut map = Map::new();
        map.insert(
            "eventDefinition".into(),
            json!({
                "id": definition.id,
                "selfUri": format!("/api/v2/usage/events/definitions/{}", definition.id),
            }),
        );
        let mut set = |key: &str, value: Value| {
            map.insert(key.into(), value);
        };
        match definition.subject {
            Subject::DataAction => {
                let index = rng.below(DATA_ACTIONS.len() as u64);
                set("entityId", json!(format!("demo-action-{index}")));
                set("entityName", json!(DATA_ACTIONS[index as usize]));
                set("entityVersion", json!((1 + rng.below(4)).to_string()));
                set("errorCode", json!(pick(&mut rng, &ERROR_CODES[..2])));
            }
            Subject::Flow => {
                let index = rng.below(FLOWS.len() as u64);
                set("entityId", json!(format!("demo-flow-{index}")));
                set("entityName", json!(FLOWS[index as usize]));
                set("entityVersion", json!(format!("{}.0", 1 + rng.below(9))));
                set("errorCode", json!("flow.error.unhandled"));
                let conversation = rng.uuid();
                set(
                    "conversation",
                    json!({
                        "id": conversation,
                        "selfUri": format!("/api/v2/conversations/{conversation}"),
                    }),
                );
            }
            Subject::OAuthClient => {
                if let Some((id, name)) = self
                    .clients
                    .get(rng.below(self.clients.len().max(1) as u64) as usize)
                {
                    set("entityId", json!(id));
                    set("entityName", json!(name));
                }
                if definition.per_day > 1 {
                    set("errorCode", json!("too.many.requests"));
                }
            }
            Subject::Setting => {
                let index = rng.below(SETTINGS.len() as u64);
                set("entityId", json!(format!("demo-integration-{index}")));
                set("entityName", json!(SETTINGS[index as usize]));
                let before = rng.below(5);
                set(
                    "previousValue",
                    json!(format!("timeoutSeconds={}", 10 + before)),
                );
                set(
                    "currentValue",
                    json!(format!("timeoutSeconds={}", 20 + before)),
                );
                set("parentEntityId", json!("demo-integrations"));
            }
            Subject::PhoneNumber => {
                // 555-01xx: reserved for fiction.
                set(
                    "phoneNumber",
                    json!(format!("+1555010{:02}", rng.below(100))),
                );
                set("externalContactId", json!(rng.uuid()));
                set("entityName", json!("Demo outbound campaign"));
            }
        }
        map.insert(
            "entityToken".into(),
            json!(format!("demo-{:016x}", event.draw)),
        );
        map.insert(
            "dateCreated".into(),
            json!(event.at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        );
        Value::Object(map)
    }

    /// `POST /api/v2/usage/events/query?pageSize=&after=&before=`.
    pub(crate) fn query(
        &self,
        body: &[u8],
        query_string: &str,
        window: DataWindow,
    ) -> Result<Value, QueryError> {
        let map = object(body)?;
        let (start, end) = interval(&map)?;
        too_old(end, window)?;
        let ids = strings(&map, "eventDefinitionIds")?;
        let definitions: Vec<usize> = if ids.is_empty() {
            (0..self.definitions.len()).collect()
        } else {
            // An id of no definition matches nothing (Genesys does not say it is refused).
            (0..self.definitions.len())
                .filter(|&i| ids.contains(&self.definitions[i].id))
                .collect()
        };
        let search = match map.get("searchTerm") {
            None | Some(Value::Null) => None,
            Some(Value::String(term)) => Some(term.to_lowercase()),
            Some(_) => {
                return Err(QueryError::new(
                    "bad.request",
                    "searchTerm must be a string.",
                ));
            }
        };
        let ascending = match map.get("sortOrder") {
            None | Some(Value::Null) => false,
            Some(Value::String(order)) if order == "ASC" => true,
            Some(Value::String(order)) if order == "DESC" => false,
            Some(other) => {
                return Err(QueryError::new(
                    "invalid.value",
                    format!("Invalid sortOrder value {other}: expected one of ASC, DESC."),
                ));
            }
        };
        let paging = paging(query_string)?;
        let check = mix(self.seed ^ fingerprint(body));

        let mut events: Vec<Value> = self
            .between(&definitions, start, end, window)
            .iter()
            .map(|event| self.event_json(event))
            .filter(|json| search.as_deref().is_none_or(|term| matches(json, term)))
            .collect();
        // Events are generated oldest first; DESC (the default) is newest first.
        if !ascending {
            events.reverse();
        }

        let size = paging.page_size;
        let (from, to) = match (&paging.after, &paging.before) {
            (Some(cursor), _) => {
                let from = read_cursor(cursor, check, "after")?.min(events.len());
                (from, (from + size).min(events.len()))
            }
            (None, Some(cursor)) => {
                let to = read_cursor(cursor, check, "before")?.min(events.len());
                (to.saturating_sub(size), to)
            }
            (None, None) => (0, size.min(events.len())),
        };
        let uri = |name: &str, offset: usize| {
            format!(
                "{QUERY_PATH}?pageSize={size}&{name}={}",
                cursor(offset, check)
            )
        };
        let mut page = Map::new();
        page.insert("entities".into(), Value::Array(events[from..to].to_vec()));
        if to < events.len() {
            page.insert("nextUri".into(), json!(uri("after", to)));
        }
        if from > 0 {
            page.insert("previousUri".into(), json!(uri("before", from)));
        }
        page.insert(
            "selfUri".into(),
            json!(format!("{QUERY_PATH}?pageSize={size}")),
        );
        Ok(Value::Object(page))
    }

    /// `POST /api/v2/usage/events/aggregates/query`: the count per definition with events in
    /// the interval.
    pub(crate) fn counts(&self, body: &[u8], window: DataWindow) -> Result<Value, QueryError> {
        let map = object(body)?;
        let (start, end) = interval(&map)?;
        too_old(end, window)?;
        let all: Vec<usize> = (0..self.definitions.len()).collect();
        let mut counts = vec![0u64; self.definitions.len()];
        for event in self.between(&all, start, end, window) {
            counts[event.definition] += 1;
        }
        let aggregates: Vec<Value> = counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(index, count)| {
                let id = &self.definitions[index].id;
                json!({
                    "eventDefinition": {
                        "id": id,
                        "selfUri": format!("/api/v2/usage/events/definitions/{id}"),
                    },
                    "eventCount": count,
                })
            })
            .collect();
        Ok(json!({
            "interval": map.get("interval").cloned().unwrap_or(Value::Null),
            "eventDefinitionAggregates": aggregates,
        }))
    }
}

/// An `EventDefinition`: id, name and description, all the spec names (no `selfUri`).
fn definition_json(definition: &Definition) -> Value {
    json!({
        "id": definition.id,
        "name": definition.name,
        "description": definition.description,
    })
}

#[derive(Clone, Debug)]
struct Event {
    definition: usize,
    at: DateTime<Utc>,
    draw: u64,
}

fn oldest_kept(window: DataWindow) -> NaiveDate {
    window.today - Days::days(i64::from(KEPT_DAYS.min(window.history_days)))
}

/// 400 `usage.events.too.old` when the whole interval lies before the oldest kept day.
fn too_old(end: DateTime<Utc>, window: DataWindow) -> Result<(), QueryError> {
    if end <= oldest_kept(window).and_time(NaiveTime::MIN).and_utc() {
        return Err(QueryError::new(
            "usage.events.too.old",
            "The requested interval doesn't contain any events because it's too far in the past",
        ));
    }
    Ok(())
}

/// Whether any string field of `event` contains `term` (lower case), case-insensitively.
fn matches(event: &Value, term: &str) -> bool {
    event.as_object().is_some_and(|map| {
        map.values()
            .filter_map(Value::as_str)
            .any(|value| value.to_lowercase().contains(term))
    })
}

struct Paging {
    page_size: usize,
    after: Option<String>,
    before: Option<String>,
}

/// `pageSize` (a string parameter: anything but an integer 1..=200 is 400
/// `invalid.query.param.value`), `after`, `before`.
fn paging(query_string: &str) -> Result<Paging, QueryError> {
    let mut paging = Paging {
        page_size: DEFAULT_PAGE_SIZE,
        after: None,
        before: None,
    };
    for (name, value) in auth::parse_form(query_string.as_bytes()) {
        match name.as_str() {
            "pageSize" => paging.page_size = page_size(&value, MAX_PAGE_SIZE)?,
            "after" if !value.is_empty() => paging.after = Some(value),
            "before" if !value.is_empty() => paging.before = Some(value),
            _ => {}
        }
    }
    Ok(paging)
}

/// A stable hash of the request body: a cursor belongs to one query.
fn fingerprint(body: &[u8]) -> u64 {
    body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn cursor(offset: usize, check: u64) -> String {
    format!("{offset:08x}{check:016x}")
}

fn read_cursor(cursor: &str, check: u64, name: &str) -> Result<usize, QueryError> {
    let invalid = || {
        QueryError::new(
            "invalid.query.param.value",
            format!(
                "Value [{cursor}] is not valid for parameter [{name}]: not a cursor of this query."
            ),
        )
    };
    if cursor.len() != 24 || !cursor.is_ascii() {
        return Err(invalid());
    }
    let offset = usize::from_str_radix(&cursor[..8], 16).map_err(|_| invalid())?;
    let mark = u64::from_str_radix(&cursor[8..], 16).map_err(|_| invalid())?;
    if mark != check {
        return Err(invalid());
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> (Events, DataWindow) {
        let data = Dataset::generate(7, 4);
        let window = DataWindow {
            today: "2026-11-15".parse().unwrap(),
            history_days: 400,
        };
        (Events::generate(7, &data), window)
    }

    fn body(interval: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({ "interval": interval })).unwrap()
    }

    fn entities(page: &Value) -> Vec<Value> {
        page["entities"].as_array().unwrap().clone()
    }

    #[test]
    fn the_same_seed_serves_the_same_definitions_and_events() {
        let (a, window) = events();
        let (b, _) = events();
        assert_eq!(a.listing(), b.listing());
        let body = body("2026-11-01T00:00:00Z/2026-11-08T00:00:00Z");
        assert_eq!(
            a.query(&body, "pageSize=200", window).unwrap(),
            b.query(&body, "pageSize=200", window).unwrap()
        );
        for definition in a.listing()["entities"].as_array().unwrap() {
            assert!(
                definition["name"].as_str().unwrap().starts_with("Demo:")
                    && definition["description"]
                        .as_str()
                        .unwrap()
                        .contains("DEMO DATA"),
                "{definition}"
            );
        }
    }

    #[test]
    fn paging_after_then_before_walks_every_event_once_newest_first() {
        let (events, window) = events();
        let body = body("2026-11-01T00:00:00Z/2026-11-15T00:00:00Z");
        let all = entities(&events.query(&body, "pageSize=200", window).unwrap());
        assert!(all.len() > 20, "{}", all.len());
        let mut seen = Vec::new();
        let mut query = "pageSize=7".to_string();
        let last_page = loop {
            let page = events.query(&body, &query, window).unwrap();
            seen.extend(entities(&page));
            match page["nextUri"].as_str() {
                Some(next) => query = next.split_once('?').unwrap().1.to_string(),
                None => break page,
            }
        };
        assert_eq!(seen, all);
        let dates: Vec<&str> = all
            .iter()
            .map(|e| e["dateCreated"].as_str().unwrap())
            .collect();
        assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
        // previousUri leads back to the page before the last.
        let previous = last_page["previousUri"].as_str().unwrap();
        let before = events
            .query(&body, previous.split_once('?').unwrap().1, window)
            .unwrap();
        let before = entities(&before);
        assert_eq!(before.len(), 7);
        let last = entities(&last_page);
        assert_eq!(
            &all[all.len() - last.len() - 7..all.len() - last.len()],
            &before[..]
        );
    }

    #[test]
    fn page_sizes_beyond_200_and_foreign_cursors_are_400() {
        let (events, window) = events();
        let body = body("2026-11-01T00:00:00Z/2026-11-08T00:00:00Z");
        for query in [
            "pageSize=201",
            "pageSize=0",
            "pageSize=ten",
            "after=00000001ffffffffffffffff",
        ] {
            let error = events.query(&body, query, window).unwrap_err();
            assert_eq!(error.code, "invalid.query.param.value", "{query}");
        }
    }

    #[test]
    fn an_interval_before_the_kept_days_is_too_old_and_counts_agree_with_the_query() {
        let (events, window) = events();
        let old = body("2026-01-01T00:00:00Z/2026-02-01T00:00:00Z");
        assert_eq!(
            events.query(&old, "", window).unwrap_err().code,
            "usage.events.too.old"
        );
        assert_eq!(
            events.counts(&old, window).unwrap_err().code,
            "usage.events.too.old"
        );
        let recent = body("2026-11-01T00:00:00Z/2026-11-15T00:00:00Z");
        let all = entities(&events.query(&recent, "pageSize=200", window).unwrap());
        let counts = events.counts(&recent, window).unwrap();
        let total: u64 = counts["eventDefinitionAggregates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["eventCount"].as_u64().unwrap())
            .sum();
        assert_eq!(total as usize, all.len());
    }

    #[test]
    fn filters_narrow_by_definition_and_search_term_and_sort_ascending() {
        let (events, window) = events();
        let rate_limited = events.definitions[3].id.clone();
        let body = serde_json::to_vec(&json!({
            "interval": "2026-11-01T00:00:00Z/2026-11-15T00:00:00Z",
            "eventDefinitionIds": [rate_limited],
            "sortOrder": "ASC",
        }))
        .unwrap();
        let page = entities(&events.query(&body, "pageSize=200", window).unwrap());
        assert!(!page.is_empty());
        assert!(
            page.iter()
                .all(|e| e["eventDefinition"]["id"] == json!(rate_limited))
        );
        let dates: Vec<&str> = page
            .iter()
            .map(|e| e["dateCreated"].as_str().unwrap())
            .collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        let search = serde_json::to_vec(&json!({
            "interval": "2026-11-01T00:00:00Z/2026-11-15T00:00:00Z",
            "searchTerm": "TIMEOUTSECONDS",
        }))
        .unwrap();
        let page = entities(&events.query(&search, "pageSize=200", window).unwrap());
        assert!(!page.is_empty());
        assert!(page.iter().all(|e| {
            e["previousValue"]
                .as_str()
                .unwrap()
                .contains("timeoutSeconds")
        }));
    }
}
