//! Paged asynchronous results: the aggregates query jobs and simple search executions.
//!
//! Like the legacy executions, a submission computes its rows at once and stores them with a
//! timeline (`Queued`, then `Running`, then its outcome). Unlike them, the rows are served one
//! page at a time, with an opaque `after` cursor.
//!
//! A cursor is 24 hex digits: the row offset (8) and a check derived from the job id (16), so a
//! cursor of another job, or an edited one, is refused with 400.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;
use usage_sdk::ErrorBody;

use super::auth;
use super::data::{SplitMix64, mix};
use super::query::QueryError;

/// How a job ends, for [`super::RunningStandIn::next_jobs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobOutcome {
    /// `queryStatus: "Succeeded"` with the rows (the default).
    Succeeded,
    /// `queryStatus: "Failed"` with an `errorBody` (`internal.server.error`).
    Failed,
    /// `queryStatus: "Cancelled"`, no rows.
    Cancelled,
}

/// Whose results they are: the GET path must match the POST's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    OrganizationJob,
    ClientJob(String),
    SimpleSearch,
}

impl Owner {
    /// The results path of `id`, relative to the API host.
    pub(crate) fn results_path(&self, id: &str) -> String {
        match self {
            Owner::OrganizationJob => format!("/api/v2/usage/aggregates/query/jobs/{id}"),
            Owner::ClientJob(client) => {
                format!("/api/v2/usage/client/{client}/aggregates/query/jobs/{id}")
            }
            Owner::SimpleSearch => format!("/api/v2/usage/simplesearch/{id}/results"),
        }
    }
}

/// What a finished submission holds.
#[derive(Debug)]
pub(crate) enum Outcome {
    Rows(Vec<Value>),
    Failed,
    Cancelled,
}

#[derive(Debug)]
struct Entry {
    owner: Owner,
    queued_until: Instant,
    done_at: Instant,
    outcome: Outcome,
}

/// How long submissions stay in each state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline {
    pub(crate) queued_for: Duration,
    pub(crate) running_for: Duration,
}

/// The most submissions kept; the oldest are forgotten first (their ids then answer 404).
const CAPACITY: usize = 1_000;

/// The page size when `pageSize` is absent (the spec's default for the jobs; simple search
/// has none published, so the stand-in uses the same).
pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest `pageSize` ("Max is 1000": reference genesys-usage-api.md §10.1, the results
/// GETs; the stand-in's own constant, not the client's `PageSize::MAX`).
pub(crate) const MAX_PAGE_SIZE: usize = 1_000;

/// The validated paging parameters of a results GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Paging {
    page_size: usize,
    after: Option<String>,
}

/// Reads `pageSize` (1..=1000, default 100) and `after` from a query string; anything else
/// in `pageSize` is 400 `invalid.query.param.value`.
pub(crate) fn paging(query_string: &str) -> Result<Paging, QueryError> {
    let mut paging = Paging {
        page_size: DEFAULT_PAGE_SIZE,
        after: None,
    };
    for (name, value) in auth::parse_form(query_string.as_bytes()) {
        match name.as_str() {
            "pageSize" => paging.page_size = page_size(&value, MAX_PAGE_SIZE)?,
            "after" if !value.is_empty() => paging.after = Some(value),
            _ => {}
        }
    }
    Ok(paging)
}

/// A `pageSize` parameter: an integer from 1 to `max`, else 400 `invalid.query.param.value`
/// in the words of the API document's error code.
pub(crate) fn page_size(value: &str, max: usize) -> Result<usize, QueryError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            QueryError::new(
                "invalid.query.param.value",
                format!(
                    "Value [{value}] is not valid for parameter [pageSize]. Allowable values \
                     are: 1 to {max}"
                ),
            )
        })
}

fn check(id: &str) -> u64 {
    id.bytes()
        .fold(0x0C0F_FEE0_0000_0007, |h, b| mix(h ^ u64::from(b)))
}

fn encode_cursor(id: &str, offset: usize) -> String {
    format!("{offset:08x}{:016x}", check(id) ^ mix(offset as u64))
}

fn decode_cursor(id: &str, cursor: &str, len: usize) -> Option<usize> {
    if cursor.len() != 24 || !cursor.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let offset = usize::from_str_radix(&cursor[..8], 16).ok()?;
    let tag = u64::from_str_radix(&cursor[8..], 16).ok()?;
    (tag == check(id) ^ mix(offset as u64) && offset < len).then_some(offset)
}

fn invalid_cursor(cursor: &str) -> QueryError {
    QueryError::new(
        "invalid.query.param.value",
        format!("Invalid value '{cursor}' for query parameter after: not a cursor of this query."),
    )
}

/// The answer of a results GET: status and body, or a 400 (a cursor that is not this job's).
pub(crate) type Answer = Result<(u16, Value), QueryError>;

#[derive(Debug)]
pub(crate) struct Store {
    by_id: HashMap<String, Entry>,
    order: VecDeque<String>,
    rng: SplitMix64,
    /// Outcomes forced on the next aggregates jobs.
    forced: VecDeque<JobOutcome>,
}

impl Store {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            rng: SplitMix64::new(seed ^ 0x9A6E_0000_0000_0008),
            forced: VecDeque::new(),
        }
    }

    pub(crate) fn force(&mut self, outcome: JobOutcome, count: usize) {
        self.forced.extend(std::iter::repeat_n(outcome, count));
    }

    /// The outcome forced on the next job, if any (used up).
    pub(crate) fn next_forced(&mut self) -> Option<JobOutcome> {
        self.forced.pop_front()
    }

    /// Stores a submission and returns its id.
    pub(crate) fn submit(
        &mut self,
        owner: Owner,
        outcome: Outcome,
        timeline: Timeline,
        now: Instant,
    ) -> String {
        let id = self.rng.uuid();
        if self.order.len() >= CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.by_id.remove(&oldest);
        }
        let queued_until = now + timeline.queued_for;
        self.by_id.insert(
            id.clone(),
            Entry {
                owner,
                queued_until,
                done_at: queued_until + timeline.running_for,
                outcome,
            },
        );
        self.order.push_back(id.clone());
        id
    }

    /// The answer for `id` asked for under `owner` (an aggregates job): 202
    /// `{"queryStatus":"Queued"|"Running"}` until done, then 200 with one page of `entities`
    /// and a `nextUri` when another page exists, or `Failed` with an `errorBody`, or
    /// `Cancelled`. `None`: no such job there.
    pub(crate) fn job(
        &self,
        id: &str,
        owner: &Owner,
        paging: &Paging,
        now: Instant,
    ) -> Option<Answer> {
        let entry = self.by_id.get(id).filter(|e| &e.owner == owner)?;
        let self_uri = owner.results_path(id);
        if now < entry.queued_until {
            return Some(Ok((
                202,
                json!({ "queryStatus": "Queued", "selfUri": self_uri }),
            )));
        }
        if now < entry.done_at {
            return Some(Ok((
                202,
                json!({ "queryStatus": "Running", "selfUri": self_uri }),
            )));
        }
        Some(match &entry.outcome {
            Outcome::Rows(rows) => page(id, rows, paging).map(|(entities, next)| {
                let mut body = json!({
                    "queryStatus": "Succeeded",
                    "entities": entities,
                    "selfUri": self_uri,
                });
                if let Some(after) = next {
                    body["nextUri"] = Value::String(format!(
                        "{self_uri}?pageSize={}&after={after}",
                        paging.page_size
                    ));
                }
                (200, body)
            }),
            Outcome::Failed => {
                let error = ErrorBody {
                    message: Some("The usage query job failed.".into()),
                    code: Some("internal.server.error".into()),
                    status: Some(500),
                    entity_id: Some(id.to_string()),
                    ..ErrorBody::default()
                };
                Ok((
                    200,
                    json!({ "queryStatus": "Failed", "errorBody": error, "selfUri": self_uri }),
                ))
            }
            Outcome::Cancelled => Ok((
                200,
                json!({ "queryStatus": "Cancelled", "selfUri": self_uri }),
            )),
        })
    }

    /// The answer for a simple search execution, in the legacy `ApiUsageQueryResult` shape:
    /// `Running` (or `Queued`), then `Complete` with one page of `results` and
    /// `cursors.after` when another page exists, or `Failed`. Always 200.
    pub(crate) fn simple_search(&self, id: &str, paging: &Paging, now: Instant) -> Option<Answer> {
        let entry = self
            .by_id
            .get(id)
            .filter(|e| e.owner == Owner::SimpleSearch)?;
        if now < entry.queued_until {
            return Some(Ok((200, json!({ "queryStatus": "Queued" }))));
        }
        if now < entry.done_at {
            return Some(Ok((200, json!({ "queryStatus": "Running" }))));
        }
        Some(match &entry.outcome {
            Outcome::Rows(rows) => page(id, rows, paging).map(|(results, next)| {
                let mut body = json!({ "results": results, "queryStatus": "Complete" });
                if let Some(after) = next {
                    body["cursors"] = json!({ "after": after });
                }
                (200, body)
            }),
            Outcome::Failed | Outcome::Cancelled => Ok((200, json!({ "queryStatus": "Failed" }))),
        })
    }
}

/// One page of `rows` and the cursor of the next, if any.
fn page<'a>(
    id: &str,
    rows: &'a [Value],
    paging: &Paging,
) -> Result<(&'a [Value], Option<String>), QueryError> {
    let offset = match &paging.after {
        None => 0,
        Some(cursor) => {
            decode_cursor(id, cursor, rows.len()).ok_or_else(|| invalid_cursor(cursor))?
        }
    };
    let end = (offset + paging.page_size).min(rows.len());
    let next = (end < rows.len()).then(|| encode_cursor(id, end));
    Ok((&rows[offset..end], next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_job() {
        let cursor = encode_cursor("job-a", 700);
        assert_eq!(cursor.len(), 24);
        assert_eq!(decode_cursor("job-a", &cursor, 1000), Some(700));
        assert_eq!(decode_cursor("job-b", &cursor, 1000), None);
        assert_eq!(decode_cursor("job-a", &cursor, 700), None);
        assert_eq!(decode_cursor("job-a", "700", 1000), None);
        let mut edited = cursor.clone();
        edited.replace_range(0..8, "00000001");
        assert_eq!(decode_cursor("job-a", &edited, 1000), None);
    }

    #[test]
    fn page_size_is_an_integer_from_1_to_1000() {
        assert_eq!(paging("").unwrap().page_size, 100);
        assert_eq!(paging("pageSize=1000").unwrap().page_size, 1000);
        for bad in [
            "pageSize=0",
            "pageSize=1001",
            "pageSize=abc",
            "pageSize=-1",
            "pageSize=",
        ] {
            assert_eq!(
                paging(bad).unwrap_err().code,
                "invalid.query.param.value",
                "{bad}"
            );
        }
    }
}
