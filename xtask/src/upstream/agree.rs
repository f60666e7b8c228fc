//! What two upstream documents both bring into the spec must be the same: a definition both
//! define (`ErrorBody`, `Detail`, `Limit` in the usage and events documents), an operation
//! both have, a tag, a security scheme, the server. Otherwise the spec would depend on which
//! document the importer happened to read first; the import refuses and names the first place
//! where they differ.

use crate::json::Json;

/// The first place where `a` and `b` differ, as a path below `at` (`at.key`, `at[3]`) and what
/// each side has there; `None` when they are equal. Objects compare by key, not key order
/// (JSON objects are unordered); arrays compare in order.
pub fn first_difference(a: &Json, b: &Json, at: &str) -> Option<(String, String, String)> {
    match (a, b) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, va) in a.iter() {
                let here = format!("{at}.{key}");
                match b.get(key) {
                    Some(vb) => {
                        if let Some(found) = first_difference(va, vb, &here) {
                            return Some(found);
                        }
                    }
                    None => return Some((here, brief(va), "nothing".to_string())),
                }
            }
            b.iter()
                .find(|(key, _)| !a.contains_key(key))
                .map(|(key, vb)| (format!("{at}.{key}"), "nothing".to_string(), brief(vb)))
        }
        (Json::Array(a), Json::Array(b)) => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                if let Some(found) = first_difference(va, vb, &format!("{at}[{i}]")) {
                    return Some(found);
                }
            }
            match a.len().cmp(&b.len()) {
                std::cmp::Ordering::Equal => None,
                std::cmp::Ordering::Greater => Some((
                    format!("{at}[{}]", b.len()),
                    brief(&a[b.len()]),
                    "nothing (a shorter array)".to_string(),
                )),
                std::cmp::Ordering::Less => Some((
                    format!("{at}[{}]", a.len()),
                    "nothing (a shorter array)".to_string(),
                    brief(&b[a.len()]),
                )),
            }
        }
        (a, b) if a == b => None,
        (a, b) => Some((at.to_string(), brief(a), brief(b))),
    }
}

/// A value for a message: compact, and cut short when long.
fn brief(value: &Json) -> String {
    // Pretty-printed strings never hold a raw newline, so joining the lines is safe.
    let text = value
        .to_pretty()
        .lines()
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join(" ");
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
