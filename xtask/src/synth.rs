//! A synthetic "full Platform API" Swagger 2.0 document, generated in code: the reference
//! slices' fifteen operations and definitions (the usage slice's and the operational events
//! slice's, in one document as in the real one), surrounded by thousands of filler operations and
//! definitions shaped like the real ones (the same 13 error responses with their
//! `x-inin-error-codes`, chains of `$ref`s). It has no `x-slice-provenance`, like the published
//! document. Used to measure the import on a large input.

use crate::json::{Json, Object, write_pretty, write_string};
use crate::regen::Workspace;

/// The reference slice, kept in xtask/testdata as a byte copy of
/// shared/reference/genesys-usage-swagger2-full.json (all eleven Usage operations) so that tests run anywhere.
pub const SLICE_PATH: &str = "xtask/testdata/genesys-usage-swagger2-full.json";

/// The operational events slice, a byte copy of
/// shared/reference/genesys-operational-events-swagger2.json (the other four operations).
pub const EVENTS_PATH: &str = "xtask/testdata/genesys-operational-events-swagger2.json";

pub fn reference_slice(ws: &Workspace) -> Result<String, String> {
    read(ws, SLICE_PATH)
}

pub fn reference_events(ws: &Workspace) -> Result<String, String> {
    read(ws, EVENTS_PATH)
}

fn read(ws: &Workspace, path: &str) -> Result<String, String> {
    let path = ws.root.join(path);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn filler_operation(template: &Json, n: usize, verb: &str) -> Json {
    let mut op = template.clone();
    let o = op.as_object_mut().expect("operations are objects");
    o.insert("operationId", format!("{verb}SyntheticThing{n}"));
    o.insert("tags", vec![Json::from(format!("Synthetic{}", n % 200))]);
    o.insert("summary", format!("Synthetic operation {n}"));
    if let Some(responses) = o.get_mut("responses").and_then(Json::as_object_mut) {
        for (code, r) in responses.iter_mut() {
            if code.starts_with('2')
                && let Some(r) = r.as_object_mut()
            {
                r.insert(
                    "schema",
                    Object::new().with("$ref", format!("#/definitions/SyntheticThing{n}")),
                );
            }
        }
    }
    op
}

fn filler_definition(template: &Json, n: usize, count: usize) -> Json {
    let mut d = template.clone();
    if let Some(props) = d.get_mut("properties").and_then(Json::as_object_mut) {
        props.insert(
            "next",
            Object::new().with(
                "$ref",
                format!("#/definitions/SyntheticThing{}", (n + 1) % count),
            ),
        );
        props.insert(
            "errors",
            Object::new().with("type", "array").with(
                "items",
                Object::new().with("$ref", "#/definitions/ErrorBody"),
            ),
        );
    }
    d
}

fn entry(key: &str, value: &Json, first: &mut bool, out: &mut String) {
    if !*first {
        out.push(',');
    }
    *first = false;
    out.push_str("\n    ");
    write_string(key, out);
    out.push_str(": ");
    write_pretty(value, 2, out);
}

/// Writes a document of about `target_bytes` (never less than the slices) from the slice text,
/// with the paths, definitions and tags of the documents `also` merged in (a definition or tag
/// both have is taken from the slice).
pub fn synthetic_upstream(
    slice_text: &str,
    also: &[&str],
    target_bytes: usize,
) -> Result<String, String> {
    let slice = crate::json::parse(slice_text).map_err(|e| format!("the slice: {e}"))?;
    let get = |doc: &Json, path: &[&str]| {
        doc.at(path)
            .cloned()
            .ok_or_else(|| format!("a slice has no {}", path.join(".")))
    };
    let mut paths = get(&slice, &["paths"])?;
    let mut definitions = get(&slice, &["definitions"])?;
    let mut slice_tags = get(&slice, &["tags"])?;
    for text in also {
        let other = crate::json::parse(text).map_err(|e| format!("a slice: {e}"))?;
        for (into, part) in [(&mut paths, "paths"), (&mut definitions, "definitions")] {
            let into = into
                .as_object_mut()
                .ok_or("paths and definitions are objects")?;
            for (key, value) in get(&other, &[part])?
                .as_object()
                .into_iter()
                .flat_map(Object::iter)
            {
                if !into.contains_key(key) {
                    into.insert(key.clone(), value.clone());
                }
            }
        }
        let tags = slice_tags.as_array_mut().ok_or("tags is an array")?;
        for tag in get(&other, &["tags"])?.as_array().into_iter().flatten() {
            if !tags.iter().any(|t| t.get("name") == tag.get("name")) {
                tags.push(tag.clone());
            }
        }
    }
    let get = |path: &[&str]| get(&slice, path);
    let summary_op = get(&[
        "paths",
        "/api/v2/oauth/clients/{clientId}/usage/summary",
        "get",
    ])?;
    let query_op = get(&["paths", "/api/v2/usage/query", "post"])?;
    let row = get(&["definitions", "ApiUsageRow"])?;

    // The size of one filler unit (a path with two operations, and a definition).
    let mut unit = String::new();
    let item = Object::new()
        .with("get", filler_operation(&summary_op, 0, "get"))
        .with("post", filler_operation(&query_op, 0, "post"));
    write_pretty(&item.into(), 2, &mut unit);
    write_pretty(&filler_definition(&row, 0, 1), 2, &mut unit);
    let slices_len = slice_text.len() + also.iter().map(|t| t.len()).sum::<usize>();
    let count = target_bytes.saturating_sub(slices_len) / (unit.len() + 80);
    let count = count.max(1);

    let mut out = String::with_capacity(target_bytes + target_bytes / 8);
    out.push('{');
    let top = slice.as_object().ok_or("the slice is not an object")?;
    let mut first_top = true;
    for (key, value) in top.iter() {
        if key == "x-slice-provenance" {
            continue;
        }
        if !first_top {
            out.push(',');
        }
        first_top = false;
        out.push_str("\n  ");
        write_string(key, &mut out);
        out.push_str(": ");
        match key.as_str() {
            "info" => {
                let mut info = value.clone();
                if let Some(o) = info.as_object_mut() {
                    o.insert("title", "PureCloud Platform API");
                }
                write_pretty(&info, 1, &mut out);
            }
            "tags" => {
                let mut tags = slice_tags.as_array().cloned().unwrap_or_default();
                tags.extend((0..200).map(|t| {
                    Object::new()
                        .with("name", format!("Synthetic{t}"))
                        .with("description", "Synthetic tag")
                        .into()
                }));
                write_pretty(&tags.into(), 1, &mut out);
            }
            "paths" => {
                out.push('{');
                let mut first = true;
                for n in 0..count {
                    if n == count / 2 {
                        for (p, item) in paths.as_object().into_iter().flat_map(Object::iter) {
                            entry(p, item, &mut first, &mut out);
                        }
                    }
                    let item = Object::new()
                        .with("get", filler_operation(&summary_op, n, "get"))
                        .with("post", filler_operation(&query_op, n, "post"));
                    entry(
                        &format!("/api/v2/synthetic/{n}/things"),
                        &item.into(),
                        &mut first,
                        &mut out,
                    );
                }
                out.push_str("\n  }");
            }
            "definitions" => {
                out.push('{');
                let mut first = true;
                for n in 0..count {
                    if n == count / 3 {
                        for (name, d) in definitions.as_object().into_iter().flat_map(Object::iter)
                        {
                            entry(name, d, &mut first, &mut out);
                        }
                    }
                    entry(
                        &format!("SyntheticThing{n}"),
                        &filler_definition(&row, n, count),
                        &mut first,
                        &mut out,
                    );
                }
                out.push_str("\n  }");
            }
            _ => write_pretty(value, 1, &mut out),
        }
    }
    out.push_str("\n}\n");
    Ok(out)
}
