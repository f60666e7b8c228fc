//! With the `schemars` feature, every generated request and response type's JSON Schema
//! agrees with its component schema in the spec, property by property: names, required,
//! types, formats, enum values, references and catch-alls for unknown fields. The schemas are
//! derived from the Rust types, so a generator regression (a dropped field, a wrong type or
//! format, a lost enum value) fails here rather than in a consumer's validator.
//!
//! `cargo test --workspace` runs it: usage-report enables usage-sdk's `schemars` feature and
//! features unify across the workspace's test build. Alone: `cargo test -p usage-sdk
//! --features schemars --test schema_agrees_with_spec`.
#![cfg(feature = "schemars")]

use serde_json::{Map, Value};
// The generated types, and the hand-written open enums that replace four named schemas.
use usage_sdk::open_enum::*;
use usage_sdk::raw::types::*;

/// The spec the crate was generated from: the package's copy (`cargo xtask regen` keeps it current).
fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/usage-api.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The schemars schema of each generated type, by component name.
macro_rules! schemas {
    ($($name:ident),* $(,)?) => {
        vec![$((
            stringify!($name),
            serde_json::to_value(schemars::schema_for!($name)).unwrap(),
        )),*]
    };
}

fn generated() -> Vec<(&'static str, Value)> {
    schemas!(
        AddressableEntityRef,
        ApiUsageClientQuery,
        ApiUsageOrganizationQuery,
        ApiUsageQueryResult,
        ApiUsageRow,
        ApiUsageSimpleSearch,
        ClientPublicApiUsage,
        ClientPublicApiUsageQueryRequest,
        ClientPublicApiUsageResultsResponse,
        ClientUsageQueryResponse,
        Cursors,
        Detail,
        DomainEntityRef,
        ErrorBody,
        EventAggregatesQueryRequest,
        EventAggregatesResponse,
        EventDefinition,
        EventDefinitionAggregates,
        EventDefinitionListing,
        EventQueryRequest,
        EventQueryResponse,
        JobQueryStatus,
        Limit,
        LimitNamespace,
        OperationalEvent,
        OrganizationPublicApiUsage,
        OrganizationPublicApiUsageQueryRequest,
        OrganizationPublicApiUsageResultsResponse,
        OrganizationUsageQueryResponse,
        QueryStatus,
        UsageExecutionResult,
        UsageHttpMethod,
        UsageQuerySortBy,
        UserReference,
    )
}

/// Formats the generator maps to a plain `String` (typify has no type for them), so the
/// derived schema is a string without the format. Any other format must survive.
const UNTYPED_FORMATS: &[&str] = &["uri", "interval"];

/// Formats read leniently (usage_sdk::row_date), with the type that reads them: the row dates
/// keep text that does not parse, so their schema is any string with the expected form as an
/// example, not the format.
const LENIENT_FORMATS: &[(&str, &str)] = &[("date", "UsageDate"), ("date-time", "UsageDateTime")];

/// Where the spec uses the lenient formats: the generator replaces every such schema, so a
/// new one (a request field, say) must be looked at before it silently changes type. All are
/// response fields: the rows' dates and the operational event's `dateCreated`.
const ROW_DATES: &[&str] = &[
    "ApiUsageRow.date",
    "ClientPublicApiUsage.date",
    "OperationalEvent.dateCreated",
    "OrganizationPublicApiUsage.date",
];

/// Compares one spec schema with one schemars schema, recording every disagreement.
struct Checker<'a> {
    /// The schemars root's `definitions`.
    definitions: &'a Map<String, Value>,
    problems: Vec<String>,
}

impl Checker<'_> {
    fn problem(&mut self, at: &str, what: String) {
        self.problems.push(format!("{at}: {what}"));
    }

    fn check(&mut self, at: &str, spec: &Value, ours: &Value) {
        // Option<T>: `anyOf: [T, {type: null}]` or `type: [t, "null"]`.
        let ours = strip_null(ours);
        if let Some(reference) = spec.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap();
            match ours.get("$ref").and_then(Value::as_str) {
                Some(r) if r.rsplit('/').next() == Some(name) => {}
                other => self.problem(at, format!("spec refers to {name}, the type to {other:?}")),
            }
            return;
        }
        let referred = ours
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .map(str::to_string);
        let ours = self.follow(&ours);
        let spec_type = spec.get("type").and_then(Value::as_str);
        let our_type = type_of(&ours);
        let open_enum = ours.get("examples").is_some() && ours.get("enum").is_none();
        match (spec_type, our_type.as_deref()) {
            (Some("integer"), Some("integer")) | (Some("number"), Some("number")) => {}
            (Some(s), Some(o)) if s == o => {}
            // `messageParams` is declared as "any JSON value" (a documented deviation).
            (Some("object"), None) if spec.get("additionalProperties").is_some() => {}
            (s, o) => self.problem(at, format!("type: spec {s:?}, type {o:?}")),
        }
        if let Some(format) = spec.get("format").and_then(Value::as_str) {
            let ours_format = ours.get("format").and_then(Value::as_str);
            let untyped = UNTYPED_FORMATS.contains(&format) && ours_format.is_none();
            let lenient = LENIENT_FORMATS.iter().any(|(f, ty)| {
                *f == format && referred.as_deref() == Some(*ty) && ours_format.is_none()
            });
            if ours_format != Some(format) && !untyped && !lenient {
                self.problem(at, format!("format: spec {format}, type {ours_format:?}"));
            }
        }
        if let Some(values) = spec.get("enum") {
            // Closed enums list `enum`; open enums (see open_enum.rs) list their known
            // values as `examples`, so a newer server value still validates.
            let key = if open_enum { "examples" } else { "enum" };
            if sorted(values) != sorted(ours.get(key).unwrap_or(&Value::Null)) {
                self.problem(
                    at,
                    format!("{key}: spec {values}, type {:?}", ours.get(key)),
                );
            }
        }
        if let Some(items) = spec.get("items") {
            match ours.get("items") {
                Some(our_items) => self.check(&format!("{at}[]"), items, our_items),
                None => self.problem(at, "spec has items, the type none".into()),
            }
        }
        if let Some(properties) = spec.get("properties").and_then(Value::as_object) {
            self.check_object(at, spec, properties, &ours);
        }
    }

    fn check_object(
        &mut self,
        at: &str,
        spec: &Value,
        properties: &Map<String, Value>,
        ours: &Value,
    ) {
        let empty = Map::new();
        let our_properties = ours
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut spec_names: Vec<&String> = properties.keys().collect();
        let mut our_names: Vec<&String> = our_properties.keys().collect();
        spec_names.sort();
        our_names.sort();
        if spec_names != our_names {
            self.problem(
                at,
                format!("properties: spec {spec_names:?}, type {our_names:?}"),
            );
        }
        let required = |v: &Value| {
            let mut names: Vec<String> = v
                .get("required")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        };
        if required(spec) != required(ours) {
            self.problem(
                at,
                format!(
                    "required: spec {:?}, type {:?}",
                    required(spec),
                    required(ours)
                ),
            );
        }
        // A catch-all (`additionalProperties: {}`, the rows' declared deviation) is a
        // `#[serde(flatten)] extra` map: the derived schema must accept any other field too.
        if spec.get("additionalProperties") == Some(&Value::Object(Map::new())) {
            match ours.get("additionalProperties") {
                Some(Value::Bool(true)) => {}
                Some(Value::Object(any)) if any.is_empty() => {}
                other => self.problem(
                    at,
                    format!("additionalProperties: spec {{}}, type {other:?}"),
                ),
            }
        }
        for (name, property) in properties {
            if let Some(our_property) = our_properties.get(name) {
                self.check(&format!("{at}.{name}"), property, our_property);
            }
        }
    }

    /// Follows a schemars `$ref` into the root's definitions (inline enums are generated as
    /// named types, so the spec has them inline where schemars refers to them).
    fn follow(&self, ours: &Value) -> Value {
        match ours.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap();
                self.definitions
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| panic!("schemars refers to {name}, not in its definitions"))
            }
            None => ours.clone(),
        }
    }
}

fn strip_null(schema: &Value) -> Value {
    if let Some(any_of) = schema.get("anyOf").and_then(Value::as_array) {
        let rest: Vec<&Value> = any_of
            .iter()
            .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if rest.len() == 1 && any_of.len() == 2 {
            return rest[0].clone();
        }
    }
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let rest: Vec<&Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .collect();
        if rest.len() == 1 {
            let mut schema = schema.clone();
            schema["type"] = rest[0].clone();
            return schema;
        }
    }
    schema.clone()
}

fn type_of(schema: &Value) -> Option<String> {
    schema.get("type").and_then(Value::as_str).map(String::from)
}

fn sorted(values: &Value) -> Vec<String> {
    let mut v: Vec<String> = values
        .as_array()
        .map(|a| a.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn the_lenient_formats_occur_only_in_the_row_dates() {
    fn walk(at: &str, value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                let format = object.get("format").and_then(Value::as_str);
                if format.is_some_and(|f| LENIENT_FORMATS.iter().any(|(l, _)| *l == f)) {
                    found.push(at.to_string());
                }
                for (key, child) in object {
                    let at = match at {
                        "" => key.clone(),
                        _ if key == "properties" => at.to_string(),
                        _ => format!("{at}.{key}"),
                    };
                    walk(&at, child, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(at, item, found)),
            _ => {}
        }
    }
    let spec = spec();
    let mut found = Vec::new();
    walk("", &spec["components"]["schemas"], &mut found);
    found.sort(); // serde_json's map order depends on its features
    let mut in_paths = Vec::new();
    walk("", &spec["paths"], &mut in_paths);
    assert_eq!(
        found, ROW_DATES,
        "component properties with a lenient format"
    );
    assert_eq!(
        in_paths,
        Vec::<String>::new(),
        "parameters with a lenient format"
    );
}

#[test]
fn every_component_schema_has_a_generated_type_checked_here() {
    let spec = spec();
    let mut in_spec: Vec<&String> = spec["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    in_spec.sort();
    let checked: Vec<String> = generated().iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(in_spec, checked.iter().collect::<Vec<_>>());
}

/// Where each generated type's derived schema disagrees with its component in `spec`.
fn disagreements(spec: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, root) in generated() {
        let empty = Map::new();
        let definitions = root
            .get("definitions")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut checker = Checker {
            definitions,
            problems: Vec::new(),
        };
        checker.check(name, &spec["components"]["schemas"][name], &root);
        problems.extend(checker.problems);
    }
    problems
}

#[test]
fn each_generated_type_schema_agrees_with_the_spec_property_by_property() {
    let problems = disagreements(&spec());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_dropped_property_or_enum_value_is_caught() {
    // The checker itself, through the same function as the test above: a spec with one more
    // property, one more enum value and one more catch-all than the generated types must be
    // reported, or the test above proves nothing.
    let mut spec = spec();
    let schemas = &mut spec["components"]["schemas"];
    schemas["Cursors"]["properties"]["extra"] = serde_json::json!({"type": "string"});
    schemas["ApiUsageOrganizationQuery"]["properties"]["granularity"]["enum"]
        .as_array_mut()
        .unwrap()
        .push("Quarter".into());
    // A catch-all the spec declares where the type has none (Limit keeps no unknown fields).
    schemas["Limit"]["additionalProperties"] = serde_json::json!({});
    let problems = disagreements(&spec);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("Cursors") && p.contains("extra")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("granularity") && p.contains("Quarter")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("Limit") && p.contains("additionalProperties")),
        "{problems:?}"
    );
}
