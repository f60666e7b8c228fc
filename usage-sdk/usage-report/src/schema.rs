//! `--print-schema`: the JSON Schema of what `--format json` writes.
//!
//! The rows are the SDK's generated types, written as the API sent them, so their schemas
//! come from the same source (usage-sdk's `schemars` feature, derived through the generator
//! settings) and cannot drift from the rows. The output is one JSON array, so the schema is
//! that of an array of rows.

use usage_sdk::{ApiUsageRow, ClientPublicApiUsage, OrganizationPublicApiUsage};

use crate::cli::Api;

/// The schema of `--format json`'s output for this API and scope, pretty-printed.
pub fn rows_schema(api: Api, client: bool) -> String {
    let schema = match (api, client) {
        (Api::Jobs, false) => schemars::schema_for!(Vec<OrganizationPublicApiUsage>),
        (Api::Jobs, true) => schemars::schema_for!(Vec<ClientPublicApiUsage>),
        (Api::Legacy, _) => schemars::schema_for!(Vec<ApiUsageRow>),
    };
    serde_json::to_string_pretty(&schema).expect("a schema serializes to JSON")
}
