//! Tests of the xtask. Everything that writes runs on a temporary copy of the workspace files,
//! never on the real tree.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::json::{self, Json, Object};
use crate::regen::{self, Outcome, Workspace};
use crate::upstream::adjustments::DEVIATION_KEY;
use crate::upstream::compare::{self, Finding};
use crate::upstream::convert::{self, Converted, Source};
use crate::upstream::{self, ImportError};

const SLICE_LABEL: &str = "shared/reference/genesys-usage-swagger2-full.json";

fn real() -> Workspace {
    Workspace::this()
}

fn slice_text() -> String {
    crate::synth::reference_slice(&real()).unwrap()
}

fn slice() -> Json {
    json::parse(&slice_text()).unwrap()
}

fn checked_in_spec() -> String {
    std::fs::read_to_string(real().spec()).unwrap()
}

fn convert_text(text: &str) -> Result<Converted, ImportError> {
    convert::convert(text, &Source { sha256: "0000" })
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
        let path = self.dir.join(SLICE_LABEL);
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
    fn import(&self, input: &Path) -> (Result<upstream::Imported, ImportError>, String) {
        let mut out = Vec::new();
        let result = upstream::import(&self.ws, input, false, &mut out);
        (result, String::from_utf8(out).unwrap())
    }
}

impl Drop for TempWorkspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Converts a mutated copy of the slice; returns the spec diff and the findings against the
/// checked-in spec.
fn import_mutated(mutate: impl FnOnce(&mut Json)) -> (String, Vec<Finding>, Converted) {
    let mut upstream = slice();
    mutate(&mut upstream);
    let converted = convert_text(&upstream.to_pretty()).unwrap();
    let old = checked_in_spec();
    let diff = regen::unified_diff(&old, &converted.text(), usage_sdk_codegen::SPEC_PATH);
    let findings = compare::compare(&json::parse(&old).unwrap(), &converted.spec);
    (diff, findings, converted)
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
fn importing_the_reference_slice_reproduces_the_checked_in_spec_byte_for_byte() {
    let converted = convert_text(&slice_text()).unwrap();
    assert_eq!(converted.text(), checked_in_spec());
    assert!(converted.missing_operations.is_empty());
    assert!(converted.warnings.is_empty(), "{:?}", converted.warnings);
}

#[test]
fn the_import_command_on_the_reference_slice_changes_nothing() {
    let tmp = TempWorkspace::new();
    let before = tmp.files();
    let input = tmp.upstream(&slice_text());
    let (result, out) = tmp.import(&input);
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
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::write(&elsewhere, slice_text()).unwrap();
    let (result, _) = tmp.import(&elsewhere);
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
    let input = tmp.upstream(&upstream.to_pretty());
    let (result, out) = tmp.import(&input);
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
        added_lines(spec_part),
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
    let input = tmp.upstream(&upstream.to_pretty());
    let (result, out) = tmp.import(&input);
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
    let (result, _) = tmp.import(&input);
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
    let text = crate::synth::synthetic_upstream(&slice_text(), 3_000_000).unwrap();
    assert!(text.len() > 2_500_000);
    let converted = convert_text(&text).unwrap();
    assert!(
        converted.total_operations > 200,
        "{}",
        converted.total_operations
    );
    assert!(converted.total_definitions > 100);
    let expected = json::parse(&checked_in_spec()).unwrap();
    for part in ["paths", "components", "servers", "tags"] {
        assert_eq!(converted.spec.get(part), expected.get(part), "{part}");
    }
    // No x-slice-provenance: the input is recorded by its hash, and the title deviation names
    // the document's own title.
    let info = converted.spec.get("info").unwrap();
    let source = info.get("x-usage-sdk-source").unwrap();
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
