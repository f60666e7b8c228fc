//! Bad input from the caller is refused before anything is sent: a typed
//! `Error::InvalidInput` naming the field, from the id and interval constructors, the query
//! builders and the config builder.

use usage_sdk::{
    Config, Days, Error, ExecutionId, GroupBy, HttpMethod, Interval, JobGroupBy, Metric,
    OAuthClientId, OAuthClientJobQuery, OAuthClientQuery, OrganizationJobQuery, OrganizationQuery,
    PageSize,
};

use crate::support::*;

#[tokio::test]
async fn bad_input_is_an_invalid_input_error_naming_the_field_before_any_request() {
    // Every case fails in a constructor or builder, which do no I/O: no request can be sent,
    // so no server is needed (port 9 is discard; nothing connects to it).
    let base = "http://127.0.0.1:9".to_string();
    let good = || interval();
    let id_cases = [
        "",
        " 9f32",
        "9f32 ",
        "a\nb",
        "a\u{0}b",
        ".",
        "..",
        "\\..\\..",
        &"x".repeat(257),
    ];
    let mut cases: Vec<(String, &str, Result<(), Error>)> = Vec::new();
    for bad in id_cases {
        cases.push((
            format!("OAuthClientId {bad:.20?}"),
            "clientId",
            OAuthClientId::new(bad).map(drop).map_err(Error::from),
        ));
        cases.push((
            format!("ExecutionId {bad:.20?}"),
            "executionId",
            bad.parse::<ExecutionId>().map(drop).map_err(Error::from),
        ));
    }
    let interval_cases = [
        "2026-11-08T00:00:00Z/2026-11-01T00:00:00Z",
        "2026-11-01T00:00:00Z/2026-11-01T00:00:00Z",
        "2026-11-01T00:00:00/2026-11-08T00:00:00",
        "2026-11-01T00:00:00Z",
        "last week",
        "2026-13-01/2026-14-01",
    ];
    for bad in interval_cases {
        cases.push((
            format!("Interval {bad:?}"),
            "interval",
            bad.parse::<Interval>().map(drop),
        ));
    }
    for days in [0, Days::MAX + 1, u32::MAX] {
        cases.push((format!("Days {days}"), "days", Days::new(days).map(drop)));
        cases.push((
            format!("last_full_days({days})"),
            "days",
            Interval::last_full_days(days).map(drop),
        ));
    }
    let no_metrics: [Metric; 0] = [];
    cases.extend([
        (
            "empty metrics".into(),
            "metrics",
            OrganizationQuery::builder(good())
                .metrics(no_metrics)
                .build()
                .map(drop),
        ),
        (
            "metrics twice".into(),
            "metrics",
            OAuthClientQuery::builder(good())
                .metrics([Metric::Requests, Metric::Requests])
                .build()
                .map(drop),
        ),
        (
            "UserId in a client query".into(),
            "groupBy",
            OAuthClientQuery::builder(good())
                .group_by([GroupBy::UserId])
                .build()
                .map(drop),
        ),
        (
            "groupBy twice".into(),
            "groupBy",
            OrganizationQuery::builder(good())
                .group_by([GroupBy::HttpMethod, GroupBy::HttpMethod])
                .build()
                .map(drop),
        ),
        (
            "unknown metric".into(),
            "metrics",
            "Status201".parse::<Metric>().map(drop),
        ),
        (
            "plain http base URL off loopback".into(),
            "base_url",
            Config::builder()
                .base_url("http://api.example.com")
                .access_token(TOKEN)
                .build()
                .map(drop),
        ),
        (
            "plain http token URL off loopback".into(),
            "token_url",
            Config::builder()
                .base_url("https://api.example.com")
                .token_url("http://login.example.com/oauth/token")
                .client_credentials("bot", SECRET)
                .build()
                .map(drop),
        ),
        (
            "token URL with a query".into(),
            "token_url",
            Config::builder()
                .token_url("https://login.example.com/oauth/token?x=1")
                .access_token(TOKEN)
                .build()
                .map(drop),
        ),
        (
            "empty client id".into(),
            "client_id",
            Config::builder()
                .base_url(&base)
                .client_credentials(" ", SECRET)
                .build()
                .map(drop),
        ),
        (
            "empty client secret".into(),
            "client_secret",
            Config::builder()
                .base_url(&base)
                .client_credentials("bot", "")
                .build()
                .map(drop),
        ),
        (
            "access token with a newline".into(),
            "access_token",
            Config::builder()
                .base_url(&base)
                .access_token("tok\nen")
                .build()
                .map(drop),
        ),
        (
            "no credentials".into(),
            "credentials",
            Config::builder().base_url(&base).build().map(drop),
        ),
    ]);
    for (what, field, result) in cases {
        match result {
            Err(Error::InvalidInput(invalid)) => {
                assert_eq!(invalid.field, field, "{what}: {invalid}");
                assert!(!invalid.problem.is_empty(), "{what}");
                let shown = Error::InvalidInput(invalid).to_string();
                assert!(
                    shown.starts_with(&format!("invalid {field}: ")),
                    "{what}: {shown}"
                );
                assert!(!shown.contains(SECRET), "{what}: {shown}");
            }
            other => panic!("{what}: expected InvalidInput({field}), got {other:?}"),
        }
    }
}

#[tokio::test]
async fn bad_job_queries_are_refused_by_the_builders() {
    let old: Interval = "2020-01-01T00:00:00Z/2020-01-08T00:00:00Z".parse().unwrap();
    assert!(matches!(
        OrganizationJobQuery::builder(old).build(),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        OAuthClientJobQuery::builder(recent_week())
            .group_by([JobGroupBy::UserId])
            .build(),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(PageSize::new(1001), Err(Error::InvalidInput(_))));
    assert!(matches!(PageSize::new(0), Err(Error::InvalidInput(_))));
    assert!(matches!(
        OrganizationJobQuery::builder(recent_week())
            .http_methods([HttpMethod::Trace])
            .build(),
        Err(Error::InvalidInput(_))
    ));
}
