//! Identifier newtypes, so a client id and an execution id cannot be swapped (the official
//! SDKs take `(executionId, clientId)`, the reverse of the path order).
//!
//! Both are opaque strings to Genesys (UUIDs in practice). They are checked only for what
//! can never be valid: empty, surrounding whitespace, control characters, absurd length.
//! Path encoding is the generated client's job: every character that could change the path
//! or query (`/`, `?`, `#`, `%`) is percent-encoded there. Except `\`, which that encoder
//! leaves alone and URL parsers read as `/` in `http(s)` URLs (WHATWG URL standard), so an
//! id `\..\..` would climb out of its path segment: ids with a backslash are refused here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::input::InvalidInput;

const MAX_ID_LEN: usize = 256;

fn check(field: &'static str, value: &str) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput::new(field, "is empty"));
    }
    if value == "." || value == ".." {
        // URL normalisation would turn these into a different path.
        return Err(InvalidInput::new(field, format!("{value:?} is not an id")));
    }
    if value.contains('\\') {
        return Err(InvalidInput::new(
            field,
            format!("{value:?} contains a backslash, which URLs read as a path separator"),
        ));
    }
    if value.trim() != value {
        return Err(InvalidInput::new(
            field,
            format!("{value:?} has leading or trailing whitespace"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidInput::new(
            field,
            format!("{value:?} contains control characters"),
        ));
    }
    if value.len() > MAX_ID_LEN {
        return Err(InvalidInput::new(
            field,
            format!(
                "is {} bytes long; ids are at most {MAX_ID_LEN}",
                value.len()
            ),
        ));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps an id.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                check($field, &value)?;
                Ok(Self(value))
            }

            /// The id as sent on the wire (before path encoding).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, InvalidInput> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(s: String) -> Result<Self, InvalidInput> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// An OAuth client id (`clientId` in the paths under `/api/v2/oauth/clients/`).
    OAuthClientId,
    "clientId"
);
id_type!(
    /// The id of a usage query execution, returned by a submit and used to fetch results.
    ExecutionId,
    "executionId"
);
id_type!(
    /// The id of an aggregates query job (`id` of the submit response, `jobId` in the paths).
    JobId,
    "jobId"
);
id_type!(
    /// The id of an operational event definition (`eventDefinitionId` in
    /// `/api/v2/usage/events/definitions/{eventDefinitionId}`, `eventDefinitionIds` of an
    /// events query).
    EventDefinitionId,
    "eventDefinitionId"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_blank_and_control_characters_naming_the_field() {
        for bad in [
            "", " abc", "abc\n", "a\u{0}b", ".", "..", "\\..\\..", "a\\b",
        ] {
            let err = OAuthClientId::new(bad).unwrap_err();
            assert!(err.to_string().starts_with("invalid clientId:"), "{err}");
        }
        let err = ExecutionId::new("x".repeat(300)).unwrap_err();
        assert!(err.to_string().contains("executionId"), "{err}");
    }

    #[test]
    fn keeps_odd_but_possible_ids_verbatim() {
        // Encoding happens in the generated client, not here.
        assert_eq!(
            OAuthClientId::new("a/b?x=1#y").unwrap().as_str(),
            "a/b?x=1#y"
        );
    }
}
