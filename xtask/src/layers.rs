//! `cargo xtask layers`: the module graphs of the library and of `usage-report`, and a check
//! that neither has an import circle.
//!
//! A module is a file or a folder of `src/` (a folder's files count as one module: a layer);
//! the crate root (`lib.rs`, `main.rs`) wires them and is left out. A module depends on
//! another when its code (comments aside, since doc links may point anywhere) names
//! `crate::other`. Inside a folder, its files form a graph of their own, through
//! `crate::folder::file`. The library's generated file is compiled as two modules, as the
//! build script splits it: its types (`src/model/types.rs`) and the client
//! (`src/http/raw.rs`).

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
    references_under(text, "crate::", this)
}

/// The names that follow `prefix` (e.g. `crate::` or `crate::http::`) in `text`'s code.
fn references_under(text: &str, prefix: &str, this: &str) -> BTreeSet<String> {
    let code = code_only(text);
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find(prefix) {
        rest = &rest[at + prefix.len()..];
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

/// The layer graph of `usage-sdk/src` (with the generated client from `generated/`).
pub fn graph(sdk: &Path) -> Result<Graph, String> {
    let mut graph = modules(&sdk.join("src"), "lib")?;
    // What model/types.rs and http/raw.rs include from OUT_DIR, split as the build script does.
    let (types, client) = generated(sdk)?;
    graph
        .entry("model".into())
        .or_default()
        .extend(references(&types, "model"));
    graph
        .entry("http".into())
        .or_default()
        .extend(references(&client, "http"));
    Ok(known_only(graph))
}

fn generated(sdk: &Path) -> Result<(String, String), String> {
    let generated = read(&sdk.join("generated").join("usage_api.rs"))?;
    split::split_types(&generated)
}

/// The graph of the files of each folder (layer) of `src/`: a file depends on a sibling it
/// names as `crate::folder::sibling`.
pub fn folder_graphs(src: &Path) -> Result<BTreeMap<String, Graph>, String> {
    let mut folders = BTreeMap::new();
    for entry in std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))? {
        let dir = entry.map_err(|e| e.to_string())?.path();
        if !dir.is_dir() {
            continue;
        }
        let folder = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!("crate::{folder}::");
        let mut graph = Graph::new();
        for file in rust_files(&dir)? {
            let name = file
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name == "mod" {
                continue;
            }
            graph.insert(
                name.clone(),
                references_under(&read(&file)?, &prefix, &name),
            );
        }
        folders.insert(folder, known_only(graph));
    }
    Ok(folders)
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
    fn the_library_has_no_import_circle_between_its_layers_or_inside_them() {
        let sdk = crate::regen::Workspace::this().root.join("usage-sdk");
        let graph = graph(&sdk).unwrap();
        assert_eq!(circles(&graph), Vec::<Vec<String>>::new(), "{graph:#?}");
        // The layers, each using only those before it.
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(graph["model"], set(&[]), "the vocabulary is the leaf");
        assert_eq!(graph["query"], set(&["model"]));
        assert_eq!(graph["http"], set(&["model"]));
        assert_eq!(graph["client"], set(&["http", "model"]));
        assert!(
            graph["wait"].is_subset(&set(&["client", "http", "model", "query"])),
            "{graph:#?}"
        );
        let folders = folder_graphs(&sdk.join("src")).unwrap();
        assert_eq!(
            set(&folders.keys().map(String::as_str).collect::<Vec<_>>()),
            set(&["http", "model", "query", "wait"])
        );
        for (folder, files) in &folders {
            assert_eq!(
                circles(files),
                Vec::<Vec<String>>::new(),
                "{folder}: {files:#?}"
            );
        }
        let model = &folders["model"];
        for leaf in ["time", "open_enum", "input"] {
            assert!(model[leaf].is_empty(), "{leaf} -> {:?}", model[leaf]);
        }
        // The row dates read strings as the open enums do, and use nothing else.
        assert_eq!(model["row_date"], set(&["open_enum"]));
        // The generated types and the error type stay in the vocabulary; the generated
        // client (http/raw.rs) is above it.
        let (types, _) = generated(&sdk).unwrap();
        assert!(
            !references(&types, "model")
                .iter()
                .any(|r| r == "http" || r == "client")
        );
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
        for leaf in ["exit", "row", "text", "window"] {
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
        below("plan", &["report", "sync"]);
        // The store sits below the fetch (reports read it) and knows nothing above; the
        // subcommands (report, sync) are used only by what runs them for many organizations
        // or on a schedule (fleet: --all-profiles; serve), which nothing uses.
        below(
            "store",
            &["cli", "plan", "fetch", "output", "report", "sync", "setup"],
        );
        for (module, uses) in &graph {
            let runners = ["fleet", "serve"];
            for top in ["report", "sync"] {
                assert!(
                    runners.contains(&module.as_str()) || !uses.contains(top),
                    "{module} -> {top}: {graph:#?}"
                );
            }
            for runner in runners {
                assert!(!uses.contains(runner), "{module} -> {runner}: {graph:#?}");
            }
        }
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
