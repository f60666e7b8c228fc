//! `cargo xtask layers`: the module graphs of the library and of `usage-report`, and a check
//! that neither has an import circle.
//!
//! A module is a file or a folder of `src/` (a folder's files count as one module); the crate
//! root (`lib.rs`, `main.rs`) wires them and is left out. A module depends on another when its
//! code (comments aside, since doc links may point anywhere) names `crate::other`. The
//! library's generated file is compiled as two modules, as the build script splits it: its
//! types (`src/types.rs`) and the client (`src/raw.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

// The build script's own splitter (std only), so the graph is of what the crate compiles.
#[path = "../../usage-sdk/build/split.rs"]
mod split;

pub type Graph = BTreeMap<String, BTreeSet<String>>;

fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn references(text: &str, this: &str) -> BTreeSet<String> {
    let code = code_only(text);
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if !name.is_empty() && name != this {
            found.insert(name);
        }
    }
    found
}

/// The module graph of a crate's `src/`, its root `root` (`lib`, `main`) left out.
fn modules(src: &Path, root: &str) -> Result<Graph, String> {
    let mut graph = Graph::new();
    let entries = std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            let mut text = String::new();
            for file in rust_files(&path)? {
                text += &read(&file)?;
            }
            graph.insert(name.clone(), references(&text, &name));
        } else if path.extension().is_some_and(|e| e == "rs") && name != root {
            graph.insert(name.clone(), references(&read(&path)?, &name));
        }
    }
    Ok(graph)
}

/// The `.rs` files under `dir`, at any depth.
fn rust_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Only the edges between modules of the graph (not to external crates' `crate::` paths).
fn known_only(mut graph: Graph) -> Graph {
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for (name, deps) in graph.iter_mut() {
        deps.retain(|d| known.contains(d) && d != name);
    }
    graph
}

/// The module graph of `usage-sdk/src` (with the generated client from `generated/`).
pub fn graph(sdk: &Path) -> Result<Graph, String> {
    let mut graph = modules(&sdk.join("src"), "lib")?;
    // What src/types.rs and src/raw.rs include from OUT_DIR, split as the build script does.
    let generated = read(&sdk.join("generated").join("usage_api.rs"))?;
    let (types, client) = split::split_types(&generated)?;
    graph
        .entry("types".into())
        .or_default()
        .extend(references(&types, "types"));
    graph
        .entry("raw".into())
        .or_default()
        .extend(references(&client, "raw"));
    Ok(known_only(graph))
}

/// The module graph of the `usage-report` program (`usage-sdk/usage-report/src`).
pub fn report_graph(report: &Path) -> Result<Graph, String> {
    Ok(known_only(modules(&report.join("src"), "main")?))
}

/// Every circle, each as the path from its smallest module back to it.
pub fn circles(graph: &Graph) -> Vec<Vec<String>> {
    fn walk(graph: &Graph, start: &str, path: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
        let here = path.last().cloned().unwrap_or_default();
        for next in graph.get(&here).into_iter().flatten() {
            if next == start {
                let mut circle = path.clone();
                circle.push(start.to_string());
                found.push(circle);
            } else if next.as_str() > start && !path.contains(next) {
                path.push(next.clone());
                walk(graph, start, path, found);
                path.pop();
            }
        }
    }
    let mut found = Vec::new();
    for start in graph.keys() {
        walk(graph, start, &mut vec![start.clone()], &mut found);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_has_no_import_circle() {
        let sdk = crate::regen::Workspace::this().root.join("usage-sdk");
        let graph = graph(&sdk).unwrap();
        assert!(graph.len() > 20, "{graph:?}");
        assert_eq!(circles(&graph), Vec::<Vec<String>>::new(), "{graph:#?}");
        // The leaves stay leaves.
        for leaf in ["time", "open_enum", "input"] {
            assert!(graph[leaf].is_empty(), "{leaf} -> {:?}", graph[leaf]);
        }
        // The row dates read strings as the open enums do, and use nothing else.
        assert_eq!(graph["row_date"], ["open_enum".to_string()].into());
        // The error type uses the generated types, never the client above it.
        assert_eq!(
            graph["types"],
            ["open_enum".to_string(), "row_date".to_string()].into()
        );
        assert!(graph["error"].contains("types") && !graph["error"].contains("raw"));
    }

    #[test]
    fn usage_report_has_no_import_circle_and_flows_one_way() {
        let report = crate::regen::Workspace::this()
            .root
            .join("usage-sdk")
            .join("usage-report");
        let graph = report_graph(&report).unwrap();
        assert!(graph.len() > 10, "{graph:?}");
        assert_eq!(circles(&graph), Vec::<Vec<String>>::new(), "{graph:#?}");
        // The leaves stay leaves.
        for leaf in ["exit", "row", "text"] {
            assert!(graph[leaf].is_empty(), "{leaf} -> {:?}", graph[leaf]);
        }
        // Each step uses only the steps after it: the outputs never see the command line,
        // the plan or the fetch; the fetch never sees the command line or the plan.
        let below = |module: &str, above: &[&str]| {
            for a in above {
                assert!(!graph[module].contains(*a), "{module} -> {a}: {graph:#?}");
            }
        };
        below("output", &["cli", "plan", "fetch", "report"]);
        below("aggregate", &["cli", "plan", "fetch", "output", "report"]);
        below("fetch", &["cli", "plan", "output", "report"]);
        below("plan", &["report"]);
    }

    #[test]
    fn a_circle_is_found() {
        let mut graph = Graph::new();
        graph.insert("a".into(), ["b".to_string()].into());
        graph.insert("b".into(), ["c".to_string()].into());
        graph.insert("c".into(), ["a".to_string()].into());
        assert_eq!(circles(&graph), vec![vec!["a", "b", "c", "a"]]);
        assert_eq!(
            references(
                "use crate::b::X; // crate::z\n/// [`crate::y`]\nfn f() { crate::raw::T }",
                "a"
            ),
            ["b".to_string(), "raw".to_string()].into()
        );
    }
}
