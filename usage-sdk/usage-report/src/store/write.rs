//! One window's rows and its sync record, in one transaction: either the whole window and
//! its record are in the store, or nothing of it is.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, Transaction, params};

use super::day_text;
use crate::exit::Exit;

/// A row as the store keeps it: a day and the dimensions (`""` for one the API left out).
/// Ordered by the table's key (its first seven fields), then the counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
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

/// Upsert on the natural key. A key seen twice within one window (two rows the API told
/// apart and the store does not, e.g. a missing and an empty name) is summed; a key written
/// by an earlier sync is replaced, so syncing a day again never counts it twice.
const UPSERT: &str = "
INSERT INTO usage (day, client_id, client_name, user_id, template_uri, http_method, platform,
                   requests, status200, status300, status400, status429, status500, sync_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
ON CONFLICT (day, client_id, client_name, user_id, template_uri, http_method, platform) DO UPDATE SET
    requests  = CASE WHEN sync_id = excluded.sync_id THEN requests  + excluded.requests  ELSE excluded.requests  END,
    status200 = CASE WHEN sync_id = excluded.sync_id THEN status200 + excluded.status200 ELSE excluded.status200 END,
    status300 = CASE WHEN sync_id = excluded.sync_id THEN status300 + excluded.status300 ELSE excluded.status300 END,
    status400 = CASE WHEN sync_id = excluded.sync_id THEN status400 + excluded.status400 ELSE excluded.status400 END,
    status429 = CASE WHEN sync_id = excluded.sync_id THEN status429 + excluded.status429 ELSE excluded.status429 END,
    status500 = CASE WHEN sync_id = excluded.sync_id THEN status500 + excluded.status500 ELSE excluded.status500 END,
    sync_id   = excluded.sync_id
";

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
        })
    }

    fn error(&self, e: rusqlite::Error) -> Exit {
        Exit::failed(format!("the store {}: writing rows: {e}", self.path))
    }

    /// Adds one page of rows (`None`: a row without a day, counted and left out).
    pub fn add(&mut self, rows: impl IntoIterator<Item = Option<StoredRow>>) -> Result<(), Exit> {
        let mut statement = self
            .tx
            .prepare_cached(UPSERT)
            .map_err(|e| Exit::failed(format!("the store {}: writing rows: {e}", self.path)))?;
        for row in rows {
            self.rows += 1;
            let Some(r) = row.filter(|r| r.day >= self.start && r.day < self.end) else {
                self.outside += 1;
                continue;
            };
            statement
                .execute(params![
                    day_text(r.day),
                    r.client_id,
                    r.client_name,
                    r.user_id,
                    r.template_uri,
                    r.http_method,
                    r.platform,
                    r.requests,
                    r.status200,
                    r.status300,
                    r.status400,
                    r.status429,
                    r.status500,
                    self.sync_id
                ])
                .map_err(|e| Exit::failed(format!("the store {}: writing rows: {e}", self.path)))?;
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
