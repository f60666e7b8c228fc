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
    // The whole file (compared with the reviewed snapshot by a unit test), and its two halves
    // that the crate compiles: `src/types.rs` and `src/raw.rs`.
    let (types, client) = usage_sdk_codegen::split_types(&source).unwrap_or_else(|e| {
        eprintln!("error: cannot split the generated client: {e}");
        std::process::exit(1);
    });
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    for (name, text) in [
        (usage_sdk_codegen::OUT_FILE, source.as_str()),
        (usage_sdk_codegen::OUT_TYPES_FILE, types.as_str()),
        (usage_sdk_codegen::OUT_CLIENT_FILE, client.as_str()),
    ] {
        let out = out_dir.join(name);
        std::fs::write(&out, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    }
}
