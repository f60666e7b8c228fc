//! Integration tests of usage-sdk against local servers on loopback (httpmock, scripted
//! servers and the stand-in), one module per behaviour; shared fixtures live in `support`
//! (clients, queries, stand-in helpers, child processes) and `scripted` (the loopback
//! servers: a scripted one and one that misbehaves byte by byte).
//!
//! Through the typed `UsageClient`:
//! - `retries`: what is sent again after 429, 5xx, dropped connections and timeouts, and when.
//! - `auth`: tokens fetched, shared, renewed, and token endpoint failures.
//! - `waiting`: poll schedules, terminal statuses, deadlines and resuming.
//! - `limits`: response size caps and the memory they protect.
//! - `security`: secrets out of Debug, errors and logs; redirects; hostile ids.
//! - `input`: bad caller input refused before any request.
//! - `end_to_end`: the legacy operations' data against the stand-in.
//! - `jobs`: aggregates query jobs and simple search, paging to the end.
//! - `events`: the operational events: what is sent, paging, retries, `usage.events.too.old`.
//! - `fuzz`: hostile or odd response bodies end in a value or a typed error.
//! - `load`: many concurrent calls end typed, with flat memory and few tokens.
//! - `unknown_fields`: fields the spec does not name kept in rows and results, written back.
//! - `tls`: every call over TLS (a proxy that prefers HTTP/2, one that speaks HTTP/1.1 only),
//!   refused certificates, extra trusted roots.
//!
//! Below it and beside it:
//! - `raw_client`: every generated operation's request and response shapes, table-driven.
//! - `agreement`: the raw client round-trips the stand-in's answers, and the client's input
//!   checks and the stand-in's validation agree at each documented limit. (The stand-in on
//!   its own is tested in its crate, usage-sdk/stand-in/tests.)

mod agreement;
mod auth;
mod end_to_end;
mod events;
mod fuzz;
mod input;
mod jobs;
mod limits;
mod load;
mod raw_client;
mod retries;
mod scripted;
mod security;
mod support;
mod tls;
mod unknown_fields;
mod waiting;
