//! OAuth 2 client credentials: `POST /oauth/token` and bearer-token checks.
//!
//! The wire shapes follow the Go SDK's `AuthResponse`/`AuthErrorResponse`:
//! `{"access_token","token_type":"bearer","expires_in"}` on success and
//! `{"error","description","error_description"}` on failure.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::data::{OAuthClient, SplitMix64};

/// A token request the stand-in refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) description: &'static str,
}

impl TokenError {
    pub(crate) fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": self.error,
            "description": self.description,
            "error_description": self.description,
        })
    }
}

#[derive(Clone, Debug)]
struct Token {
    client_id: String,
    expires_at: Instant,
}

/// Why a bearer token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization: Bearer …` header.
    Missing,
    /// A token the stand-in never issued, or one that has expired.
    Invalid,
}

#[derive(Debug)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, Token>,
    rng: SplitMix64,
}

impl TokenStore {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            tokens: HashMap::new(),
            rng: SplitMix64::new(seed ^ 0x70CE_4500_0000_0002),
        }
    }

    /// Issues a token for `client_id`, valid for `lifetime`.
    pub(crate) fn issue(&mut self, client_id: &str, lifetime: Duration, now: Instant) -> String {
        let token = format!(
            "{:016x}{:016x}{:016x}",
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64()
        );
        // Forget expired tokens now and then so a long benchmark does not grow the map.
        if self.tokens.len() > 1024 {
            self.tokens.retain(|_, t| t.expires_at > now);
        }
        self.tokens.insert(
            token.clone(),
            Token {
                client_id: client_id.to_string(),
                expires_at: now + lifetime,
            },
        );
        token
    }

    /// Makes every token issued so far expire now.
    pub(crate) fn expire_all(&mut self, now: Instant) {
        for token in self.tokens.values_mut() {
            token.expires_at = token.expires_at.min(now);
        }
    }

    /// The client a valid token was issued to.
    pub(crate) fn check(
        &self,
        authorization: Option<&str>,
        now: Instant,
    ) -> Result<String, Refusal> {
        let token = authorization
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Missing)?;
        match self.tokens.get(token) {
            Some(t) if t.expires_at > now => Ok(t.client_id.clone()),
            _ => Err(Refusal::Invalid),
        }
    }
}

/// Checks a token request: client authentication (Basic header, or `client_id` and
/// `client_secret` in the form) and `grant_type=client_credentials`. Returns the client.
pub(crate) fn authenticate<'a>(
    clients: &'a [OAuthClient],
    authorization: Option<&str>,
    form: &[u8],
) -> Result<&'a OAuthClient, TokenError> {
    let form = parse_form(form);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let credentials = match authorization.and_then(basic_credentials) {
        Some(c) => Some(c),
        None => match (field("client_id"), field("client_secret")) {
            (Some(id), Some(secret)) => Some((id.to_string(), secret.to_string())),
            _ => None,
        },
    };
    let Some((id, secret)) = credentials else {
        return Err(TokenError {
            status: 401,
            error: "invalid_client",
            description: "client authentication is required",
        });
    };
    let client = clients
        .iter()
        .find(|c| c.id == id && c.secret == secret)
        .ok_or(TokenError {
            status: 401,
            error: "invalid_client",
            description: "client not found or bad client secret",
        })?;
    match field("grant_type") {
        Some("client_credentials") => Ok(client),
        None => Err(TokenError {
            status: 400,
            error: "invalid_request",
            description: "grant_type is required",
        }),
        Some(_) => Err(TokenError {
            status: 400,
            error: "unsupported_grant_type",
            description: "only grant_type=client_credentials is supported",
        }),
    }
}

/// The answer to a token request when the stand-in is told to refuse grants.
pub(crate) const UNAUTHORIZED_CLIENT: TokenError = TokenError {
    status: 400,
    error: "unauthorized_client",
    description: "client is not authorized to use this grant type",
};

fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Standard base64 with optional padding.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.trim_end_matches('=').bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `application/x-www-form-urlencoded` pairs (also used for query strings).
pub(crate) fn parse_form(bytes: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(bytes)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// A percent-decoded path segment (`+` stays `+`).
pub(crate) fn percent_decode_path(segment: &str) -> String {
    percent_decode(segment, false)
}

fn percent_decode(s: &str, plus_as_space: bool) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_as_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode() {
        // From the Python SDK wire sample: my-client-id:my-client-secret.
        assert_eq!(
            basic_credentials("Basic bXktY2xpZW50LWlkOm15LWNsaWVudC1zZWNyZXQ="),
            Some(("my-client-id".into(), "my-client-secret".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }

    #[test]
    fn forms_decode() {
        assert_eq!(
            parse_form(b"grant_type=client_credentials&x=a%2Fb+c&days=7"),
            vec![
                ("grant_type".into(), "client_credentials".into()),
                ("x".into(), "a/b c".into()),
                ("days".into(), "7".into())
            ]
        );
        assert_eq!(
            parse_form(b"a=%zz&b=%4"),
            vec![("a".into(), "%zz".into()), ("b".into(), "%4".into())]
        );
    }
}
