//! Generates the raw client from `spec/usage-api.json` into `OUT_DIR`.
//!
//! It reads the package's own copy (`usage-sdk/spec/usage-api.json`, kept equal to the
//! workspace's `spec/` by `cargo xtask regen`), never a path outside the package, so the
//! published crate builds from its tarball.
//!
//! Cargo re-runs this only when the spec changes (or usage-sdk-codegen, which holds the
//! generator settings, is rebuilt), so a no-op build does no code generation.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let spec = manifest_dir.join(usage_sdk_codegen::PACKAGED_SPEC_IN_CRATE);
    println!("cargo:rerun-if-changed={}", spec.display());
    println!("cargo:rerun-if-changed=build.rs");

    let source = match usage_sdk_codegen::generate_file(&spec) {
        Ok(source) => source,
        Err(e) => {
            // One line that names the file and the problem, then fail the build.
            eprintln!("error: cannot generate the Usage API client: {e}");
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"))
        .join(usage_sdk_codegen::OUT_FILE);
    std::fs::write(&out, source).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
