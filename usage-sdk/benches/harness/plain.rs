//! The baselines' side: plain reqwest clients and hand-written serde structs of the same
//! shapes as the generated types (which drop unknown fields).

use serde::Deserialize;

/// The baseline's row: the same fields and types as the generated `ApiUsageRow`.
#[derive(Deserialize)]
#[allow(dead_code)]
pub struct PlainRow {
    #[serde(rename = "clientId")]
    pub client_id: Option<String>,
    #[serde(rename = "clientName")]
    pub client_name: Option<String>,
    pub date: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(rename = "httpMethod")]
    pub http_method: Option<String>,
    #[serde(rename = "organizationId")]
    pub organization_id: Option<String>,
    pub requests: Option<i64>,
    pub status200: Option<i64>,
    pub status300: Option<i64>,
    pub status400: Option<i64>,
    pub status429: Option<i64>,
    pub status500: Option<i64>,
    #[serde(rename = "templateUri")]
    pub template_uri: Option<String>,
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct PlainResult {
    #[serde(rename = "queryStatus")]
    pub query_status: Option<String>,
    #[serde(default)]
    pub results: Vec<PlainRow>,
}

/// The baseline's `httpMethod`: the five known methods without allocating, like the SDK's
/// open enum for known values.
#[derive(Deserialize)]
pub enum PlainMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
    Delete,
}

impl PlainMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct PlainEntityRef {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "selfUri")]
    pub self_uri: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct PlainUserRef {
    pub id: Option<String>,
    #[serde(rename = "selfUri")]
    pub self_uri: Option<String>,
}

/// The baseline's row: the same fields and types as the generated `OrganizationPublicApiUsage`.
#[derive(Deserialize)]
pub struct PlainJobRow {
    pub date: Option<chrono::NaiveDate>,
    pub platform: Option<String>,
    #[serde(rename = "httpMethod")]
    pub http_method: Option<PlainMethod>,
    #[serde(rename = "templateUri")]
    pub template_uri: Option<String>,
    #[serde(rename = "requestCount")]
    pub request_count: Option<i64>,
    pub status200: Option<i64>,
    pub status300: Option<i64>,
    pub status400: Option<i64>,
    pub status429: Option<i64>,
    pub status500: Option<i64>,
    #[serde(rename = "oauthClient")]
    pub oauth_client: Option<PlainEntityRef>,
    pub user: Option<PlainUserRef>,
}

#[derive(Deserialize)]
pub struct PlainJobPage {
    #[serde(rename = "queryStatus")]
    pub query_status: String,
    #[serde(default)]
    pub entities: Vec<PlainJobRow>,
    #[serde(rename = "nextUri")]
    pub next_uri: Option<String>,
}

pub fn plain_client(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}
