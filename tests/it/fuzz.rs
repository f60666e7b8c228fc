//! Hostile or odd response bodies end in a value or a typed error, never a panic: a seeded,
//! hand-written generator of arbitrary bytes and arbitrary JSON (valid-shaped JSON with wrong
//! types, huge numbers, unknown enum values, deep nesting), decoded into every response type
//! directly and through the client over loopback; then hand-picked broken bodies (HTML,
//! truncated JSON, invalid UTF-8) and the exact error each one gives.
//!
//! Hand-written rather than `proptest`: the properties need no shrinking to be legible (a
//! failure prints the seed and the input), and it keeps a dozen crates out of the shared
//! lockfile and the 2-core build. Set `USAGE_SDK_FUZZ_SEED` to replay or vary the inputs,
//! `USAGE_SDK_FUZZ_CASES` to run more than the few-second CI budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use usage_sdk::raw::types::{ApiUsageQueryResult, ErrorBody, UsageExecutionResult};
use usage_sdk::time::ManualClock;
use usage_sdk::{
    AuthError, Config, Error, Execution, ExecutionId, Interval, LimitNamespace, OrganizationQuery,
    QueryStatus, RetryPolicy, UsageClient,
};

use crate::scripted::{Act, RawServer, head};
use crate::support::{
    ORG_QUERY, ORG_RESULTS, bounded, build, config, org_execution, org_query, report,
};

/// A xorshift64* generator: deterministic per seed, no dependency.
struct Gen(u64);

impl Gen {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn string(&mut self) -> String {
        const ODD: &[&str] = &[
            "",
            "Complete",
            "Failed",
            "Running",
            "Queued",
            "complete",
            "COMPLETE ",
            "Cancelled",
            "platform.api",
            "web.messaging",
            "no.such.namespace",
            "\u{0}",
            "\u{fffd}",
            "ü",
            "😀",
            "\\\"",
            "2026-11-01T00:00:00Z",
            "2026-13-45T99:99:99Z",
            "9f32b7cf",
        ];
        if self.below(3) == 0 {
            return (*self.pick(ODD)).to_string();
        }
        let len = self.below(24);
        (0..len)
            .map(|_| match self.below(4) {
                0 => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('?'),
                _ => char::from(b' ' + self.below(95) as u8),
            })
            .collect()
    }

    fn number(&mut self) -> Value {
        match self.below(9) {
            0 => json!(u64::MAX),
            1 => json!(i64::MIN),
            2 => json!(1e308),
            3 => json!(-0.0),
            4 => json!(0.5),
            5 => json!(-1),
            6 => json!(i64::MAX),
            7 => json!(self.next()),
            _ => json!(self.below(1000)),
        }
    }

    /// Any JSON value, at most `depth` levels deep, biased towards the API's field names.
    fn value(&mut self, depth: u32) -> Value {
        let leaf = depth == 0 || self.below(3) == 0;
        match self.below(if leaf { 4 } else { 6 }) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => self.number(),
            3 => Value::String(self.string()),
            4 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
            _ => Value::Object(self.object(depth - 1)),
        }
    }

    fn object(&mut self, depth: u32) -> Map<String, Value> {
        const KEYS: &[&str] = &[
            "queryStatus",
            "results",
            "cursors",
            "after",
            "before",
            "executionId",
            "resultsUri",
            "clientId",
            "clientName",
            "organizationId",
            "userId",
            "templateUri",
            "httpMethod",
            "status200",
            "status300",
            "status400",
            "status429",
            "status500",
            "requests",
            "date",
            "message",
            "code",
            "status",
            "messageParams",
            "messageWithParams",
            "contextId",
            "details",
            "errors",
            "limit",
            "key",
            "namespace",
            "value",
            "entityId",
            "fieldName",
            "access_token",
            "expires_in",
            "token_type",
            "error",
            "error_description",
        ];
        (0..self.below(6))
            .map(|_| {
                let key = if self.below(5) == 0 {
                    self.string()
                } else {
                    (*self.pick(KEYS)).to_string()
                };
                (key, self.value(depth))
            })
            .collect()
    }

    /// An object shaped like one of the response types, with some values of the wrong type.
    fn shaped(&mut self) -> Value {
        match self.below(3) {
            0 => {
                let rows: Vec<Value> = (0..self.below(4)).map(|_| self.row()).collect();
                let status = self.text();
                let rows = self.or_wrong(Value::Array(rows));
                let after = self.string();
                let cursors = self.or_wrong(json!({ "after": after }));
                json!({"queryStatus": status, "results": rows, "cursors": cursors})
            }
            1 => json!({"executionId": self.text(), "resultsUri": self.text()}),
            _ => {
                let (message, code, status) = (self.text(), self.string(), self.num());
                let params = Value::Object(self.object(3));
                let params = self.or_wrong(params);
                let (key, namespace, value) = (self.string(), self.string(), self.number());
                let limit =
                    self.or_wrong(json!({"key": key, "namespace": namespace, "value": value}));
                let (inner, detail) = (self.string(), self.string());
                json!({"message": message, "code": code, "status": status,
                       "messageParams": params, "limit": limit,
                       "errors": [{"code": inner, "errors": [{"details": [{"errorCode": detail}]}]}]})
            }
        }
    }

    fn row(&mut self) -> Value {
        let mut row = Map::new();
        for key in [
            "clientId",
            "clientName",
            "userId",
            "templateUri",
            "httpMethod",
        ] {
            let value = self.text();
            row.insert(key.into(), value);
        }
        for key in ["status200", "status400", "status429", "requests"] {
            let value = self.num();
            row.insert(key.into(), value);
        }
        let date = json!(self.pick(&["2026-11-01T00:00:00Z", "2026-11-01", "yesterday"]));
        let date = self.or_wrong(date);
        row.insert("date".into(), date);
        Value::Object(row)
    }

    /// A string, or now and then a value of another type.
    fn text(&mut self) -> Value {
        let right = Value::String(self.string());
        self.or_wrong(right)
    }

    /// A number, or now and then a value of another type.
    fn num(&mut self) -> Value {
        let right = self.number();
        self.or_wrong(right)
    }

    fn or_wrong(&mut self, right: Value) -> Value {
        if self.below(4) == 0 {
            self.value(2)
        } else {
            right
        }
    }

    /// Bytes: random, JSON cut short, JSON with bytes flipped, or nested far too deep.
    fn bytes(&mut self) -> Vec<u8> {
        match self.below(6) {
            0 => (0..self.below(64)).map(|_| self.next() as u8).collect(),
            1 | 2 => {
                let mut json = serde_json::to_vec(&self.shaped()).unwrap();
                let at = self.below(json.len() as u64 + 1) as usize;
                if self.below(2) == 0 {
                    json.truncate(at);
                } else if at < json.len() {
                    json[at] = self.next() as u8;
                }
                json
            }
            3 => {
                let depth = 1 + self.below(20_000) as usize;
                let (open, close) = if self.below(2) == 0 {
                    ("[", "]")
                } else {
                    ("{\"queryStatus\":", "}")
                };
                let mut deep = open.repeat(depth);
                deep.push_str("null");
                deep.push_str(&close.repeat(depth));
                deep.into_bytes()
            }
            4 => serde_json::to_vec(&self.value(6)).unwrap(),
            _ => serde_json::to_vec(&self.shaped()).unwrap(),
        }
    }
}

fn seed() -> u64 {
    std::env::var("USAGE_SDK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0DD_B0D1E5)
}

fn cases(default: usize) -> usize {
    std::env::var("USAGE_SDK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Decodes `bytes` as the type; whatever decodes must survive a round trip unchanged.
macro_rules! decode {
    ($type:ty, $bytes:expr) => {{
        let bytes: &[u8] = $bytes;
        match serde_json::from_slice::<$type>(bytes) {
            Err(_) => false,
            Ok(value) => {
                let again: $type =
                    serde_json::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap();
                assert_eq!(
                    again,
                    value,
                    "round trip of {}",
                    String::from_utf8_lossy(bytes)
                );
                true
            }
        }
    }};
}

#[test]
fn arbitrary_bytes_and_json_decode_into_every_response_type_or_fail_cleanly() {
    let seed = seed();
    let mut generator = Gen::new(seed);
    let started = Instant::now();
    let mut decoded = [0usize; 3];
    let total = cases(3000);
    for case in 0..total {
        let bytes = generator.bytes();
        let outcome = std::panic::catch_unwind(|| {
            [
                decode!(ApiUsageQueryResult, &bytes),
                decode!(UsageExecutionResult, &bytes),
                decode!(ErrorBody, &bytes),
            ]
        });
        let Ok(ok) = outcome else {
            panic!(
                "seed {seed} case {case} panicked on {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            );
        };
        for (count, ok) in decoded.iter_mut().zip(ok) {
            *count += usize::from(ok);
        }
    }
    // The generator must reach both sides of every decoder, or the test proves little.
    for (name, count) in ["ApiUsageQueryResult", "UsageExecutionResult", "ErrorBody"]
        .iter()
        .zip(decoded)
    {
        assert!(
            count > total / 20 && count < total,
            "{name} decoded {count} of {total}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn unknown_enum_values_are_kept_verbatim() {
    let mut generator = Gen::new(seed());
    for _ in 0..2000 {
        let text = generator.string();
        let body = json!({"queryStatus": text, "results": [],
                          "limit": {"namespace": text}});
        let result: ApiUsageQueryResult = serde_json::from_value(body.clone()).unwrap();
        let status = result.query_status.unwrap();
        assert_eq!(status.as_str(), text);
        let known = matches!(text.as_str(), "Complete" | "Failed" | "Running");
        assert_eq!(
            matches!(status, QueryStatus::Unknown(_)),
            !known,
            "{text:?}"
        );
        assert_eq!(status.is_terminal(), text == "Complete" || text == "Failed");

        let error: ErrorBody = serde_json::from_value(body).unwrap();
        let namespace: &LimitNamespace = error.limit.as_ref().unwrap().namespace.as_ref().unwrap();
        assert_eq!(namespace.as_str(), text);
        assert_eq!(
            namespace.is_known(),
            LimitNamespace::KNOWN.contains(&text.as_str())
        );
        // Serialised back exactly as received.
        assert_eq!(serde_json::to_value(&status).unwrap(), json!(text));
    }
}

fn client(base_url: &str, credentials: bool) -> UsageClient {
    let builder = Config::builder()
        .base_url(base_url)
        .retry(RetryPolicy::default().with_jitter(false))
        .request_timeout(Duration::from_secs(5))
        .clock(Arc::new(ManualClock::new()));
    let builder = if credentials {
        builder.client_credentials("fuzz-bot", "fuzz-secret-77a0")
    } else {
        builder.access_token("fuzz-token-19c3")
    };
    UsageClient::new(builder.build().unwrap()).unwrap()
}

#[tokio::test]
async fn hostile_bodies_through_the_client_end_in_a_value_or_a_typed_error() {
    let seed = seed();
    let mut generator = Gen::new(seed ^ 0x5EED);
    let total = cases(160) / 2;
    let bodies: Vec<(u16, Vec<u8>)> = (0..total)
        .map(|_| {
            let status = *generator.pick(&[200, 202, 200, 400, 429, 500, 503]);
            (status, generator.bytes())
        })
        .collect();
    let served = Arc::new(bodies.clone());
    // Case N is served under the base path /cN/, the token endpoint included.
    let server = RawServer::start(move |request, _| {
        let case: usize = request.target[2..]
            .split('/')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let (status, body) = &served[case];
        Act::respond(
            *status,
            &[("Content-Type", "application/json")],
            body.clone(),
        )
    })
    .await;
    let query = OrganizationQuery::builder(
        "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z"
            .parse::<Interval>()
            .unwrap(),
    )
    .build()
    .unwrap();
    let execution = Execution::organization(ExecutionId::new("e1").unwrap());
    let started = Instant::now();
    for (case, (status, body)) in bodies.iter().enumerate() {
        // Even cases fetch a token from the hostile body first; odd ones send it to the API.
        let client = client(&format!("{}/c{case}", server.base_url), case % 2 == 0);
        let call = async {
            if case % 3 == 0 {
                client.submit(&query).await.map(drop)
            } else {
                client.fetch_page(&execution, None).await.map(drop)
            }
        };
        let result = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .unwrap_or_else(|_| panic!("seed {seed} case {case}: no answer in time"));
        if let Err(error) = &result {
            let typed = matches!(
                error,
                Error::Api(_)
                    | Error::Decode(_)
                    | Error::Auth(AuthError::Rejected { .. } | AuthError::Malformed { .. })
            );
            assert!(
                typed,
                "seed {seed} case {case} (HTTP {status}, {:?}): {error:?}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            );
            let shown = error.to_string();
            assert!(!shown.contains("fuzz-secret-77a0") && !shown.contains("fuzz-token-19c3"));
        }
    }
    assert!(
        server.requests().len() <= 5 * 2 * total,
        "more requests than the retry budget allows"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-picked bodies that are not what the API defines.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn truncated_json_html_and_invalid_utf8_are_decode_or_api_errors() {
    let server = RawServer::start(|request, _| {
        let json = [("Content-Type", "application/json")];
        match (request.method.as_str(), request.path()) {
            ("POST", ORG_QUERY) => Act::respond(
                202,
                &[("Content-Type", "text/html"), ("ININ-Correlation-Id", "corr-html")],
                "<html><body>Service maintenance</body></html>",
            ),
            ("GET", ORG_RESULTS) => Act::respond(
                200,
                &json,
                r#"{"queryStatus":"Complete","results":[{"clientId":"c"#,
            ),
            ("GET", "/api/v2/usage/query/utf8/results") => {
                Act::respond(200, &json, b"{\"queryStatus\":\"Comp\xff\xfete\"}".to_vec())
            }
            ("GET", "/api/v2/usage/query/utf8-error/results") => {
                let mut bytes = head(500, &json, Some(12)).into_bytes();
                bytes.extend_from_slice(b"\xff\xfe\xfd{\"code\":1}");
                Act::Raw(bytes)
            }
            _ => {
                // A header value that is not UTF-8, on an otherwise fine answer.
                let body = br#"{"queryStatus":"Running"}"#;
                let mut bytes = format!(
                    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\nININ-Correlation-Id: ",
                    body.len()
                )
                .into_bytes();
                bytes.extend_from_slice(b"\xc3\x28\xff\r\n\r\n");
                bytes.extend_from_slice(body);
                Act::Raw(bytes)
            }
        }
    })
    .await;
    let clock = ManualClock::new();
    let client = build(config(&server.base_url, &clock));
    let execution = |id: &str| Execution::organization(ExecutionId::new(id).unwrap());

    let (html, took) = bounded(client.submit(&org_query())).await;
    let err = html.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(decode.status, 202);
    assert_eq!(decode.correlation_id.as_deref(), Some("corr-html"));
    assert!(decode.snippet.starts_with("<html>"), "{}", decode.snippet);
    report(
        "202 with an HTML body (POST)",
        "Decode, not retried",
        1,
        took,
    );

    let (truncated, took) = bounded(client.fetch_page(&org_execution(), None)).await;
    let err = truncated.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.status == 200
            && d.source.as_ref().is_some_and(|e| e.is_eof())),
        "{err:?}"
    );
    report("200 with truncated JSON (GET)", "Decode (EOF)", 1, took);

    let (utf8, took) = bounded(client.fetch_page(&execution("utf8"), None)).await;
    let err = utf8.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.status == 200),
        "{err:?}"
    );
    assert!(err.to_string().contains('\u{fffd}'), "lossy snippet: {err}");
    report(
        "200 with invalid UTF-8 in a string (GET)",
        "Decode",
        1,
        took,
    );

    let (utf8_error, took) = bounded(client.fetch_page(&execution("utf8-error"), None)).await;
    assert!(
        matches!(&utf8_error, Err(Error::Api(api)) if api.status == 500 && api.body.is_none()),
        "{utf8_error:?}"
    );
    report(
        "500 with a non-UTF-8 body (GET)",
        "Api 500, no body",
        1,
        took,
    );

    let (odd_header, took) = bounded(client.fetch_page(&execution("odd-header"), None)).await;
    let result = odd_header.unwrap();
    assert_eq!(result.query_status, Some(QueryStatus::Running));
    report(
        "200 with a non-UTF-8 header value (GET)",
        "Ok, header ignored",
        1,
        took,
    );

    assert_eq!(server.requests().len(), 5, "no decode failure was retried");
}
