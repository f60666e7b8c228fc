//! The history store: daily usage rows in an embedded SQLite file (rusqlite, SQLite compiled
//! in), kept by `usage-report sync` and read by `usage-report --store`. The schema is
//! `schema.sql` (documented in README.md, "The history store"), versioned and migrated by
//! `migrate.rs`; `write.rs` writes a window with its sync record in one transaction.
//!
//! WAL mode with `synchronous = FULL`: a commit is on disk when it returns, a process killed
//! at any moment leaves the last commit and nothing of a transaction under way, and readers
//! (a report, `sqlite3`) never block the writer.

mod figures;
mod migrate;
mod read;
mod write;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::exit::Exit;

pub use figures::{ClientFigures, EndpointFigures};
pub use read::ReportQuery;
pub use write::{StoredRow, WindowWriter};

/// Whose rows a store holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// The demo stand-in's made-up rows.
    Demo,
    /// The organization behind the API at this base URL (the Usage API does not name the
    /// organization a token belongs to; the region's URL at least tells two apart).
    Organization { api: String },
}

impl Holder {
    fn kind(&self) -> &'static str {
        match self {
            Holder::Demo => "demo",
            Holder::Organization { .. } => "organization",
        }
    }

    fn api(&self) -> &str {
        match self {
            Holder::Demo => "demo",
            Holder::Organization { api } => api,
        }
    }

    fn describe(&self) -> String {
        match self {
            Holder::Demo => "the demo stand-in's made-up rows".to_string(),
            Holder::Organization { api } => format!("an organization's rows from {api}"),
        }
    }
}

/// What the store says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub holder: Holder,
    pub per_user: bool,
}

/// A job still to read: submitted by an earlier sync that stopped before writing its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub sync_id: i64,
    pub job: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: String,
}

/// The store's default path: `usage-report/usage.sqlite3` in the user's data directory
/// (`$XDG_DATA_HOME`, else `~/.local/share`, on Linux; `~/Library/Application Support` on
/// macOS; `%APPDATA%` on Windows).
pub fn default_path() -> Result<PathBuf, Exit> {
    dirs::data_dir()
        .map(|dir| dir.join("usage-report").join("usage.sqlite3"))
        .ok_or_else(|| {
            Exit::usage("no data directory is known for this user (HOME unset?); give --store PATH")
        })
}

pub fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn parse_day(text: &str) -> rusqlite::Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Store {
    /// Opens the store at `path`, creating it (and its folder) when `create`, and brings its
    /// schema to the current version.
    pub fn open(path: &Path, create: bool) -> Result<Self, Exit> {
        let shown = path.display().to_string();
        if !path.exists() {
            if !create {
                return Err(Exit::usage(format!(
                    "no store at {shown}; `usage-report sync --store {shown}` makes one"
                )));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Exit::failed(format!("cannot create the folder {}: {e}", dir.display()))
                })?;
            }
        }
        let mut conn = Connection::open(path)
            .map_err(|e| Exit::failed(format!("cannot open the store {shown}: {e}")))?;
        let setup = |conn: &Connection| -> rusqlite::Result<()> {
            // Another process (a report, sqlite3) may hold a lock for a moment.
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", true)?;
            Ok(())
        };
        setup(&conn).map_err(|e| {
            Exit::failed(format!(
                "cannot open the store {shown}: {e} (is it an SQLite file?)"
            ))
        })?;
        migrate::migrate(&mut conn, &shown)?;
        Ok(Self { conn, path: shown })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn error(&self, doing: &str) -> impl Fn(rusqlite::Error) -> Exit + '_ {
        let doing = doing.to_string();
        move |e| Exit::failed(format!("the store {}: {doing}: {e}", self.path))
    }

    /// Whose rows the store holds; `None` before its first sync.
    pub fn info(&self) -> Result<Option<Info>, Exit> {
        self.conn
            .query_row(
                "SELECT kind, api, per_user FROM store WHERE id = 1",
                [],
                |r| {
                    let kind: String = r.get(0)?;
                    let api: String = r.get(1)?;
                    Ok(Info {
                        holder: if kind == "demo" {
                            Holder::Demo
                        } else {
                            Holder::Organization { api }
                        },
                        per_user: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(self.error("reading whose rows it holds"))
    }

    /// Records whose rows the store holds (on its first sync), or refuses rows of another
    /// holder or of the other per-user setting: mixed, the totals would mean nothing.
    pub fn claim(&self, holder: &Holder, per_user: bool, now: DateTime<Utc>) -> Result<(), Exit> {
        match self.info()? {
            None => {
                self.conn
                    .execute(
                        "INSERT INTO store (id, kind, api, per_user, created_at) VALUES (1, ?1, ?2, ?3, ?4)",
                        params![holder.kind(), holder.api(), per_user, now.to_rfc3339()],
                    )
                    .map_err(self.error("recording whose rows it holds"))?;
                Ok(())
            }
            Some(info) if info.holder != *holder => Err(Exit::usage(format!(
                "the store {} holds {}; these would be {}, and a store never mixes them: give \
                 --store another file",
                self.path,
                info.holder.describe(),
                holder.describe()
            ))),
            Some(info) if info.per_user != per_user => Err(Exit::usage(format!(
                "the store {} holds rows {}; {} --per-user, or give --store another file",
                self.path,
                if info.per_user {
                    "per user"
                } else {
                    "without users"
                },
                if info.per_user { "add" } else { "drop" }
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The windows held in full, as `[start, end)` days, in order.
    pub fn complete_windows(&self) -> Result<Vec<(NaiveDate, NaiveDate)>, Exit> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT start_day, end_day FROM sync WHERE state = 'complete' ORDER BY start_day",
            )
            .map_err(self.error("reading its windows"))?;
        let rows = statement
            .query_map([], |r| {
                Ok((
                    parse_day(&r.get::<_, String>(0)?)?,
                    parse_day(&r.get::<_, String>(1)?)?,
                ))
            })
            .map_err(self.error("reading its windows"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.error("reading its windows"))
    }

    /// Jobs submitted by an earlier sync whose rows were never written.
    pub fn pending(&self) -> Result<Vec<Pending>, Exit> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, job, start_day, end_day FROM sync WHERE state = 'submitted' ORDER BY id",
            )
            .map_err(self.error("reading its jobs"))?;
        let rows = statement
            .query_map([], |r| {
                Ok(Pending {
                    sync_id: r.get(0)?,
                    job: r.get(1)?,
                    start: parse_day(&r.get::<_, String>(2)?)?,
                    end: parse_day(&r.get::<_, String>(3)?)?,
                })
            })
            .map_err(self.error("reading its jobs"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.error("reading its jobs"))
    }

    /// Records a submitted job (committed at once, so a run that stops before its rows are
    /// written leaves the handle for the next); returns the record's id.
    pub fn submitted(
        &self,
        job: &str,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<i64, Exit> {
        self.conn
            .execute(
                "INSERT INTO sync (job, start_day, end_day, state, started_at) VALUES (?1, ?2, ?3, 'submitted', ?4)",
                params![job, day_text(start), day_text(end), now.to_rfc3339()],
            )
            .map_err(self.error("recording a job"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Marks a job that can no longer be read (expired, failed): its window is planned again.
    pub fn abandon(&self, sync_id: i64, now: DateTime<Utc>) -> Result<(), Exit> {
        self.conn
            .execute(
                "UPDATE sync SET state = 'abandoned', finished_at = ?2 WHERE id = ?1",
                params![sync_id, now.to_rfc3339()],
            )
            .map_err(self.error("recording a job"))?;
        Ok(())
    }

    /// Starts writing the rows of the window of record `sync_id`: one transaction, committed
    /// with the record by [`WindowWriter::commit`], rolled back if dropped.
    pub fn window(
        &mut self,
        sync_id: i64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<WindowWriter<'_>, Exit> {
        WindowWriter::begin(&mut self.conn, &self.path, sync_id, start, end)
    }
}
