//! Splits the generated client into its `types` module and the rest. Shared by usage-sdk's
//! build script (both ways of building) and `cargo xtask layers`, so what the layer check reads is
//! what the crate compiles. Std only: a build without the `build-time-codegen` feature has no
//! build dependencies.

/// Splits a generated file into the items of its `pub mod types { ... }` and everything
/// else, so the crate can compile the types as a module of their own: the error type and the
/// queries use the types, while the client depends on the layer above them (its inner state),
/// and one module holding both would tie them into an import circle. prettyplease writes the
/// module at column 0 and closes it with the first `}` at column 0, which this relies on and
/// checks.
pub fn split_types(source: &str) -> Result<(String, String), String> {
    let lines: Vec<&str> = source.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "pub mod types {")
        .ok_or("the generated file has no `pub mod types {` at column 0")?;
    let end = start
        + lines[start..]
            .iter()
            .position(|l| *l == "}")
            .ok_or("the generated `types` module is not closed at column 0")?;
    // Its doc comment and attributes stay behind, dropped with the module line itself.
    let mut first = start;
    while first > 0 && (lines[first - 1].starts_with("///") || lines[first - 1].starts_with("#[")) {
        first -= 1;
    }
    let join = |part: &[&str]| part.iter().map(|l| format!("{l}\n")).collect::<String>();
    let types = join(&lines[start + 1..end]);
    let client = join(&lines[..first]) + &join(&lines[end + 1..]);
    if types.contains("super::") {
        return Err(
            "the generated types refer to `super::`, which a module of their own lacks".into(),
        );
    }
    Ok((types, client))
}
