//! What `usage-report serve` reads from a store for its metrics: totals per OAuth client and
//! per endpoint over a range of days, and the daily totals the allowance forecast needs.
//! Read-only; nothing here writes.

use chrono::NaiveDate;
use rusqlite::params;

use super::{Store, day_text, parse_day};
use crate::exit::Exit;

/// Request counts by status class. `status4xx` is the API's `status400` less its
/// `status429` (the API counts 429s inside 4xx), so the five classes add up to the requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Classes {
    pub status2xx: i64,
    pub status3xx: i64,
    pub status4xx: i64,
    pub status429: i64,
    pub status5xx: i64,
}

impl Classes {
    /// The classes by their label values.
    pub fn labelled(&self) -> [(&'static str, i64); 5] {
        [
            ("2xx", self.status2xx),
            ("3xx", self.status3xx),
            ("4xx", self.status4xx),
            ("429", self.status429),
            ("5xx", self.status5xx),
        ]
    }
}

/// One OAuth client's requests over some days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFigures {
    pub client_id: String,
    pub client_name: String,
    pub classes: Classes,
}

/// One endpoint's requests over some days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointFigures {
    pub http_method: String,
    pub template_uri: String,
    pub requests: i64,
}

const CLASSES: &str = "SUM(status200), SUM(status300), SUM(status400) - SUM(status429), \
                       SUM(status429), SUM(status500)";

impl Store {
    fn read_error(&self) -> impl Fn(rusqlite::Error) -> Exit + '_ {
        move |e| Exit::failed(format!("the store {}: reading figures: {e}", self.path))
    }

    /// Each OAuth client's requests by status class over the days `[first, end)`.
    pub fn client_figures(
        &self,
        first: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<ClientFigures>, Exit> {
        let sql = format!(
            "SELECT client_id, client_name, {CLASSES} FROM usage WHERE day >= ?1 AND day < ?2 \
             GROUP BY client_id, client_name ORDER BY client_id, client_name"
        );
        let mut statement = self.conn.prepare(&sql).map_err(self.read_error())?;
        let rows = statement
            .query_map(params![day_text(first), day_text(end)], |r| {
                Ok(ClientFigures {
                    client_id: r.get(0)?,
                    client_name: r.get(1)?,
                    classes: Classes {
                        status2xx: r.get(2)?,
                        status3xx: r.get(3)?,
                        status4xx: r.get(4)?,
                        status429: r.get(5)?,
                        status5xx: r.get(6)?,
                    },
                })
            })
            .map_err(self.read_error())?;
        rows.collect::<Result<_, _>>().map_err(self.read_error())
    }

    /// The `top` endpoints (method and template URI) by requests over `[first, end)`, most
    /// first, and the requests of all the others together.
    pub fn endpoint_figures(
        &self,
        first: NaiveDate,
        end: NaiveDate,
        top: usize,
    ) -> Result<(Vec<EndpointFigures>, i64), Exit> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT http_method, template_uri, SUM(requests) AS n FROM usage \
                 WHERE day >= ?1 AND day < ?2 GROUP BY http_method, template_uri \
                 ORDER BY n DESC, http_method, template_uri",
            )
            .map_err(self.read_error())?;
        let rows = statement
            .query_map(params![day_text(first), day_text(end)], |r| {
                Ok(EndpointFigures {
                    http_method: r.get(0)?,
                    template_uri: r.get(1)?,
                    requests: r.get(2)?,
                })
            })
            .map_err(self.read_error())?;
        let (mut kept, mut others) = (Vec::new(), 0i64);
        for row in rows {
            let row = row.map_err(self.read_error())?;
            if kept.len() < top {
                kept.push(row);
            } else {
                others = others.saturating_add(row.requests);
            }
        }
        Ok((kept, others))
    }

    /// The requests of each day of `[first, end)` the store has rows for.
    pub fn daily_requests(
        &self,
        first: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<(NaiveDate, i64)>, Exit> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT day, SUM(requests) FROM usage WHERE day >= ?1 AND day < ?2 \
                 GROUP BY day ORDER BY day",
            )
            .map_err(self.read_error())?;
        let rows = statement
            .query_map(params![day_text(first), day_text(end)], |r| {
                Ok((parse_day(&r.get::<_, String>(0)?)?, r.get(1)?))
            })
            .map_err(self.read_error())?;
        rows.collect::<Result<_, _>>().map_err(self.read_error())
    }
}
