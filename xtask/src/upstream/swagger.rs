//! Reading a Swagger 2.0 document without materialising it.
//!
//! The published Platform API swagger is tens of MB with thousands of operations and
//! definitions, of which this SDK needs fifteen operations and about thirty definitions. The document
//! is parsed once into borrowed raw slices (`&RawValue`, no allocation per value); only the
//! selected operations and the definitions they reach are parsed into [`Json`].

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::json::Json;

use super::ImportError;

/// The HTTP methods a Swagger 2.0 path item can hold.
pub const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// A JSON object as borrowed raw values, keys in source order (duplicates: last value wins at
/// the first position, as Python's `json.load` does).
pub struct RawObject<'a> {
    entries: Vec<(String, &'a RawValue)>,
    index: HashMap<String, usize>,
}

impl<'a> RawObject<'a> {
    fn set(&mut self, key: String, value: &'a RawValue) {
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.index.get(key).map(|&i| self.entries[i].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawObject<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject<'a>, A::Error> {
                let mut object = RawObject {
                    entries: Vec::new(),
                    index: HashMap::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    object.set(key, map.next_value()?);
                }
                Ok(object)
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

/// Only the operationId of an operation; everything else is skipped without allocating.
#[derive(Deserialize)]
struct OperationId {
    #[serde(rename = "operationId")]
    operation_id: Option<String>,
}

/// One selected operation, parsed.
pub struct Operation {
    pub path: String,
    pub method: String,
    pub operation: Json,
    /// Parameters declared on the path item, shared by all its operations.
    pub path_parameters: Option<Json>,
}

/// A Swagger 2.0 document, read lazily.
pub struct Swagger<'a> {
    /// Every top-level member except `paths` and `definitions`, raw.
    top: RawObject<'a>,
    /// Path -> the members of its path item, raw.
    paths: Option<Vec<(String, RawObject<'a>)>>,
    definitions: Option<RawObject<'a>>,
}

fn raw_to_json(raw: &RawValue, what: &str) -> Result<Json, ImportError> {
    crate::json::parse(raw.get()).map_err(|e| ImportError::Invalid(format!("{what}: {e}")))
}

/// The `paths` object: one pass, each path item split into raw members.
struct Paths<'a>(Vec<(String, RawObject<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Paths<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Paths<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"paths\" to be an object of path items")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Paths<'a>, A::Error> {
                let mut paths = Vec::new();
                while let Some(path) = map.next_key::<String>()? {
                    paths.push((path, map.next_value::<RawObject<'a>>()?));
                }
                Ok(Paths(paths))
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Swagger<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Swagger<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object (a Swagger 2.0 document)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Swagger<'a>, A::Error> {
                let mut doc = Swagger {
                    top: RawObject {
                        entries: Vec::new(),
                        index: HashMap::new(),
                    },
                    paths: None,
                    definitions: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "paths" => doc.paths = Some(map.next_value::<Paths<'a>>()?.0),
                        "definitions" => doc.definitions = Some(map.next_value()?),
                        _ => doc.top.set(key, map.next_value()?),
                    }
                }
                Ok(doc)
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

impl<'a> Swagger<'a> {
    /// Checks that `text` is a Swagger 2.0 document in JSON. One pass over the text; nothing
    /// is parsed into values yet.
    pub fn parse(text: &'a str) -> Result<Self, ImportError> {
        let doc: Swagger<'a> = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                ImportError::NotSwagger2(e.to_string())
            } else {
                ImportError::NotJson(format!(
                    "line {}, column {}: {e} (YAML must be converted to JSON first)",
                    e.line(),
                    e.column()
                ))
            }
        })?;
        let version = doc
            .top
            .get("swagger")
            .map(|v| raw_to_json(v, "swagger"))
            .transpose()?;
        match version.as_ref().and_then(Json::as_str) {
            Some("2.0") => {}
            Some(other) => {
                return Err(ImportError::NotSwagger2(format!(
                    "\"swagger\": \"{other}\"; only Swagger 2.0 is supported"
                )));
            }
            None => {
                let why = match doc.top.get("openapi") {
                    Some(v) => format!(
                        "it is an OpenAPI {} document; expected the published Swagger 2.0 document",
                        v.get().trim_matches('"')
                    ),
                    None => "it has no \"swagger\": \"2.0\" key".to_string(),
                };
                return Err(ImportError::NotSwagger2(why));
            }
        }
        Ok(doc)
    }

    /// A small top-level member, parsed.
    pub fn member(&self, key: &str) -> Result<Option<Json>, ImportError> {
        self.top.get(key).map(|v| raw_to_json(v, key)).transpose()
    }

    pub fn definition_count(&self) -> usize {
        self.definitions.as_ref().map_or(0, RawObject::len)
    }

    /// Finds the operations named in `wanted`: one slot per name, in the order of `wanted`
    /// (`None` where this document does not have it), and how many operations the document has
    /// in all.
    pub fn select_operations(
        &self,
        wanted: &[&str],
    ) -> Result<(Vec<Option<Operation>>, usize), ImportError> {
        let Some(paths) = &self.paths else {
            return Err(ImportError::NotSwagger2(
                "it has no \"paths\" object".to_string(),
            ));
        };
        let mut found: Vec<Option<Operation>> = wanted.iter().map(|_| None).collect();
        let mut total = 0;
        for (path, item) in paths {
            for (method, op_raw) in item.iter() {
                if !METHODS.contains(&method) {
                    continue;
                }
                total += 1;
                let id: OperationId = serde_json::from_str(op_raw.get()).map_err(|e| {
                    ImportError::NotSwagger2(format!(
                        "{method} {path} is not a valid operation: {e}"
                    ))
                })?;
                let Some(id) = id.operation_id else { continue };
                let Some(slot) = wanted.iter().position(|w| *w == id) else {
                    continue;
                };
                if let Some(first) = &found[slot] {
                    return Err(ImportError::Invalid(format!(
                        "operationId {id} appears twice: {} {} and {method} {path}",
                        first.method, first.path
                    )));
                }
                found[slot] = Some(Operation {
                    path: path.to_string(),
                    method: method.to_string(),
                    operation: raw_to_json(op_raw, &format!("{method} {path}"))?,
                    path_parameters: item
                        .get("parameters")
                        .map(|p| raw_to_json(p, &format!("paths.{path}.parameters")))
                        .transpose()?,
                });
            }
        }
        Ok((found, total))
    }

    pub fn has_definition(&self, name: &str) -> bool {
        self.definitions
            .as_ref()
            .is_some_and(|d| d.get(name).is_some())
    }

    /// The definitions reachable from `roots` (names, each with where it was first referenced),
    /// parsed. A `$ref` to a definition that does not exist is an error naming the referrer.
    pub fn closure(
        &self,
        roots: Vec<(String, String)>,
    ) -> Result<Vec<(String, Json)>, ImportError> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut queue = roots;
        let mut out = Vec::new();
        while let Some((name, referrer)) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let raw = self
                .definitions
                .as_ref()
                .and_then(|d| d.get(&name))
                .ok_or_else(|| {
                    ImportError::DanglingRef(format!(
                        "{referrer} refers to #/definitions/{name}, which the document does not define"
                    ))
                })?;
            let definition = raw_to_json(raw, &format!("definitions.{name}"))?;
            let mut refs = Vec::new();
            collect_refs(&definition, &format!("definitions.{name}"), &mut refs);
            for (target, at) in refs {
                queue.push((definition_name(&target, &at)?, at));
            }
            out.push((name, definition));
        }
        Ok(out)
    }
}

/// Every `$ref` string under `value`, with a readable location.
pub fn collect_refs(value: &Json, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Json::Object(o) => {
            for (k, v) in o.iter() {
                match (k.as_str(), v) {
                    ("$ref", Json::String(target)) => out.push((target.clone(), at.to_string())),
                    _ => collect_refs(v, &format!("{at}.{k}"), out),
                }
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_refs(v, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The definition name of a `#/definitions/...` reference.
pub fn definition_name(target: &str, at: &str) -> Result<String, ImportError> {
    match target.strip_prefix("#/definitions/") {
        Some(name) if !name.is_empty() && !name.contains('/') => {
            Ok(name.replace("~1", "/").replace("~0", "~"))
        }
        _ => Err(ImportError::Unsupported(format!(
            "{at}: $ref {target:?} (only local #/definitions/<name> references are supported)"
        ))),
    }
}
