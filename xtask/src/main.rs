//! Maintainer tasks.
//!
//! `cargo xtask regen` regenerates the raw client from `spec/usage-api.json`, writes it to the
//! reviewed snapshot `usage-sdk/generated/usage_api.rs`, and prints a unified diff of what changed.
//! `cargo xtask regen --check` writes nothing and exits 1, printing the diff, when the snapshot
//! is stale.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use similar::TextDiff;

const USAGE: &str = "usage: cargo xtask regen [--check]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["regen"] => regen(false),
        ["regen", "--check"] => regen(true),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn regen(check: bool) -> Result<ExitCode, String> {
    let root = workspace_root();
    let fresh = usage_sdk_codegen::generate_file(&root.join(usage_sdk_codegen::SPEC_PATH))
        .map_err(|e| e.to_string())?;
    let snapshot_path = root.join(usage_sdk_codegen::SNAPSHOT_PATH);
    let current = match std::fs::read_to_string(&snapshot_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", snapshot_path.display())),
    };

    if current == fresh {
        println!(
            "{} is up to date with {}",
            usage_sdk_codegen::SNAPSHOT_PATH,
            usage_sdk_codegen::SPEC_PATH
        );
        return Ok(ExitCode::SUCCESS);
    }

    let diff = TextDiff::from_lines(&current, &fresh);
    print!(
        "{}",
        diff.unified_diff().context_radius(3).header(
            &format!("a/{}", usage_sdk_codegen::SNAPSHOT_PATH),
            &format!("b/{}", usage_sdk_codegen::SNAPSHOT_PATH)
        )
    );
    if check {
        eprintln!(
            "error: {} is stale: run `cargo xtask regen` and review the diff above",
            usage_sdk_codegen::SNAPSHOT_PATH
        );
        return Ok(ExitCode::FAILURE);
    }
    std::fs::write(&snapshot_path, &fresh)
        .map_err(|e| format!("cannot write {}: {e}", snapshot_path.display()))?;
    println!("wrote {}", usage_sdk_codegen::SNAPSHOT_PATH);
    Ok(ExitCode::SUCCESS)
}
