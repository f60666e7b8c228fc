-- The usage-report history store, schema version 2 (PRAGMA user_version = 2).
-- Documented in README.md, "The history store"; migrations from older versions are in
-- migrate.rs. Days are UTC dates, yyyy-mm-dd; instants are RFC 3339 UTC.

-- Whose rows the store holds: one row, written by the first sync.
CREATE TABLE store (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    -- 'organization': rows of the configured Genesys Cloud organization; 'demo': the
    -- stand-in's made-up rows. A store never holds both.
    kind       TEXT NOT NULL CHECK (kind IN ('organization', 'demo')),
    -- The API base URL the rows came from (the region), or 'demo'.
    api        TEXT NOT NULL,
    -- 1 when the rows are per user (sync --per-user): more rows, the same totals.
    per_user   INTEGER NOT NULL CHECK (per_user IN (0, 1)),
    created_at TEXT NOT NULL
);

-- One aggregates job per window of at most 90 days. A window's rows and its record's
-- 'complete' are committed in one transaction; a 'submitted' record is a job the next sync
-- picks up again from its handle.
CREATE TABLE sync (
    id          INTEGER PRIMARY KEY,
    -- The job's handle, e.g. aggregates-job:organization:<job id>.
    job         TEXT NOT NULL,
    start_day   TEXT NOT NULL,
    -- The day after the window's last day.
    end_day     TEXT NOT NULL CHECK (end_day > start_day),
    state       TEXT NOT NULL CHECK (state IN ('submitted', 'complete', 'abandoned')),
    -- The rows the job returned (complete windows).
    rows        INTEGER,
    started_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX sync_by_state ON sync (state, end_day);

-- Daily usage: one row per day, OAuth client, user (per-user stores), template URI, method
-- and platform. The key is natural: a later sync of the same day replaces the counts.
CREATE TABLE usage (
    day          TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    client_name  TEXT NOT NULL,
    -- '' unless the store is per user.
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
    -- The sync record that last wrote the row.
    sync_id      INTEGER NOT NULL REFERENCES sync (id),
    PRIMARY KEY (day, client_id, client_name, user_id, template_uri, http_method, platform)
) WITHOUT ROWID;

-- Requests per day and OAuth client.
CREATE VIEW daily_client_totals AS
SELECT day, client_id, client_name,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage
GROUP BY day, client_id, client_name;

-- Requests per day.
CREATE VIEW daily_totals AS
SELECT day,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage
GROUP BY day;

-- The windows the store holds in full (a day in none of them is missing, not zero).
CREATE VIEW synced_windows AS
SELECT start_day, end_day, rows, job, finished_at
FROM sync
WHERE state = 'complete';
