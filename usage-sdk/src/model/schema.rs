//! `schemars::JsonSchema` for the hand-written open enums and row dates (feature `schemars`).
//!
//! The generated types derive `JsonSchema` under the same feature (usage-sdk-codegen's
//! `SCHEMARS_ATTR`); the open enums they use are written by hand, so their schemas are too.
//! An open enum accepts any string, so its schema is a string with the known values listed
//! as `examples`, never a closed `enum` that a newer server value would violate.

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};

use crate::model::open_enum::{JobQueryStatus, LimitNamespace, QueryStatus, UsageHttpMethod};
use crate::model::row_date::{UsageDate, UsageDateTime};

/// `JsonSchema` for each type, named after it, from the [`any_string`] the line gives.
macro_rules! string_schema {
    ($($ty:ident => $schema:expr;)*) => {$(
        impl JsonSchema for $ty {
            fn schema_name() -> String {
                stringify!($ty).to_string()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    )*};
}

string_schema! {
    QueryStatus => open_enum("QueryStatus", QueryStatus::KNOWN);
    JobQueryStatus => open_enum("JobQueryStatus", JobQueryStatus::KNOWN);
    UsageHttpMethod => open_enum("UsageHttpMethod", UsageHttpMethod::KNOWN);
    LimitNamespace => open_enum("LimitNamespace", LimitNamespace::KNOWN);
    // A row date is any string (see `row_date`): the expected form as an example and no
    // `format`, which an unparsed value would violate.
    UsageDate => row_date("UsageDate", "a date, yyyy-MM-dd", "2026-11-02");
    UsageDateTime => row_date("UsageDateTime", "an ISO-8601 date-time", "2026-11-02T00:00:00Z");
}

fn open_enum(name: &str, known: &[&str]) -> Schema {
    any_string(
        format!(
            "`{name}`: one of the known values listed in `examples`, or a newer value the \
             server may add (kept verbatim)."
        ),
        known,
    )
}

fn row_date(name: &str, form: &str, example: &str) -> Schema {
    any_string(
        format!("`{name}`: {form}, or other text the server sent (kept verbatim)."),
        &[example],
    )
}

/// A string schema with `examples` and no `enum` or `format` to violate.
fn any_string(description: String, examples: &[&str]) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        metadata: Some(Box::new(Metadata {
            description: Some(description),
            examples: examples
                .iter()
                .map(|v| serde_json::Value::from(*v))
                .collect(),
            ..Default::default()
        })),
        ..Default::default()
    }
    .into()
}
