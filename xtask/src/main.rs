//! Maintainer tasks.
//!
//! - `cargo xtask regen` regenerates the raw client from `spec/usage-api.json`, writes it to
//!   the reviewed snapshot `usage-sdk/generated/usage_api.rs`, copies the spec to
//!   `usage-sdk/spec/usage-api.json` (the copy the published crate builds from), and prints a
//!   unified diff of what changed. `cargo xtask regen --check` writes nothing and exits 1,
//!   printing the diff, when the snapshot or the copy is stale.
//! - `cargo xtask regen --upstream FILE [FILE...] [--dry-run]` imports the published Genesys
//!   Swagger 2.0 documents (today two: the usage document and the operational events one; or
//!   the full Platform API document alone): it rewrites `spec/usage-api.json` from them,
//!   regenerates the snapshot, and prints both diffs and a summary that calls out breaking
//!   changes (see `upstream/`).
//! - `cargo xtask layers` prints the module graphs of the library and of `usage-report` and
//!   fails on an import circle in either.
//! - `cargo xtask synth-upstream FILE [--mb N]` writes a synthetic Swagger 2.0 document of about
//!   N MB (default 50) with thousands of operations, to measure the import on a large input.
//! - `cargo xtask bench-build` measures clean builds of usage-sdk and of a consumer against
//!   plain reqwest (about 20 minutes); the other benchmarks are `cargo bench -p usage-sdk`.

mod bench_build;
mod json;
mod layers;
mod regen;
mod synth;
mod upstream;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::process::ExitCode;

use regen::{Outcome, Workspace};

const USAGE: &str = "usage: cargo xtask regen [--check]\n       \
                     cargo xtask regen --upstream SWAGGER.json [SWAGGER.json...] [--dry-run]\n       \
                     cargo xtask layers\n       \
                     cargo xtask synth-upstream FILE [--mb N]\n       \
                     cargo xtask bench-build [--help]\n\n\
                     regen --upstream takes every published document the SDK's operations are in, \
                     in any order,\n\
                     either after one --upstream or each after its own: today the usage and the \
                     operational events\n\
                     documents (or the full Platform API document alone), e.g.\n  \
                     cargo xtask regen --upstream genesys-usage-swagger2-full.json \
                     genesys-operational-events-swagger2.json";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ws = Workspace::this();
    let mut stdout = std::io::stdout().lock();
    let result = match args.as_slice() {
        ["regen"] => run_regen(&ws, false, &mut stdout),
        ["regen", "--check"] => run_regen(&ws, true, &mut stdout),
        ["regen", rest @ ..] if rest.contains(&"--upstream") => match upstream_args(rest) {
            Some((files, dry_run)) => run_import(&ws, &files, dry_run, &mut stdout),
            None => Err(USAGE.to_string()),
        },
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        ["layers"] => run_layers(&ws),
        ["synth-upstream", file] => run_synth(&ws, file, 50.0),
        ["synth-upstream", file, "--mb", mb] => match mb.parse::<f64>() {
            Ok(mb) if mb > 0.0 => run_synth(&ws, file, mb),
            _ => Err(format!("--mb needs a positive number\n{USAGE}")),
        },
        ["bench-build"] => Ok(bench_build::run(&ws.root)),
        ["bench-build", "--help" | "-h"] => {
            println!("{}", bench_build::HELP);
            Ok(ExitCode::SUCCESS)
        }
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

/// The files and `--dry-run` of `regen --upstream A [B...] [--upstream C] [--dry-run]`; `None`
/// for anything else (no file, an unknown option).
fn upstream_args<'a>(args: &[&'a str]) -> Option<(Vec<&'a str>, bool)> {
    let mut files = Vec::new();
    let mut dry_run = false;
    let mut after_upstream = false;
    for &arg in args {
        match arg {
            "--upstream" => after_upstream = true,
            "--dry-run" => dry_run = true,
            file if after_upstream && !file.starts_with('-') => files.push(file),
            _ => return None,
        }
    }
    (!files.is_empty()).then_some((files, dry_run))
}

fn run_layers(ws: &Workspace) -> Result<ExitCode, String> {
    let sdk = ws.root.join("usage-sdk");
    let mut graphs = vec![("usage-sdk (layers)".to_string(), layers::graph(&sdk)?)];
    for (folder, files) in layers::folder_graphs(&sdk.join("src"))? {
        graphs.push((format!("usage-sdk/src/{folder}"), files));
    }
    graphs.push((
        "usage-report".to_string(),
        layers::report_graph(&sdk.join("usage-report"))?,
    ));
    let mut code = ExitCode::SUCCESS;
    for (i, (name, graph)) in graphs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{name}:");
        for (module, deps) in graph {
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            println!("{module:<12} -> {}", deps.join(" "));
        }
        let circles = layers::circles(graph);
        if circles.is_empty() {
            println!("no import circle among {} modules of {name}", graph.len());
        } else {
            for circle in &circles {
                println!("circle in {name}: {}", circle.join(" -> "));
            }
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

fn run_regen(
    ws: &Workspace,
    check: bool,
    out: &mut dyn std::io::Write,
) -> Result<ExitCode, String> {
    match regen::regen(ws, check, out)? {
        Outcome::Stale { written: false } => {
            eprintln!(
                "error: {} or {} is stale: run `cargo xtask regen` and review the diff above",
                usage_sdk_codegen::SNAPSHOT_PATH,
                usage_sdk_codegen::PACKAGED_SPEC_PATH
            );
            Ok(ExitCode::FAILURE)
        }
        Outcome::UpToDate | Outcome::Stale { written: true } => Ok(ExitCode::SUCCESS),
    }
}

fn run_import(
    ws: &Workspace,
    files: &[&str],
    dry_run: bool,
    out: &mut dyn std::io::Write,
) -> Result<ExitCode, String> {
    let _ = out.flush();
    let files: Vec<&Path> = files.iter().map(Path::new).collect();
    match upstream::import(ws, &files, dry_run, out) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            let _ = out.flush();
            Err(format!(
                "{e}\n{}, {} and {} were left untouched",
                usage_sdk_codegen::SPEC_PATH,
                usage_sdk_codegen::PACKAGED_SPEC_PATH,
                usage_sdk_codegen::SNAPSHOT_PATH
            ))
        }
    }
}

fn run_synth(ws: &Workspace, file: &str, mb: f64) -> Result<ExitCode, String> {
    let slice = synth::reference_slice(ws)?;
    let events = synth::reference_events(ws)?;
    let text = synth::synthetic_upstream(&slice, &[&events], (mb * 1e6) as usize)?;
    std::fs::write(file, &text).map_err(|e| format!("cannot write {file}: {e}"))?;
    println!("wrote {file} ({:.1} MB)", text.len() as f64 / 1e6);
    Ok(ExitCode::SUCCESS)
}
