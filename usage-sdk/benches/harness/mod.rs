//! The harness the benchmarks in this folder share (each is its own bench target and
//! includes it with `mod harness;`): the results table and its exit code, medians and
//! ranges, a counting allocator, seeded test data, loopback servers, the job server of `stream` and `resume`,
//! and the baselines' plain reqwest clients and structs.
//!
//! Each benchmark uses part of it, so the parts it leaves unused are not dead code.
#![allow(dead_code)]

pub mod alloc;
pub mod data;
pub mod job;
pub mod plain;
pub mod serve;
pub mod stats;
pub mod table;

use std::process::ExitCode;

pub use table::Row;

/// The baselines' plain reqwest clients take the process's rustls provider: ring, as the
/// library's own (tls.rs), so the tree has one crypto library.
pub fn install_ring_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs one benchmark, prints its table, and exits 1 when a target was missed.
/// Arguments (`cargo bench` passes `--bench`) are ignored: one binary, one benchmark.
pub fn run(bench: impl FnOnce(&mut Vec<Row>)) -> ExitCode {
    install_ring_provider();
    let mut rows = Vec::new();
    bench(&mut rows);
    table::finish(&rows)
}
