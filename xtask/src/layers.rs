//! `cargo xtask layers`: the library's module graph, and a check that it has no import circle.
//!
//! A module depends on another when its code (comments aside, since doc links may point
//! anywhere) names `crate::other`. The generated file is compiled as two modules, as
//! the build script splits it: its types (`src/types.rs`) and the client (`src/raw.rs`).

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

/// The module graph of `usage-sdk/src` (with the generated client from `generated/`).
pub fn graph(sdk: &Path) -> Result<Graph, String> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let src = sdk.join("src");
    let mut graph = Graph::new();
    let entries = std::fs::read_dir(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            let mut text = String::new();
            for file in std::fs::read_dir(&path).map_err(|e| e.to_string())? {
                let file = file.map_err(|e| e.to_string())?.path();
                if file.extension().is_some_and(|e| e == "rs") {
                    text += &read(&file)?;
                }
            }
            graph.insert(name.clone(), references(&text, &name));
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            graph.insert(name.clone(), references(&read(&path)?, &name));
        }
    }
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
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for (name, deps) in graph.iter_mut() {
        deps.retain(|d| known.contains(d) && d != name);
    }
    Ok(graph)
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
