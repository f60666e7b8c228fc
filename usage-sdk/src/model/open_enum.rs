//! Response enums the server may extend without notice.
//!
//! The generated types use these in place of closed enums (see `OPEN_ENUMS` in
//! usage-sdk-codegen): a value this crate does not know yet still parses, and is kept
//! verbatim so it can be logged or compared. An unknown value is for reading only; do not
//! send it back as a request parameter.

use std::convert::Infallible;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Reads any JSON string into `T` through its infallible `FromStr`: the open enums here and
/// the row dates (`crate::model::row_date`). A visitor, not `Cow<str>` (which serde always makes
/// owned): a known value is matched on the borrowed text and allocates nothing; only what
/// `T` keeps verbatim is copied.
pub(crate) fn deserialize_str<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = Infallible>,
{
    struct Visitor<T>(&'static str, PhantomData<T>);
    impl<T: FromStr<Err = Infallible>> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
            Ok(s.parse().unwrap_or_else(|never: Infallible| match never {}))
        }
    }
    deserializer.deserialize_str(Visitor(expecting, PhantomData))
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
                deserialize_str(deserializer, "a string")
            }
        }

        impl From<&str> for $ty {
            fn from(s: &str) -> Self {
                s.parse().unwrap_or_else(|never: Infallible| match never {})
            }
        }
    };
}

/// An enum of known wire values plus `Unknown(String)`, whose parsing cannot fail.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
        unknown: $(#[$umeta:meta])*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            $(#[$umeta])*
            Unknown(String),
        }

        impl $name {
            /// The values this version of the crate knows, in spec order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),*];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl FromStr for $name {
            type Err = Infallible;

            fn from_str(s: &str) -> Result<Self, Infallible> {
                Ok(match s {
                    $( $wire => Self::$variant, )*
                    other => Self::Unknown(other.to_string()),
                })
            }
        }

        wire_string!($name);
    };
}

open_enum! {
    /// `ApiUsageQueryResult.queryStatus`: how far a usage query execution (legacy query or
    /// simple search) has got.
    pub enum QueryStatus {
        /// The execution finished; the response carries the rows.
        Complete = "Complete",
        /// The execution failed; the response carries no reason.
        Failed = "Failed",
        /// The execution is still running: poll again later.
        Running = "Running",
    }
    unknown:
    /// A status this version of the crate does not know, kept verbatim. Waiters treat it as
    /// not finished.
}

impl QueryStatus {
    /// Whether the execution has ended, successfully or not.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Complete | Self::Failed)
    }
}

open_enum! {
    /// `queryStatus` of an aggregates query job (organization or OAuth client).
    pub enum JobQueryStatus {
        /// Accepted, not started: poll again later.
        Queued = "Queued",
        /// Being computed: poll again later.
        Running = "Running",
        /// Finished; the results are ready to page through.
        Succeeded = "Succeeded",
        /// The job failed; `errorBody` may say why.
        Failed = "Failed",
        /// The job was cancelled.
        Cancelled = "Cancelled",
    }
    unknown:
    /// A status this version of the crate does not know, kept verbatim. Waiters treat it as
    /// not finished.
}

impl JobQueryStatus {
    /// Whether the job has ended, successfully or not.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

open_enum! {
    /// `httpMethod` of an aggregates job row: the method of the counted requests.
    pub enum UsageHttpMethod {
        /// GET.
        Get = "GET",
        /// POST.
        Post = "POST",
        /// PUT.
        Put = "PUT",
        /// PATCH.
        Patch = "PATCH",
        /// DELETE.
        Delete = "DELETE",
        /// HEAD.
        Head = "HEAD",
    }
    unknown:
    /// A method the spec does not list (for example `OPTIONS`), or `""` when the job was not
    /// grouped by method; kept verbatim.
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

    fn spec_enum(name: &str) -> Vec<String> {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/usage-api.json")).unwrap();
        spec["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is a named enum in the spec"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn known_statuses_and_methods_match_the_spec() {
        // The spec's enums are replaced by these types, so `cargo xtask regen` shows no diff
        // when upstream adds a value: this test is what asks for a new variant.
        assert_eq!(QueryStatus::KNOWN, spec_enum("QueryStatus"));
        assert_eq!(JobQueryStatus::KNOWN, spec_enum("JobQueryStatus"));
        assert_eq!(UsageHttpMethod::KNOWN, spec_enum("UsageHttpMethod"));
        for wire in JobQueryStatus::KNOWN {
            assert!(!matches!(wire.parse(), Ok(JobQueryStatus::Unknown(_))));
        }
        assert_eq!(
            "OPTIONS".parse::<UsageHttpMethod>(),
            Ok(UsageHttpMethod::Unknown("OPTIONS".into()))
        );
        assert_eq!(
            serde_json::from_str::<JobQueryStatus>(r#""Paused""#).unwrap(),
            JobQueryStatus::Unknown("Paused".into())
        );
    }

    #[test]
    fn known_namespaces_match_the_spec() {
        assert_eq!(LimitNamespace::KNOWN, spec_enum("LimitNamespace"));
    }
}
