//! Response enums the server may extend without notice.
//!
//! The generated types use these in place of closed enums (see `OPEN_ENUMS` in
//! usage-sdk-codegen): a value this crate does not know yet still parses, and is kept
//! verbatim so it can be logged or compared. An unknown value is for reading only; do not
//! send it back as a request parameter.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `ApiUsageQueryResult.queryStatus`: how far a usage query execution has got.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryStatus {
    /// The execution finished; the response carries the rows.
    Complete,
    /// The execution failed; the response carries no reason.
    Failed,
    /// The execution is still running: poll again later.
    Running,
    /// A status this version of the crate does not know, kept verbatim. Waiters treat it as
    /// not finished.
    Unknown(String),
}

impl QueryStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Complete => "Complete",
            Self::Failed => "Failed",
            Self::Running => "Running",
            Self::Unknown(other) => other,
        }
    }

    /// Whether the execution has ended, successfully or not.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Complete | Self::Failed)
    }
}

impl FromStr for QueryStatus {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(match s {
            "Complete" => Self::Complete,
            "Failed" => Self::Failed,
            "Running" => Self::Running,
            other => Self::Unknown(other.to_string()),
        })
    }
}

/// `Limit.namespace`: which Genesys limit an error refers to.
///
/// Upstream adds namespaces almost every release (93 at the time of writing), so this is a
/// string that keeps any value; [`LimitNamespace::is_known`] says whether it is one of the
/// values in this crate's spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LimitNamespace(String);

impl LimitNamespace {
    /// The namespaces listed in `spec/usage-api.json`, in spec order.
    pub const KNOWN: &'static [&'static str] = &[
        "web.deployments",
        "web.messaging",
        "agent.assistant",
        "agentic.virtual.agents",
        "analytics.agents",
        "analytics.alerting",
        "analytics.data.extraction",
        "analytics",
        "analytics.realtime",
        "analytics.reporting.settings",
        "anomaly.detection",
        "architect",
        "audiohook",
        "audiohook.monitor",
        "audit",
        "auth.api",
        "authorization",
        "automation.testing",
        "bots",
        "bots.voice",
        "business.rules",
        "callback",
        "case.management",
        "cobrowse",
        "content.management",
        "conversation",
        "copilot",
        "dataactions",
        "datatables",
        "directory",
        "dsar",
        "email",
        "employee.engagement",
        "event.orchestration",
        "external.contacts",
        "external.events.data.ingestion",
        "gamification",
        "gcv",
        "gdpr",
        "groups",
        "guides",
        "historical.adherence",
        "infrastructureascode",
        "integrations",
        "intent.miner",
        "internal.messaging",
        "journey",
        "knowledge",
        "language.understanding",
        "learning",
        "limit.registry",
        "marketplace",
        "mcp.analytics.aggregates",
        "mcp",
        "media.communications",
        "messaging",
        "micro.frontend",
        "multi.org",
        "notifications",
        "onboarding",
        "outbound",
        "platform.api",
        "predictive.routing",
        "presence",
        "quality",
        "recording",
        "response.management",
        "routing",
        "scim",
        "screen.monitoring",
        "search",
        "secondary.automation.testing",
        "skills",
        "social.media",
        "speech.and.text.analytics",
        "speech.integration",
        "supportability",
        "task.management",
        "telephony.configuration",
        "usage",
        "users",
        "users.rules",
        "voice.transcription",
        "webchat",
        "webhooks",
        "workforce.management.adherence",
        "workforce.management.agent.availability",
        "workforce.management.forecast",
        "workforce.management",
        "workforce.management.scheduling.preferences",
        "workforce.management.self.schedule",
        "workforce.management.shift.trading",
        "system",
    ];

    /// The wire value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the value is one of [`LimitNamespace::KNOWN`].
    pub fn is_known(&self) -> bool {
        Self::KNOWN.contains(&self.0.as_str())
    }
}

impl FromStr for LimitNamespace {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(Self(s.to_string()))
    }
}

/// Display, serde and conversions shared by the open enums: all go through the wire string.
macro_rules! wire_string {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // Borrow when the JSON allows it; the value is owned only once, in from_str.
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(s.parse().unwrap_or_else(|never: Infallible| match never {}))
            }
        }

        impl From<&str> for $ty {
            fn from(s: &str) -> Self {
                s.parse().unwrap_or_else(|never: Infallible| match never {})
            }
        }
    };
}

wire_string!(QueryStatus);
wire_string!(LimitNamespace);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_query_status_is_kept_verbatim_and_round_trips() {
        let status: QueryStatus = serde_json::from_str(r#""Queued""#).unwrap();
        assert_eq!(status, QueryStatus::Unknown("Queued".into()));
        assert!(!status.is_terminal());
        assert_eq!(serde_json::to_string(&status).unwrap(), r#""Queued""#);
    }

    #[test]
    fn known_query_statuses_parse_to_their_variants() {
        for (wire, expected) in [
            ("Complete", QueryStatus::Complete),
            ("Failed", QueryStatus::Failed),
            ("Running", QueryStatus::Running),
        ] {
            let parsed: QueryStatus = serde_json::from_str(&format!("\"{wire}\"")).unwrap();
            assert_eq!(parsed, expected);
            assert_eq!(parsed.to_string(), wire);
        }
    }

    #[test]
    fn limit_namespace_keeps_new_values() {
        let ns: LimitNamespace = serde_json::from_str(r#""brand.new.namespace""#).unwrap();
        assert_eq!(ns.as_str(), "brand.new.namespace");
        assert!(!ns.is_known());
        assert!(LimitNamespace::from("usage").is_known());
    }

    #[test]
    fn known_query_statuses_match_the_spec() {
        // The spec's enum is replaced by this type, so `cargo xtask regen` shows no diff when
        // upstream adds a status: this test is what asks for a new variant.
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/usage-api.json")).unwrap();
        let in_spec: Vec<&str> = spec["components"]["schemas"]["QueryStatus"]["enum"]
            .as_array()
            .expect("QueryStatus is a named enum in the spec")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for wire in &in_spec {
            let parsed: QueryStatus = wire.parse().unwrap();
            assert!(
                !matches!(parsed, QueryStatus::Unknown(_)),
                "no variant for {wire}"
            );
        }
        assert_eq!(in_spec.len(), 3, "QueryStatus has three known variants");
    }

    #[test]
    fn known_namespaces_match_the_spec() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/usage-api.json")).unwrap();
        let in_spec: Vec<&str> = spec["components"]["schemas"]["LimitNamespace"]["enum"]
            .as_array()
            .expect("LimitNamespace is a named enum in the spec")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(LimitNamespace::KNOWN, in_spec.as_slice());
    }
}
