//! Swagger 2.0 -> OpenAPI 3.0.3, with the conventions of the first conversion (the script that
//! produced spec/usage-api.json):
//!
//! - `definitions` become `components/schemas` (sorted by name), every `$ref` is rewritten from
//!   `#/definitions/` to `#/components/schemas/`, schemas are otherwise copied verbatim;
//! - an operation keeps `tags`, `summary`, `description`, `operationId`, then `parameters`
//!   (non-body: `name`, `in`, `description`, `required`, and a `schema` of `type`, `format`,
//!   `default`, `enum`), `requestBody` (the body parameter, as `application/json`),
//!   `responses` (`description`, the schema under each `produces` media type, `x-` keys),
//!   `security`, and its `x-` keys, in that order;
//! - `host`/`schemes` become `servers`; oauth2 `securityDefinitions` become `securitySchemes`;
//! - `info` is copied from the first document, with `x-usage-sdk-source` (provenance of every
//!   document) added;
//! - every other difference is a declared adjustment (see `adjustments.rs`).
//!
//! Several documents (Genesys publishes the operational events under their own tag, in their
//! own per-tag document) are one upstream: each operation of [`OPERATIONS`] is taken from the
//! document that has it, each with the definitions it reaches in its own document, and what
//! more than one document brings must agree (`agree.rs`). The order the documents are given in
//! does not matter: they are ordered by the first operation of [`OPERATIONS`] each one has.
//!
//! Beyond the slice (which never needed them), path-level parameters are merged into each
//! operation, `deprecated` is kept, array parameters keep `items`, a `basePath` is appended to
//! the server URL, and only the tags and security schemes the operations use are kept.

use std::collections::HashMap;

use crate::json::{Json, Object};

use super::adjustments::{self, UPSTREAM_TITLE};
use super::agree::first_difference;
use super::swagger::{Operation, Swagger, collect_refs, definition_name};
use super::{Disagreement, ImportError};

/// The operations this SDK is made of, in the order the spec lists them: everything under
/// `/api/v2/usage` (and the three OAuth client usage operations). This list is the one place
/// that says which operations the SDK takes; which document holds each one does not matter
/// (the full Platform API document holds all of them; the per-tag documents split them into
/// "Usage" and "Operational Events").
pub const OPERATIONS: &[&str] = &[
    // The five legacy operations (submit, then poll until Complete or Failed).
    "postUsageQuery",
    "getUsageQueryExecutionIdResults",
    "postOauthClientUsageQuery",
    "getOauthClientUsageQueryResult",
    "getOauthClientUsageSummary",
    // Simple search: an execution like the legacy ones, with paged results.
    "postUsageSimplesearch",
    "getUsageSimplesearchExecutionIdResults",
    // The aggregates query jobs (2025-03-31), the legacy operations' successor.
    "postUsageAggregatesQueryJobs",
    "getUsageAggregatesQueryJob",
    "postUsageClientClientIdAggregatesQueryJobs",
    "getUsageClientClientIdAggregatesQueryJob",
    // Operational events (tag "Operational Events"): synchronous, the query paged by cursor.
    "getUsageEventsDefinitions",
    "getUsageEventsDefinition",
    "postUsageEventsQuery",
    "postUsageEventsAggregatesQuery",
];

/// Definitions imported even when no operation refers to them.
pub const ALWAYS_IMPORTED: &[&str] = &["ErrorBody"];

/// Known commit dates of third-party slices; `x-slice-provenance` does not record the date.
/// (3c70367: genesys-usage-api.md, section 1.)
const KNOWN_SLICE_COMMIT_DATES: &[(&str, &str)] =
    &[("3c703679ace07d84cc3df1920017b262030336c8", "2026-07-23")];

const CONVERSION_NOTE: &str = "Swagger 2.0 -> OpenAPI 3.0.3: body parameters become requestBody, definitions become components/schemas, host/schemes become servers; every other difference is marked x-usage-sdk-deviation where it is made.";

/// One upstream document. Only the content counts for the spec: the same document imported
/// from any directory or under any file name gives the same spec.
pub struct Input<'s> {
    /// How messages name the document (the path as given); never written into the spec.
    pub label: &'s str,
    pub text: &'s str,
    /// sha256 of the document's bytes, hex.
    pub sha256: &'s str,
}

/// What one document brought, in the order the documents were given.
#[derive(Debug)]
pub struct DocumentSummary {
    /// The operations of [`OPERATIONS`] taken from this document.
    pub taken: Vec<String>,
    /// How many of [`OPERATIONS`] it has (more than `taken` when an earlier document has some
    /// of them too).
    pub found: usize,
    /// The definitions its operations reach (with the always-imported ones it defines).
    pub definitions: usize,
    pub total_operations: usize,
    pub total_definitions: usize,
}

/// The converted document and what happened on the way.
pub struct Converted {
    pub spec: Json,
    /// The requested operations no document has.
    pub missing_operations: Vec<String>,
    /// Declared adjustments that no longer apply.
    pub warnings: Vec<String>,
    /// One per input, in the order given.
    pub documents: Vec<DocumentSummary>,
}

impl Converted {
    /// The text of spec/usage-api.json: `json.dump(indent=2, ensure_ascii=False)` + newline.
    pub fn text(&self) -> String {
        let mut text = self.spec.to_pretty();
        text.push('\n');
        text
    }
}

fn invalid(what: String) -> ImportError {
    ImportError::Invalid(what)
}

fn rewrite_refs(value: &mut Json) {
    match value {
        Json::Object(o) => {
            for (k, v) in o.iter_mut() {
                match v {
                    Json::String(target) if k == "$ref" => {
                        if let Some(name) = target.strip_prefix("#/definitions/") {
                            *target = format!("#/components/schemas/{name}");
                        }
                    }
                    _ => rewrite_refs(v),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn converted_schema(schema: &Json) -> Json {
    let mut schema = schema.clone();
    rewrite_refs(&mut schema);
    schema
}

/// Values of one thing (a definition, a tag, ...) as several documents give it, in document
/// order; [`Candidates::agreed`] is the first, once every other one is equal to it.
struct Candidates<'i> {
    what: String,
    at: String,
    values: Vec<(&'i str, Json)>,
}

impl<'i> Candidates<'i> {
    fn new(what: String, at: String) -> Self {
        Self {
            what,
            at,
            values: Vec::new(),
        }
    }

    fn agreed(mut self) -> Result<Option<Json>, ImportError> {
        if let Some(((first_label, first), rest)) = self.values.split_first() {
            for (label, value) in rest {
                if let Some((at, a, b)) = first_difference(first, value, &self.at) {
                    return Err(ImportError::Disagree(Box::new(Disagreement {
                        what: self.what,
                        at,
                        first: (first_label.to_string(), a),
                        second: (label.to_string(), b),
                    })));
                }
            }
        }
        Ok(self.values.drain(..).next().map(|(_, v)| v))
    }
}

/// Converts the Swagger 2.0 documents `inputs` into one spec.
pub fn convert(inputs: &[Input]) -> Result<Converted, ImportError> {
    if inputs.is_empty() {
        return Err(ImportError::Io("no upstream document given".to_string()));
    }
    for (i, a) in inputs.iter().enumerate() {
        if let Some(b) = inputs[i + 1..].iter().find(|b| b.sha256 == a.sha256) {
            return Err(ImportError::SameDocumentTwice(
                a.label.to_string(),
                b.label.to_string(),
            ));
        }
    }
    let docs = inputs
        .iter()
        .map(|input| Swagger::parse(input.text).map_err(|e| e.in_document(input.label)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut found = Vec::new();
    let mut total_operations = Vec::new();
    for (doc, input) in docs.iter().zip(inputs) {
        let (ops, total) = doc
            .select_operations(OPERATIONS)
            .map_err(|e| e.in_document(input.label))?;
        found.push(ops);
        total_operations.push(total);
    }

    // Documents in the order of the first operation each one has (then by content, for
    // documents with the same first operation): the order they were given in does not matter.
    let first_operation = |d: usize| {
        found[d]
            .iter()
            .position(Option::is_some)
            .unwrap_or(usize::MAX)
    };
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by_key(|&d| (first_operation(d), inputs[d].sha256));
    let missing_operations: Vec<String> = (0..OPERATIONS.len())
        .filter(|&i| found.iter().all(|ops| ops[i].is_none()))
        .map(|i| OPERATIONS[i].to_string())
        .collect();
    if missing_operations.len() == OPERATIONS.len() {
        return Err(ImportError::MissingOperations(missing_operations));
    }
    if let Some(&d) = order.iter().find(|&&d| first_operation(d) == usize::MAX) {
        return Err(ImportError::DocumentWithoutOperations(
            inputs[d].label.to_string(),
        ));
    }
    let primary = order[0];

    // Each operation from the first document that has it; any other that has it must agree.
    let mut taken: Vec<(usize, &Operation)> = Vec::new();
    for (i, id) in OPERATIONS.iter().enumerate() {
        let mut first: Option<(usize, &Operation)> = None;
        for &d in &order {
            let Some(op) = &found[d][i] else { continue };
            let Some((f, first_op)) = first else {
                first = Some((d, op));
                continue;
            };
            let key = |op: &Operation| {
                Object::new()
                    .with("method and path", format!("{} {}", op.method, op.path))
                    .with("operation", op.operation.clone())
                    .with(
                        "path-level parameters",
                        op.path_parameters.clone().unwrap_or(Json::Null),
                    )
                    .into()
            };
            if let Some((at, a, b)) = first_difference(&key(first_op), &key(op), id) {
                return Err(ImportError::Disagree(Box::new(Disagreement {
                    what: format!("operation {id}"),
                    at,
                    first: (inputs[f].label.to_string(), a),
                    second: (inputs[d].label.to_string(), b),
                })));
            }
        }
        taken.extend(first);
    }

    // The definitions each document's operations reach in that document, plus the
    // always-imported ones (from every document that defines them; the first document is
    // asked for one no document defines, so the error names it).
    let mut definitions: Vec<(String, Candidates)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut reached = vec![0; docs.len()];
    for &d in &order {
        let (doc, input) = (&docs[d], &inputs[d]);
        let mut roots: Vec<(String, String)> = ALWAYS_IMPORTED
            .iter()
            .filter(|name| {
                doc.has_definition(name)
                    || (d == primary && docs.iter().all(|doc| !doc.has_definition(name)))
            })
            .map(|name| (name.to_string(), "the SDK (always imported)".to_string()))
            .collect();
        for op in found[d].iter().flatten() {
            let mut refs = Vec::new();
            let at = format!("{} {}", op.method, op.path);
            collect_refs(&op.operation, &at, &mut refs);
            if let Some(params) = &op.path_parameters {
                collect_refs(params, &format!("paths.{}.parameters", op.path), &mut refs);
            }
            for (target, at) in refs {
                let name = definition_name(&target, &at).map_err(|e| e.in_document(input.label))?;
                roots.push((name, at));
            }
        }
        roots.reverse(); // popped from the back: visit in document order
        let closure = doc.closure(roots).map_err(|e| e.in_document(input.label))?;
        reached[d] = closure.len();
        for (name, definition) in closure {
            let slot = *index.entry(name.clone()).or_insert_with(|| {
                let candidates =
                    Candidates::new(format!("definition {name}"), format!("definitions.{name}"));
                definitions.push((name, candidates));
                definitions.len() - 1
            });
            definitions[slot].1.values.push((input.label, definition));
        }
    }
    let mut schemas = Object::new();
    for (name, candidates) in definitions {
        if let Some(definition) = candidates.agreed()? {
            schemas.insert(name, converted_schema(&definition));
        }
    }

    let mut paths = Object::new();
    let mut used_tags: Vec<String> = Vec::new();
    let mut used_security: Vec<String> = Vec::new();
    for &(d, op) in &taken {
        let produces_default = docs[d]
            .member("produces")
            .map_err(|e| e.in_document(inputs[d].label))?;
        let converted = convert_operation(op, produces_default.as_ref())
            .map_err(|e| e.in_document(inputs[d].label))?;
        for tag in converted
            .get("tags")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(tag) = tag.as_str().filter(|t| !used_tags.iter().any(|u| u == t)) {
                used_tags.push(tag.to_string());
            }
        }
        collect_security(converted.get("security"), &mut used_security);
        let item = match paths.get_mut(&op.path) {
            Some(item) => item,
            None => {
                paths.insert(op.path.clone(), Object::new());
                paths.get_mut(&op.path).expect("just inserted")
            }
        };
        item.as_object_mut()
            .expect("path items are objects")
            .insert(op.method.clone(), converted);
    }
    for &d in &order {
        let security = docs[d]
            .member("security")
            .map_err(|e| e.in_document(inputs[d].label))?;
        collect_security(security.as_ref(), &mut used_security);
    }

    // info from the first document, with the provenance of all of them.
    let (doc, input) = (&docs[primary], &inputs[primary]);
    let mut info = match doc.member("info").map_err(|e| e.in_document(input.label))? {
        Some(Json::Object(info)) => info,
        _ => {
            return Err(
                invalid("the document has no \"info\" object".to_string()).in_document(input.label)
            );
        }
    };
    let mut sources = Vec::new();
    for &d in &order {
        let operations: Vec<Json> = taken
            .iter()
            .filter(|(from, _)| *from == d)
            .map(|(_, op)| {
                op.operation
                    .get("operationId")
                    .cloned()
                    .unwrap_or(Json::Null)
            })
            .collect();
        sources.push(Json::from(
            source_info(&docs[d], inputs[d].sha256, operations)
                .map_err(|e| e.in_document(inputs[d].label))?,
        ));
    }
    info.insert(
        "x-usage-sdk-source",
        Object::new()
            .with("documents", sources)
            .with("conversion", CONVERSION_NOTE),
    );
    let input_title = info.get("title").and_then(Json::as_str).map(str::to_string);
    let rewritten_slice = doc
        .member("x-slice-provenance")
        .map_err(|e| e.in_document(input.label))?
        .is_some()
        && input_title.as_deref() != Some(UPSTREAM_TITLE);
    let upstream_title = adjustments::upstream_title_text(input_title.as_deref(), rewritten_slice);

    let warnings = adjustments::apply(&mut info, &mut schemas, &upstream_title);
    schemas.sort_keys();

    let mut servers = Candidates::new(
        "the server (host, schemes, basePath)".to_string(),
        "servers[0]".to_string(),
    );
    for &d in &order {
        let server = server(&docs[d]).map_err(|e| e.in_document(inputs[d].label))?;
        servers.values.push((inputs[d].label, server.into()));
    }
    let server = servers.agreed()?.expect("at least one document");

    let mut spec = Object::new()
        .with("openapi", "3.0.3")
        .with("info", info)
        .with("servers", vec![server]);
    spec.insert("tags", tags(&docs, inputs, &order, &used_tags)?);
    spec.insert("paths", paths);
    spec.insert(
        "components",
        Object::new().with("schemas", schemas).with(
            "securitySchemes",
            security_schemes(&docs, inputs, &order, &used_security)?,
        ),
    );

    let documents = (0..docs.len())
        .map(|d| DocumentSummary {
            taken: taken
                .iter()
                .filter(|(from, _)| *from == d)
                .map(|(_, op)| {
                    op.operation
                        .get("operationId")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string()
                })
                .collect(),
            found: found[d].iter().flatten().count(),
            definitions: reached[d],
            total_operations: total_operations[d],
            total_definitions: docs[d].definition_count(),
        })
        .collect();
    Ok(Converted {
        spec: spec.into(),
        missing_operations,
        warnings,
        documents,
    })
}

/// One document's entry in `info.x-usage-sdk-source.documents`.
fn source_info(doc: &Swagger, sha256: &str, operations: Vec<Json>) -> Result<Object, ImportError> {
    let provenance = doc.member("x-slice-provenance")?;
    let info = doc.member("info")?;
    let input_title = info
        .as_ref()
        .and_then(|i| i.get("title"))
        .and_then(Json::as_str);
    let version = info
        .as_ref()
        .and_then(|i| i.get("version"))
        .cloned()
        .unwrap_or(Json::Null);
    let field = |key: &str| {
        provenance
            .as_ref()
            .and_then(|p| p.get(key))
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    let first_word = |s: String| s.split(' ').next().unwrap_or_default().to_string();
    let entry = if let (Some(upstream), Some(repo), Some(path), Some(commit), Some(sha)) = (
        field("upstream"),
        field("source_repo"),
        field("source_path"),
        field("source_commit"),
        field("source_sha256"),
    ) {
        // A slice with provenance: record where the slice came from, too.
        let date = KNOWN_SLICE_COMMIT_DATES
            .iter()
            .find(|(c, _)| *c == commit)
            .map(|(_, d)| format!(" ({d})"))
            .unwrap_or_default();
        Object::new()
            .with(
                "document",
                format!(
                    "Genesys Cloud Platform API, Swagger 2.0 ({})",
                    first_word(upstream)
                ),
            )
            .with("api-version", version)
            .with(
                "slice",
                format!("{} {path} @ {commit}{date}", first_word(repo)),
            )
            .with("slice-sha256", sha)
    } else {
        // The published document (or anything without provenance): record what is known.
        Object::new()
            .with(
                "document",
                format!("{}, Swagger 2.0", input_title.unwrap_or("untitled")),
            )
            .with("api-version", version)
    };
    Ok(entry
        .with("input-sha256", sha256)
        .with("operations", operations))
}

fn collect_security(security: Option<&Json>, used: &mut Vec<String>) {
    for requirement in security.and_then(Json::as_array).into_iter().flatten() {
        for name in requirement.as_object().into_iter().flat_map(Object::keys) {
            if !used.iter().any(|u| u == name) {
                used.push(name.to_string());
            }
        }
    }
}

fn convert_operation(op: &Operation, produces_default: Option<&Json>) -> Result<Json, ImportError> {
    let at = format!("{} {}", op.method, op.path);
    let source = op
        .operation
        .as_object()
        .ok_or_else(|| invalid(format!("{at} is not an object")))?;
    let mut out = Object::new();
    for key in ["tags", "summary", "description", "operationId"] {
        if let Some(v) = source.get(key) {
            out.insert(key, v.clone());
        }
    }

    // Path-level parameters first, overridden by operation parameters of the same name and `in`.
    let mut declared: Vec<&Json> = Vec::new();
    let lists = [op.path_parameters.as_ref(), source.get("parameters")];
    for list in lists.into_iter().flatten() {
        let list = list
            .as_array()
            .ok_or_else(|| invalid(format!("{at}: parameters is not an array")))?;
        for p in list {
            let key = |p: &Json| (p.get("name").cloned(), p.get("in").cloned());
            declared.retain(|q| key(q) != key(p));
            declared.push(p);
        }
    }
    let mut parameters = Vec::new();
    let mut body = None;
    for p in declared {
        let p = p
            .as_object()
            .ok_or_else(|| invalid(format!("{at}: a parameter is not an object")))?;
        if p.contains_key("$ref") {
            return Err(ImportError::Unsupported(format!(
                "{at}: parameter $ref (#/parameters/...) is not supported"
            )));
        }
        let name = p.get("name").and_then(Json::as_str).unwrap_or("?");
        let location = p
            .get("in")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid(format!("{at}: parameter {name} has no \"in\"")))?;
        let required = p.get("required").cloned().unwrap_or(Json::Bool(false));
        match location {
            "body" => {
                let schema = p
                    .get("schema")
                    .ok_or_else(|| invalid(format!("{at}: body parameter has no schema")))?;
                body = Some(
                    Object::new()
                        .with(
                            "description",
                            p.get("description").cloned().unwrap_or("".into()),
                        )
                        .with("required", required)
                        .with(
                            "content",
                            Object::new().with(
                                "application/json",
                                Object::new().with("schema", converted_schema(schema)),
                            ),
                        ),
                );
            }
            "query" | "path" | "header" => {
                let mut q = Object::new().with("name", name).with("in", location);
                if let Some(d) = p.get("description") {
                    q.insert("description", d.clone());
                }
                q.insert("required", required);
                let mut schema = Object::new().with(
                    "type",
                    p.get("type")
                        .cloned()
                        .ok_or_else(|| invalid(format!("{at}: parameter {name} has no type")))?,
                );
                for key in ["format", "default", "enum", "items"] {
                    if let Some(v) = p.get(key) {
                        schema.insert(key, converted_schema(v));
                    }
                }
                q.insert("schema", schema);
                parameters.push(Json::from(q));
            }
            other => {
                return Err(ImportError::Unsupported(format!(
                    "{at}: parameter {name} is in {other:?} (only body, query, path and header are supported)"
                )));
            }
        }
    }
    if !parameters.is_empty() {
        out.insert("parameters", parameters);
    }
    if let Some(body) = body {
        out.insert("requestBody", body);
    }

    let produces: Vec<Json> = match source.get("produces").or(produces_default) {
        Some(Json::Array(media)) => media.clone(),
        _ => vec!["application/json".into()],
    };
    let responses = source
        .get("responses")
        .and_then(Json::as_object)
        .ok_or_else(|| invalid(format!("{at} has no responses object")))?;
    let mut out_responses = Object::new();
    for (code, r) in responses.iter() {
        let r = r
            .as_object()
            .ok_or_else(|| invalid(format!("{at}: response {code} is not an object")))?;
        if r.contains_key("$ref") {
            return Err(ImportError::Unsupported(format!(
                "{at}: response {code} is a $ref (#/responses/...), which is not supported"
            )));
        }
        let description = r
            .get("description")
            .ok_or_else(|| invalid(format!("{at}: response {code} has no description")))?;
        let mut rr = Object::new().with("description", description.clone());
        if let Some(schema) = r.get("schema") {
            let content: Object = produces
                .iter()
                .map(|m| {
                    let media = m.as_str().unwrap_or("application/json").to_string();
                    (
                        media,
                        Object::new()
                            .with("schema", converted_schema(schema))
                            .into(),
                    )
                })
                .collect();
            rr.insert("content", content);
        }
        for (k, v) in r.iter().filter(|(k, _)| k.starts_with("x-")) {
            rr.insert(k.clone(), v.clone());
        }
        out_responses.insert(code.clone(), rr);
    }
    out.insert("responses", out_responses);
    if let Some(v) = source.get("deprecated") {
        out.insert("deprecated", v.clone());
    }
    if let Some(v) = source.get("security") {
        out.insert("security", v.clone());
    }
    for (k, v) in source.iter().filter(|(k, _)| k.starts_with("x-")) {
        out.insert(k.clone(), v.clone());
    }
    Ok(out.into())
}

fn server(swagger: &Swagger) -> Result<Object, ImportError> {
    let host = swagger.member("host")?;
    let host = host
        .as_ref()
        .and_then(Json::as_str)
        .ok_or_else(|| invalid("the document has no \"host\"".to_string()))?;
    let schemes = swagger.member("schemes")?;
    let scheme = schemes
        .as_ref()
        .and_then(Json::as_array)
        .and_then(|s| s.first())
        .and_then(Json::as_str)
        .unwrap_or("https");
    let base = swagger.member("basePath")?;
    let base = base
        .as_ref()
        .and_then(Json::as_str)
        .filter(|b| *b != "/")
        .unwrap_or("");
    Ok(Object::new().with("url", format!("{scheme}://{host}{base}")))
}

/// The tags the operations use, each as the documents that declare it give it (they must
/// agree), in the order the operations first use them.
fn tags(
    docs: &[Swagger],
    inputs: &[Input],
    order: &[usize],
    used: &[String],
) -> Result<Json, ImportError> {
    let mut declared = Vec::new();
    for &d in order {
        let all = docs[d]
            .member("tags")
            .map_err(|e| e.in_document(inputs[d].label))?;
        declared.push((
            d,
            all.and_then(|t| t.as_array().cloned()).unwrap_or_default(),
        ));
    }
    let mut kept = Vec::new();
    for name in used {
        let mut candidates = Candidates::new(format!("tag {name:?}"), format!("tags.{name}"));
        for (d, all) in &declared {
            if let Some(tag) = all
                .iter()
                .find(|t| t.get("name").and_then(Json::as_str) == Some(name))
            {
                candidates.values.push((inputs[*d].label, tag.clone()));
            }
        }
        kept.extend(candidates.agreed()?);
    }
    Ok(kept.into())
}

/// The security schemes the operations use, each converted from every document that defines
/// it (they must agree).
fn security_schemes(
    docs: &[Swagger],
    inputs: &[Input],
    order: &[usize],
    used: &[String],
) -> Result<Object, ImportError> {
    let mut out = Object::new();
    for name in used {
        let mut candidates = Candidates::new(
            format!("security scheme {name:?}"),
            format!("securityDefinitions.{name}"),
        );
        for &d in order {
            if let Some(scheme) =
                security_scheme(&docs[d], name).map_err(|e| e.in_document(inputs[d].label))?
            {
                candidates.values.push((inputs[d].label, scheme.into()));
            }
        }
        let scheme = candidates.agreed()?.ok_or_else(|| {
            ImportError::DanglingRef(format!(
                "security requirement {name:?} names a security definition no document has"
            ))
        })?;
        out.insert(name.clone(), scheme);
    }
    Ok(out)
}

fn security_scheme(swagger: &Swagger, name: &str) -> Result<Option<Object>, ImportError> {
    let definitions = swagger.member("securityDefinitions")?.unwrap_or(Json::Null);
    let Some(d) = definitions.get(name) else {
        return Ok(None);
    };
    let field = |k: &str| d.get(k).cloned().unwrap_or(Json::Null);
    let scheme = match d.get("type").and_then(Json::as_str) {
        Some("oauth2") => {
            let flow = d.get("flow").and_then(Json::as_str).unwrap_or("");
            let (flow_name, keys): (&str, &[&str]) = match flow {
                "implicit" => ("implicit", &["authorizationUrl", "scopes"]),
                "password" => ("password", &["tokenUrl", "scopes"]),
                "application" => ("clientCredentials", &["tokenUrl", "scopes"]),
                "accessCode" => (
                    "authorizationCode",
                    &["authorizationUrl", "tokenUrl", "scopes"],
                ),
                other => {
                    return Err(invalid(format!(
                        "security definition {name:?} has an unknown oauth2 flow {other:?}"
                    )));
                }
            };
            let flow: Object = keys.iter().map(|k| (k.to_string(), field(k))).collect();
            Object::new()
                .with("type", "oauth2")
                .with("flows", Object::new().with(flow_name, flow))
        }
        Some("apiKey") => Object::new()
            .with("type", "apiKey")
            .with("name", field("name"))
            .with("in", field("in")),
        Some("basic") => Object::new().with("type", "http").with("scheme", "basic"),
        other => {
            return Err(invalid(format!(
                "security definition {name:?} has an unsupported type {other:?}"
            )));
        }
    };
    Ok(Some(scheme))
}
