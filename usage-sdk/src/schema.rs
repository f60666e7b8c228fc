//! `schemars::JsonSchema` for the hand-written open enums and row dates (feature `schemars`).
//!
//! The generated types derive `JsonSchema` under the same feature (usage-sdk-codegen's
//! `SCHEMARS_ATTR`); the open enums they use are written by hand, so their schemas are too.
//! An open enum accepts any string, so its schema is a string with the known values listed
//! as `examples`, never a closed `enum` that a newer server value would violate.

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};

use crate::open_enum::{JobQueryStatus, LimitNamespace, QueryStatus, UsageHttpMethod};
use crate::row_date::{UsageDate, UsageDateTime};

macro_rules! open_enum_schema {
    ($($ty:ident),* $(,)?) => {$(
        impl JsonSchema for $ty {
            fn schema_name() -> String {
                stringify!($ty).to_string()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                open_string(stringify!($ty), $ty::KNOWN)
            }
        }
    )*};
}

open_enum_schema!(QueryStatus, JobQueryStatus, UsageHttpMethod, LimitNamespace);

fn open_string(name: &str, known: &[&str]) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        metadata: Some(Box::new(Metadata {
            description: Some(format!(
                "`{name}`: one of the known values listed in `examples`, or a newer value the \
                 server may add (kept verbatim)."
            )),
            examples: known.iter().map(|v| serde_json::Value::from(*v)).collect(),
            ..Default::default()
        })),
        ..Default::default()
    }
    .into()
}

/// A row date is any string (see `row_date`): the schema gives the expected form as an
/// example and no `format`, which an unparsed value would violate.
macro_rules! row_date_schema {
    ($($ty:ident: $form:literal, $example:literal);* $(;)?) => {$(
        impl JsonSchema for $ty {
            fn schema_name() -> String {
                stringify!($ty).to_string()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                SchemaObject {
                    instance_type: Some(InstanceType::String.into()),
                    metadata: Some(Box::new(Metadata {
                        description: Some(format!(
                            "`{}`: {}, or other text the server sent (kept verbatim).",
                            stringify!($ty),
                            $form
                        )),
                        examples: vec![serde_json::Value::from($example)],
                        ..Default::default()
                    })),
                    ..Default::default()
                }
                .into()
            }
        }
    )*};
}

row_date_schema! {
    UsageDate: "a date, yyyy-MM-dd", "2026-11-02";
    UsageDateTime: "an ISO-8601 date-time", "2026-11-02T00:00:00Z";
}
