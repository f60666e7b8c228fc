//! The harness the benchmarks in this folder share (each is its own bench target and
//! includes it with `mod harness;`): the results table and its exit code, medians and
//! ranges, a counting allocator, seeded test data, loopback servers, the job server of `stream` and `resume`, child processes for peak RSS,
//! and the baselines' plain reqwest clients and structs.
//!
//! Each benchmark uses part of it, so the parts it leaves unused are not dead code.
#![allow(dead_code)]

pub mod alloc;
pub mod data;
pub mod job;
pub mod plain;
pub mod rss;
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

/// `USAGE_SDK_BENCH_ONLY=sdk|base N`: run one side only, `N` times (cycles, decodes or
/// rows; each benchmark says which), untimed and without the table, so that an instruction
/// count (`valgrind --tool=callgrind`) taken at two values of `N` attributes the difference
/// to that side alone. Repeatable on a loaded machine, unlike the timed rounds.
pub const ONLY_ENV: &str = "USAGE_SDK_BENCH_ONLY";

/// Which side a `USAGE_SDK_BENCH_ONLY` run measures.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    Sdk,
    Base,
}

/// The side and count of a `USAGE_SDK_BENCH_ONLY` run, when it is one.
pub fn only() -> Option<(Side, usize)> {
    let spec = std::env::var(ONLY_ENV).ok()?;
    let parsed = spec.split_once(' ').and_then(|(side, n)| {
        let side = match side {
            "sdk" => Side::Sdk,
            "base" => Side::Base,
            _ => return None,
        };
        Some((side, n.trim().parse().ok()?))
    });
    let Some(only) = parsed else {
        eprintln!("{ONLY_ENV}: expected `sdk|base N`, got {spec:?}");
        std::process::exit(2);
    };
    install_ring_provider();
    Some(only)
}

/// The single-threaded runtime every side of every benchmark (and the loopback servers) runs
/// on, so that neither side gets more threads than the other.
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Runs one benchmark, prints its table, and exits 1 when a target was missed.
/// Arguments (`cargo bench` passes `--bench`) are ignored: one binary, one benchmark.
pub fn run(bench: impl FnOnce(&mut Vec<Row>)) -> ExitCode {
    install_ring_provider();
    let mut rows = Vec::new();
    bench(&mut rows);
    table::finish(&rows)
}
