//! The report's own row: every operation's rows flattened to the columns a report shows,
//! next to the row as the API sent it (which `--format json` writes).

use chrono::NaiveDate;
use serde::{Serialize, Serializer};
use usage_sdk::{ApiUsageRow, ClientPublicApiUsage, OrganizationPublicApiUsage};

/// A row as the API sent it, of any kind; it serializes as the row itself.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiRow {
    Legacy(ApiUsageRow),
    Organization(OrganizationPublicApiUsage),
    Client(ClientPublicApiUsage),
    /// A row of one organization of several (`--all-profiles`): the row with an
    /// `organization` field, the profile's name.
    Tagged {
        organization: String,
        row: Box<ApiRow>,
    },
}

/// A tagged row as JSON: `organization` first, then the row's own fields.
#[derive(Serialize)]
struct TaggedJson<'a, R> {
    organization: &'a str,
    #[serde(flatten)]
    row: &'a R,
}

impl Serialize for ApiRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ApiRow::Legacy(row) => row.serialize(serializer),
            ApiRow::Organization(row) => row.serialize(serializer),
            ApiRow::Client(row) => row.serialize(serializer),
            // Each kind by name: a generic `&ApiRow` inside would instantiate without end.
            ApiRow::Tagged { organization, row } => match &**row {
                ApiRow::Legacy(row) => TaggedJson { organization, row }.serialize(serializer),
                ApiRow::Organization(row) => TaggedJson { organization, row }.serialize(serializer),
                ApiRow::Client(row) => TaggedJson { organization, row }.serialize(serializer),
                // Never built: a row is tagged once.
                ApiRow::Tagged { row, .. } => row.serialize(serializer),
            },
        }
    }
}

impl From<&ApiRow> for Row {
    fn from(row: &ApiRow) -> Self {
        match row {
            ApiRow::Legacy(row) => row.into(),
            ApiRow::Organization(row) => row.into(),
            ApiRow::Client(row) => row.into(),
            ApiRow::Tagged { organization, row } => Row {
                organization: Some(organization.clone()),
                ..Row::from(&**row)
            },
        }
    }
}

/// One row of any operation, flattened to the columns a report shows. Legacy rows and both
/// kinds of job rows map onto it (a job's `requestCount` is `requests`, its `oauthClient` the
/// client id and name).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// The profile a row comes from, in a report of several organizations.
    pub organization: Option<String>,
    pub date: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    pub platform: Option<String>,
    pub template_uri: Option<String>,
    pub http_method: Option<String>,
    pub requests: Option<i64>,
    pub status200: Option<i64>,
    pub status300: Option<i64>,
    pub status400: Option<i64>,
    pub status500: Option<i64>,
    pub status429: Option<i64>,
}

/// A row's date as the report shows it: the day, `yyyy-MM-dd`. Text the SDK could not read as
/// a date is shown as it came (escaped where rendered); `""` counts as no date.
fn shown_date(day: Option<NaiveDate>, wire: &impl std::fmt::Display) -> Option<String> {
    match day {
        Some(day) => Some(day.format("%Y-%m-%d").to_string()),
        None => Some(wire.to_string()).filter(|text| !text.is_empty()),
    }
}

impl From<&ApiUsageRow> for Row {
    fn from(r: &ApiUsageRow) -> Self {
        Row {
            organization: None,
            date: r
                .date
                .as_ref()
                .and_then(|d| shown_date(d.date_time().map(|at| at.date_naive()), d)),
            client_id: r.client_id.clone(),
            client_name: r.client_name.clone(),
            organization_id: r.organization_id.clone(),
            user_id: r.user_id.clone(),
            platform: None,
            template_uri: r.template_uri.clone(),
            http_method: r.http_method.clone(),
            requests: r.requests,
            status200: r.status200,
            status300: r.status300,
            status400: r.status400,
            status500: r.status500,
            status429: r.status429,
        }
    }
}

impl From<&OrganizationPublicApiUsage> for Row {
    fn from(r: &OrganizationPublicApiUsage) -> Self {
        Row {
            organization: None,
            date: r.date.as_ref().and_then(|d| shown_date(d.date(), d)),
            client_id: r.oauth_client.as_ref().and_then(|c| c.id.clone()),
            client_name: r.oauth_client.as_ref().and_then(|c| c.name.clone()),
            organization_id: None,
            user_id: r.user.as_ref().and_then(|u| u.id.clone()),
            platform: r.platform.clone(),
            template_uri: r.template_uri.clone(),
            http_method: r.http_method.as_ref().map(|m| m.to_string()),
            requests: r.request_count,
            status200: r.status200,
            status300: r.status300,
            status400: r.status400,
            status500: r.status500,
            status429: r.status429,
        }
    }
}

impl From<&ClientPublicApiUsage> for Row {
    fn from(r: &ClientPublicApiUsage) -> Self {
        Row {
            organization: None,
            date: r.date.as_ref().and_then(|d| shown_date(d.date(), d)),
            organization_id: r.organization_id.clone(),
            platform: r.platform.clone(),
            template_uri: r.template_uri.clone(),
            http_method: r.http_method.as_ref().map(|m| m.to_string()),
            requests: r.request_count,
            status200: r.status200,
            status300: r.status300,
            status400: r.status400,
            status500: r.status500,
            status429: r.status429,
            ..Row::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_date_shows_as_its_day_and_unreadable_text_as_it_came() {
        let job_row = |date: &str| OrganizationPublicApiUsage {
            date: Some(serde_json::from_value(date.into()).unwrap()),
            ..Default::default()
        };
        let shown = |date: &str| Row::from(&job_row(date)).date;
        assert_eq!(shown("2026-11-02").as_deref(), Some("2026-11-02"));
        assert_eq!(shown("2026-11-02T00:00:00Z").as_deref(), Some("2026-11-02"));
        assert_eq!(shown("Q4").as_deref(), Some("Q4"));
        assert_eq!(shown(""), None, "an empty date is no date");
        let legacy = ApiUsageRow {
            date: Some(serde_json::from_value("2020-02-03T00:00:00.000Z".into()).unwrap()),
            ..Default::default()
        };
        assert_eq!(Row::from(&legacy).date.as_deref(), Some("2020-02-03"));
    }
}
