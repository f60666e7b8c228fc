//! The one definition of how usage-sdk's raw client is generated from `spec/usage-api.json`.
//!
//! `cargo xtask regen` calls [`generate_file`] to write the reviewed snapshot
//! (`usage-sdk/generated/usage_api.rs`), which usage-sdk compiles by default; with usage-sdk's
//! `build-time-codegen` feature its build script calls the same function on the spec, so
//! both builds compile the same text (a unit test in usage-sdk checks it).
//! Formatting is done with prettyplease, not rustfmt: it is deterministic, pinned by
//! Cargo.lock, and needs no nightly toolchain.

mod api_version;

use std::fmt;
use std::path::{Path, PathBuf};

use progenitor_impl::{
    GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl, TypePatch,
};

/// Where the spec lives, relative to the workspace root: the one file maintainers edit.
pub const SPEC_PATH: &str = "spec/usage-api.json";
/// The copy of the spec that travels inside the usage-sdk package (its build script reads it
/// with the `build-time-codegen` feature, from the crate's own tarball), relative to the
/// workspace root.
/// `cargo xtask regen` keeps it equal to [`SPEC_PATH`]; `--check` fails when they differ.
pub const PACKAGED_SPEC_PATH: &str = "usage-sdk/spec/usage-api.json";
/// The same copy, relative to the usage-sdk package root.
pub const PACKAGED_SPEC_IN_CRATE: &str = "spec/usage-api.json";
/// Where the reviewed snapshot of the generated client lives, relative to the workspace root.
pub const SNAPSHOT_PATH: &str = "usage-sdk/generated/usage_api.rs";

/// Response enums the server can extend. Each is a named component schema in the spec (a
/// declared deviation from upstream, whose enums are inline) so that it can be swapped for a
/// hand-written open enum that keeps unknown values. progenitor can only replace named schemas.
pub const OPEN_ENUMS: &[(&str, &str)] = &[
    ("QueryStatus", "crate::open_enum::QueryStatus"),
    ("JobQueryStatus", "crate::open_enum::JobQueryStatus"),
    ("UsageHttpMethod", "crate::open_enum::UsageHttpMethod"),
    ("LimitNamespace", "crate::open_enum::LimitNamespace"),
];

/// Row fields read leniently: every `{type: string, format: …}` schema with one of these
/// formats (ignoring its description) becomes the hand-written type, which keeps text that
/// does not parse instead of failing the page. In this spec each format occurs only in
/// response fields: the rows' `date` (`date`: the two job rows; `date-time`: the legacy row)
/// and the operational event's `dateCreated` (`date-time`).
pub const ROW_DATES: &[(&str, &str)] = &[
    ("date", "crate::row_date::UsageDate"),
    ("date-time", "crate::row_date::UsageDateTime"),
];

/// The generator settings without the `JsonSchema` patches (the first of [`generate_source`]'s
/// two passes).
fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Positional)
        .with_tag(TagStyle::Merged)
        // The hand-written layer must implement ClientHooks (auth header, retries, pacing);
        // forgetting it is a compile error rather than a client that sends no token.
        .with_hooks(HooksMode::Expected)
        // The hooks read the client's shared state and the call's record from the client
        // itself (crate::session), so nothing travels task-local.
        .with_inner_type(
            "crate::session::Session"
                .parse::<proc_macro2::TokenStream>()
                .expect("a type path"),
        )
        .with_derive("PartialEq");
    for (schema, replacement) in OPEN_ENUMS {
        settings.with_replacement(
            schema,
            replacement,
            [TypeImpl::FromStr, TypeImpl::Display].into_iter(),
        );
    }
    for (format, replacement) in ROW_DATES {
        let schema = schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some(format.to_string()),
            ..Default::default()
        };
        settings.with_conversion(schema, replacement, [TypeImpl::Display].into_iter());
    }
    settings
}

/// The attribute every generated type carries: `schemars::JsonSchema` is derived only when
/// usage-sdk's `schemars` feature is on, so the default build neither compiles the derives nor
/// depends on schemars. progenitor's `with_derive` cannot be conditional, but a type patch's
/// attribute is emitted verbatim, `cfg_attr` included; one snapshot serves both builds.
const SCHEMARS_ATTR: &str = r#"#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]"#;

/// [`settings`] plus the conditional `JsonSchema` derive on each of `type_names` (every type
/// progenitor generates, named after their component schemas or, for inline enums, after
/// their parent and property), and `Default` on each of `default_names`.
fn settings_with_patches<'a>(
    type_names: impl IntoIterator<Item = &'a str>,
    default_names: &[String],
) -> GenerationSettings {
    let mut settings = settings();
    let mut patch = TypePatch::default();
    patch.with_attr(SCHEMARS_ATTR);
    let mut with_default = patch.clone();
    with_default.with_derive("Default");
    for name in type_names {
        // One patch per type: a second `with_patch` for the same name replaces the first.
        let patch = if default_names.iter().any(|d| d == name) {
            &with_default
        } else {
            &patch
        };
        settings.with_patch(name, patch);
    }
    settings
}

/// The field typify adds for a schema whose `additionalProperties` is `{}`: a flattened map
/// that keeps the fields the spec does not name (see the `KeepUnknownFields` deviations).
const CATCH_ALL_FIELD: &str = "extra";

/// The structs with the catch-all whose other fields are all optional (`Option` or `Vec`).
/// typify derives `Default` for a struct whose fields all have one, but counts the catch-all
/// as required, so these lost the `Default` they had before the catch-all; it is derived back
/// (an empty map is the catch-all's default), so giving a row type a catch-all does not take
/// `..Default::default()` away from the code that builds rows.
fn catch_all_structs_with_default(file: &syn::File) -> Vec<String> {
    let last_segment = |ty: &syn::Type| match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    generated_items(file)
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s),
            _ => None,
        })
        .filter(|s| {
            let named = |f: &&syn::Field| f.ident.as_ref().is_some_and(|i| i == CATCH_ALL_FIELD);
            s.fields.iter().any(|f| named(&f))
                && s.fields
                    .iter()
                    .filter(|f| !named(f))
                    .all(|f| matches!(last_segment(&f.ty).as_deref(), Some("Option" | "Vec")))
        })
        .map(|s| s.ident.to_string())
        .collect()
}

/// The items of the generated `types` module.
fn generated_items(file: &syn::File) -> impl Iterator<Item = &syn::Item> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        })
        .flat_map(|(_, items)| items)
}

/// The names of the structs and enums in the generated `types` module.
fn generated_type_names(file: &syn::File) -> Vec<String> {
    generated_items(file)
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// Why generation failed, naming the spec file.
#[derive(Debug)]
pub struct CodegenError {
    path: PathBuf,
    what: String,
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.what)
    }
}

impl std::error::Error for CodegenError {}

/// Reads the spec at `spec_path` and returns the formatted Rust source of the raw client.
pub fn generate_file(spec_path: &Path) -> Result<String, CodegenError> {
    let fail = |what: String| CodegenError {
        path: spec_path.to_path_buf(),
        what,
    };
    let text = std::fs::read_to_string(spec_path).map_err(|e| fail(format!("cannot read: {e}")))?;
    generate_source(&text).map_err(fail)
}

/// Generates the formatted client from the text of an OpenAPI 3.0 document.
pub fn generate_source(spec_text: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI = serde_json::from_str(spec_text).map_err(|e| {
        format!(
            "not a valid OpenAPI 3.0 document (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    // Two passes: the first names every type progenitor generates, the second patches each
    // with the conditional JsonSchema derive, and `Default` where the catch-all took it away
    // (a patch applies by type name).
    let plain = generate_with(&settings(), &spec)?;
    let names = generated_type_names(&plain);
    let default_names = catch_all_structs_with_default(&plain);
    let mut file = generate_with(
        &settings_with_patches(names.iter().map(String::as_str), &default_names),
        &spec,
    )?;
    // Then without the `api-version` header progenitor adds to every request.
    api_version::drop_api_version(&mut file)?;
    let header = "// @generated by usage-sdk-codegen from spec/usage-api.json. Do not edit:\n\
                  // change the spec or usage-sdk/codegen, then run `cargo xtask regen`.\n\n";
    Ok(format!("{header}{}", prettyplease::unparse(&file)))
}

fn generate_with(
    settings: &GenerationSettings,
    spec: &openapiv3::OpenAPI,
) -> Result<syn::File, String> {
    // progenitor panics on some shapes it cannot express (for example a `default` response
    // beside a typed one); turn that into an error that names the file instead of a bare panic.
    let tokens = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Generator::new(settings).generate_tokens(spec)
    }))
    .map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".to_string());
        format!("progenitor cannot generate a client from this spec: {why}")
    })?
    .map_err(|e| format!("progenitor rejected the spec: {e}"))?;
    syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))
}
