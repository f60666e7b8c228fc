//! `cargo xtask regen --upstream FILE [FILE...]`: from the published Genesys swagger documents
//! to a reviewed client diff in one command.
//!
//! 1. read the Swagger 2.0 documents (`swagger.rs`, lazily: only what is needed is parsed);
//! 2. take the fifteen operations and the definitions they reach, each from the document that
//!    has it, check that what several documents bring agrees (`agree.rs`), convert them to
//!    OpenAPI 3.0.3 (`convert.rs`) and apply the declared deviations (`adjustments.rs`);
//! 3. generate the client from the new spec text (usage-sdk-codegen, as `regen` does);
//! 4. print the spec diff, the generated-client diff and a summary of what changed, with
//!    breaking changes called out (`compare.rs`);
//! 5. only then write spec/usage-api.json and the snapshot (temporary file + rename).
//!
//! Any error before step 5 leaves spec/ and the snapshot untouched.

pub mod adjustments;
pub mod agree;
pub mod compare;
pub mod convert;
pub mod swagger;

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::regen::{self, Workspace};

/// Why an import failed. Every variant leaves the workspace untouched.
#[derive(Debug)]
pub enum ImportError {
    Io(String),
    NotJson(String),
    NotSwagger2(String),
    /// Structurally wrong for Swagger 2.0 (a missing required member, a wrong type).
    Invalid(String),
    DanglingRef(String),
    Unsupported(String),
    /// Operations of this SDK that the upstream does not have.
    MissingOperations(Vec<String>),
    /// The converted spec was rejected by the client generator.
    Generate(String),
    /// Two documents bring the same thing and it differs.
    Disagree(Box<Disagreement>),
    /// The same bytes were given twice (two paths).
    SameDocumentTwice(String, String),
    /// A document given with others has none of the operations.
    DocumentWithoutOperations(String),
}

/// Two documents bring the same thing (a definition, an operation, a tag, a security scheme,
/// the server) and it differs: where (a JSON path), and what each one has there.
#[derive(Debug)]
pub struct Disagreement {
    pub what: String,
    pub at: String,
    /// The first document (as given on the command line) and its value there.
    pub first: (String, String),
    pub second: (String, String),
}

impl ImportError {
    /// The error with the document it is about named first (several documents are imported
    /// at once).
    pub fn in_document(self, label: &str) -> Self {
        let named = |e: String| format!("{label}: {e}");
        match self {
            ImportError::Io(e) => ImportError::Io(named(e)),
            ImportError::NotJson(e) => ImportError::NotJson(named(e)),
            ImportError::NotSwagger2(e) => ImportError::NotSwagger2(named(e)),
            ImportError::Invalid(e) => ImportError::Invalid(named(e)),
            ImportError::DanglingRef(e) => ImportError::DanglingRef(named(e)),
            ImportError::Unsupported(e) => ImportError::Unsupported(named(e)),
            other => other,
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Io(e) => write!(f, "{e}"),
            ImportError::NotJson(e) => write!(f, "the upstream is not JSON: {e}"),
            ImportError::NotSwagger2(e) => {
                write!(f, "the upstream is not a Swagger 2.0 document: {e}")
            }
            ImportError::Invalid(e) => write!(f, "the upstream is not valid Swagger 2.0: {e}"),
            ImportError::DanglingRef(e) => write!(f, "dangling reference in the upstream: {e}"),
            ImportError::Unsupported(e) => {
                write!(
                    f,
                    "the upstream uses something the importer does not support: {e}"
                )
            }
            ImportError::MissingOperations(missing) => write!(
                f,
                "the upstream does not have the operation{} {}, which this SDK is made of; \
                 nothing was written. If the operation was really removed or renamed upstream, \
                 that is a breaking change for usage-sdk: change upstream/convert.rs OPERATIONS \
                 and the hand-written layer together, on purpose",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
            ImportError::Generate(e) => write!(
                f,
                "the converted spec was rejected by the client generator: {e}"
            ),
            ImportError::Disagree(d) => {
                let Disagreement {
                    what,
                    at,
                    first: (first, first_value),
                    second: (second, second_value),
                } = d.as_ref();
                write!(
                    f,
                    "the upstream documents disagree on {what}: at {at}, {first} has \
                 {first_value} and {second} has {second_value}. Both documents bring it into \
                 the spec, so they must agree; take them from the same upstream release"
                )
            }
            ImportError::SameDocumentTwice(a, b) => write!(
                f,
                "{a} and {b} are the same document (same sha256); give each document once"
            ),
            ImportError::DocumentWithoutOperations(label) => write!(
                f,
                "{label} has none of the {} operations this SDK is made of (upstream/convert.rs \
                 OPERATIONS); give only the documents that hold them",
                convert::OPERATIONS.len()
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// What an import did (the CLI prints it as it goes; tests inspect it).
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct Imported {
    pub findings: Vec<compare::Finding>,
    pub spec_changed: bool,
    pub client_changed: bool,
    pub written: bool,
}

/// A document size for people: kB below a megabyte (the per-tag documents are tens of kB).
fn size(bytes: usize) -> String {
    if bytes < 1_000_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Imports the documents `inputs` (one upstream, e.g. the usage and the operational events
/// documents) into the workspace `ws`. With `dry_run`, prints everything and writes nothing.
pub fn import(
    ws: &Workspace,
    inputs: &[&Path],
    dry_run: bool,
    out: &mut dyn Write,
) -> Result<Imported, ImportError> {
    let io = |e: std::io::Error| ImportError::Io(format!("cannot write output: {e}"));
    let started = Instant::now();
    let mut read = Vec::new();
    for input in inputs {
        let bytes = std::fs::read(input)
            .map_err(|e| ImportError::Io(format!("cannot read {}: {e}", input.display())))?;
        let label = input.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            ImportError::NotJson(format!("not UTF-8 text: {}", e.utf8_error())).in_document(&label)
        })?;
        let sha256 = sha256_hex(text.as_bytes());
        read.push((label, text, sha256));
    }
    let documents: Vec<convert::Input> = read
        .iter()
        .map(|(label, text, sha256)| convert::Input {
            label,
            text,
            sha256,
        })
        .collect();
    let converted = convert::convert(&documents)?;
    let imported_in = started.elapsed();
    let new_spec = converted.text();

    let started = Instant::now();
    let new_client =
        usage_sdk_codegen::generate_source(&new_spec).map_err(ImportError::Generate)?;
    let generated_in = started.elapsed();

    let old_spec = regen::read_or_empty(&ws.spec()).map_err(ImportError::Io)?;
    let old_client = regen::read_or_empty(&ws.snapshot()).map_err(ImportError::Io)?;
    let findings = match crate::json::parse(&old_spec) {
        Ok(old) => compare::compare(&old, &converted.spec),
        Err(_) => Vec::new(),
    };

    let selected = convert::OPERATIONS.len() - converted.missing_operations.len();
    let schemas = converted
        .spec
        .at(&["components", "schemas"])
        .and_then(crate::json::Json::as_object)
        .map_or(0, crate::json::Object::len);
    writeln!(
        out,
        "imported {selected} of {} operations and {schemas} schemas from {} document{} in {} \
         ms; generated the client in {} ms",
        convert::OPERATIONS.len(),
        documents.len(),
        if documents.len() == 1 { "" } else { "s" },
        imported_in.as_millis(),
        generated_in.as_millis(),
    )
    .map_err(io)?;
    for (input, summary) in documents.iter().zip(&converted.documents) {
        let also_elsewhere = summary.found - summary.taken.len();
        writeln!(
            out,
            "  {} ({}, sha256 {}…): {} operation{}{} ({} in the document), {} definitions \
             ({} in the document)",
            input.label,
            size(input.text.len()),
            &input.sha256[..12.min(input.sha256.len())],
            summary.taken.len(),
            if summary.taken.len() == 1 { "" } else { "s" },
            if also_elsewhere > 0 {
                format!(" (and {also_elsewhere} the same as in an earlier document)")
            } else {
                String::new()
            },
            summary.total_operations,
            summary.definitions,
            summary.total_definitions,
        )
        .map_err(io)?;
    }
    let spec_diff = regen::unified_diff(&old_spec, &new_spec, usage_sdk_codegen::SPEC_PATH);
    let client_diff =
        regen::unified_diff(&old_client, &new_client, usage_sdk_codegen::SNAPSHOT_PATH);
    for (n, (name, diff)) in [
        (usage_sdk_codegen::SPEC_PATH, &spec_diff),
        (usage_sdk_codegen::SNAPSHOT_PATH, &client_diff),
    ]
    .into_iter()
    .enumerate()
    {
        writeln!(out, "\n=== diff {}/2: {name} ===", n + 1).map_err(io)?;
        if diff.is_empty() {
            writeln!(out, "(no change)").map_err(io)?;
        } else {
            write!(out, "{diff}").map_err(io)?;
        }
    }

    writeln!(out, "\n=== summary ===").map_err(io)?;
    for finding in findings.iter().filter(|f| !f.breaking) {
        writeln!(out, "change: {}", finding.text).map_err(io)?;
    }
    for warning in &converted.warnings {
        writeln!(out, "WARNING: {warning}").map_err(io)?;
    }
    for finding in findings.iter().filter(|f| f.breaking) {
        writeln!(out, "BREAKING: {}", finding.text).map_err(io)?;
    }
    if findings.is_empty() && spec_diff.is_empty() {
        writeln!(
            out,
            "no change: the spec is already what this upstream gives"
        )
        .map_err(io)?;
    } else if findings.is_empty() {
        writeln!(
            out,
            "no change to operations or schemas (see the diff for text changes)"
        )
        .map_err(io)?;
    }
    let breaking = findings.iter().filter(|f| f.breaking).count();
    if breaking > 0 {
        writeln!(
            out,
            "{breaking} breaking change{} for usage-sdk users: review before committing",
            if breaking == 1 { "" } else { "s" }
        )
        .map_err(io)?;
    }

    if !converted.missing_operations.is_empty() {
        return Err(ImportError::MissingOperations(converted.missing_operations));
    }
    let imported = |written| Imported {
        findings,
        spec_changed: !spec_diff.is_empty(),
        client_changed: !client_diff.is_empty(),
        written,
    };
    if dry_run {
        writeln!(out, "dry run: nothing written").map_err(io)?;
        return Ok(imported(false));
    }
    // The package's copy of the spec follows the spec (`build-time-codegen` reads the copy).
    let copy_stale =
        regen::read_or_empty(&ws.packaged_spec()).map_err(ImportError::Io)? != new_spec;
    if spec_diff.is_empty() && client_diff.is_empty() && !copy_stale {
        return Ok(imported(false));
    }
    // Both temporary files first, then both renames: a failure while writing leaves both
    // files as they were.
    let mut pending = Vec::new();
    for (changed, path, text) in [
        (!spec_diff.is_empty(), ws.spec(), &new_spec),
        (copy_stale, ws.packaged_spec(), &new_spec),
        (!client_diff.is_empty(), ws.snapshot(), &new_client),
    ] {
        if !changed {
            continue;
        }
        let tmp = regen::temp_sibling(&path);
        if let Err(e) = std::fs::write(&tmp, text) {
            let _ = std::fs::remove_file(&tmp);
            for (tmp, _) in &pending {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(ImportError::Io(format!(
                "cannot write {}: {e}",
                tmp.display()
            )));
        }
        pending.push((tmp, path));
    }
    for (tmp, path) in &pending {
        regen::commit_temp(tmp, path).map_err(ImportError::Io)?;
    }
    writeln!(
        out,
        "wrote {}",
        pending
            .iter()
            .map(|(_, p)| p.strip_prefix(&ws.root).unwrap_or(p).display().to_string())
            .collect::<Vec<_>>()
            .join(" and ")
    )
    .map_err(io)?;
    Ok(imported(true))
}
