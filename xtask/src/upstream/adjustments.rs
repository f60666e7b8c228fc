//! The declared deviations from upstream: every difference between the imported spec and a
//! mechanical Swagger 2.0 -> OpenAPI 3.0.3 conversion is listed here, with the reason that is
//! written next to it as `x-usage-sdk-deviation`. Add a deviation by adding a row, never by
//! editing spec/ by hand (the next import would silently drop it).

use crate::json::{Json, Object};

/// The key that marks a deviation in the spec.
pub const DEVIATION_KEY: &str = "x-usage-sdk-deviation";

/// What an adjustment does.
#[derive(Debug)]
pub enum Change {
    /// Moves the inline enum `schema.properties.property` into a component schema `name` (same
    /// keys, in order) and points the property at it. progenitor can only replace *named*
    /// schemas with a hand-written type (usage-sdk-codegen `OPEN_ENUMS`).
    LiftInlineEnum {
        schema: &'static str,
        property: &'static str,
        name: &'static str,
    },
    /// Replaces `schema.properties.property.additionalProperties` with `{}` (any JSON value).
    RelaxAdditionalProperties {
        schema: &'static str,
        property: &'static str,
    },
    /// Sets `schema.additionalProperties` to `{}` (any JSON value) where upstream leaves it out.
    /// The two mean the same to a validator, but typify generates a catch-all
    /// `#[serde(flatten)] extra` map only for `{}` (not for an absent or `true` schema), so the
    /// type keeps and writes back the fields this spec does not name instead of dropping them.
    KeepUnknownFields { schema: &'static str },
    /// Sets `info.title`. The reason may contain `{upstream_title}`, replaced by the upstream
    /// title as far as it is known.
    Retitle { title: &'static str },
}

/// One declared deviation.
#[derive(Debug)]
pub struct Adjustment {
    pub change: Change,
    /// Written as `x-usage-sdk-deviation` on the object the change creates or edits.
    pub reason: &'static str,
}

/// The declared deviations, applied in this order.
pub const ADJUSTMENTS: &[Adjustment] = &[
    Adjustment {
        change: Change::LiftInlineEnum {
            schema: "ApiUsageQueryResult",
            property: "queryStatus",
            name: "QueryStatus",
        },
        reason: "Named component for the inline enum ApiUsageQueryResult.queryStatus, so the generator can replace it with an open enum that keeps values this SDK does not know (for example a future \"Queued\").",
    },
    Adjustment {
        change: Change::LiftInlineEnum {
            schema: "OrganizationPublicApiUsageResultsResponse",
            property: "queryStatus",
            name: "JobQueryStatus",
        },
        reason: JOB_STATUS_REASON,
    },
    Adjustment {
        change: Change::LiftInlineEnum {
            schema: "ClientPublicApiUsageResultsResponse",
            property: "queryStatus",
            name: "JobQueryStatus",
        },
        reason: JOB_STATUS_REASON,
    },
    Adjustment {
        change: Change::LiftInlineEnum {
            schema: "OrganizationPublicApiUsage",
            property: "httpMethod",
            name: "UsageHttpMethod",
        },
        reason: ROW_METHOD_REASON,
    },
    Adjustment {
        change: Change::LiftInlineEnum {
            schema: "ClientPublicApiUsage",
            property: "httpMethod",
            name: "UsageHttpMethod",
        },
        reason: ROW_METHOD_REASON,
    },
    Adjustment {
        change: Change::LiftInlineEnum {
            schema: "Limit",
            property: "namespace",
            name: "LimitNamespace",
        },
        reason: "Named component for the inline enum Limit.namespace, so the generator can replace it with an open enum: upstream adds namespaces almost every release.",
    },
    Adjustment {
        change: Change::RelaxAdditionalProperties {
            schema: "ErrorBody",
            property: "messageParams",
        },
        reason: "Upstream declares additionalProperties {type: string}; values are accepted as any JSON value, as the Go SDK does (map[string]interface{}), so a non-string parameter never breaks error parsing.",
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "OrganizationPublicApiUsageResultsResponse",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "OrganizationPublicApiUsage",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "ClientPublicApiUsageResultsResponse",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "ClientPublicApiUsage",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "DomainEntityRef",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "UserReference",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "ApiUsageQueryResult",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "ApiUsageRow",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "OperationalEvent",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "AddressableEntityRef",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "EventQueryResponse",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "EventDefinition",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "EventDefinitionListing",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "EventAggregatesResponse",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::KeepUnknownFields {
            schema: "EventDefinitionAggregates",
        },
        reason: KEEP_UNKNOWN_FIELDS_REASON,
    },
    Adjustment {
        change: Change::Retitle {
            title: "Genesys Cloud Usage API (the eleven Usage operations and the four operational events operations)",
        },
        reason: "info.title names this fragment; the upstream title is {upstream_title}.",
    },
];

const JOB_STATUS_REASON: &str = "Named component for the inline enums queryStatus of OrganizationPublicApiUsageResultsResponse and ClientPublicApiUsageResultsResponse (identical upstream), so the generator can replace them with one open enum that keeps statuses this SDK does not know.";

const ROW_METHOD_REASON: &str = "Named component for the inline enums httpMethod of OrganizationPublicApiUsage and ClientPublicApiUsage (identical upstream), so the generator can replace them with one open enum: a row may carry a method the enum does not list (simple search already lists CONNECT, OPTIONS and TRACE).";

const KEEP_UNKNOWN_FIELDS_REASON: &str = "Upstream leaves additionalProperties out (any field allowed); {} says the same, and makes the generator give the type a catch-all map, so fields of rows and results this spec does not name yet (a new metric, say) are kept and written back as received instead of dropped.";

/// The title of the full upstream document. Third-party slices rewrite it (their provenance
/// says so), so for a slice this is what the reason names.
pub const UPSTREAM_TITLE: &str = "PureCloud Platform API";

/// How the upstream title is named in the title deviation.
pub fn upstream_title_text(title_in_input: Option<&str>, is_rewritten_slice: bool) -> String {
    match (is_rewritten_slice, title_in_input) {
        (true, _) => {
            format!("\"{UPSTREAM_TITLE}\" (the slice carried an extractor-rewritten title)")
        }
        (false, Some(title)) => format!("\"{title}\""),
        (false, None) => "not given".to_string(),
    }
}

/// Applies every adjustment to `info` and `schemas` (already converted). An adjustment whose
/// target no longer exists in this upstream is not applied; it is returned as a warning, since
/// it usually means a breaking upstream change the maintainer has to look at (and the generator
/// setting that relies on it has nothing to act on).
pub fn apply(info: &mut Object, schemas: &mut Object, upstream_title: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    for adjustment in ADJUSTMENTS {
        if let Err(why) = apply_one(adjustment, info, schemas, upstream_title) {
            warnings.push(format!(
                "declared adjustment not applied ({}): {why}",
                describe(&adjustment.change)
            ));
        }
    }
    warnings
}

/// A one-line description of a change, for messages.
pub fn describe(change: &Change) -> String {
    match change {
        Change::LiftInlineEnum {
            schema,
            property,
            name,
        } => format!("lift {schema}.{property} into component {name}"),
        Change::RelaxAdditionalProperties { schema, property } => {
            format!("relax {schema}.{property}.additionalProperties to {{}}")
        }
        Change::KeepUnknownFields { schema } => {
            format!("set {schema}.additionalProperties to {{}} (keep unknown fields)")
        }
        Change::Retitle { .. } => "rewrite info.title".to_string(),
    }
}

fn property_mut<'s>(
    schemas: &'s mut Object,
    schema: &str,
    property: &str,
) -> Result<&'s mut Object, String> {
    schemas
        .get_mut(schema)
        .ok_or_else(|| format!("the upstream has no definition {schema}"))?
        .at_mut(&["properties", property])
        .and_then(Json::as_object_mut)
        .ok_or_else(|| format!("{schema} has no property {property}"))
}

fn apply_one(
    adjustment: &Adjustment,
    info: &mut Object,
    schemas: &mut Object,
    upstream_title: &str,
) -> Result<(), String> {
    match &adjustment.change {
        Change::LiftInlineEnum {
            schema,
            property,
            name,
        } => {
            // A component an earlier adjustment lifted (it carries the deviation key) may be
            // shared by several identical inline enums; one upstream defines itself may not.
            let lifted_before = schemas.get(name).map(|existing| {
                let mut existing = existing.as_object().cloned().unwrap_or_default();
                let ours = existing.remove(DEVIATION_KEY).is_some();
                (ours, existing)
            });
            if let Some((false, _)) = lifted_before {
                return Err(format!(
                    "the upstream now defines {name} itself; check whether this deviation is still needed"
                ));
            }
            let prop = property_mut(schemas, schema, property)?;
            if !prop.contains_key("enum") {
                return Err(format!("{schema}.{property} is no longer an inline enum"));
            }
            if let Some((true, existing)) = &lifted_before
                && existing != prop
            {
                return Err(format!(
                    "{schema}.{property} no longer matches the {name} lifted from another schema"
                ));
            }
            let mut lifted = std::mem::take(prop);
            prop.insert("$ref", format!("#/components/schemas/{name}"));
            if lifted_before.is_none() {
                lifted.insert(DEVIATION_KEY, adjustment.reason);
                schemas.insert(*name, lifted);
            }
        }
        Change::RelaxAdditionalProperties { schema, property } => {
            let prop = property_mut(schemas, schema, property)?;
            if !prop.contains_key("additionalProperties") {
                return Err(format!("{schema}.{property} has no additionalProperties"));
            }
            prop.insert("additionalProperties", Object::new());
            prop.insert(DEVIATION_KEY, adjustment.reason);
        }
        Change::KeepUnknownFields { schema } => {
            let object = schemas
                .get_mut(schema)
                .and_then(Json::as_object_mut)
                .ok_or_else(|| format!("the upstream has no definition {schema}"))?;
            if object.contains_key("additionalProperties") {
                return Err(format!(
                    "the upstream now declares {schema}.additionalProperties; check whether this deviation is still needed"
                ));
            }
            object.insert("additionalProperties", Object::new());
            object.insert(DEVIATION_KEY, adjustment.reason);
        }
        Change::Retitle { title } => {
            info.insert("title", *title);
            info.insert(
                DEVIATION_KEY,
                adjustment
                    .reason
                    .replace("{upstream_title}", upstream_title),
            );
        }
    }
    Ok(())
}
