//! The schema's versions (`PRAGMA user_version`) and the steps between them. A new store
//! gets `schema.sql`; an older one is migrated in one transaction (all or nothing); a newer
//! one, or a file that is not a store, is refused with what to do.

use rusqlite::Connection;

use crate::exit::Exit;

/// The version `schema.sql` creates.
pub const VERSION: i64 = 3;

const SCHEMA: &str = include_str!("schema.sql");

/// Version 1 (the first schema) to 2: per-user rows (`usage.user_id`, part of the key, and
/// `store.per_user`), and sync records of jobs still to read (`sync.state`), so a job that
/// outlived a run is picked up by the next. Version 1 recorded finished windows only.
const V1_TO_V2: &str = "
ALTER TABLE store ADD COLUMN per_user INTEGER NOT NULL DEFAULT 0 CHECK (per_user IN (0, 1));

CREATE TABLE sync_v2 (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    start_day   TEXT NOT NULL,
    end_day     TEXT NOT NULL CHECK (end_day > start_day),
    state       TEXT NOT NULL CHECK (state IN ('submitted', 'complete', 'abandoned')),
    rows        INTEGER,
    started_at  TEXT NOT NULL,
    finished_at TEXT
);
INSERT INTO sync_v2 (id, job, start_day, end_day, state, rows, started_at, finished_at)
SELECT id, job, start_day, end_day, 'complete', rows, started_at, finished_at FROM sync;

CREATE TABLE usage_v2 (
    day          TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    client_name  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    template_uri TEXT NOT NULL,
    http_method  TEXT NOT NULL,
    platform     TEXT NOT NULL,
    requests     INTEGER NOT NULL,
    status200    INTEGER NOT NULL,
    status300    INTEGER NOT NULL,
    status400    INTEGER NOT NULL,
    status429    INTEGER NOT NULL,
    status500    INTEGER NOT NULL,
    sync_id      INTEGER NOT NULL REFERENCES sync (id),
    PRIMARY KEY (day, client_id, client_name, user_id, template_uri, http_method, platform)
) WITHOUT ROWID;
INSERT INTO usage_v2
SELECT day, client_id, client_name, '', template_uri, http_method, platform, requests,
       status200, status300, status400, status429, status500, sync_id
FROM usage;

DROP VIEW daily_client_totals;
DROP TABLE usage;
DROP TABLE sync;
ALTER TABLE sync_v2 RENAME TO sync;
ALTER TABLE usage_v2 RENAME TO usage;
CREATE INDEX sync_by_state ON sync (state, end_day);

CREATE VIEW daily_client_totals AS
SELECT day, client_id, client_name,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage
GROUP BY day, client_id, client_name;

CREATE VIEW daily_totals AS
SELECT day,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage
GROUP BY day;

CREATE VIEW synced_windows AS
SELECT start_day, end_day, rows, job, finished_at
FROM sync
WHERE state = 'complete';
";

/// Version 2 to 3: the names rows carry (client, user, template URI, method, platform) are
/// kept once each, in tables of their own, and `usage` becomes a view joining them back
/// onto `usage_row`, keyed by the day and their integer ids: the same columns, smaller rows,
/// so a sync's writes stay in the page cache.
const V2_TO_V3: &str = "
CREATE TABLE client (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL,
    client_name TEXT NOT NULL,
    UNIQUE (client_id, client_name)
);
CREATE TABLE user (
    id      INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE
);
CREATE TABLE template (
    id           INTEGER PRIMARY KEY,
    template_uri TEXT NOT NULL UNIQUE
);
CREATE TABLE method (
    id          INTEGER PRIMARY KEY,
    http_method TEXT NOT NULL UNIQUE
);
CREATE TABLE platform (
    id       INTEGER PRIMARY KEY,
    platform TEXT NOT NULL UNIQUE
);
INSERT INTO client (client_id, client_name)
SELECT DISTINCT client_id, client_name FROM usage ORDER BY client_id, client_name;
INSERT INTO user (user_id) SELECT DISTINCT user_id FROM usage ORDER BY user_id;
INSERT INTO template (template_uri) SELECT DISTINCT template_uri FROM usage ORDER BY template_uri;
INSERT INTO method (http_method) SELECT DISTINCT http_method FROM usage ORDER BY http_method;
INSERT INTO platform (platform) SELECT DISTINCT platform FROM usage ORDER BY platform;

CREATE TABLE usage_row (
    day          TEXT NOT NULL,
    client       INTEGER NOT NULL REFERENCES client (id),
    user         INTEGER NOT NULL REFERENCES user (id),
    template     INTEGER NOT NULL REFERENCES template (id),
    method       INTEGER NOT NULL REFERENCES method (id),
    platform     INTEGER NOT NULL REFERENCES platform (id),
    requests     INTEGER NOT NULL,
    status200    INTEGER NOT NULL,
    status300    INTEGER NOT NULL,
    status400    INTEGER NOT NULL,
    status429    INTEGER NOT NULL,
    status500    INTEGER NOT NULL,
    sync_id      INTEGER NOT NULL REFERENCES sync (id),
    PRIMARY KEY (day, client, user, template, method, platform)
) WITHOUT ROWID;
INSERT INTO usage_row
SELECT u.day, c.id, us.id, t.id, m.id, p.id, u.requests, u.status200, u.status300,
       u.status400, u.status429, u.status500, u.sync_id
FROM usage u
JOIN client c ON c.client_id = u.client_id AND c.client_name = u.client_name
JOIN user us ON us.user_id = u.user_id
JOIN template t ON t.template_uri = u.template_uri
JOIN method m ON m.http_method = u.http_method
JOIN platform p ON p.platform = u.platform;

DROP VIEW daily_client_totals;
DROP VIEW daily_totals;
DROP TABLE usage;

CREATE VIEW usage AS
SELECT r.day, c.client_id, c.client_name, u.user_id, t.template_uri, m.http_method,
       p.platform, r.requests, r.status200, r.status300, r.status400, r.status429,
       r.status500, r.sync_id
FROM usage_row r
JOIN client c ON c.id = r.client
JOIN user u ON u.id = r.user
JOIN template t ON t.id = r.template
JOIN method m ON m.id = r.method
JOIN platform p ON p.id = r.platform;

CREATE VIEW daily_client_totals AS
SELECT r.day, c.client_id, c.client_name,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage_row r
JOIN client c ON c.id = r.client
GROUP BY r.day, r.client;

CREATE VIEW daily_totals AS
SELECT day,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage_row
GROUP BY day;
";

/// The steps, each from the version before it: `STEPS[0]` goes from 1 to 2.
const STEPS: &[&str] = &[V1_TO_V2, V2_TO_V3];

fn sql_error(path: &str, doing: &str, e: rusqlite::Error) -> Exit {
    Exit::failed(format!("the store {path}: {doing}: {e}"))
}

/// Brings the store at `conn` (opened from `path`, named in messages) to [`VERSION`].
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), Exit> {
    let err = |doing: &'static str| move |e| sql_error(path, doing, e);
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err("reading its version"))?;
    if version > VERSION {
        return Err(Exit::usage(format!(
            "the store {path} has schema version {version}, written by a newer usage-report; \
             this one reads versions 1 to {VERSION}: install the newer usage-report (or sync \
             into another --store)"
        )));
    }
    if version == VERSION {
        return Ok(());
    }
    if version == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(err("reading its tables"))?;
        if tables > 0 {
            return Err(Exit::usage(format!(
                "{path} is an SQLite database but not a usage-report store (no schema \
                 version); give --store a new file"
            )));
        }
        let tx = conn.transaction().map_err(err("creating it"))?;
        tx.execute_batch(SCHEMA)
            .map_err(err("creating the schema"))?;
        tx.pragma_update(None, "user_version", VERSION)
            .map_err(err("setting its version"))?;
        return tx.commit().map_err(err("creating it"));
    }
    // Tables are rebuilt: foreign keys are checked once at the end instead of per step
    // (the pragma cannot change inside a transaction).
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(err("migrating"))?;
    let tx = conn.transaction().map_err(err("migrating"))?;
    for (from, step) in STEPS.iter().enumerate().skip(version as usize - 1) {
        tx.execute_batch(step).map_err(|e| {
            sql_error(
                path,
                &format!("migrating from version {} to {}", from + 1, from + 2),
                e,
            )
        })?;
    }
    let broken: i64 = tx
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(err("checking the migration"))?;
    if broken > 0 {
        return Err(Exit::failed(format!(
            "the store {path}: {broken} rows refer to missing sync records; the migration was \
             rolled back and the store is unchanged"
        )));
    }
    tx.pragma_update(None, "user_version", VERSION)
        .map_err(err("setting its version"))?;
    tx.commit().map_err(err("migrating"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(err("migrating"))
}
