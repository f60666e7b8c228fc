//! Secrets: [`Secret`] (a client secret or access token) and the bearer header made from a
//! token. Neither ever shows its value in `Debug` or `Display`. A leaf module.

use std::fmt;

use reqwest::header::HeaderValue;

use crate::model::input::InvalidInput;

/// A secret string (client secret, access token). Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// An `Authorization: Bearer …` header value, marked sensitive so it is never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Bearer(HeaderValue);

impl Bearer {
    pub(crate) fn new(token: &str) -> Result<Self, InvalidInput> {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            InvalidInput::new(
                "access_token",
                "contains characters not allowed in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        Ok(Self(value))
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.0
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer(<redacted>)")
    }
}
