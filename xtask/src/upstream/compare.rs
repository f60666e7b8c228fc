//! What changed between two versions of spec/usage-api.json, in plain words, with the changes
//! that break this SDK's users (or its generated types) marked BREAKING.
//!
//! BREAKING: a removed or moved operation; a removed parameter, a new required parameter, a
//! parameter that became required; a removed response status; a removed request body or a
//! new required one; a removed or renamed definition; a removed property; a new required
//! property; a property that became required or stopped being required (the generated field
//! changes between `T` and `Option<T>`); a changed type, format or `$ref` target; a removed
//! enum value. Everything else found (added operations, parameters, responses, optional
//! properties, enum values, definitions) is listed as a plain change; descriptions and other
//! text are left to the diff.

use std::collections::{BTreeMap, BTreeSet};

use crate::json::{Json, Object};

use super::swagger::{METHODS, collect_refs};

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub breaking: bool,
    pub text: String,
}

struct Findings {
    list: Vec<Finding>,
    /// Detected renames, old name -> new name.
    renames: BTreeMap<String, String>,
}

impl Findings {
    fn breaking(&mut self, text: String) {
        self.list.push(Finding {
            breaking: true,
            text,
        });
    }

    fn change(&mut self, text: String) {
        self.list.push(Finding {
            breaking: false,
            text,
        });
    }
}

const REF_PREFIX: &str = "#/components/schemas/";

fn schemas(spec: &Json) -> Object {
    spec.at(&["components", "schemas"])
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

/// operationId -> (METHOD path, operation).
fn operations(spec: &Json) -> BTreeMap<String, (String, Json)> {
    let mut out = BTreeMap::new();
    let paths = spec.get("paths").and_then(Json::as_object);
    for (path, item) in paths.into_iter().flat_map(Object::iter) {
        for (method, op) in item.as_object().into_iter().flat_map(Object::iter) {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let id = op
                .get("operationId")
                .and_then(Json::as_str)
                .map_or_else(|| format!("{method} {path}"), str::to_string);
            out.insert(
                id,
                (format!("{} {path}", method.to_uppercase()), op.clone()),
            );
        }
    }
    out
}

/// Compares the old spec with the new one.
pub fn compare(old: &Json, new: &Json) -> Vec<Finding> {
    let old_schemas = schemas(old);
    let new_schemas = schemas(new);
    let mut f = Findings {
        list: Vec::new(),
        renames: detect_renames(old, new, &old_schemas, &new_schemas),
    };

    let old_ops = operations(old);
    let new_ops = operations(new);
    for (id, (at, op)) in &old_ops {
        match new_ops.get(id) {
            None => f.breaking(format!("operation {id} ({at}) was removed")),
            Some((new_at, new_op)) => {
                if at != new_at {
                    f.breaking(format!("operation {id} moved from {at} to {new_at}"));
                }
                compare_operation(id, op, new_op, &mut f);
            }
        }
    }
    for (id, (at, _)) in &new_ops {
        if !old_ops.contains_key(id) {
            f.change(format!("operation {id} ({at}) was added"));
        }
    }

    for (name, old_schema) in old_schemas.iter() {
        match new_schemas.get(name) {
            Some(new_schema) => compare_schema(name, old_schema, new_schema, &mut f),
            None => match f.renames.get(name).cloned() {
                Some(new_name) => {
                    f.breaking(format!("definition {name} was renamed to {new_name}"));
                    if let Some(new_schema) = new_schemas.get(&new_name) {
                        compare_schema(&new_name, old_schema, new_schema, &mut f);
                    }
                }
                None => f.breaking(format!("definition {name} was removed")),
            },
        }
    }
    for name in new_schemas.keys() {
        if !old_schemas.contains_key(name) && !f.renames.values().any(|n| n == name) {
            f.change(format!("definition {name} was added"));
        }
    }
    f.list
}

/// A definition that disappeared while another appeared is a rename when the places that
/// referred to the old one now refer to the new one, or when both have the same shape.
fn detect_renames(
    old: &Json,
    new: &Json,
    old_schemas: &Object,
    new_schemas: &Object,
) -> BTreeMap<String, String> {
    let removed: BTreeSet<&str> = old_schemas
        .keys()
        .filter(|n| !new_schemas.contains_key(n))
        .collect();
    let added: BTreeSet<&str> = new_schemas
        .keys()
        .filter(|n| !old_schemas.contains_key(n))
        .collect();
    let mut renames = BTreeMap::new();
    if removed.is_empty() || added.is_empty() {
        return renames;
    }
    let refs = |spec: &Json| {
        let mut refs = Vec::new();
        collect_refs(spec, "", &mut refs);
        refs.into_iter()
            .map(|(target, at)| (at, target))
            .collect::<BTreeMap<_, _>>()
    };
    let (old_refs, new_refs) = (refs(old), refs(new));
    for (at, old_target) in &old_refs {
        let (Some(o), Some(n)) = (
            old_target.strip_prefix(REF_PREFIX),
            new_refs.get(at).and_then(|t| t.strip_prefix(REF_PREFIX)),
        ) else {
            continue;
        };
        if removed.contains(o) && added.contains(n) {
            renames
                .entry(o.to_string())
                .or_insert_with(|| n.to_string());
        }
    }
    for o in &removed {
        if renames.contains_key(*o) {
            continue;
        }
        let shape = |s: Option<&Json>| s.map(strip_text);
        if let Some(n) = added.iter().find(|n| {
            !renames.values().any(|v| v == *n)
                && shape(old_schemas.get(o)) == shape(new_schemas.get(n))
        }) {
            renames.insert(o.to_string(), n.to_string());
        }
    }
    renames
}

/// The schema without descriptions and deviation notes, keys sorted: its shape.
fn strip_text(schema: &Json) -> Json {
    match schema {
        Json::Object(o) => {
            let mut out: Object = o
                .iter()
                .filter(|(k, _)| *k != "description" && !k.starts_with("x-"))
                .map(|(k, v)| (k.clone(), strip_text(v)))
                .collect();
            out.sort_keys();
            out.into()
        }
        Json::Array(items) => items.iter().map(strip_text).collect::<Vec<_>>().into(),
        other => other.clone(),
    }
}

fn text(v: Option<&Json>) -> String {
    match v {
        None => "none".to_string(),
        Some(Json::String(s)) => s.clone(),
        Some(v) => v.to_pretty().replace('\n', " "),
    }
}

fn required_list(schema: &Json) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect()
}

fn compare_schema(at: &str, old: &Json, new: &Json, f: &mut Findings) {
    let old_ref = old.get("$ref").and_then(Json::as_str);
    let new_ref = new.get("$ref").and_then(Json::as_str);
    match (old_ref, new_ref) {
        (None, None) => {}
        (Some(o), Some(n)) => {
            let (o, n) = (
                o.trim_start_matches(REF_PREFIX),
                n.trim_start_matches(REF_PREFIX),
            );
            if o != n && f.renames.get(o).map(String::as_str) != Some(n) {
                f.breaking(format!("{at} now refers to {n} instead of {o}"));
            }
            return;
        }
        _ => {
            f.breaking(format!(
                "{at} changed from {} to {}",
                old_ref.map_or("an inline schema".to_string(), |r| r
                    .trim_start_matches(REF_PREFIX)
                    .to_string()),
                new_ref.map_or("an inline schema".to_string(), |r| r
                    .trim_start_matches(REF_PREFIX)
                    .to_string()),
            ));
            return;
        }
    }
    for key in ["type", "format"] {
        if old.get(key) != new.get(key) {
            f.breaking(format!(
                "{at}: {key} changed from {} to {}",
                text(old.get(key)),
                text(new.get(key))
            ));
        }
    }

    let values = |s: &Json| -> Vec<String> {
        s.get("enum")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|v| text(Some(v)))
            .collect()
    };
    let (old_values, new_values) = (values(old), values(new));
    if !old_values.is_empty() || !new_values.is_empty() {
        for v in old_values.iter().filter(|v| !new_values.contains(v)) {
            f.breaking(format!("enum value {v:?} was removed from {at}"));
        }
        for v in new_values.iter().filter(|v| !old_values.contains(v)) {
            f.change(format!("enum value {v:?} was added to {at}"));
        }
    }

    let empty = Object::new();
    let props = |s: &Json| {
        s.get("properties")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (old_props, new_props) = (props(old), props(new));
    let (old_required, new_required) = (required_list(old), required_list(new));
    for (name, old_prop) in old_props.iter() {
        let path = format!("{at}.{name}");
        match new_props.get(name) {
            None => f.breaking(format!("property {path} was removed")),
            Some(new_prop) => {
                match (old_required.contains(name), new_required.contains(name)) {
                    (false, true) => f.breaking(format!("property {path} is now required")),
                    (true, false) => f.breaking(format!(
                        "property {path} is no longer required (its generated field becomes an Option)"
                    )),
                    _ => {}
                }
                compare_schema(&path, old_prop, new_prop, f);
            }
        }
    }
    for name in new_props.keys().filter(|n| !old_props.contains_key(n)) {
        if new_required.contains(name) {
            f.breaking(format!("new required property {at}.{name}"));
        } else {
            f.change(format!("new optional property {at}.{name}"));
        }
    }

    if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
        compare_schema(&format!("{at}[]"), o, n, f);
    }
    match (
        old.get("additionalProperties"),
        new.get("additionalProperties"),
    ) {
        (Some(o @ Json::Object(_)), Some(n @ Json::Object(_))) => {
            compare_schema(&format!("{at}{{}}"), o, n, f)
        }
        (o, n) if o != n => f.breaking(format!(
            "{at}: additionalProperties changed from {} to {}",
            text(o),
            text(n)
        )),
        _ => {}
    }
}

/// The schema of the first media type of a request body or response.
fn content_schema(v: &Json) -> Option<&Json> {
    v.get("content")?
        .as_object()?
        .iter()
        .next()?
        .1
        .get("schema")
}

fn compare_operation(id: &str, old: &Json, new: &Json, f: &mut Findings) {
    let params = |op: &Json| -> BTreeMap<(String, String), Json> {
        op.get("parameters")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                let key = (text(p.get("in")), text(p.get("name")));
                (key, p.clone())
            })
            .collect()
    };
    let (old_params, new_params) = (params(old), params(new));
    let is_required = |p: &Json| p.get("required").and_then(Json::as_bool) == Some(true);
    for ((location, name), p) in &old_params {
        let at = format!("{id} {location} parameter {name}");
        match new_params.get(&(location.clone(), name.clone())) {
            None => f.breaking(format!("{at} was removed")),
            Some(n) => {
                if !is_required(p) && is_required(n) {
                    f.breaking(format!("{at} is now required"));
                }
                if let (Some(os), Some(ns)) = (p.get("schema"), n.get("schema")) {
                    compare_schema(&at, os, ns, f);
                }
            }
        }
    }
    for ((location, name), p) in &new_params {
        if !old_params.contains_key(&(location.clone(), name.clone())) {
            let at = format!("{id} {location} parameter {name}");
            if is_required(p) {
                f.breaking(format!("new required {at}"));
            } else {
                f.change(format!("new optional {at}"));
            }
        }
    }

    match (old.get("requestBody"), new.get("requestBody")) {
        (Some(_), None) => f.breaking(format!("{id}: the request body was removed")),
        (None, Some(n)) if is_required(n) => {
            f.breaking(format!("{id}: a required request body was added"))
        }
        (None, Some(_)) => f.change(format!("{id}: an optional request body was added")),
        (Some(o), Some(n)) => {
            if let (Some(os), Some(ns)) = (content_schema(o), content_schema(n)) {
                compare_schema(&format!("{id} request body"), os, ns, f);
            }
        }
        (None, None) => {}
    }

    let empty = Object::new();
    let responses = |op: &Json| {
        op.get("responses")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (old_responses, new_responses) = (responses(old), responses(new));
    for (code, o) in old_responses.iter() {
        match new_responses.get(code) {
            None => f.breaking(format!("{id}: response {code} was removed")),
            Some(n) => match (content_schema(o), content_schema(n)) {
                (Some(os), Some(ns)) => compare_schema(&format!("{id} response {code}"), os, ns, f),
                (Some(_), None) => f.breaking(format!("{id}: response {code} lost its body")),
                (None, Some(_)) => f.change(format!("{id}: response {code} now has a body")),
                (None, None) => {}
            },
        }
    }
    for code in new_responses.keys() {
        if !old_responses.contains_key(code) {
            f.change(format!("{id}: new response {code}"));
        }
    }
}
