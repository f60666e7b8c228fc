//! The path template of every operation, for the one check the generated client lacks:
//! progenitor percent-encodes a path parameter but leaves `.` alone, and the URL parser
//! then resolves an id of `.` or `..` as a dot segment (and reads `\` as `/` in http URLs),
//! so the request leaves its route. The hooks compare each request's path with its
//! operation's template before anything is sent.

/// `(operationId, path template)` of the spec's operations (a unit test holds this list
/// equal to `spec/usage-api.json`).
const ROUTES: &[(&str, &str)] = &[
    ("post_usage_query", "/api/v2/usage/query"),
    (
        "get_usage_query_execution_id_results",
        "/api/v2/usage/query/{executionId}/results",
    ),
    (
        "post_oauth_client_usage_query",
        "/api/v2/oauth/clients/{clientId}/usage/query",
    ),
    (
        "get_oauth_client_usage_query_result",
        "/api/v2/oauth/clients/{clientId}/usage/query/results/{executionId}",
    ),
    (
        "get_oauth_client_usage_summary",
        "/api/v2/oauth/clients/{clientId}/usage/summary",
    ),
    ("post_usage_simplesearch", "/api/v2/usage/simplesearch"),
    (
        "get_usage_simplesearch_execution_id_results",
        "/api/v2/usage/simplesearch/{executionId}/results",
    ),
    (
        "post_usage_aggregates_query_jobs",
        "/api/v2/usage/aggregates/query/jobs",
    ),
    (
        "get_usage_aggregates_query_job",
        "/api/v2/usage/aggregates/query/jobs/{jobId}",
    ),
    (
        "post_usage_client_client_id_aggregates_query_jobs",
        "/api/v2/usage/client/{clientId}/aggregates/query/jobs",
    ),
    (
        "get_usage_client_client_id_aggregates_query_job",
        "/api/v2/usage/client/{clientId}/aggregates/query/jobs/{jobId}",
    ),
    (
        "get_usage_events_definitions",
        "/api/v2/usage/events/definitions",
    ),
    (
        "get_usage_events_definition",
        "/api/v2/usage/events/definitions/{eventDefinitionId}",
    ),
    ("post_usage_events_query", "/api/v2/usage/events/query"),
    (
        "post_usage_events_aggregates_query",
        "/api/v2/usage/events/aggregates/query",
    ),
];

/// Whether `path` (a request's URL path under the base URL's path `base_path`) is
/// `operation`'s template with each `{parameter}` filled by exactly one non-empty segment;
/// otherwise why not, for the caller's error.
pub(crate) fn check(operation: &str, base_path: &str, path: &str) -> Result<(), String> {
    let Some((_, template)) = ROUTES.iter().find(|(id, _)| *id == operation) else {
        return Err(format!("no route is known for operation {operation}"));
    };
    let outside = || {
        format!(
            "{operation}: a path parameter left its path segment (an id of `.` or `..`, or one \
             holding `\\`), so the request would go to another route; it was not sent"
        )
    };
    let rest = path
        .strip_prefix(base_path.trim_end_matches('/'))
        .ok_or_else(outside)?;
    if fills(template, rest) {
        Ok(())
    } else {
        Err(outside())
    }
}

/// Whether `path` is `template` with each `{parameter}` (a whole segment in every template)
/// replaced by one non-empty segment. Walks both once, without splitting into segments: it
/// runs for every request (callgrind, benches/HISTORY.md 2026-12-04: the split version was
/// about 1,900 instructions a request).
fn fills(template: &str, path: &str) -> bool {
    let (mut template, mut path) = (template.as_bytes(), path.as_bytes());
    let segment_end = |bytes: &[u8]| bytes.iter().position(|&b| b == b'/').unwrap_or(bytes.len());
    loop {
        match template.first() {
            None => return path.is_empty(),
            Some(b'{') => {
                let filled = segment_end(path);
                if filled == 0 {
                    return false;
                }
                template = &template[segment_end(template)..];
                path = &path[filled..];
            }
            Some(_) => {
                let literal = template
                    .iter()
                    .position(|&b| b == b'{')
                    .unwrap_or(template.len());
                let Some(rest) = path.strip_prefix(&template[..literal]) else {
                    return false;
                };
                template = &template[literal..];
                path = rest;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routes_are_the_specs_operations() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/usage-api.json")).unwrap();
        let mut in_spec: Vec<(String, String)> = Vec::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for operation in item.as_object().unwrap().values() {
                if let Some(id) = operation.get("operationId").and_then(|id| id.as_str()) {
                    in_spec.push((id.to_string(), path.clone()));
                }
            }
        }
        // progenitor names methods by operationId in snake case.
        let mut in_spec: Vec<(String, String)> = in_spec
            .into_iter()
            .map(|(id, path)| (snake(&id), path))
            .collect();
        in_spec.sort();
        let mut here: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(id, path)| (id.to_string(), path.to_string()))
            .collect();
        here.sort();
        assert_eq!(here, in_spec);
    }

    fn snake(id: &str) -> String {
        let mut out = String::new();
        for c in id.chars() {
            if c.is_ascii_uppercase() {
                if !out.is_empty() {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn a_parameter_that_leaves_its_segment_is_caught_under_any_base_path() {
        let op = "get_usage_query_execution_id_results";
        for base in ["", "/", "/gateway", "/gateway/"] {
            let prefix = base.trim_end_matches('/');
            assert!(
                check(
                    op,
                    base,
                    &format!("{prefix}/api/v2/usage/query/e-1/results")
                )
                .is_ok()
            );
            for resolved in [
                "/api/v2/usage/results",           // `..`
                "/api/v2/usage/query/results",     // `.`
                "/api/v2/usage/query/a/b/results", // `a\b`
                "/api/v2/usage/query//results",    // empty
                "/api/v2/usage/query/e-1/results/more",
                "/api/v2/usage/query/e-1",
                "/api/v2/usage/query/e-1/resultsx",
            ] {
                let error = check(op, base, &format!("{prefix}{resolved}")).unwrap_err();
                assert!(error.contains("not sent"), "{error}");
            }
        }
        assert!(
            check(
                "get_usage_query_execution_id_results",
                "/gw",
                "/api/v2/usage/query/e/results"
            )
            .is_err()
        );
        assert!(check("no_such_operation", "", "/api/v2/usage/query").is_err());
    }
}
