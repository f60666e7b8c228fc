//! The operational events through `UsageClient::events`, against scripted loopback servers and
//! the stand-in: what is sent (method, path, `pageSize`, `after`, the exact body), paging to
//! the end, a page retried with no event lost or repeated, `usage.events.too.old`, hostile
//! ids, and bad queries refused before sending.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use usage_sdk::time::ManualClock;
use usage_sdk::{
    Error, EventDefinitionId, EventPageSize, EventQuery, Interval, SortOrder, UsageClient,
};

use crate::scripted::{Recorded, Reply, ScriptedServer};
use crate::support::{TOKEN, build, config, recent_week, si_config, stand_in, start, week};

const QUERY: &str = "/api/v2/usage/events/query";
const COUNTS: &str = "/api/v2/usage/events/aggregates/query";
const DEFINITIONS: &str = "/api/v2/usage/events/definitions";

fn param(request: &Recorded, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://x{}", request.target)).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn event(n: usize) -> Value {
    json!({"eventDefinition": {"id": "d-1", "selfUri": "/api/v2/usage/events/definitions/d-1"},
           "entityName": format!("entity {n}"), "dateCreated": "2026-11-02T10:00:00.000Z",
           "brandNewField": n})
}

/// `total` events served `pageSize` at a time; cursors encode the offset.
fn events_flow(total: usize) -> impl Fn(&Recorded, usize) -> Reply {
    move |request, _| match (request.method.as_str(), request.path()) {
        ("POST", QUERY) => {
            let size: usize = param(request, "pageSize").unwrap().parse().unwrap();
            let from = param(request, "after")
                .map(|c| c.trim_start_matches("cur-").parse().unwrap())
                .unwrap_or(0);
            let to = (from + size).min(total);
            let mut body = json!({
                "entities": (from..to).map(event).collect::<Vec<_>>(),
                "selfUri": QUERY,
            });
            if to < total {
                body["nextUri"] = json!(format!("{QUERY}?pageSize={size}&after=cur-{to}"));
            }
            Reply::json(200, body)
        }
        (_, other) => Reply::error(404, "not.found", &format!("no route {other}")),
    }
}

fn query(page_size: u32) -> EventQuery {
    EventQuery::builder(recent_week())
        .definitions(["d-1", "d-2"].map(|id| EventDefinitionId::new(id).unwrap()))
        .search_term("timeout")
        .sort_order(SortOrder::Asc)
        .page_size(EventPageSize::new(page_size).unwrap())
        .build()
        .unwrap()
}

fn client(server: &ScriptedServer) -> UsageClient {
    build(config(&server.base_url, &ManualClock::new()))
}

fn names(events: &[usage_sdk::OperationalEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.entity_name.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn an_event_query_posts_its_body_and_pages_by_after_to_the_last_event() {
    let server = ScriptedServer::start(events_flow(23)).await;
    let events = client(&server)
        .events()
        .rows(&query(10))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = (0..23).map(|n| format!("entity {n}")).collect();
    assert_eq!(names(&events), expected, "every event once, in order");

    let posts = server.requests_to("POST", QUERY);
    let sent: Vec<(Option<String>, Option<String>)> = posts
        .iter()
        .map(|r| (param(r, "pageSize"), param(r, "after")))
        .collect();
    let page = |after: Option<&str>| (Some("10".to_string()), after.map(str::to_string));
    assert_eq!(
        sent,
        [page(None), page(Some("cur-10")), page(Some("cur-20"))]
    );
    for post in &posts {
        assert_eq!(
            post.header("authorization"),
            Some(&*format!("Bearer {TOKEN}"))
        );
        assert_eq!(param(post, "before"), None);
        let body: Value = serde_json::from_slice(&post.body).unwrap();
        assert_eq!(
            body,
            json!({"interval": recent_week().to_string(), "eventDefinitionIds": ["d-1", "d-2"],
                   "searchTerm": "timeout", "sortOrder": "ASC"}),
            "the same body on every page"
        );
    }
}

#[tokio::test]
async fn the_page_view_gives_the_cursor_to_resume_from_without_repeating_an_event() {
    let server = ScriptedServer::start(events_flow(25)).await;
    let client = client(&server);
    let mut rows = client.events().rows(&query(10)).await.unwrap();
    let first = rows.try_next_page().await.unwrap().unwrap();
    assert_eq!(first.rows.len(), 10);
    let cursor = first.next.clone().unwrap();
    assert_eq!(cursor, "cur-10");
    drop(rows);
    // Later, maybe in another process: read on from the cursor.
    let rest = client
        .events()
        .rows_after(&query(10), &cursor)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut all = names(&first.rows);
    all.extend(names(&rest));
    assert_eq!(
        all,
        (0..25).map(|n| format!("entity {n}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_page_that_fails_transiently_is_sent_again_with_no_event_lost_or_repeated() {
    let inner = events_flow(30);
    let failures = Arc::new(Mutex::new(0));
    let server = ScriptedServer::start(move |request, n| {
        if param(request, "after").as_deref() == Some("cur-10") {
            let mut failed = failures.lock().unwrap();
            if *failed < 2 {
                *failed += 1;
                let status = if *failed == 1 { 503 } else { 502 };
                return Reply::error(status, "service.unavailable", "try again");
            }
        }
        inner(request, n)
    })
    .await;
    let events = client(&server)
        .events()
        .rows(&query(10))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        names(&events),
        (0..30).map(|n| format!("entity {n}")).collect::<Vec<_>>()
    );
    let second_page = server
        .requests_to("POST", QUERY)
        .iter()
        .filter(|r| param(r, "after").as_deref() == Some("cur-10"))
        .count();
    assert_eq!(
        second_page, 3,
        "a 503, a 502 (the query only reads: sent again), then 200"
    );
}

#[tokio::test]
async fn too_old_is_its_own_error_and_other_400s_stay_api_errors() {
    let server = ScriptedServer::start(|request, _| match request.path() {
        QUERY => Reply::error(
            400,
            "usage.events.too.old",
            "The requested interval doesn't contain any events because it's too far in the past",
        ),
        COUNTS => Reply::error(400, "invalid.date", "Dates must be ISO-8601"),
        other => Reply::error(404, "not.found", other),
    })
    .await;
    let client = client(&server);
    let error = client.events().rows(&query(10)).await.unwrap_err();
    let Error::EventsTooOld(api) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(api.status, 400);
    assert!(
        error.to_string().contains("more recent interval"),
        "{error}"
    );
    assert!(error.correlation_id().is_some(), "{error}");
    assert_eq!(
        server.requests_to("POST", QUERY).len(),
        1,
        "a 400 is not sent again"
    );
    let other = client.events().counts(recent_week()).await.unwrap_err();
    assert!(matches!(other, Error::Api(_)), "{other:?}");
}

#[tokio::test]
async fn a_next_uri_without_a_cursor_is_an_error_not_a_silently_short_stream() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(200, json!({"entities": [event(0)], "nextUri": QUERY}))
    })
    .await;
    let error = client(&server).events().rows(&query(10)).await.unwrap_err();
    assert!(error.to_string().contains("no after cursor"), "{error}");
}

#[tokio::test]
async fn hostile_definition_ids_stay_one_path_segment_or_are_refused_before_sending() {
    let server = ScriptedServer::start(|request, _| {
        Reply::json(200, json!({"id": request.path(), "name": "x"}))
    })
    .await;
    let client = client(&server);
    for id in ["a/b?c=d#e", "%2e%2e", "ü ber"] {
        let definition = client
            .events()
            .definition(&EventDefinitionId::new(id).unwrap())
            .await
            .unwrap();
        let path = definition.id.unwrap();
        let segment = path.strip_prefix(&format!("{DEFINITIONS}/")).unwrap();
        assert!(!segment.contains('/') && !segment.contains('?'), "{path}");
        assert_eq!(crate::support::percent_decode(segment), id);
    }
    for id in ["..", ".", "a\\b", ""] {
        assert!(EventDefinitionId::new(id).is_err(), "{id:?}");
    }
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn bad_queries_are_refused_before_anything_is_sent() {
    let server = ScriptedServer::start(events_flow(1)).await;
    for bad in [0, 201] {
        let error = EventPageSize::new(bad).unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
    }
    let blank = EventQuery::builder(recent_week()).search_term(" ").build();
    assert!(matches!(blank, Err(Error::InvalidInput(_))));
    let reversed = "2026-11-08T00:00:00Z/2026-11-01T00:00:00Z".parse::<Interval>();
    assert!(matches!(reversed, Err(Error::InvalidInput(_))));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn against_the_stand_in_definitions_events_and_counts_agree() {
    let si = start(stand_in()).await;
    let client = build(si_config(&si, Arc::new(ManualClock::new())));
    let events = client.events();
    let definitions = events.definitions().await.unwrap();
    assert!(definitions.len() >= 5, "{definitions:?}");
    assert!(
        definitions
            .iter()
            .all(|d| d.name.as_deref().unwrap().starts_with("Demo")),
        "demo definitions say so"
    );
    let id = EventDefinitionId::new(definitions[0].id.clone().unwrap()).unwrap();
    assert_eq!(
        events.definition(&id).await.unwrap().name,
        definitions[0].name
    );
    let unknown = events
        .definition(&EventDefinitionId::new("no-such-definition").unwrap())
        .await
        .unwrap_err();
    let Error::Api(api) = &unknown else {
        panic!("{unknown:?}")
    };
    assert_eq!((api.status, api.code()), (404, Some("entity.not.found")));

    // Every event of the week, read 7 at a time, against the counts per definition.
    let query = EventQuery::builder(week())
        .page_size(EventPageSize::new(7).unwrap())
        .build()
        .unwrap();
    let mut rows = events.rows(&query).await.unwrap();
    let mut all = Vec::new();
    while let Some(event) = rows.try_next().await.unwrap() {
        all.push(event);
    }
    assert!(rows.pages_fetched() > 2, "{} pages", rows.pages_fetched());
    let at =
        |e: &usage_sdk::OperationalEvent| e.date_created.as_ref().unwrap().date_time().unwrap();
    let newest_first = all.windows(2).all(|w| at(&w[0]) >= at(&w[1]));
    assert!(newest_first, "DESC by default");
    let counts = events.counts(week()).await.unwrap();
    let total: i64 = counts
        .event_definition_aggregates
        .iter()
        .map(|a| i64::from(a.event_count.unwrap()))
        .sum();
    assert_eq!(total as usize, all.len());

    // Further back than the stand-in keeps events: its own error.
    let old: Interval = "2025-01-01T00:00:00Z/2025-01-08T00:00:00Z".parse().unwrap();
    let error = events
        .rows(&EventQuery::builder(old).build().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::EventsTooOld(_)), "{error:?}");
    assert!(matches!(
        events.counts(old).await.unwrap_err(),
        Error::EventsTooOld(_)
    ));
}
