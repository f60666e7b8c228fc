//! When a request is sent again, and when it is not: 429 and 503 for every request, 502, 504,
//! dropped connections and timeouts for GETs only (a POST that reached the server may have
//! started an execution), `Retry-After` honoured up to a cap, exponential backoff otherwise,
//! the attempt budget, and client-wide pacing after a 429.
//!
//! Retry waits run on a [`ManualClock`], so backoffs and `Retry-After` cost no real time; only
//! request timeouts, and the tests that say so, are real. Fault scenarios print one
//! `scenario |` line each (run with `--nocapture` to see them).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use usage_sdk::time::{Clock, ManualClock, Sleep};
use usage_sdk::{
    AuthError, Config, Days, Error, Execution, ExecutionId, Interval, OAuthClientId,
    OAuthClientQuery, OrganizationQuery, PollPolicy, QueryStatus, RetryPolicy, UsageClient,
};
use usage_sdk_stand_in::{Fault, Route};

use crate::scripted::{Act, RawServer, head};
use crate::scripted::{Reply, ScriptedServer};
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// 429, 503 and Retry-After.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_429_storm_with_retry_after_spends_the_attempt_budget_then_a_short_one_passes() {
    let stand_in = instant_stand_in().await;
    let clock = ManualClock::new();
    let client = stand_in_client(&stand_in, &clock).await;

    stand_in.inject(Fault::RateLimited, 5);
    let (result, took) = bounded(client.submit(&org_query())).await;
    let err = result.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((api.status, api.attempts), (429, 5));
    assert_eq!(api.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(api.code(), Some("too.many.requests.retry.after"));
    let posts = stand_in.stats().requests_to(Route::PostUsageQuery);
    assert_eq!(posts, 5, "a POST is re-sent after a 429, within the budget");
    assert_eq!(
        clock.sleeps(),
        secs_f64(&[1.0; 4]),
        "Retry-After: 1 honoured"
    );
    report(
        "429 storm, Retry-After: 1 (POST)",
        "Api 429 after 5 attempts",
        posts as usize,
        took,
    );

    stand_in.reset_stats();
    stand_in.inject(Fault::RateLimited, 2);
    let (result, took) = bounded(client.submit(&org_query())).await;
    result.unwrap();
    assert_eq!(stand_in.stats().requests_to(Route::PostUsageQuery), 3);
    assert_eq!(
        stand_in.stats().executions_started,
        1,
        "a 429 starts nothing"
    );
    assert_eq!(stand_in.stats().token_requests(), 0, "the token is reused");
    report("two 429s then 202 (POST)", "Ok on attempt 3", 3, took);
}

#[tokio::test]
async fn a_429_storm_without_retry_after_backs_off_exponentially_then_reports_429() {
    let server = ScriptedServer::start(|_, _| {
        Reply::json(
            429,
            json!({"message": "slow down", "code": "too.many.requests", "status": 429}),
        )
    })
    .await;
    let clock = ManualClock::new();
    let (result, took) =
        bounded(build(config(&server.base_url, &clock)).submit(&org_query())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 429 && api.attempts == 5 && api.retry_after.is_none()),
        "{err:?}"
    );
    assert_eq!(clock.sleeps(), secs_f64(&[0.5, 1.0, 2.0, 4.0]));
    let posts = server.requests_to("POST", ORG_QUERY).len();
    assert_eq!(posts, 5);
    report(
        "429 storm, no Retry-After (POST)",
        "Api 429 after 5 attempts, backoff 0.5-4 s",
        posts,
        took,
    );
}

#[tokio::test]
async fn retry_after_beyond_the_cap_or_unparsable_never_stalls_or_panics() {
    let hours_ahead = (chrono::Utc::now() + chrono::Duration::hours(2))
        .to_rfc2822()
        .replace("+0000", "GMT");
    // (what, Retry-After, the cap set (None: the default), GETs expected with max_attempts 3,
    // retry_after reported)
    type Case = (&'static str, String, Option<u64>, usize, Option<u64>);
    let cases: Vec<Case> = vec![
        (
            "an hour, above the default 180 s cap",
            "3600".into(),
            None,
            1,
            Some(3600),
        ),
        ("11 s, above a 10 s cap", "11".into(), Some(10), 1, Some(11)),
        (
            "an HTTP-date two hours ahead",
            hours_ahead,
            Some(10),
            1,
            None,
        ),
        (
            "u64::MAX seconds",
            u64::MAX.to_string(),
            Some(10),
            1,
            Some(u64::MAX),
        ),
        (
            "a number beyond u64",
            "99999999999999999999999".into(),
            Some(10),
            3,
            None,
        ),
        ("negative", "-5".into(), Some(10), 3, None),
        ("not a number", "soon".into(), Some(10), 3, None),
    ];
    for (what, retry_after, cap, expected_gets, reported) in cases {
        let value = retry_after.clone();
        let server = ScriptedServer::start(move |_, _| {
            Reply::error(503, "service.unavailable", "down").header("Retry-After", &value)
        })
        .await;
        let clock = ManualClock::new();
        let policy = RetryPolicy::default()
            .with_jitter(false)
            .with_max_attempts(3);
        let policy = match cap {
            Some(seconds) => policy.with_retry_after_cap(Duration::from_secs(seconds)),
            None => policy,
        };
        let client = build(config(&server.base_url, &clock).retry(policy));
        let (result, took) = bounded(client.fetch_page(&org_execution(), None)).await;
        let err = result.unwrap_err();
        let Error::Api(api) = &err else {
            panic!("{what}: {err:?}")
        };
        assert_eq!(api.status, 503, "{what}");
        assert_eq!(api.code(), Some("service.unavailable"), "{what}");
        assert_eq!(api.correlation_id.as_deref(), Some("corr-1"), "{what}");
        let gets = server.requests_to("GET", ORG_RESULTS).len();
        assert_eq!(gets, expected_gets, "{what}");
        if let Some(seconds) = reported {
            assert_eq!(
                api.retry_after,
                Some(Duration::from_secs(seconds)),
                "{what}"
            );
        }
        if expected_gets == 1 {
            let cap = cap.unwrap_or(180);
            assert_eq!(
                api.retry_after_cap,
                Some(Duration::from_secs(cap)),
                "{what}"
            );
            let shown = err.to_string();
            if reported.is_some() {
                let expected = format!("longer than the {cap} s cap");
                assert!(shown.contains(&expected), "{what}: {shown}");
            } else {
                assert!(shown.contains("cap"), "{what}: {shown}");
            }
            assert!(clock.sleeps().is_empty(), "{what}");
        } else {
            // Ignored: the exponential backoff applies.
            assert_eq!(clock.sleeps(), secs_f64(&[0.5, 1.0]), "{what}");
        }
        report(
            &format!("503 with Retry-After {what} (GET)"),
            "Api 503",
            gets,
            took,
        );
    }
}

#[tokio::test]
async fn an_unlimited_retry_after_cap_with_a_huge_retry_after_gives_up_instead_of_overflowing() {
    // A caller who raises the cap to "always honour Retry-After" must not turn a hostile
    // Retry-After into a panic (Instant + u64::MAX s overflows) or an endless wait.
    let server = ScriptedServer::start(|_, _| {
        Reply::error(429, "too.many.requests.retry.after", "later")
            .header("Retry-After", &u64::MAX.to_string())
    })
    .await;
    let clock = ManualClock::new();
    let client = build(
        config(&server.base_url, &clock).retry(
            RetryPolicy::default()
                .with_jitter(false)
                .with_retry_after_cap(Duration::MAX)
                .with_max_elapsed(Duration::MAX),
        ),
    );
    let (result, took) = bounded(client.submit(&org_query())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 429 && api.attempts == 1),
        "{err:?}"
    );
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    let posts = server.requests_to("POST", ORG_QUERY).len();
    assert_eq!(posts, 1);
    report(
        "429 Retry-After u64::MAX, cap and max_elapsed unlimited",
        "Api 429 at once",
        posts,
        took,
    );
}

#[tokio::test]
async fn retry_after_is_waited_before_the_request_is_sent_again() {
    let server = ScriptedServer::start(org_flow(|n| match n {
        0 => Reply::error(
            429,
            "too.many.requests.retry.after",
            "Retry the request in [1] seconds",
        )
        .header("Retry-After", "1"),
        _ => complete(),
    }))
    .await;
    // Real time here: the point is when the second request reaches the server.
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token(TOKEN)
            .build()
            .unwrap(),
    )
    .unwrap();
    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION_ID).unwrap());
    let result = client.fetch_page(&execution, None).await.unwrap();
    assert_eq!(result.query_status, Some(QueryStatus::Complete));
    let gets = server.requests_to("GET", ORG_RESULTS);
    assert_eq!(gets.len(), 2);
    let gap = gets[1].at - gets[0].at;
    assert!(
        gap >= Duration::from_millis(990),
        "re-sent after {gap:?}, before Retry-After: 1"
    );
}

#[tokio::test]
async fn post_is_retried_after_429_and_503_with_the_server_given_waits() {
    let server = ScriptedServer::start(move |request, n| match (request.path(), n) {
        ("/oauth/token", _) => Reply::token(TOKEN, 86_399),
        (ORG_QUERY, 0) => Reply::error(429, "too.many.requests.retry.after", "slow down")
            .header("Retry-After", "3"),
        (ORG_QUERY, 1) => Reply::error(503, "service.unavailable", "down"),
        (ORG_QUERY, _) => submitted(ORG_RESULTS),
        _ => Reply::error(404, "not.found", "no"),
    })
    .await;
    let clock = ManualClock::new();
    let execution = scripted_client(&server, &clock)
        .submit(&org_query())
        .await
        .unwrap();
    assert_eq!(execution.id.as_str(), EXECUTION_ID);
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 3);
    // Retry-After: 3, then the first exponential backoff step (attempt 2 → 1 s).
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(3), Duration::from_secs(1)]
    );
}

#[tokio::test]
async fn bursts_of_503_are_retried_for_posts_and_gets_but_500_is_not_retried() {
    let stand_in = instant_stand_in().await;
    let clock = ManualClock::new();
    let client = stand_in_client(&stand_in, &clock).await;

    stand_in.inject(Fault::Unavailable, 3);
    let (execution, took) = bounded(client.submit(&org_query())).await;
    let execution = execution.unwrap();
    assert_eq!(stand_in.stats().requests_to(Route::PostUsageQuery), 4);
    assert_eq!(
        stand_in.stats().executions_started,
        1,
        "a 503 starts nothing"
    );
    report("three 503s then 202 (POST)", "Ok on attempt 4", 4, took);

    stand_in.inject(Fault::Unavailable, 3);
    let (result, took) = bounded(client.fetch_page(&execution, None)).await;
    assert_eq!(result.unwrap().query_status, Some(QueryStatus::Complete));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 4);
    report("three 503s then 200 (GET)", "Ok on attempt 4", 4, took);

    stand_in.inject(Fault::Unavailable, 5);
    let (result, took) = bounded(client.fetch_page(&execution, None)).await;
    assert!(matches!(result, Err(Error::Api(api)) if api.status == 503 && api.attempts == 5));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 9);
    report("503 storm (GET)", "Api 503 after 5 attempts", 5, took);

    stand_in.reset_stats();
    stand_in.inject(Fault::InternalError, 2);
    let (post, took) = bounded(client.submit(&org_query())).await;
    let (get, _) = bounded(client.fetch_page(&execution, None)).await;
    assert!(matches!(post, Err(Error::Api(api)) if api.status == 500 && api.attempts == 1));
    assert!(matches!(get, Err(Error::Api(api)) if api.status == 500 && api.attempts == 1));
    let stats = stand_in.stats();
    assert_eq!(stats.requests_to(Route::PostUsageQuery), 1);
    assert_eq!(stats.requests_to(Route::GetUsageQueryResults), 1);
    report("500 (POST and GET)", "Api 500, not retried", 1, took);
}

#[tokio::test]
async fn gateway_errors_are_retried_for_gets_up_to_the_budget_and_never_for_posts() {
    const STORM: &str = "/api/v2/usage/query/storm/results";
    let server =
        ScriptedServer::start(
            |request, n| match (request.method.as_str(), request.path(), n) {
                ("GET", ORG_RESULTS, 0) => Reply::error(502, "bad.gateway", "proxy"),
                ("GET", ORG_RESULTS, 1) => Reply::error(504, "request.timeout", "slow"),
                ("GET", ORG_RESULTS, _) => complete(),
                ("GET", _, _) => Reply::error(502, "bad.gateway", "proxy"),
                ("POST", _, 0) => Reply::error(502, "bad.gateway", "proxy"),
                _ => Reply::error(504, "request.timeout", "slow"),
            },
        )
        .await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));

    let (get, took) = bounded(client.fetch_page(&org_execution(), None)).await;
    assert_eq!(get.unwrap().query_status, Some(QueryStatus::Complete));
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 3);
    report("502, 504, then 200 (GET)", "Ok on attempt 3", 3, took);

    let storm = Execution::organization(ExecutionId::new("storm").unwrap());
    let (get, took) = bounded(client.fetch_page(&storm, None)).await;
    assert!(matches!(get, Err(Error::Api(api)) if api.status == 502 && api.attempts == 5));
    let gets = server.requests_to("GET", STORM).len();
    assert_eq!(gets, 5);
    report("502 storm (GET)", "Api 502 after 5 attempts", gets, took);

    for status in [502, 504] {
        let before = server.requests_to("POST", ORG_QUERY).len();
        let (post, took) = bounded(client.submit(&org_query())).await;
        assert!(
            matches!(&post, Err(Error::Api(api)) if api.status == status && api.attempts == 1),
            "{post:?}"
        );
        assert_eq!(
            server.requests_to("POST", ORG_QUERY).len(),
            before + 1,
            "a POST is not re-sent after a {status}"
        );
        report(&format!("{status} (POST)"), "Api, not retried", 1, took);
    }
}

#[tokio::test]
async fn a_408_is_retried_for_gets_and_never_re_sent_for_a_post() {
    // 408 is a timeout the server reports: a GET goes again like after any timeout; a POST it
    // answered may have started an execution, and 408 is not among the statuses (429, 503)
    // that say it certainly did not.
    let server = ScriptedServer::start(|request, n| match (request.method.as_str(), n) {
        ("GET", 0) => Reply::error(408, "client.timeout", "too slow"),
        ("GET", _) => complete(),
        _ => Reply::error(408, "client.timeout", "too slow"),
    })
    .await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));

    let (get, took) = bounded(client.fetch_page(&org_execution(), None)).await;
    assert_eq!(get.unwrap().query_status, Some(QueryStatus::Complete));
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 2);
    assert_eq!(clock.sleeps(), secs_f64(&[0.5]), "the first backoff");
    report("408, then 200 (GET)", "Ok on attempt 2", 2, took);

    let (post, took) = bounded(client.submit(&org_query())).await;
    let err = post.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 408 && api.attempts == 1),
        "{err:?}"
    );
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 1);
    assert_eq!(clock.sleeps().len(), 1, "no wait for the POST");
    report("408 (POST)", "Api 408, not retried", 1, took);
}

#[tokio::test]
async fn retries_stop_when_the_next_wait_would_pass_max_elapsed() {
    // Ten attempts allowed, but 10 s in all: after waits of 4 s and 4 s, a third 4 s wait
    // would end at 12 s, so the call ends with the server's answer instead of sleeping.
    let server = ScriptedServer::start(|_, _| {
        Reply::error(503, "service.unavailable", "busy").header("Retry-After", "4")
    })
    .await;
    let clock = ManualClock::new();
    let policy = RetryPolicy::default()
        .with_jitter(false)
        .with_max_attempts(10)
        .with_max_elapsed(Duration::from_secs(10));
    let client = build(config(&server.base_url, &clock).retry(policy.clone()));
    let (result, took) = bounded(client.fetch_page(&org_execution(), None)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 503 && api.attempts == 3),
        "{err:?}"
    );
    assert_eq!(clock.sleeps(), secs(&[4, 4]));
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 3);
    report(
        "503 storm, Retry-After: 4, max_elapsed 10 s (GET)",
        "Api 503 after 3 attempts",
        3,
        took,
    );

    // The same bound holds for backoffs: 0.5 + 1 + 2 + 4 = 7.5 s, and 8 s more would pass 10 s.
    let server = ScriptedServer::start(|_, _| Reply::error(502, "bad.gateway", "proxy")).await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock).retry(policy));
    let (result, _) = bounded(client.fetch_page(&org_execution(), None)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Api(api) if api.status == 502 && api.attempts == 5),
        "{err:?}"
    );
    assert_eq!(clock.sleeps(), secs_f64(&[0.5, 1.0, 2.0, 4.0]));
    assert!(
        clock.elapsed() <= Duration::from_secs(10),
        "{:?}",
        clock.elapsed()
    );
}

#[tokio::test]
async fn a_share_of_503s_across_all_five_operations_is_absorbed_by_retries() {
    let si = start(stand_in().unavailable_share(0.3)).await;
    // Ten attempts a call: the seeded draws include a run of four 503s in a row, and the
    // point here is that every operation goes through the retry layer, not the budget.
    let client = build(
        si_config(&si, Arc::new(ManualClock::new())).retry(
            RetryPolicy::default()
                .with_jitter(false)
                .with_max_attempts(10),
        ),
    );
    let org_query = OrganizationQuery::builder(week()).build().unwrap();
    let client_query = OAuthClientQuery::builder(week()).build().unwrap();

    let execution = client.submit(&org_query).await.unwrap();
    let org = client.wait(&execution).report().await.unwrap();
    client
        .oauth_client(&demo())
        .rows(&client_query)
        .report()
        .await
        .unwrap();
    client
        .oauth_client(&demo())
        .rows(&Days::default())
        .report()
        .await
        .unwrap();
    let fetched = client.fetch_page(&execution, None).await.unwrap();
    let resumed = client
        .wait(&Execution::oauth_client(demo(), {
            let own = client
                .oauth_client(&demo())
                .submit(&client_query)
                .await
                .unwrap();
            own.id
        }))
        .report()
        .await
        .unwrap();

    assert_eq!(fetched.results, org.rows);
    assert_eq!(resumed.rows.len(), 1);
    let stats = si.stats();
    let unavailable = stats.responses_with(503);
    assert!(unavailable > 0, "the share hit some requests: {stats:?}");
    // Nine calls succeeded on their last attempt; every other request was a 503.
    assert_eq!(api_requests(&si), 9 + unavailable, "{stats:?}");
    assert_eq!(stats.executions_started, 4);
}

#[tokio::test]
async fn with_retries_disabled_a_503_surfaces_with_its_code_and_correlation_id() {
    let si = start(stand_in()).await;
    let clock = ManualClock::new();
    let client = build(si_config(&si, Arc::new(clock.clone())).retry(RetryPolicy::disabled()));
    si.inject(Fault::Unavailable, 1);

    let err = client
        .submit(&OrganizationQuery::builder(week()).build().unwrap())
        .await
        .unwrap_err();

    assert_api_error(&err, "post_usage_query", 503, "service.unavailable");
    assert_eq!(api_error(&err).attempts, 1);
    assert_eq!(si.stats().requests_to(Route::PostUsageQuery), 1);
    assert_eq!(si.stats().executions_started, 0);
    assert!(clock.sleeps().is_empty());
    assert_secret_free(&si, &[&err]).await;
}

/// `RetryPolicy::disabled()` means one attempt per call, not "never wait": after a 429 the
/// client's next call still waits out its `Retry-After` (pacing), unless pacing is off too.
#[tokio::test]
async fn with_retries_disabled_a_429_is_not_retried_but_the_next_call_waits_it_out() {
    for pacing in [true, false] {
        let si = start(stand_in()).await;
        let clock = ManualClock::new();
        let policy = RetryPolicy::disabled().with_rate_limit_pacing(pacing);
        let client = build(si_config(&si, Arc::new(clock.clone())).retry(policy));
        let query = OrganizationQuery::builder(week()).build().unwrap();
        si.inject(Fault::RateLimited, 1);

        let err = client.submit(&query).await.unwrap_err();
        assert_api_error(
            &err,
            "post_usage_query",
            429,
            "too.many.requests.retry.after",
        );
        assert_eq!(api_error(&err).attempts, 1, "pacing {pacing}");
        assert!(clock.sleeps().is_empty(), "pacing {pacing}: no retry");

        client.submit(&query).await.unwrap();
        assert_eq!(si.stats().requests_to(Route::PostUsageQuery), 2);
        let expected = if pacing { secs_f64(&[1.0]) } else { Vec::new() };
        assert_eq!(clock.sleeps(), expected, "pacing {pacing}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rate limits: each 429 waited out, and the whole client paced after one.
// ---------------------------------------------------------------------------------------------

/// A `ManualClock` that also lets up to `pace` of real time pass on each sleep.
///
/// For the one case where the client must wait for the stand-in's real-time clock: the rate
/// limiter refills in real time, so a client on a pure manual clock would re-send at once
/// and meet 429 again. The recorded sleeps stay exact.
#[derive(Debug, Clone)]
struct PacedClock {
    manual: ManualClock,
    pace: Duration,
}

impl Clock for PacedClock {
    fn now(&self) -> Instant {
        self.manual.now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let recorded = self.manual.sleep(duration);
        let real = duration.min(self.pace);
        Box::pin(async move {
            recorded.await;
            tokio::time::sleep(real).await;
        })
    }
}

#[tokio::test]
async fn rate_limited_calls_wait_retry_after_and_succeed_in_a_bounded_number_of_requests() {
    // A bucket of 2 refilled at 10 per second: the third request in quick succession is
    // refused with Retry-After: 1 (the smallest the stand-in sends).
    let si = start(stand_in().rate_limit(2, Duration::from_millis(200))).await;
    let clock = PacedClock {
        manual: ManualClock::new(),
        pace: Duration::from_millis(60),
    };
    // Pacing off: this test pins the per-request rule (each 429 waits exactly its
    // Retry-After); client-wide pacing is the next test.
    let client = build(
        si_config(&si, Arc::new(clock.clone()))
            .retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_rate_limit_pacing(false),
            )
            .poll(
                PollPolicy::default()
                    .with_jitter(false)
                    .with_delays(Duration::from_millis(10), Duration::from_millis(10)),
            ),
    );

    let org = client
        .rows(&OrganizationQuery::builder(week()).build().unwrap())
        .report()
        .await
        .unwrap();
    let own = client
        .oauth_client(&demo())
        .rows(&OAuthClientQuery::builder(week()).build().unwrap())
        .report()
        .await
        .unwrap();
    let summary = client
        .oauth_client(&demo())
        .rows(&Days::default())
        .report()
        .await
        .unwrap();

    assert!(!org.rows.is_empty() && !own.rows.is_empty() && !summary.rows.is_empty());
    let stats = si.stats();
    let refused = stats.rate_limited;
    assert!(refused >= 1, "the client met the limiter: {stats:?}");
    assert_eq!(stats.responses_with(429), refused);
    // Six calls succeeded; every other API request was a 429 that was re-sent.
    assert_eq!(api_requests(&si), 6 + refused, "{stats:?}");
    assert!(refused <= 6 * 4, "at most max_attempts per call: {stats:?}");
    // Each 429 was waited out exactly as Retry-After said; the polls waited 10 ms.
    let sleeps = clock.manual.sleeps();
    let retry_waits = sleeps.iter().filter(|d| **d == Duration::from_secs(1));
    assert_eq!(retry_waits.count() as u64, refused, "{sleeps:?}");
    assert_eq!(sleeps.len() as u64, refused + 3, "{sleeps:?}");
    assert_eq!(stats.tokens_issued, 1, "a 429 is not an auth problem");
}

/// 24 concurrent polls against a bucket of 4 (refilled at 40/s), in real time: returns
/// the number of 429s the stand-in sent.
async fn concurrent_polls_refused(pacing: bool) -> u64 {
    let si = start(stand_in().rate_limit(4, Duration::from_millis(100))).await;
    let client = build(
        si_config(&si, Arc::new(usage_sdk::time::TokioClock)).retry(
            RetryPolicy::default()
                .with_jitter(false)
                .with_max_attempts(10)
                .with_rate_limit_pacing(pacing),
        ),
    );
    let execution = client
        .submit(&OrganizationQuery::builder(week()).build().unwrap())
        .await
        .unwrap();
    // Let the bucket refill after the submit.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let polls: Vec<_> = (0..24)
        .map(|_| {
            let (client, execution) = (client.clone(), execution.clone());
            tokio::spawn(async move { client.fetch_page(&execution, None).await })
        })
        .collect();
    for poll in polls {
        poll.await.unwrap().expect("every poll succeeds in the end");
    }
    si.stats().rate_limited
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_after_a_429_spares_the_requests_that_would_come_back_together() {
    // Without pacing, the ~20 refused polls all return after Retry-After: 1 into a bucket
    // of 4, and half are refused again. With pacing (the default), one Retry-After gates
    // the whole client and the rest go out spaced at the rate the server admitted.
    // 24 polls, not 12, and one run after the other: on a loaded machine a burst spreads out
    // and its first wave meets the limiter a few times less, which must not decide the result.
    let paced = concurrent_polls_refused(true).await;
    let unpaced = concurrent_polls_refused(false).await;
    assert!(paced >= 1, "the burst met the limiter");
    assert!(
        paced < unpaced,
        "pacing should cut the 429s: paced {paced}, unpaced {unpaced}"
    );
}

// ---------------------------------------------------------------------------------------------
// Connections: refused, dropped before the answer, dropped or stalled mid-body, timed out.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_refused_connection_is_retried_for_posts_gets_and_the_token_request() {
    let base = format!("http://127.0.0.1:{}", unused_port());
    let clock = ManualClock::new();
    let (get, took) =
        bounded(build(config(&base, &clock)).fetch_page(&org_execution(), None)).await;
    let err = get.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { attempts: 5, source, .. } if source.is_connect()),
        "{err:?}"
    );
    assert!(err.to_string().contains("could not connect"), "{err}");
    assert_eq!(clock.sleeps().len(), 4);
    report(
        "connection refused (GET)",
        "Transport after 5 attempts",
        5,
        took,
    );

    let clock = ManualClock::new();
    let (post, took) = bounded(build(config(&base, &clock)).submit(&org_query())).await;
    let err = post.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { attempts: 5, source, .. } if source.is_connect()),
        "{err:?}"
    );
    assert_eq!(
        clock.sleeps().len(),
        4,
        "a refused POST was never sent: safe to retry"
    );
    report(
        "connection refused (POST)",
        "Transport after 5 attempts",
        5,
        took,
    );

    let clock = ManualClock::new();
    let token_down = build(config(&base, &clock).client_credentials("bot", SECRET));
    let (post, took) = bounded(token_down.submit(&org_query())).await;
    let err = post.unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::Transport { source, .. }) if source.is_connect()),
        "{err:?}"
    );
    assert_eq!(clock.sleeps().len(), 4, "nothing was sent: safe to retry");
    assert_eq!(token_down.token_requests(), 1);
    assert!(!format!("{err} {err:?}").contains(SECRET));
    report(
        "token endpoint refused",
        "Auth::Transport after 5 attempts",
        5,
        took,
    );
}

#[tokio::test]
async fn a_connection_dropped_before_the_answer_retries_gets_only() {
    let stand_in = instant_stand_in().await;
    let clock = ManualClock::new();
    let client = stand_in_client(&stand_in, &clock).await;
    let execution = client.submit(&org_query()).await.unwrap();

    stand_in.inject(Fault::Drop, 1);
    let (post, took) = bounded(client.submit(&org_query())).await;
    let err = post.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        stand_in.stats().requests_to(Route::PostUsageQuery),
        2,
        "the dropped POST may have been processed: not re-sent"
    );
    assert_eq!(stand_in.stats().executions_started, 1);
    assert!(clock.sleeps().is_empty());
    report(
        "dropped before the answer (POST)",
        "Transport, not retried",
        1,
        took,
    );

    // The same for a client query; the caller decides whether to submit again.
    let demo = OAuthClientId::new(stand_in.demo_client().id.clone()).unwrap();
    let last_week = OAuthClientQuery::builder(Interval::last_full_days(7).unwrap())
        .build()
        .unwrap();
    stand_in.inject(Fault::Drop, 1);
    let (client_post, _) = bounded(client.oauth_client(&demo).submit(&last_week)).await;
    assert!(
        matches!(&client_post, Err(Error::Transport { attempts: 1, .. })),
        "{client_post:?}"
    );
    assert_eq!(stand_in.stats().requests_to(Route::PostClientUsageQuery), 1);

    // The summary is a GET, though it starts an execution: the dropped one started nothing.
    stand_in.inject(Fault::Drop, 1);
    let (summary, took) = bounded(client.oauth_client(&demo).submit(&Days::default())).await;
    summary.unwrap();
    let stats = stand_in.stats();
    assert_eq!(stats.requests_to(Route::GetClientUsageSummary), 2);
    assert_eq!(stats.executions_started, 2);
    report(
        "dropped once, then 202 (summary GET)",
        "Ok on attempt 2",
        2,
        took,
    );

    stand_in.inject(Fault::Drop, 2);
    let (get, took) = bounded(client.fetch_page(&execution, None)).await;
    assert_eq!(get.unwrap().query_status, Some(QueryStatus::Complete));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 3);
    report("dropped twice, then 200 (GET)", "Ok on attempt 3", 3, took);

    stand_in.inject(Fault::Drop, 5);
    let (get, took) = bounded(client.fetch_page(&execution, None)).await;
    assert!(matches!(get, Err(Error::Transport { attempts: 5, .. })));
    assert_eq!(stand_in.stats().requests_to(Route::GetUsageQueryResults), 8);
    assert_eq!(
        stand_in.stats().dropped,
        10,
        "one POST, one client POST, one summary, 7 GETs"
    );
    report(
        "dropped every time (GET)",
        "Transport after 5 attempts",
        5,
        took,
    );
}

/// A 200 that promises `{"queryStatus":"Complete"...}` and breaks off after 20 bytes.
fn mid_body() -> Act {
    Act::CloseMidBody {
        head: head(200, &[("Content-Type", "application/json")], Some(400)),
        partial: br#"{"queryStatus":"Comp"#.to_vec(),
    }
}

#[tokio::test]
async fn a_connection_dropped_mid_body_re_sends_gets_but_never_posts() {
    let server = RawServer::start(|request, _| match request.method.as_str() {
        "POST" => Act::CloseMidBody {
            head: head(202, &[("Content-Type", "application/json")], Some(400)),
            partial: br#"{"executionId":"9f3"#.to_vec(),
        },
        _ => mid_body(),
    })
    .await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));
    for (what, call) in [
        (
            "POST",
            Box::pin(async { client.submit(&org_query()).await.map(drop) })
                as std::pin::Pin<Box<dyn Future<Output = Result<(), Error>>>>,
        ),
        (
            "GET",
            Box::pin(async { client.fetch_page(&org_execution(), None).await.map(drop) }),
        ),
    ] {
        let before = server.requests().len();
        let (result, took) = bounded(call).await;
        let err = result.unwrap_err();
        assert!(matches!(&err, Error::Transport { .. }), "{what}: {err:?}");
        let sent = server.requests().len() - before;
        // A GET's body is read inside its attempt, so a broken body is re-requested like any
        // transport failure; a POST that reached the server is never re-sent.
        let expected = if what == "GET" { 5 } else { 1 };
        assert_eq!(sent, expected, "{what}");
        assert!(
            matches!(&err, Error::Transport { attempts, .. } if *attempts == expected as u32),
            "{what}: {err:?}"
        );
        report(
            &format!("dropped mid-body ({what})"),
            if what == "GET" {
                "Transport after 5 attempts"
            } else {
                "Transport, not retried"
            },
            sent,
            took,
        );
    }
    assert_eq!(clock.sleeps().len(), 4, "backoffs of the GET only");
}

#[tokio::test]
async fn a_get_whose_body_broke_once_is_re_requested_and_succeeds() {
    let server = RawServer::start(|_, n| match n {
        0 => mid_body(),
        _ => Act::respond(
            200,
            &[("Content-Type", "application/json")],
            r#"{"queryStatus":"Complete","results":[{"requests":7}]}"#,
        ),
    })
    .await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));
    let (result, took) = bounded(client.fetch_page(&org_execution(), None)).await;
    let result = result.expect("the second attempt reads a whole body");
    assert_eq!(result.results[0].requests, Some(7));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(clock.sleeps().len(), 1);
    report("dropped mid-body once (GET)", "Ok on attempt 2", 2, took);
}

#[tokio::test]
async fn a_body_that_stalls_past_the_request_timeout_ends_in_a_timeout_error() {
    let server = RawServer::start(|_, _| Act::Stall {
        head: head(200, &[("Content-Type", "application/json")], Some(400)),
        partial: br#"{"queryStatus":"#.to_vec(),
        hold: Duration::from_secs(30),
    })
    .await;
    let clock = ManualClock::new();
    let client =
        build(config(&server.base_url, &clock).request_timeout(Duration::from_millis(300)));
    let (result, took) = bounded(client.fetch_page(&org_execution(), None)).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { source, .. } if source.is_timeout()),
        "{err:?}"
    );
    // No tight bound on `took`: `bounded` (10 s) already ends the test long before one 30 s
    // stall, so each attempt was ended by the 300 ms timeout, however loaded the machine.
    // A timeout while reading a GET's body is retried like any timeout of a GET.
    let gets = server.requests().len();
    assert_eq!(gets, 5);
    report(
        "body stalls past a 300 ms timeout (GET)",
        "Transport timeout after 5 attempts",
        gets,
        took,
    );
}

#[tokio::test]
async fn a_post_is_not_re_sent_after_a_read_timeout_but_a_get_is() {
    let server = ScriptedServer::start(|request, n| match (request.path(), n) {
        (ORG_RESULTS, 0) | (ORG_QUERY, _) => {
            // Far beyond the 1 s timeout, so a loaded machine cannot see the answer in time.
            submitted(ORG_RESULTS).after(Duration::from_secs(5))
        }
        (ORG_RESULTS, _) => complete(),
        _ => Reply::error(404, "not.found", "no"),
    })
    .await;
    let clock = ManualClock::new();
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token(TOKEN)
            .request_timeout(Duration::from_secs(1))
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = client.submit(&org_query()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { source, .. } if source.is_timeout()),
        "{err:?}"
    );
    assert_eq!(server.requests_to("POST", ORG_QUERY).len(), 1);

    let execution = usage_sdk::Execution::organization(ExecutionId::new(EXECUTION_ID).unwrap());
    client.fetch_page(&execution, None).await.unwrap();
    assert_eq!(server.requests_to("GET", ORG_RESULTS).len(), 2);
}

/// Every wait follows the client's injected clock, HTTP dates included.
#[tokio::test]
async fn a_retry_after_http_date_is_counted_from_the_injected_clock() {
    let clock = ManualClock::new();
    let server_clock = clock.clone();
    let server = ScriptedServer::start(move |_, n| {
        if n == 0 {
            // Seven seconds after the client's own "now", as an HTTP-date.
            let at = chrono::DateTime::<chrono::Utc>::from(server_clock.wall_now())
                + chrono::Duration::seconds(7);
            let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            Reply::error(503, "service.unavailable", "busy").header("Retry-After", &date)
        } else {
            Reply::json(202, json!({"executionId": "e-date"}))
        }
    })
    .await;
    let client = UsageClient::new(
        Config::builder()
            .base_url(&server.base_url)
            .access_token("token-date")
            .retry(
                RetryPolicy::default()
                    .with_jitter(false)
                    .with_rate_limit_pacing(false),
            )
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let interval = "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z".parse().unwrap();
    let execution = client
        .submit(&OrganizationQuery::builder(interval).build().unwrap())
        .await
        .unwrap();
    assert_eq!(execution.id.as_str(), "e-date");
    assert_eq!(clock.sleeps(), [Duration::from_secs(7)]);
}
