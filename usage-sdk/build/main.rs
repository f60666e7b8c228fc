//! Puts the raw client into `OUT_DIR`, split into the two files the crate compiles:
//! `usage_api_types.rs` (included by `src/types.rs`) and `usage_api_client.rs` (`src/raw.rs`).
//!
//! Where the client comes from:
//! - By default, the reviewed snapshot `generated/usage_api.rs`: the text progenitor generated
//!   from the spec, written by `cargo xtask regen` and checked by CI to be current. The build
//!   then has no build dependencies, which is most of a consumer's clean build time
//!   (`cargo xtask bench-build`).
//! - With the `build-time-codegen` feature, progenitor itself, run here on the package's copy
//!   of the spec (`spec/usage-api.json`, kept equal to the workspace's `spec/` by
//!   `cargo xtask regen`). The workspace's tests build this way, and a unit test in
//!   `src/raw.rs` asserts the result equals the snapshot, byte for byte.
//!
//! Both read only files inside the package, so the published crate builds from its tarball.
//! Cargo re-runs this only when its input changes, so a no-op build does no work here.

mod split;

use std::path::{Path, PathBuf};

/// The reviewed snapshot, relative to the package root.
const SNAPSHOT: &str = "generated/usage_api.rs";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=build");
    let source = client_source(&manifest_dir);
    let (types, client) = split::split_types(&source).unwrap_or_else(|e| {
        fail(format_args!("cannot split the generated client: {e}"));
    });
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let mut files = vec![
        ("usage_api_types.rs", types.as_str()),
        ("usage_api_client.rs", client.as_str()),
    ];
    // The whole file, for the unit test that compares it with the snapshot (src/raw.rs);
    // without the feature the snapshot is the source and nothing reads it.
    if cfg!(feature = "build-time-codegen") {
        files.push(("usage_api.rs", source.as_str()));
    }
    for (name, text) in files {
        let out = out_dir.join(name);
        if let Err(e) = std::fs::write(&out, text) {
            fail(format_args!("cannot write {}: {e}", out.display()));
        }
    }
}

#[cfg(not(feature = "build-time-codegen"))]
fn client_source(manifest_dir: &Path) -> String {
    let snapshot = manifest_dir.join(SNAPSHOT);
    println!("cargo:rerun-if-changed={}", snapshot.display());
    std::fs::read_to_string(&snapshot).unwrap_or_else(|e| {
        fail(format_args!(
            "cannot read the generated client {}: {e}",
            snapshot.display()
        ));
    })
}

#[cfg(feature = "build-time-codegen")]
fn client_source(manifest_dir: &Path) -> String {
    let spec = manifest_dir.join(usage_sdk_codegen::PACKAGED_SPEC_IN_CRATE);
    println!("cargo:rerun-if-changed={}", spec.display());
    let source = usage_sdk_codegen::generate_file(&spec).unwrap_or_else(|e| {
        fail(format_args!("cannot generate the Usage API client: {e}"));
    });
    // A spec edited without `cargo xtask regen` still builds (the spec is what this feature
    // compiles), but says so: the default build compiles the snapshot.
    let snapshot = manifest_dir.join(SNAPSHOT);
    println!("cargo:rerun-if-changed={}", snapshot.display());
    if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(source.as_str()) {
        println!(
            "cargo:warning={SNAPSHOT} differs from what progenitor generates from {}: run `cargo xtask regen`",
            usage_sdk_codegen::PACKAGED_SPEC_IN_CRATE
        );
    }
    source
}

/// One line that names the problem, then a failed build.
fn fail(message: std::fmt::Arguments<'_>) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
