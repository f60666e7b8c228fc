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
//! - `info` is copied, with `x-usage-sdk-source` (provenance) added;
//! - every other difference is a declared adjustment (see `adjustments.rs`).
//!
//! Beyond the slice (which never needed them), path-level parameters are merged into each
//! operation, `deprecated` is kept, array parameters keep `items`, a `basePath` is appended to
//! the server URL, and only the tags and security schemes the operations use are kept.

use crate::json::{Json, Object};

use super::ImportError;
use super::adjustments::{self, UPSTREAM_TITLE};
use super::swagger::{Operation, Swagger, collect_refs, definition_name};

/// The operations this SDK is made of, in the order the spec lists them: the whole Usage API.
/// This list is the one place that says which operations the SDK takes.
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
];

/// Definitions imported even when no operation refers to them.
pub const ALWAYS_IMPORTED: &[&str] = &["ErrorBody"];

/// Known commit dates of third-party slices; `x-slice-provenance` does not record the date.
/// (3c70367: genesys-usage-api.md, section 1.)
const KNOWN_SLICE_COMMIT_DATES: &[(&str, &str)] =
    &[("3c703679ace07d84cc3df1920017b262030336c8", "2026-07-23")];

const CONVERSION_NOTE: &str = "Swagger 2.0 -> OpenAPI 3.0.3: body parameters become requestBody, definitions become components/schemas, host/schemes become servers; every other difference is marked x-usage-sdk-deviation where it is made.";

/// Where the input came from, for `info.x-usage-sdk-source`. Only the content counts: the
/// same document imported from any directory or under any file name gives the same spec.
pub struct Source<'s> {
    /// sha256 of the input bytes, hex.
    pub sha256: &'s str,
}

/// The converted document and what happened on the way.
pub struct Converted {
    pub spec: Json,
    /// The requested operations the upstream does not have.
    pub missing_operations: Vec<String>,
    /// Declared adjustments that no longer apply.
    pub warnings: Vec<String>,
    pub total_operations: usize,
    pub total_definitions: usize,
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

/// Converts the Swagger 2.0 document `text`.
pub fn convert(text: &str, source: &Source) -> Result<Converted, ImportError> {
    let swagger = Swagger::parse(text)?;
    let (operations, missing_operations, total_operations) =
        swagger.select_operations(OPERATIONS)?;
    if operations.is_empty() {
        return Err(ImportError::MissingOperations(missing_operations));
    }

    // The definitions the operations reach, plus the always-imported ones.
    let mut roots: Vec<(String, String)> = ALWAYS_IMPORTED
        .iter()
        .map(|name| (name.to_string(), "the SDK (always imported)".to_string()))
        .collect();
    for op in &operations {
        let mut refs = Vec::new();
        let at = format!("{} {}", op.method, op.path);
        collect_refs(&op.operation, &at, &mut refs);
        if let Some(params) = &op.path_parameters {
            collect_refs(params, &format!("paths.{}.parameters", op.path), &mut refs);
        }
        for (target, at) in refs {
            roots.push((definition_name(&target, &at)?, at));
        }
    }
    roots.reverse(); // popped from the back: visit in document order
    let definitions = swagger.closure(roots)?;

    let mut schemas: Object = definitions
        .iter()
        .map(|(name, d)| (name.clone(), converted_schema(d)))
        .collect();

    let produces_default = swagger.member("produces")?;
    let mut paths = Object::new();
    let mut used_tags: Vec<String> = Vec::new();
    let mut used_security: Vec<String> = Vec::new();
    for op in &operations {
        let converted = convert_operation(op, produces_default.as_ref())?;
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
    collect_security(swagger.member("security")?.as_ref(), &mut used_security);

    // info, with provenance.
    let mut info = match swagger.member("info")? {
        Some(Json::Object(info)) => info,
        _ => return Err(invalid("the document has no \"info\" object".to_string())),
    };
    let provenance = swagger.member("x-slice-provenance")?;
    let input_title = info.get("title").and_then(Json::as_str).map(str::to_string);
    let version = info.get("version").cloned().unwrap_or(Json::Null);
    let source_info = source_info(
        provenance.as_ref(),
        input_title.as_deref(),
        &version,
        source,
    );
    info.insert("x-usage-sdk-source", source_info);
    let rewritten_slice = provenance.is_some() && input_title.as_deref() != Some(UPSTREAM_TITLE);
    let upstream_title = adjustments::upstream_title_text(input_title.as_deref(), rewritten_slice);

    let warnings = adjustments::apply(&mut info, &mut schemas, &upstream_title);
    schemas.sort_keys();

    let mut spec = Object::new()
        .with("openapi", "3.0.3")
        .with("info", info)
        .with("servers", vec![Json::from(server(&swagger)?)]);
    spec.insert("tags", tags(&swagger, &used_tags)?);
    spec.insert("paths", paths);
    spec.insert(
        "components",
        Object::new().with("schemas", schemas).with(
            "securitySchemes",
            security_schemes(&swagger, &used_security)?,
        ),
    );

    Ok(Converted {
        spec: spec.into(),
        missing_operations,
        warnings,
        total_operations,
        total_definitions: swagger.definition_count(),
    })
}

fn source_info(
    provenance: Option<&Json>,
    input_title: Option<&str>,
    version: &Json,
    source: &Source,
) -> Object {
    let field = |key: &str| {
        provenance
            .and_then(|p| p.get(key))
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    let first_word = |s: String| s.split(' ').next().unwrap_or_default().to_string();
    if let (Some(upstream), Some(repo), Some(path), Some(commit), Some(sha)) = (
        field("upstream"),
        field("source_repo"),
        field("source_path"),
        field("source_commit"),
        field("source_sha256"),
    ) {
        // A slice with provenance: record where the slice came from.
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
            .with("api-version", version.clone())
            .with(
                "slice",
                format!("{} {path} @ {commit}{date}", first_word(repo)),
            )
            .with("slice-sha256", sha)
            .with("conversion", CONVERSION_NOTE)
    } else {
        // The published document (or anything without provenance): record what is known.
        Object::new()
            .with(
                "document",
                format!("{}, Swagger 2.0", input_title.unwrap_or("untitled")),
            )
            .with("api-version", version.clone())
            .with("input-sha256", source.sha256)
            .with("conversion", CONVERSION_NOTE)
    }
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

fn tags(swagger: &Swagger, used: &[String]) -> Result<Json, ImportError> {
    let all = swagger.member("tags")?;
    let kept = all
        .as_ref()
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|t| {
            t.get("name")
                .and_then(Json::as_str)
                .is_some_and(|n| used.iter().any(|u| u == n))
        })
        .cloned()
        .collect::<Vec<_>>();
    Ok(kept.into())
}

fn security_schemes(swagger: &Swagger, used: &[String]) -> Result<Object, ImportError> {
    let definitions = swagger.member("securityDefinitions")?.unwrap_or(Json::Null);
    let mut out = Object::new();
    for name in used {
        let d = definitions.get(name).ok_or_else(|| {
            ImportError::DanglingRef(format!(
                "security requirement {name:?} names a security definition the document does not have"
            ))
        })?;
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
        out.insert(name.clone(), scheme);
    }
    Ok(out)
}
