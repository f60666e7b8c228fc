//! Tests of the xtask. Everything that writes runs on a temporary copy of the workspace files,
//! never on the real tree.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::json::{self, Json, Object};
use crate::regen::{self, Outcome, Workspace};
use crate::upstream::adjustments::DEVIATION_KEY;
use crate::upstream::compare::{self, Finding};
use crate::upstream::convert::{self, Converted, Input};
use crate::upstream::{self, ImportError, sha256_hex};

const SLICE_LABEL: &str = "shared/reference/genesys-usage-swagger2-full.json";
const EVENTS_LABEL: &str = "shared/reference/genesys-operational-events-swagger2.json";

/// The four operations of the operational events document.
const EVENT_OPERATIONS: [&str; 4] = [
    "getUsageEventsDefinitions",
    "getUsageEventsDefinition",
    "postUsageEventsQuery",
    "postUsageEventsAggregatesQuery",
];

fn real() -> Workspace {
    Workspace::this()
}

fn slice_text() -> String {
    crate::synth::reference_slice(&real()).unwrap()
}

fn slice() -> Json {
    json::parse(&slice_text()).unwrap()
}

fn events_text() -> String {
    crate::synth::reference_events(&real()).unwrap()
}

fn events() -> Json {
    json::parse(&events_text()).unwrap()
}

fn checked_in_spec() -> String {
    std::fs::read_to_string(real().spec()).unwrap()
}

/// Converts one document, recorded under a made-up hash.
fn convert_text(text: &str) -> Result<Converted, ImportError> {
    convert::convert(&[Input {
        label: "upstream.json",
        text,
        sha256: "0000",
    }])
}

/// Converts the usage and the events documents, each recorded under its real hash.
fn convert_both(usage: &str, events: &str) -> Result<Converted, ImportError> {
    let (usage_sha, events_sha) = (sha256_hex(usage.as_bytes()), sha256_hex(events.as_bytes()));
    convert::convert(&[
        Input {
            label: "usage.json",
            text: usage,
            sha256: &usage_sha,
        },
        Input {
            label: "events.json",
            text: events,
            sha256: &events_sha,
        },
    ])
}

/// A temporary directory `<tmp>/main` holding copies of the spec and the snapshot, with
/// `<tmp>/shared/reference/` beside it (as on the maintainers' machines). Removed on drop.
struct TempWorkspace {
    dir: PathBuf,
    ws: Workspace,
}

impl TempWorkspace {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "xtask-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let ws = Workspace::new(dir.join("main"));
        for path in [ws.spec(), ws.packaged_spec(), ws.snapshot()] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        }
        std::fs::copy(real().spec(), ws.spec()).unwrap();
        std::fs::copy(real().packaged_spec(), ws.packaged_spec()).unwrap();
        std::fs::copy(real().snapshot(), ws.snapshot()).unwrap();
        std::fs::create_dir_all(dir.join("shared/reference")).unwrap();
        Self { dir, ws }
    }

    /// Writes an upstream document where the reference slice lives and returns its path.
    fn upstream(&self, text: &str) -> PathBuf {
        self.write(SLICE_LABEL, text)
    }

    /// Writes an operational events document where the reference one lives.
    fn events(&self, text: &str) -> PathBuf {
        self.write(EVENTS_LABEL, text)
    }

    fn write(&self, label: &str, text: &str) -> PathBuf {
        let path = self.dir.join(label);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn files(&self) -> (String, String) {
        (
            std::fs::read_to_string(self.ws.spec()).unwrap(),
            std::fs::read_to_string(self.ws.snapshot()).unwrap(),
        )
    }

    /// Runs the import; returns its result and its output.
    fn import(&self, inputs: &[&Path]) -> (Result<upstream::Imported, ImportError>, String) {
        let mut out = Vec::new();
        let result = upstream::import(&self.ws, inputs, false, &mut out);
        (result, String::from_utf8(out).unwrap())
    }

    /// Imports the usage document `usage` with the reference events document.
    fn import_with_events(&self, usage: &str) -> (Result<upstream::Imported, ImportError>, String) {
        let usage = self.upstream(usage);
        let events = self.events(&events_text());
        self.import(&[&usage, &events])
    }
}

impl Drop for TempWorkspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Converts a mutated copy of the usage slice with the events slice; returns the spec diff
/// and the findings against the checked-in spec. The diff leaves out the provenance lines
/// (the mutated document's sha256 is another, of course).
fn import_mutated(mutate: impl FnOnce(&mut Json)) -> (String, Vec<Finding>, Converted) {
    let mut upstream = slice();
    mutate(&mut upstream);
    let converted = convert_both(&upstream.to_pretty(), &events_text()).unwrap();
    let old = checked_in_spec();
    let diff = without_provenance(&regen::unified_diff(
        &old,
        &converted.text(),
        usage_sdk_codegen::SPEC_PATH,
    ));
    let findings = compare::compare(&json::parse(&old).unwrap(), &converted.spec);
    (diff, findings, converted)
}

/// A diff without its lines that change an `input-sha256`.
fn without_provenance(diff: &str) -> String {
    diff.lines()
        .filter(|l| !l.contains("\"input-sha256\""))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn breaking(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .filter(|f| f.breaking)
        .map(|f| f.text.as_str())
        .collect()
}

fn changes(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .filter(|f| !f.breaking)
        .map(|f| f.text.as_str())
        .collect()
}

fn object<'a>(doc: &'a mut Json, path: &[&str]) -> &'a mut Object {
    doc.at_mut(path)
        .and_then(Json::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {path:?}"))
}

fn array<'a>(doc: &'a mut Json, path: &[&str]) -> &'a mut Vec<Json> {
    doc.at_mut(path)
        .and_then(Json::as_array_mut)
        .unwrap_or_else(|| panic!("no array at {path:?}"))
}

/// The lines a diff adds.
fn added_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect()
}

/// Whether the diff adds a line that is `line` once indentation is ignored.
fn adds(diff: &str, line: &str) -> bool {
    added_lines(diff)
        .iter()
        .any(|l| l.trim_start_matches('+').trim() == line)
}

fn removed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect()
}

// --- the round trip ---------------------------------------------------------------------

#[test]
fn the_testdata_slice_is_the_reference_slice() {
    // xtask/testdata keeps a byte copy so that the tests run anywhere; where the shared
    // reference exists, they must agree.
    let shared = real().root.parent().unwrap().join(SLICE_LABEL);
    if let Ok(shared) = std::fs::read_to_string(shared) {
        assert_eq!(shared, slice_text());
    }
}

#[test]
fn the_testdata_events_document_is_the_reference_one() {
    let shared = real().root.parent().unwrap().join(EVENTS_LABEL);
    if let Ok(shared) = std::fs::read_to_string(shared) {
        assert_eq!(shared, events_text());
    }
}

#[test]
fn importing_the_two_reference_documents_reproduces_the_checked_in_spec_byte_for_byte() {
    let converted = convert_both(&slice_text(), &events_text()).unwrap();
    assert_eq!(converted.text(), checked_in_spec());
    assert!(converted.missing_operations.is_empty());
    assert!(converted.warnings.is_empty(), "{:?}", converted.warnings);
    // In any order.
    let (usage_sha, events_sha) = (
        sha256_hex(slice_text().as_bytes()),
        sha256_hex(events_text().as_bytes()),
    );
    let reversed = convert::convert(&[
        Input {
            label: "events.json",
            text: &events_text(),
            sha256: &events_sha,
        },
        Input {
            label: "usage.json",
            text: &slice_text(),
            sha256: &usage_sha,
        },
    ])
    .unwrap();
    assert_eq!(reversed.text(), checked_in_spec());
}

#[test]
fn the_spec_holds_all_fifteen_operations_and_records_each_documents_sha256() {
    let spec = json::parse(&checked_in_spec()).unwrap();
    let mut in_spec = Vec::new();
    for (_, item) in spec.get("paths").and_then(Json::as_object).unwrap().iter() {
        for (_, op) in item.as_object().unwrap().iter() {
            in_spec.push(op.get("operationId").and_then(Json::as_str).unwrap());
        }
    }
    assert_eq!(in_spec, convert::OPERATIONS);
    assert_eq!(in_spec.len(), 15);
    assert_eq!(&in_spec[11..], EVENT_OPERATIONS);

    let documents = spec
        .at(&["info", "x-usage-sdk-source", "documents"])
        .and_then(Json::as_array)
        .unwrap();
    let recorded: Vec<(&str, usize)> = documents
        .iter()
        .map(|d| {
            (
                d.get("input-sha256").and_then(Json::as_str).unwrap(),
                d.get("operations").and_then(Json::as_array).unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            (sha256_hex(slice_text().as_bytes()).as_str(), 11),
            (sha256_hex(events_text().as_bytes()).as_str(), 4)
        ]
    );
    // The events schemas the SDK decodes keep unknown fields, like the other rows.
    for name in [
        "OperationalEvent",
        "EventQueryResponse",
        "EventDefinition",
        "EventDefinitionListing",
        "EventAggregatesResponse",
        "EventDefinitionAggregates",
        "AddressableEntityRef",
    ] {
        let schema = spec.at(&["components", "schemas", name]).unwrap();
        assert_eq!(
            schema.get("additionalProperties").map(Json::to_pretty),
            Some("{}".to_string()),
            "{name}"
        );
    }
    // pageSize stays the string upstream declares.
    let page_size = spec
        .at(&["paths", "/api/v2/usage/events/query", "post", "parameters"])
        .and_then(Json::as_array)
        .unwrap()
        .iter()
        .find(|p| p.get("name").and_then(Json::as_str) == Some("pageSize"))
        .unwrap();
    assert_eq!(
        page_size.at(&["schema", "type"]).and_then(Json::as_str),
        Some("string")
    );
}

#[test]
fn the_import_command_on_the_reference_documents_changes_nothing() {
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let (result, out) = tmp.import_with_events(&slice_text());
    let imported = result.unwrap();
    assert!(!imported.spec_changed && !imported.client_changed && !imported.written);
    assert!(imported.findings.is_empty());
    assert_eq!(tmp.files(), before);
    assert!(
        out.contains("=== diff 1/2: spec/usage-api.json ===\n(no change)"),
        "{out}"
    );
    assert!(!out.contains("BREAKING"), "{out}");
}

#[test]
fn the_import_records_content_not_where_the_file_was() {
    // The same bytes under another name in another directory give the same spec.
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let elsewhere = tmp.dir.join("downloads").join("swagger (1).json");
    let events = tmp.dir.join("downloads").join("events.json");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::write(&elsewhere, slice_text()).unwrap();
    std::fs::write(&events, events_text()).unwrap();
    let (result, _) = tmp.import(&[&events, &elsewhere]);
    let imported = result.unwrap();
    assert!(!imported.spec_changed && !imported.written);
    assert_eq!(tmp.files(), before);
    assert!(!checked_in_spec().contains("converted-from"));
}

// --- upstream changes -------------------------------------------------------------------

#[test]
fn an_added_enum_value_shows_in_both_diffs_and_is_not_breaking() {
    let tmp = TempWorkspace::new();
    let mut upstream = slice();
    array(
        &mut upstream,
        &[
            "definitions",
            "ApiUsageOrganizationQuery",
            "properties",
            "granularity",
            "enum",
        ],
    )
    .push("Quarter".into());
    let (result, out) = tmp.import_with_events(&upstream.to_pretty());
    let imported = result.unwrap();
    assert!(imported.written && imported.spec_changed && imported.client_changed);
    assert_eq!(
        imported
            .findings
            .iter()
            .map(|f| (f.breaking, f.text.as_str()))
            .collect::<Vec<_>>(),
        [(
            false,
            "enum value \"Quarter\" was added to ApiUsageOrganizationQuery.granularity"
        )]
    );
    let (spec_part, client_part) = out.split_once("=== diff 2/2").unwrap();
    assert_eq!(
        added_lines(&without_provenance(spec_part)),
        ["+              \"Month\",", "+              \"Quarter\""],
        "{out}"
    );
    assert!(adds(client_part, "Quarter,"), "{out}");
    assert!(!out.contains("BREAKING"), "{out}");
    // Written consistently: the snapshot matches the new spec.
    let mut check = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, true, &mut check).unwrap(),
        Outcome::UpToDate
    );
}

#[test]
fn an_added_value_of_a_lifted_enum_lands_in_the_named_component() {
    let (diff, findings, _) = import_mutated(|s| {
        array(
            s,
            &[
                "definitions",
                "ApiUsageQueryResult",
                "properties",
                "queryStatus",
                "enum",
            ],
        )
        .push("Queued".into());
    });
    assert_eq!(
        changes(&findings),
        ["enum value \"Queued\" was added to QueryStatus"]
    );
    assert!(breaking(&findings).is_empty());
    assert_eq!(
        added_lines(&diff),
        ["+          \"Running\",", "+          \"Queued\""]
    );
}

#[test]
fn a_new_optional_field_is_a_change() {
    let (diff, findings, _) = import_mutated(|s| {
        object(s, &["definitions", "ApiUsageRow", "properties"]).insert(
            "region",
            Object::new()
                .with("type", "string")
                .with("description", "Region"),
        );
    });
    assert_eq!(
        changes(&findings),
        ["new optional property ApiUsageRow.region"]
    );
    assert!(breaking(&findings).is_empty());
    assert!(
        added_lines(&diff).contains(&"+          \"region\": {"),
        "{diff}"
    );
    assert!(removed_lines(&diff).is_empty(), "{diff}");
}

#[test]
fn a_new_required_field_is_breaking() {
    let (_, findings, _) = import_mutated(|s| {
        let d = object(s, &["definitions", "ApiUsageOrganizationQuery"]);
        d.get_mut("properties")
            .and_then(Json::as_object_mut)
            .unwrap()
            .insert("orgUnit", Object::new().with("type", "string"));
        d.get_mut("required")
            .and_then(Json::as_array_mut)
            .unwrap()
            .push("orgUnit".into());
    });
    assert_eq!(
        breaking(&findings),
        ["new required property ApiUsageOrganizationQuery.orgUnit"]
    );
}

#[test]
fn a_new_error_status_is_a_change() {
    let (diff, findings, _) = import_mutated(|s| {
        let responses = object(s, &["paths", "/api/v2/usage/query", "post", "responses"]);
        let mut r = responses.get("400").unwrap().clone();
        r.as_object_mut()
            .unwrap()
            .insert("description", "Unprocessable entity");
        responses.insert("422", r);
    });
    assert_eq!(changes(&findings), ["postUsageQuery: new response 422"]);
    assert!(breaking(&findings).is_empty());
    assert!(
        added_lines(&diff).contains(&"+          \"422\": {"),
        "{diff}"
    );
}

#[test]
fn a_removed_field_is_breaking() {
    let (diff, findings, _) = import_mutated(|s| {
        object(s, &["definitions", "ApiUsageRow", "properties"]).remove("clientName");
    });
    assert_eq!(
        breaking(&findings),
        ["property ApiUsageRow.clientName was removed"]
    );
    assert!(
        removed_lines(&diff).contains(&"-          \"clientName\": {"),
        "{diff}"
    );
    assert!(added_lines(&diff).is_empty(), "{diff}");
}

#[test]
fn a_removed_enum_value_and_a_removed_response_are_breaking() {
    let (_, findings, _) = import_mutated(|s| {
        array(
            s,
            &[
                "definitions",
                "ApiUsageClientQuery",
                "properties",
                "granularity",
                "enum",
            ],
        )
        .retain(|v| v.as_str() != Some("Week"));
        object(s, &["paths", "/api/v2/usage/query", "post", "responses"]).remove("202");
    });
    assert_eq!(
        breaking(&findings),
        [
            "postUsageQuery: response 202 was removed",
            "enum value \"Week\" was removed from ApiUsageClientQuery.granularity"
        ]
    );
}

#[test]
fn a_renamed_definition_is_breaking_and_named_as_a_rename() {
    let (diff, findings, _) = import_mutated(|s| {
        assert!(object(s, &["definitions"]).rename_key("Cursors", "UsageCursors"));
        object(
            s,
            &[
                "definitions",
                "ApiUsageQueryResult",
                "properties",
                "cursors",
            ],
        )
        .insert("$ref", "#/definitions/UsageCursors");
    });
    assert_eq!(
        breaking(&findings),
        ["definition Cursors was renamed to UsageCursors"]
    );
    assert!(changes(&findings).is_empty(), "{findings:?}");
    assert!(
        added_lines(&diff)
            .contains(&"+            \"$ref\": \"#/components/schemas/UsageCursors\""),
        "{diff}"
    );
    assert!(
        added_lines(&diff).contains(&"+      \"UsageCursors\": {"),
        "{diff}"
    );
}

#[test]
fn a_removed_lifted_property_is_breaking_and_its_adjustment_is_reported() {
    let (_, findings, converted) = import_mutated(|s| {
        object(s, &["definitions", "ApiUsageQueryResult", "properties"]).remove("queryStatus");
    });
    assert_eq!(
        breaking(&findings),
        [
            "property ApiUsageQueryResult.queryStatus was removed",
            "definition QueryStatus was removed"
        ]
    );
    assert_eq!(
        converted.warnings,
        [
            "declared adjustment not applied (lift ApiUsageQueryResult.queryStatus into component \
          QueryStatus): ApiUsageQueryResult has no property queryStatus"
        ]
    );
}

#[test]
fn the_rows_keep_unknown_fields_and_an_upstream_that_closes_them_is_reported() {
    let spec = json::parse(&checked_in_spec()).unwrap();
    for name in [
        "OrganizationPublicApiUsage",
        "ApiUsageRow",
        "DomainEntityRef",
    ] {
        let schema = spec
            .at(&["components", "schemas", name])
            .and_then(Json::as_object)
            .unwrap();
        assert_eq!(
            schema.get("additionalProperties").map(Json::to_pretty),
            Some("{}".to_string()),
            "{name}"
        );
        assert!(schema.contains_key(DEVIATION_KEY), "{name}");
    }
    let (_, findings, converted) = import_mutated(|s| {
        object(s, &["definitions", "ApiUsageRow"]).insert("additionalProperties", false);
    });
    assert_eq!(
        breaking(&findings),
        ["ApiUsageRow: additionalProperties changed from {} to false"]
    );
    assert_eq!(
        converted.warnings,
        [
            "declared adjustment not applied (set ApiUsageRow.additionalProperties to {} (keep \
          unknown fields)): the upstream now declares ApiUsageRow.additionalProperties; check \
          whether this deviation is still needed"
        ]
    );
}

#[test]
fn an_operation_that_disappeared_is_an_error_that_names_it_and_writes_nothing() {
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let mut upstream = slice();
    object(&mut upstream, &["paths"]).remove("/api/v2/oauth/clients/{clientId}/usage/summary");
    let (result, out) = tmp.import_with_events(&upstream.to_pretty());
    match result {
        Err(ImportError::MissingOperations(missing)) => {
            assert_eq!(missing, ["getOauthClientUsageSummary"])
        }
        other => panic!("expected MissingOperations, got {other:?}"),
    }
    assert_eq!(tmp.files(), before, "spec/ must be untouched");
    // The preview still shows what the upstream would do, in plain words at the end.
    assert!(
        out.contains(
            "BREAKING: operation getOauthClientUsageSummary \
             (GET /api/v2/oauth/clients/{clientId}/usage/summary) was removed"
        ),
        "{out}"
    );
    assert!(out.contains("-    \"/api/v2/oauth/clients/{clientId}/usage/summary\": {"));
    let message =
        ImportError::MissingOperations(vec!["getOauthClientUsageSummary".into()]).to_string();
    assert!(
        message.contains("getOauthClientUsageSummary") && message.contains("nothing was written")
    );
}

// --- bad input --------------------------------------------------------------------------

fn assert_rejected(text: &[u8], expect: impl Fn(&ImportError) -> bool) {
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let input = tmp.dir.join("upstream.json");
    std::fs::write(&input, text).unwrap();
    let (result, _) = tmp.import(&[&input]);
    let error = result.expect_err("the import must fail");
    assert!(expect(&error), "unexpected error: {error}");
    assert_eq!(
        tmp.files(),
        before,
        "spec/ must be untouched after: {error}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.ws.spec().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["usage-api.json"],
        "no temporary file may be left behind"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_leaves_spec_untouched() {
    assert_rejected(b"{ \"swagger\": \"2.0\", ", |e| {
        matches!(e, ImportError::NotJson(_)) && e.to_string().contains("line 1")
    });
    assert_rejected(b"swagger: '2.0'\ninfo: {}\n", |e| {
        matches!(e, ImportError::NotJson(_)) && e.to_string().contains("YAML")
    });
    assert_rejected(b"", |e| matches!(e, ImportError::NotJson(_)));
    assert_rejected(b"\xff\xfe{}", |e| matches!(e, ImportError::NotJson(_)));
    assert_rejected(b"[1, 2]", |e| matches!(e, ImportError::NotSwagger2(_)));
    assert_rejected(b"{\"swagger\": \"1.2\", \"paths\": {}}", |e| {
        matches!(e, ImportError::NotSwagger2(_)) && e.to_string().contains("1.2")
    });
    // The checked-in spec itself is OpenAPI 3, not the published Swagger 2.0.
    assert_rejected(checked_in_spec().as_bytes(), |e| {
        matches!(e, ImportError::NotSwagger2(_)) && e.to_string().contains("OpenAPI 3.0.3")
    });
    assert_rejected(
        b"{\"swagger\": \"2.0\", \"info\": {}, \"paths\": {}}",
        |e| matches!(e, ImportError::MissingOperations(m) if m.len() == convert::OPERATIONS.len()),
    );
}

#[test]
fn a_dangling_ref_is_an_error_that_names_it() {
    let mut upstream = slice();
    object(
        &mut upstream,
        &["definitions", "ErrorBody", "properties", "limit"],
    )
    .insert("$ref", "#/definitions/RateLimit");
    let text = upstream.to_pretty();
    assert_rejected(text.as_bytes(), |e| {
        matches!(e, ImportError::DanglingRef(_))
            && e.to_string().contains(
                "definitions.ErrorBody.properties.limit refers to #/definitions/RateLimit",
            )
    });

    let mut upstream = slice();
    object(&mut upstream, &["definitions"]).remove("UsageExecutionResult");
    let text = upstream.to_pretty();
    assert_rejected(text.as_bytes(), |e| {
        matches!(e, ImportError::DanglingRef(_)) && e.to_string().contains("UsageExecutionResult")
    });
}

// --- large input ------------------------------------------------------------------------

#[test]
fn a_large_synthetic_upstream_imports_the_same_operations_and_schemas() {
    // One document with all fifteen operations, like the full Platform API document.
    let text =
        crate::synth::synthetic_upstream(&slice_text(), &[&events_text()], 3_000_000).unwrap();
    assert!(text.len() > 2_500_000);
    let converted = convert_text(&text).unwrap();
    let summary = &converted.documents[0];
    assert!(
        summary.total_operations > 200,
        "{}",
        summary.total_operations
    );
    assert!(summary.total_definitions > 100);
    assert_eq!(summary.taken.len(), 15);
    let expected = json::parse(&checked_in_spec()).unwrap();
    for part in ["paths", "components", "servers", "tags"] {
        assert_eq!(converted.spec.get(part), expected.get(part), "{part}");
    }
    // No x-slice-provenance: the input is recorded by its hash, and the title deviation names
    // the document's own title.
    let info = converted.spec.get("info").unwrap();
    let source = info
        .at(&["x-usage-sdk-source", "documents"])
        .and_then(Json::as_array)
        .map(|d| d.as_slice())
        .unwrap();
    assert_eq!(source.len(), 1);
    let source = &source[0];
    assert_eq!(
        source.get("input-sha256").and_then(Json::as_str),
        Some("0000")
    );
    assert_eq!(
        source.get("document").and_then(Json::as_str),
        Some("PureCloud Platform API, Swagger 2.0")
    );
    assert_eq!(
        info.get("x-usage-sdk-deviation").and_then(Json::as_str),
        Some("info.title names this fragment; the upstream title is \"PureCloud Platform API\".")
    );
}

// --- issue #2: a stale snapshot fails the check ----------------------------------------

#[test]
fn regen_check_fails_on_an_added_enum_value_and_passes_after_regen() {
    let tmp = TempWorkspace::new();
    let mut out = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, true, &mut out).unwrap(),
        Outcome::UpToDate
    );

    let mut spec = json::parse(&std::fs::read_to_string(tmp.ws.spec()).unwrap()).unwrap();
    array(
        &mut spec,
        &[
            "components",
            "schemas",
            "ApiUsageOrganizationQuery",
            "properties",
            "granularity",
            "enum",
        ],
    )
    .push("Quarter".into());
    std::fs::write(tmp.ws.spec(), spec.to_pretty() + "\n").unwrap();
    let snapshot = std::fs::read_to_string(tmp.ws.snapshot()).unwrap();

    let mut out = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, true, &mut out).unwrap(),
        Outcome::Stale { written: false }
    );
    let diff = String::from_utf8(out).unwrap();
    assert!(adds(&diff, "Quarter,"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(tmp.ws.snapshot()).unwrap(),
        snapshot
    );

    let mut out = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, false, &mut out).unwrap(),
        Outcome::Stale { written: true }
    );
    let mut out = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, true, &mut out).unwrap(),
        Outcome::UpToDate
    );
}

// --- issue #11: the spec travels inside the usage-sdk package ----------------------------

#[test]
fn the_packaged_spec_copy_equals_the_spec() {
    assert_eq!(
        std::fs::read_to_string(real().packaged_spec()).unwrap(),
        checked_in_spec(),
        "run `cargo xtask regen`"
    );
}

#[test]
fn regen_check_fails_when_the_packaged_copy_differs_and_regen_refreshes_it() {
    let tmp = TempWorkspace::new();
    std::fs::write(tmp.ws.packaged_spec(), "{}\n").unwrap();

    let mut out = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, true, &mut out).unwrap(),
        Outcome::Stale { written: false }
    );
    let diff = String::from_utf8(out).unwrap();
    assert!(
        diff.contains(usage_sdk_codegen::PACKAGED_SPEC_PATH),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.ws.packaged_spec()).unwrap(),
        "{}\n"
    );

    let mut out = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, false, &mut out).unwrap(),
        Outcome::Stale { written: true }
    );
    assert_eq!(
        std::fs::read_to_string(tmp.ws.packaged_spec()).unwrap(),
        checked_in_spec()
    );
    let mut out = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, true, &mut out).unwrap(),
        Outcome::UpToDate
    );
}

// --- issue 20: two documents, one upstream -------------------------------------------------

/// Imports `usage` and `events` (texts) into a fresh workspace and expects a refusal that
/// leaves every file as it was; returns the error.
fn refused_pair(usage: &str, events: &str) -> ImportError {
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let usage = tmp.upstream(usage);
    let events = tmp.events(events);
    let (result, _) = tmp.import(&[&usage, &events]);
    let error = result.expect_err("the import must fail");
    assert_eq!(
        tmp.files(),
        before,
        "spec/ must be untouched after: {error}"
    );
    error
}

#[test]
fn a_shared_definition_that_differs_is_refused_naming_the_definition_and_the_json_path() {
    let mut changed = events();
    array(
        &mut changed,
        &["definitions", "Limit", "properties", "namespace", "enum"],
    )
    .retain(|v| v.as_str() != Some("agent.assistant"));
    let error = refused_pair(&slice_text(), &changed.to_pretty());
    let message = error.to_string();
    match &error {
        ImportError::Disagree(d) => {
            assert_eq!(d.what, "definition Limit");
            assert_eq!(d.at, "definitions.Limit.properties.namespace.enum[2]");
            assert!(d.first.0.ends_with(SLICE_LABEL), "{message}");
            assert_eq!(d.first.1, "\"agent.assistant\"");
            assert!(d.second.0.ends_with(EVENTS_LABEL), "{message}");
            assert_eq!(d.second.1, "\"agentic.virtual.agents\"");
        }
        other => panic!("expected Disagree, got {other}"),
    }
    assert!(
        message.contains(
            "disagree on definition Limit: at definitions.Limit.properties.namespace.enum[2], "
        ) && message.contains("genesys-usage-swagger2-full.json has \"agent.assistant\" and ")
            && message.contains(
                "genesys-operational-events-swagger2.json has \"agentic.virtual.agents\""
            ),
        "{message}"
    );

    // A property only one of them has: named, with what the other has.
    let mut changed = events();
    object(&mut changed, &["definitions", "Detail", "properties"])
        .insert("code", Object::new().with("type", "string"));
    let message = refused_pair(&slice_text(), &changed.to_pretty()).to_string();
    assert!(
        message.contains("definition Detail: at definitions.Detail.properties.code")
            && message.contains("has nothing and")
            && message.contains("has { \"type\": \"string\" }"),
        "{message}"
    );

    // ErrorBody, imported from both even where no operation of one of them refers to it.
    let mut changed = events();
    object(
        &mut changed,
        &["definitions", "ErrorBody", "properties", "status"],
    )
    .insert("format", "int64");
    let message = refused_pair(&slice_text(), &changed.to_pretty()).to_string();
    assert!(
        message.contains("definition ErrorBody: at definitions.ErrorBody.properties.status.format"),
        "{message}"
    );
}

#[test]
fn a_key_order_difference_is_no_difference() {
    let mut reordered = events();
    let detail = object(&mut reordered, &["definitions", "Detail", "properties"]);
    let mut keys: Vec<(String, Json)> =
        detail.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    keys.reverse();
    *detail = keys.into_iter().collect();
    let converted = convert_both(&slice_text(), &reordered.to_pretty()).unwrap();
    // Detail comes from the usage document, the first one.
    assert_eq!(
        converted.spec.at(&["components", "schemas", "Detail"]),
        json::parse(&checked_in_spec())
            .unwrap()
            .at(&["components", "schemas", "Detail"])
    );
}

#[test]
fn importing_the_same_documents_again_is_byte_identical_and_writes_nothing() {
    let tmp = TempWorkspace::new();
    let mut upstream = slice();
    object(&mut upstream, &["definitions", "ApiUsageRow", "properties"])
        .insert("region", Object::new().with("type", "string"));
    let mut changed_events = events();
    object(
        &mut changed_events,
        &["definitions", "OperationalEvent", "properties"],
    )
    .insert("region", Object::new().with("type", "string"));
    let usage = tmp.upstream(&upstream.to_pretty());
    let events = tmp.events(&changed_events.to_pretty());

    let (first, out) = tmp.import(&[&usage, &events]);
    let first = first.unwrap();
    assert!(
        first.written && first.spec_changed && first.client_changed,
        "{out}"
    );
    assert_eq!(
        changes(&first.findings),
        [
            "new optional property ApiUsageRow.region",
            "new optional property OperationalEvent.region"
        ]
    );
    let after_first = tmp.files();
    let packaged = std::fs::read_to_string(tmp.ws.packaged_spec()).unwrap();
    assert_eq!(packaged, after_first.0);

    for order in [[&usage, &events], [&events, &usage]] {
        let order: Vec<&Path> = order.iter().map(|p| p.as_path()).collect();
        let (again, out) = tmp.import(&order);
        let again = again.unwrap();
        assert!(
            !again.written && !again.spec_changed && !again.client_changed,
            "{out}"
        );
        assert!(
            out.contains("no change: the spec is already what this upstream gives"),
            "{out}"
        );
        assert_eq!(tmp.files(), after_first);
    }
    let mut check = Vec::new();
    assert_eq!(
        regen::regen(&tmp.ws, true, &mut check).unwrap(),
        Outcome::UpToDate
    );
}

#[test]
fn the_import_prints_what_each_document_brought() {
    let tmp = TempWorkspace::new();
    let (result, out) = tmp.import_with_events(&slice_text());
    result.unwrap();
    let head: Vec<&str> = out.lines().take(3).collect();
    assert!(
        head[0].starts_with("imported 15 of 15 operations and 34 schemas from 2 documents in "),
        "{out}"
    );
    let usage_sha = sha256_hex(slice_text().as_bytes());
    assert!(
        head[1].ends_with(&format!(
            "{SLICE_LABEL} (124.4 kB, sha256 {}…): 11 operations (11 in the document), 21 \
             definitions (21 in the document)",
            &usage_sha[..12]
        )),
        "{out}"
    );
    assert!(
        head[2].contains(&format!(
            "{EVENTS_LABEL} (43.6 kB, sha256 {}…): 4 operations (4 in the document), 12 \
             definitions (12 in the document)",
            &sha256_hex(events_text().as_bytes())[..12]
        )),
        "{out}"
    );
}

#[test]
fn the_usage_document_alone_is_refused_naming_the_four_events_operations() {
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let input = tmp.upstream(&slice_text());
    let (result, out) = tmp.import(&[&input]);
    match result {
        Err(ImportError::MissingOperations(missing)) => assert_eq!(missing, EVENT_OPERATIONS),
        other => panic!("expected MissingOperations, got {other:?}"),
    }
    assert_eq!(tmp.files(), before);
    assert!(
        out.contains(
            "BREAKING: operation postUsageEventsQuery (POST /api/v2/usage/events/query) was removed"
        ),
        "{out}"
    );
}

#[test]
fn the_same_document_twice_or_one_without_operations_is_refused() {
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let usage = tmp.upstream(&slice_text());
    let copy = tmp.write("shared/copy.json", &slice_text());
    let events_path = tmp.events(&events_text());
    let (result, _) = tmp.import(&[&usage, &events_path, &copy]);
    let error = result.unwrap_err();
    assert!(
        matches!(&error, ImportError::SameDocumentTwice(a, b) if a.ends_with(SLICE_LABEL) && b.ends_with("copy.json")),
        "{error}"
    );

    let mut other = events();
    *object(&mut other, &["paths"]) = Object::new();
    let other = tmp.write("shared/other.json", &other.to_pretty());
    let (result, _) = tmp.import(&[&usage, &events_path, &other]);
    let error = result.unwrap_err();
    assert!(
        matches!(&error, ImportError::DocumentWithoutOperations(d) if d.ends_with("other.json")),
        "{error}"
    );
    assert!(
        error.to_string().contains("none of the 15 operations"),
        "{error}"
    );
    assert_eq!(tmp.files(), before);
}

#[test]
fn a_full_document_with_the_events_document_beside_it_agrees_or_is_refused() {
    // The full Platform API document holds all fifteen; the events document beside it adds
    // nothing, and must say the same about the four operations.
    let full = crate::synth::synthetic_upstream(&slice_text(), &[&events_text()], 0).unwrap();
    let converted = convert_both(&full, &events_text()).unwrap();
    let expected = json::parse(&checked_in_spec()).unwrap();
    for part in ["paths", "components", "servers", "tags"] {
        assert_eq!(converted.spec.get(part), expected.get(part), "{part}");
    }
    assert_eq!(converted.documents[0].taken.len(), 15);
    assert_eq!(
        (
            converted.documents[1].taken.len(),
            converted.documents[1].found
        ),
        (0, 4)
    );

    let mut changed = events();
    object(
        &mut changed,
        &["paths", "/api/v2/usage/events/query", "post"],
    )
    .insert("summary", "Query operational events.");
    let error = convert_both(&full, &changed.to_pretty()).err().unwrap();
    assert!(
        matches!(&error, ImportError::Disagree(d)
            if d.what == "operation postUsageEventsQuery"
                && d.at == "postUsageEventsQuery.operation.summary"),
        "{error}"
    );
}

#[test]
fn a_removed_events_field_or_sort_order_is_breaking() {
    let mut changed = events();
    object(
        &mut changed,
        &["definitions", "OperationalEvent", "properties"],
    )
    .remove("entityToken");
    array(
        &mut changed,
        &[
            "definitions",
            "EventQueryRequest",
            "properties",
            "sortOrder",
            "enum",
        ],
    )
    .retain(|v| v.as_str() != Some("ASC"));
    let converted = convert_both(&slice_text(), &changed.to_pretty()).unwrap();
    let findings = compare::compare(&json::parse(&checked_in_spec()).unwrap(), &converted.spec);
    assert_eq!(
        breaking(&findings),
        [
            "enum value \"ASC\" was removed from EventQueryRequest.sortOrder",
            "property OperationalEvent.entityToken was removed"
        ]
    );
}

#[test]
fn the_command_line_takes_the_documents_after_one_or_several_upstream_flags() {
    use crate::upstream_args;
    assert_eq!(
        upstream_args(&["--upstream", "a.json", "b.json"]),
        Some((vec!["a.json", "b.json"], false))
    );
    assert_eq!(
        upstream_args(&["--upstream", "a.json", "--upstream", "b.json", "--dry-run"]),
        Some((vec!["a.json", "b.json"], true))
    );
    assert_eq!(
        upstream_args(&["--dry-run", "--upstream", "a.json"]),
        Some((vec!["a.json"], true))
    );
    assert_eq!(upstream_args(&["--upstream"]), None);
    assert_eq!(upstream_args(&["--upstream", "a.json", "--check"]), None);
    assert_eq!(upstream_args(&["a.json", "--upstream", "b.json"]), None);
}
