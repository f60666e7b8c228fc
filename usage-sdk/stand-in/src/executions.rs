//! Query executions: the asynchronous half of the two-step pattern.
//!
//! A POST (or the summary GET) computes its rows at once and stores them with a timeline:
//! the execution reports an unknown status (`Queued`, if configured) first, then `Running`,
//! and from `done_at` on `Complete` with the rows, or `Failed`.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use usage_sdk::ApiUsageRow;

use super::data::SplitMix64;

/// Whose execution it is: the results path must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Organization,
    Client(String),
}

impl Scope {
    pub(crate) fn results_uri(&self, execution_id: &str) -> String {
        match self {
            Scope::Organization => format!("/api/v2/usage/query/{execution_id}/results"),
            Scope::Client(client_id) => {
                format!("/api/v2/oauth/clients/{client_id}/usage/query/results/{execution_id}")
            }
        }
    }
}

#[derive(Debug)]
struct Execution {
    scope: Scope,
    queued_until: Instant,
    done_at: Instant,
    /// `None` when the execution fails.
    rows: Option<Vec<ApiUsageRow>>,
}

/// How long executions stay in each state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline {
    pub(crate) queued_for: Duration,
    pub(crate) running_for: Duration,
}

/// The most executions kept; the oldest are forgotten first (their ids then answer 404).
const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub(crate) struct Executions {
    by_id: HashMap<String, Execution>,
    order: VecDeque<String>,
    rng: SplitMix64,
}

impl Executions {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            rng: SplitMix64::new(seed ^ 0xE8EC_0000_0000_0004),
        }
    }

    /// Stores an execution and returns its id.
    pub(crate) fn submit(
        &mut self,
        scope: Scope,
        rows: Option<Vec<ApiUsageRow>>,
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
            Execution {
                scope,
                queued_until,
                done_at: queued_until + timeline.running_for,
                rows,
            },
        );
        self.order.push_back(id.clone());
        id
    }

    /// The `ApiUsageQueryResult` body for `id` asked for under `scope`; `None` when no such
    /// execution exists there (an unknown id, or one asked for under another client).
    pub(crate) fn result(&self, id: &str, scope: &Scope, now: Instant) -> Option<Value> {
        let execution = self.by_id.get(id).filter(|e| &e.scope == scope)?;
        Some(if now < execution.queued_until {
            json!({ "queryStatus": "Queued" })
        } else if now < execution.done_at {
            json!({ "queryStatus": "Running" })
        } else {
            match &execution.rows {
                Some(rows) => json!({ "results": rows, "queryStatus": "Complete" }),
                None => json!({ "queryStatus": "Failed" }),
            }
        })
    }
}
