//! One window's rows and its sync record, in one transaction: either the whole window and
//! its record are in the store, or nothing of it is. The names a row carries are looked up
//! (or added) in their tables, and the row is written keyed by their ids.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::day_text;
use crate::exit::Exit;

/// A row as the sync hands it to the store: a day and the dimensions (`""` for one the API
/// left out), and the counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredRow {
    pub day: NaiveDate,
    pub client_id: String,
    pub client_name: String,
    pub user_id: String,
    pub template_uri: String,
    pub http_method: String,
    pub platform: String,
    pub requests: i64,
    pub status200: i64,
    pub status300: i64,
    pub status400: i64,
    pub status429: i64,
    pub status500: i64,
}

/// Upsert on the natural key (the day and the ids of the names). A key seen twice within
/// one window (two rows the API told apart and the store does not, e.g. a missing and an
/// empty name) is summed; a key written by an earlier sync is replaced, so syncing a day
/// again never counts it twice.
const UPSERT: &str = "
INSERT INTO usage_row (day, client, user, template, method, platform,
                       requests, status200, status300, status400, status429, status500, sync_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT (day, client, user, template, method, platform) DO UPDATE SET
    requests  = CASE WHEN sync_id = excluded.sync_id THEN requests  + excluded.requests  ELSE excluded.requests  END,
    status200 = CASE WHEN sync_id = excluded.sync_id THEN status200 + excluded.status200 ELSE excluded.status200 END,
    status300 = CASE WHEN sync_id = excluded.sync_id THEN status300 + excluded.status300 ELSE excluded.status300 END,
    status400 = CASE WHEN sync_id = excluded.sync_id THEN status400 + excluded.status400 ELSE excluded.status400 END,
    status429 = CASE WHEN sync_id = excluded.sync_id THEN status429 + excluded.status429 ELSE excluded.status429 END,
    status500 = CASE WHEN sync_id = excluded.sync_id THEN status500 + excluded.status500 ELSE excluded.status500 END,
    sync_id   = excluded.sync_id
";

/// A table of names with one text column: the SQL to find a name's id and to add it.
struct NameTable {
    find: &'static str,
    add: &'static str,
}

const USERS: NameTable = NameTable {
    find: "SELECT id FROM user WHERE user_id = ?1",
    add: "INSERT INTO user (user_id) VALUES (?1)",
};
const TEMPLATES: NameTable = NameTable {
    find: "SELECT id FROM template WHERE template_uri = ?1",
    add: "INSERT INTO template (template_uri) VALUES (?1)",
};
const METHODS: NameTable = NameTable {
    find: "SELECT id FROM method WHERE http_method = ?1",
    add: "INSERT INTO method (http_method) VALUES (?1)",
};
const PLATFORMS: NameTable = NameTable {
    find: "SELECT id FROM platform WHERE platform = ?1",
    add: "INSERT INTO platform (platform) VALUES (?1)",
};

/// The ids of the names this window has met. Kept with its transaction only: an id added
/// by a window rolled back is gone with it.
#[derive(Default)]
struct Names {
    clients: HashMap<(String, String), i64>,
    users: HashMap<String, i64>,
    templates: HashMap<String, i64>,
    methods: HashMap<String, i64>,
    platforms: HashMap<String, i64>,
}

/// The id of `name` in `table`, added if the store does not have it yet.
fn id_of(
    tx: &Transaction,
    known: &mut HashMap<String, i64>,
    table: &NameTable,
    name: String,
) -> rusqlite::Result<i64> {
    if let Some(id) = known.get(&name) {
        return Ok(*id);
    }
    let found = tx
        .prepare_cached(table.find)?
        .query_row([&name], |r| r.get(0))
        .optional()?;
    let id = match found {
        Some(id) => id,
        None => {
            tx.prepare_cached(table.add)?.execute([&name])?;
            tx.last_insert_rowid()
        }
    };
    known.insert(name, id);
    Ok(id)
}

/// The id of the client `(client_id, client_name)`, added if the store does not have it yet.
fn client_id_of(
    tx: &Transaction,
    known: &mut HashMap<(String, String), i64>,
    client: (String, String),
) -> rusqlite::Result<i64> {
    if let Some(id) = known.get(&client) {
        return Ok(*id);
    }
    let found = tx
        .prepare_cached("SELECT id FROM client WHERE client_id = ?1 AND client_name = ?2")?
        .query_row([&client.0, &client.1], |r| r.get(0))
        .optional()?;
    let id = match found {
        Some(id) => id,
        None => {
            tx.prepare_cached("INSERT INTO client (client_id, client_name) VALUES (?1, ?2)")?
                .execute([&client.0, &client.1])?;
            tx.last_insert_rowid()
        }
    };
    known.insert(client, id);
    Ok(id)
}

impl Names {
    /// The ids of the client, user, template URI, method and platform of `row` (its names
    /// taken).
    fn ids(&mut self, tx: &Transaction, row: &mut StoredRow) -> rusqlite::Result<[i64; 5]> {
        let take = std::mem::take::<String>;
        let client = (take(&mut row.client_id), take(&mut row.client_name));
        Ok([
            client_id_of(tx, &mut self.clients, client)?,
            id_of(tx, &mut self.users, &USERS, take(&mut row.user_id))?,
            id_of(
                tx,
                &mut self.templates,
                &TEMPLATES,
                take(&mut row.template_uri),
            )?,
            id_of(tx, &mut self.methods, &METHODS, take(&mut row.http_method))?,
            id_of(tx, &mut self.platforms, &PLATFORMS, take(&mut row.platform))?,
        ])
    }
}

/// A row keyed by the ids of its names: the day, client, user, template, method, platform,
/// then the six counts.
type IdRow = (NaiveDate, [i64; 5], [i64; 6]);

/// The open transaction of one window.
pub struct WindowWriter<'a> {
    tx: Transaction<'a>,
    path: &'a str,
    sync_id: i64,
    start: NaiveDate,
    end: NaiveDate,
    /// Rows the API returned for the window.
    rows: u64,
    /// Rows dated outside the window (or not dated): not stored.
    outside: u64,
    names: Names,
}

impl<'a> WindowWriter<'a> {
    pub(super) fn begin(
        conn: &'a mut Connection,
        path: &'a str,
        sync_id: i64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Self, Exit> {
        let tx = conn
            .transaction()
            .map_err(|e| Exit::failed(format!("the store {path}: starting a window: {e}")))?;
        Ok(Self {
            tx,
            path,
            sync_id,
            start,
            end,
            rows: 0,
            outside: 0,
            names: Names::default(),
        })
    }

    fn error(&self, e: rusqlite::Error) -> Exit {
        Exit::failed(format!("the store {}: writing rows: {e}", self.path))
    }

    /// Adds one page of rows (`None`: a row without a day, counted and left out).
    pub fn add(&mut self, rows: impl IntoIterator<Item = Option<StoredRow>>) -> Result<(), Exit> {
        let mut keyed: Vec<IdRow> = Vec::new();
        for row in rows {
            self.rows += 1;
            let Some(mut r) = row.filter(|r| r.day >= self.start && r.day < self.end) else {
                self.outside += 1;
                continue;
            };
            let ids = self
                .names
                .ids(&self.tx, &mut r)
                .map_err(|e| self.error(e))?;
            let counts = [
                r.requests,
                r.status200,
                r.status300,
                r.status400,
                r.status429,
                r.status500,
            ];
            keyed.push((r.day, ids, counts));
        }
        // In key order, each insert lands next to the last in the table's B-tree.
        keyed.sort_unstable();
        let mut statement = self.tx.prepare_cached(UPSERT).map_err(|e| self.error(e))?;
        let mut day = (NaiveDate::MIN, String::new());
        for (d, [client, user, template, method, platform], c) in keyed {
            if day.0 != d {
                day = (d, day_text(d));
            }
            statement
                .execute(params![
                    day.1,
                    client,
                    user,
                    template,
                    method,
                    platform,
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    c[4],
                    c[5],
                    self.sync_id
                ])
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Marks the record complete and commits the window with it; returns the rows the API
    /// returned and those left out (no day, or a day outside the window).
    pub fn commit(self, now: DateTime<Utc>) -> Result<(u64, u64), Exit> {
        self.tx
            .execute(
                "UPDATE sync SET state = 'complete', rows = ?2, finished_at = ?3 WHERE id = ?1",
                params![self.sync_id, self.rows as i64, now.to_rfc3339()],
            )
            .map_err(|e| self.error(e))?;
        let (rows, outside, path) = (self.rows, self.outside, self.path);
        self.tx
            .commit()
            .map_err(|e| Exit::failed(format!("the store {path}: committing a window: {e}")))?;
        Ok((rows, outside))
    }
}
