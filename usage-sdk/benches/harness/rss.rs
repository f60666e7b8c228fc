//! Peak RSS of a benchmark's client alone: the bench binary re-runs itself as a child (with
//! an environment variable saying what to do) while the server stays in the parent, and the
//! child reports `/proc/self/status` figures.

use std::collections::HashMap;
use std::process::Command;

/// A `/proc/self/status` figure in kB, e.g. `VmHWM:` (the peak RSS).
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a kB figure")
}

/// Runs this bench binary as a child with `env=value`; returns the `key=value` figures of its
/// stdout line starting with `marker` (and prints the line, prefixed with `label`).
pub fn run_child(label: &str, env: &str, value: &str, marker: &str) -> HashMap<String, f64> {
    let output = Command::new(std::env::current_exe().expect("this bench binary"))
        .env(env, value)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the {label} child failed: {stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with(marker))
        .expect("the child printed its figures");
    println!("{label}: {line}");
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}
