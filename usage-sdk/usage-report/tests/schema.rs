//! `--print-schema` closes the loop with `--format json`: what the program writes validates
//! against the schema it prints, for the organization and client jobs and the legacy rows.
//!
//! The validator is written here for the subset schemars 0.8 emits for these rows (`type`,
//! including `["x", "null"]`; `properties`, `required`, `additionalProperties`, `items`,
//! `enum`, `anyOf`, `$ref` into `definitions`, and the formats `date`, `date-time`, `int32`,
//! `int64`, `double`); a keyword it does not know fails the test rather than being skipped.
//! The `jsonschema` crate would do, at several times this crate's test build time.

use std::time::Duration;

use serde_json::{Map, Value};
use usage_sdk_stand_in::{RunningStandIn, StandIn};

const BIN: &str = env!("CARGO_BIN_EXE_usage-report");

/// Runs the program with only `env` (plus PATH and HOME) and returns its stdout; exit 0.
async fn run(args: &[&str], env: &[(&str, String)]) -> String {
    let mut command = std::process::Command::new(BIN);
    command.args(args).env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(env.iter().map(|(name, value)| (*name, value)));
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await
    .expect("the program finishes within 60 s")
    .expect("the waiting thread")
    .expect("the program runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{args:?}: {:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn configured_for(stand_in: &RunningStandIn) -> Vec<(&'static str, String)> {
    let client = stand_in.demo_client();
    vec![
        ("GENESYSCLOUD_API_REGION", stand_in.base_url()),
        ("GENESYSCLOUD_OAUTHCLIENT_ID", client.id.clone()),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET", client.secret.clone()),
    ]
}

/// Validates `value` against `schema`, resolving `$ref`s in `root`; returns the errors.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let object = schema.as_object().expect("a schema object");
    for key in object.keys() {
        let known = [
            "$schema",
            "title",
            "description",
            "definitions",
            "type",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "enum",
            "anyOf",
            "$ref",
            "format",
            "examples",
            "default",
            "minimum",
            "maximum",
        ];
        assert!(
            known.contains(&key.as_str()),
            "{at}: keyword {key} not supported here"
        );
    }
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix("#/definitions/")
            .expect("a local definition");
        let target = &root["definitions"][name];
        assert!(target.is_object(), "{at}: {reference} is not defined");
        return validate(root, target, value, at, errors);
    }
    if let Some(any_of) = object.get("anyOf").and_then(Value::as_array) {
        let ok = any_of.iter().any(|s| {
            let mut e = Vec::new();
            validate(root, s, value, at, &mut e);
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{at}: matches none of anyOf"));
        }
    }
    if let Some(types) = object.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => panic!("{at}: type {other}"),
        };
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            other => panic!("{at}: type {other}"),
        });
        if !ok {
            errors.push(format!("{at}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {values:?}"));
    }
    if let (Some(format), false) = (
        object.get("format").and_then(Value::as_str),
        value.is_null(),
    ) {
        let ok = match format {
            "date" => value
                .as_str()
                .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
            "date-time" => value
                .as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            "int64" => value.is_i64(),
            "int32" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "double" => value.is_number(),
            other => panic!("{at}: format {other} not supported here"),
        };
        if !ok {
            errors.push(format!("{at}: {value} is not a {format}"));
        }
    }
    if let (Some(items), Some(array)) = (object.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            validate(root, items, item, &format!("{at}[{i}]"), errors);
        }
    }
    if let Some(fields) = value.as_object() {
        let empty = Map::new();
        let properties = object
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for name in object
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap();
            if !fields.contains_key(name) {
                errors.push(format!("{at}: required {name} is missing"));
            }
        }
        for (name, field) in fields {
            match (properties.get(name), object.get("additionalProperties")) {
                (Some(schema), _) => validate(root, schema, field, &format!("{at}.{name}"), errors),
                (None, Some(Value::Bool(false))) => {
                    errors.push(format!("{at}: {name} is not allowed"))
                }
                (None, Some(schema @ Value::Object(_))) => {
                    validate(root, schema, field, &format!("{at}.{name}"), errors)
                }
                (None, _) => {}
            }
        }
    }
}

fn errors(schema: &Value, rows: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(schema, schema, rows, "$", &mut errors);
    errors
}

/// The program's JSON rows for `args`, the schema it prints for them, and the row type the
/// schema names.
async fn rows_and_schema(args: &[&str], env: &[(&str, String)]) -> (Value, Value) {
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json", "--days", "3"]);
    let rows: Value = serde_json::from_str(&run(&json_args, env).await).expect("a JSON array");
    let mut schema_args = args.to_vec();
    schema_args.push("--print-schema");
    let schema: Value =
        serde_json::from_str(&run(&schema_args, &[]).await).expect("the schema is JSON");
    (rows, schema)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_json_rows_validate_against_the_printed_schema_for_each_api_and_scope() {
    let api = StandIn::builder()
        .seed(23)
        .execution_time(Duration::from_millis(50))
        .job_times(Duration::from_millis(10), Duration::from_millis(50))
        .start()
        .await
        .expect("the stand-in starts");
    let env = configured_for(&api);
    let client = api.demo_client().id.clone();
    for (args, row_type) in [
        (
            vec!["--group-by", "OauthClientId,HttpMethod,TemplateUri"],
            "OrganizationPublicApiUsage",
        ),
        (
            vec!["--client", &client, "--group-by", "TemplateUri"],
            "ClientPublicApiUsage",
        ),
        (
            vec!["--api", "legacy", "--group-by", "OAuthClientId"],
            "ApiUsageRow",
        ),
    ] {
        let (rows, schema) = rows_and_schema(&args, &env).await;
        assert_eq!(schema["type"], "array", "{args:?}: an array of rows");
        assert_eq!(
            schema["items"]["$ref"],
            format!("#/definitions/{row_type}"),
            "{args:?}"
        );
        assert!(
            !rows.as_array().unwrap().is_empty(),
            "{args:?}: some rows to check"
        );
        let found = errors(&schema, &rows);
        assert!(found.is_empty(), "{args:?}:\n{}", found.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_that_breaks_the_schema_is_reported() {
    let schema: Value =
        serde_json::from_str(&run(&["--print-schema"], &[]).await).expect("the schema is JSON");
    let bad = serde_json::json!([
        // A date may be any string (unreadable text is kept, see usage_sdk::UsageDate), but
        // never a number.
        {"date": 20261102, "requestCount": "many", "httpMethod": 7}
    ]);
    let found = errors(&schema, &bad);
    for field in ["date", "requestCount", "httpMethod"] {
        assert!(
            found.iter().any(|e| e.contains(field)),
            "{field}: {found:?}"
        );
    }
    assert!(
        errors(&schema, &serde_json::json!({}))
            .iter()
            .any(|e| e.contains("array"))
    );
}
