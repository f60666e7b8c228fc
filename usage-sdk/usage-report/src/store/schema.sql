-- The usage-report history store, schema version 3 (PRAGMA user_version = 3).
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

-- The names rows carry, each kept once and referred to by its integer id: a usage row's key
-- is then a date and five small integers rather than five strings, which keeps a sync's
-- writes in the page cache (usage-sdk/benches/HISTORY.md, `cargo bench -p usage-report
-- --bench sync`). Read the rows through the view `usage`, which joins them back.

-- An OAuth client: its id and the name it had (a renamed client is a second row).
CREATE TABLE client (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL,
    client_name TEXT NOT NULL,
    UNIQUE (client_id, client_name)
);

-- A user id; '' (rows without users) unless the store is per user.
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

-- Daily usage: one row per day, OAuth client, user (per-user stores), template URI, method
-- and platform. The key is natural: a later sync of the same day replaces the counts.
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
    -- The sync record that last wrote the row.
    sync_id      INTEGER NOT NULL REFERENCES sync (id),
    PRIMARY KEY (day, client, user, template, method, platform)
) WITHOUT ROWID;

-- The daily rows with their names, as version 2 kept them.
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

-- Requests per day and OAuth client.
CREATE VIEW daily_client_totals AS
SELECT r.day, c.client_id, c.client_name,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage_row r
JOIN client c ON c.id = r.client
GROUP BY r.day, r.client;

-- Requests per day.
CREATE VIEW daily_totals AS
SELECT day,
       SUM(requests) AS requests, SUM(status200) AS status200, SUM(status300) AS status300,
       SUM(status400) AS status400, SUM(status429) AS status429, SUM(status500) AS status500
FROM usage_row
GROUP BY day;

-- The windows the store holds in full (a day in none of them is missing, not zero).
CREATE VIEW synced_windows AS
SELECT start_day, end_day, rows, job, finished_at
FROM sync
WHERE state = 'complete';
