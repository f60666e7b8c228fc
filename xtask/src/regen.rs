//! `cargo xtask regen [--check]`: the reviewed snapshot of the generated client, and the
//! spec's copy inside the usage-sdk package.
//!
//! Every function takes the workspace root as a parameter, so tests run them on a temporary
//! copy, never on the real tree.

use std::io::Write;
use std::path::{Path, PathBuf};

use similar::TextDiff;

/// The paths regen reads and writes, under one workspace root.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The workspace this xtask binary was built from.
    pub fn this() -> Self {
        Self::new(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask lives inside the workspace"),
        )
    }

    pub fn spec(&self) -> PathBuf {
        self.root.join(usage_sdk_codegen::SPEC_PATH)
    }

    /// The spec's copy inside the usage-sdk package.
    pub fn packaged_spec(&self) -> PathBuf {
        self.root.join(usage_sdk_codegen::PACKAGED_SPEC_PATH)
    }

    pub fn snapshot(&self) -> PathBuf {
        self.root.join(usage_sdk_codegen::SNAPSHOT_PATH)
    }
}

/// What `regen` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    UpToDate,
    /// The snapshot was stale; with `--check` nothing was written.
    Stale {
        written: bool,
    },
}

/// Regenerates the snapshot from the spec and refreshes the spec's copy in the usage-sdk
/// package; prints the diffs to `out`. With `check`, writes nothing and reports
/// [`Outcome::Stale`] instead.
pub fn regen(ws: &Workspace, check: bool, out: &mut dyn Write) -> Result<Outcome, String> {
    let copy = sync_packaged_spec(ws, check, out)?;
    let snapshot = regen_snapshot(ws, check, out)?;
    Ok(match (copy, snapshot) {
        (Outcome::UpToDate, Outcome::UpToDate) => Outcome::UpToDate,
        _ => Outcome::Stale { written: !check },
    })
}

/// The copy of the spec that the build script reads (`build-time-codegen`) must equal the spec
/// byte for byte.
fn sync_packaged_spec(ws: &Workspace, check: bool, out: &mut dyn Write) -> Result<Outcome, String> {
    let spec = std::fs::read_to_string(ws.spec())
        .map_err(|e| format!("cannot read {}: {e}", ws.spec().display()))?;
    let copy = read_or_empty(&ws.packaged_spec())?;
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    if copy == spec {
        return Ok(Outcome::UpToDate);
    }
    write!(
        out,
        "{}",
        unified_diff(&copy, &spec, usage_sdk_codegen::PACKAGED_SPEC_PATH)
    )
    .map_err(io)?;
    if check {
        return Ok(Outcome::Stale { written: false });
    }
    if let Some(dir) = ws.packaged_spec().parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    write_atomically(&ws.packaged_spec(), &spec)?;
    writeln!(out, "wrote {}", usage_sdk_codegen::PACKAGED_SPEC_PATH).map_err(io)?;
    Ok(Outcome::Stale { written: true })
}

fn regen_snapshot(ws: &Workspace, check: bool, out: &mut dyn Write) -> Result<Outcome, String> {
    let fresh = usage_sdk_codegen::generate_file(&ws.spec()).map_err(|e| e.to_string())?;
    let current = read_or_empty(&ws.snapshot())?;
    let io = |e: std::io::Error| format!("cannot write output: {e}");

    if current == fresh {
        writeln!(
            out,
            "{} is up to date with {}",
            usage_sdk_codegen::SNAPSHOT_PATH,
            usage_sdk_codegen::SPEC_PATH
        )
        .map_err(io)?;
        return Ok(Outcome::UpToDate);
    }

    write!(
        out,
        "{}",
        unified_diff(&current, &fresh, usage_sdk_codegen::SNAPSHOT_PATH)
    )
    .map_err(io)?;
    if check {
        return Ok(Outcome::Stale { written: false });
    }
    write_atomically(&ws.snapshot(), &fresh)?;
    writeln!(out, "wrote {}", usage_sdk_codegen::SNAPSHOT_PATH).map_err(io)?;
    Ok(Outcome::Stale { written: true })
}

/// A unified diff (3 lines of context) of `old` against `new`, headed `a/<name>` / `b/<name>`.
/// Empty when the texts are equal.
pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// The file's text, or "" when it does not exist yet.
pub fn read_or_empty(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Writes `text` to a temporary file next to `path`, then renames it over `path`, so a failure
/// never leaves a half-written file behind.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let tmp = temp_sibling(path);
    std::fs::write(&tmp, text).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", tmp.display())
    })?;
    commit_temp(&tmp, path)
}

/// A path next to `path` for a temporary file.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.xtask-{}.tmp", std::process::id()))
}

/// Renames a temporary file written by [`temp_sibling`] over `path`.
pub fn commit_temp(tmp: &Path, path: &Path) -> Result<(), String> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        format!("cannot replace {}: {e}", path.display())
    })
}
