//! progenitor-impl 0.15 gives every request it builds an `api-version: <info.version>` header
//! (method.rs, unconditionally). Genesys does not define that header and the official SDKs
//! never send it, so each generated method is rewritten without it, and without the header
//! map progenitor builds only for it. usage-sdk's hooks used to remove the header from each
//! request instead, after the map had been built, merged and searched: 1.8% of the overhead
//! benchmark's cycle by instructions and cache misses, 1.166x to 1.144x the baseline in time
//! (the runs and their commands: usage-sdk/benches/HISTORY.md, 2026-12-04, third session).

use quote::ToTokens;

/// The local progenitor builds the extra headers in.
const MAP: &str = "header_map";
const HEADER: &str = "\"api-version\"";

/// Removes the header from every method of `file`, and the header map from each method that
/// had nothing else in it. Fails if any `api-version` text is left, so that a progenitor that
/// adds it some other way fails `cargo xtask regen` instead of sending it again.
pub(crate) fn drop_api_version(file: &mut syn::File) -> Result<(), String> {
    for item in &mut file.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        for member in &mut block.items {
            if let syn::ImplItem::Fn(method) = member {
                drop_from_body(&mut method.block);
            }
        }
    }
    let left = file.to_token_stream().to_string();
    if left.contains(HEADER) {
        return Err(format!(
            "progenitor's {HEADER} header is still in the generated client: \
             usage-sdk/codegen/src/api_version.rs no longer finds where it is added"
        ));
    }
    Ok(())
}

fn drop_from_body(body: &mut syn::Block) {
    let mentions = |stmt: &syn::Stmt| mentions_map(stmt.to_token_stream());
    let is_header = |stmt: &syn::Stmt| stmt.to_token_stream().to_string().contains(HEADER);
    body.stmts
        .retain(|stmt| !(mentions(stmt) && is_header(stmt)));
    // Whatever else still uses the map (progenitor's header parameters) keeps it.
    let other_uses = body
        .stmts
        .iter()
        .filter(|stmt| mentions(stmt) && !declares_map(stmt) && !passes_map_only(stmt))
        .count();
    if other_uses > 0 {
        return;
    }
    body.stmts.retain(|stmt| !declares_map(stmt));
    for stmt in &mut body.stmts {
        if let syn::Stmt::Local(local) = stmt
            && let Some(init) = &mut local.init
        {
            strip_headers_call(&mut init.expr);
        }
    }
}

/// Whether `tokens` name the map anywhere.
fn mentions_map(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Ident(ident) => ident == MAP,
        proc_macro2::TokenTree::Group(group) => mentions_map(group.stream()),
        _ => false,
    })
}

/// `let mut header_map = …;`
fn declares_map(stmt: &syn::Stmt) -> bool {
    matches!(stmt, syn::Stmt::Local(syn::Local { pat: syn::Pat::Ident(binding), .. }) if binding.ident == MAP)
}

/// A `let` whose only use of the map is passing it whole to the request builder
/// (`….headers(header_map)…`).
fn passes_map_only(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Local(local) = stmt else {
        return false;
    };
    let Some(init) = &local.init else {
        return false;
    };
    let mut stripped = (*init.expr).clone();
    strip_headers_call(&mut stripped) && !mentions_map(stripped.to_token_stream())
}

/// Takes `.headers(header_map)` out of a builder chain (through a trailing `?`); whether it
/// was there.
fn strip_headers_call(expr: &mut syn::Expr) -> bool {
    match expr {
        syn::Expr::Try(tried) => strip_headers_call(&mut tried.expr),
        syn::Expr::MethodCall(call) => {
            let passes_map = call.method == "headers"
                && call.args.len() == 1
                && matches!(&call.args[0], syn::Expr::Path(path) if path.path.is_ident(MAP));
            if passes_map {
                *expr = (*call.receiver).clone();
                true
            } else {
                strip_headers_call(&mut call.receiver)
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(source: &str) -> Result<String, String> {
        let mut file: syn::File = syn::parse_str(source).expect("test source parses");
        drop_api_version(&mut file)?;
        Ok(prettyplease::unparse(&file))
    }

    /// progenitor 0.15's shape for an operation without header parameters.
    const PLAIN: &str = r#"
        impl Client {
            pub async fn op(&self) -> Result<(), Error> {
                let url = format!("{}/a", self.baseurl);
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                );
                #[allow(unused_mut)]
                let mut request = self.client.get(url).header(ACCEPT, JSON).headers(header_map).build()?;
                self.exec(request).await
            }
        }
    "#;

    #[test]
    fn an_operation_without_header_parameters_loses_the_header_and_the_map() {
        let out = rewrite(PLAIN).expect("rewritten");
        assert!(!out.contains("api-version"), "{out}");
        assert!(!out.contains(MAP), "{out}");
        assert!(
            out.contains("self.client.get(url).header(ACCEPT, JSON).build()?;"),
            "the rest of the builder chain is kept: {out}"
        );
    }

    #[test]
    fn a_header_parameter_keeps_the_map_without_the_header() {
        let with_parameter = PLAIN.replace(
            "#[allow(unused_mut)]",
            "header_map.append(\"x-trace\", trace.to_string().try_into()?);\n#[allow(unused_mut)]",
        );
        let out = rewrite(&with_parameter).expect("rewritten");
        assert!(!out.contains("api-version"), "{out}");
        assert!(out.contains("header_map.append(\"x-trace\""), "{out}");
        assert!(out.contains(".headers(header_map)"), "{out}");
        assert!(out.contains("let mut header_map"), "{out}");
    }

    #[test]
    fn a_header_added_another_way_fails_the_generation() {
        let elsewhere = PLAIN.replace(
            "let url = ",
            "let extra = (\"api-version\", Self::api_version());\nlet url = ",
        );
        let error = rewrite(&elsewhere).expect_err("refused");
        assert!(error.contains("api_version.rs"), "{error}");
    }
}
