//! Fixtures shared by the test modules.

use std::fmt::Debug;
use std::future::Future;

use httpmock::{Mock, MockServer};
use serde_json::{Value, json};
use usage_sdk::raw::types::ErrorBody;
use usage_sdk::raw::{Error, ResponseValue};

/// The access token every fixture client presents.
pub const TOKEN: &str = "test-access-token-0f3c";

/// The `Authorization` value the server must see for [`TOKEN`].
pub const BEARER: &str = "Bearer test-access-token-0f3c";

/// A realistic execution id, shaped like the ones in the Genesys API-usage blog post.
pub const EXECUTION_ID: &str = "9f32b7cf-7418-4cc1-b4e7-a37f7cd870e1";

/// A realistic OAuth client id.
pub const CLIENT_ID: &str = "6f1d5a3e-2c4b-4e8a-9a7d-0b1c2d3e4f50";

/// The generated raw client, pointed at `server` and authenticated with [`TOKEN`], as
/// `UsageClient::raw` gives it: its requests carry the token; retries are off here so each
/// test sees exactly one request per call.
pub fn raw_client(server: &MockServer) -> usage_sdk::raw::Client {
    usage_sdk::UsageClient::new(
        usage_sdk::Config::builder()
            .base_url(server.base_url())
            .access_token(TOKEN)
            .retry(usage_sdk::RetryPolicy::disabled())
            .build()
            .expect("a valid config"),
    )
    .expect("a client")
    .raw()
}

/// Awaits `call`, then checks that `mock` matched it exactly once, before the caller looks at
/// the result.
///
/// An unmatched request makes httpmock answer `404 {"message":"Request did not match any route
/// or mock"}`, which the generated client happily parses as an `ErrorBody`; checking the mock
/// first turns that into httpmock's report of the closest mock and a diff of what differed.
pub async fn answered_by<T>(mock: &Mock<'_>, call: impl Future<Output = T>) -> T {
    let outcome = call.await;
    mock.assert_async().await;
    outcome
}

/// The success value of a raw call, or a panic that says what came back instead.
pub async fn expect_ok<T: Debug>(
    result: Result<ResponseValue<T>, Error<ErrorBody>>,
) -> ResponseValue<T> {
    match result {
        Ok(value) => value,
        Err(e) => panic!("expected a success, got {}", describe(e).await),
    }
}

/// The `ErrorResponse` of a raw call, or a panic that says what came back instead.
pub async fn expect_error_response<T: Debug>(
    result: Result<ResponseValue<T>, Error<ErrorBody>>,
) -> ResponseValue<ErrorBody> {
    match result {
        Ok(value) => panic!(
            "expected Error::ErrorResponse, got success {} {:?}",
            value.status(),
            value.into_inner()
        ),
        Err(Error::ErrorResponse(body)) => body,
        Err(e) => panic!("expected Error::ErrorResponse, got {}", describe(e).await),
    }
}

/// A progenitor error as one line, with the body of an undeclared response read out.
pub async fn describe(error: Error<ErrorBody>) -> String {
    match error {
        Error::UnexpectedResponse(response) => {
            let status = response.status();
            let body = response
                .text()
                .await
                .unwrap_or_else(|e| format!("<unreadable: {e}>"));
            format!("UnexpectedResponse {status} with body {body:?}")
        }
        Error::InvalidResponsePayload(bytes, e) => format!(
            "InvalidResponsePayload ({e}) for body {:?}",
            String::from_utf8_lossy(&bytes)
        ),
        other => format!("{other:?}"),
    }
}

/// One declared error status with a machine code and message Genesys documents for it.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCase {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

/// Every error status the spec declares for the five operations, with a code from its
/// `x-inin-error-codes` (reference §3).
pub const DECLARED_ERRORS: [ErrorCase; 12] = [
    ErrorCase {
        status: 400,
        code: "invalid.date",
        message: "The interval is not a valid ISO-8601 interval",
    },
    ErrorCase {
        status: 401,
        code: "bad.credentials",
        message: "Invalid login credentials.",
    },
    ErrorCase {
        status: 403,
        code: "missing.any.permissions",
        message: "Unable to perform the requested action. You must have at least one of the following permissions assigned: [oauth:client:view, usage:organization:view]",
    },
    ErrorCase {
        status: 404,
        code: "not.found",
        message: "The requested resource was not found.",
    },
    ErrorCase {
        status: 408,
        code: "client.timeout",
        message: "The client did not produce a request within the server timeout limit.",
    },
    ErrorCase {
        status: 409,
        code: "request.conflict",
        message: "The request conflicts with the current state of the target resource.",
    },
    ErrorCase {
        status: 413,
        code: "request.entity.too.large",
        message: "The request is over the size limit. Maximum bytes: 1048576",
    },
    ErrorCase {
        status: 415,
        code: "unsupported.media.type",
        message: "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect Content-Type value in the header.",
    },
    ErrorCase {
        status: 429,
        code: "too.many.requests.retry.after",
        message: "Rate limit exceeded the maximum. Retry the request in [17] seconds",
    },
    ErrorCase {
        status: 500,
        code: "internal.server.error",
        message: "The server encountered an unexpected condition which prevented it from fulfilling the request.",
    },
    ErrorCase {
        status: 503,
        code: "service.unavailable",
        message: "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).",
    },
    ErrorCase {
        status: 504,
        code: "request.timeout",
        message: "The request timed out.",
    },
];

impl ErrorCase {
    /// A correlation id unique to this case, sent both as `contextId` and as the
    /// `ININ-Correlation-Id` header (Genesys uses the same value for both).
    pub fn correlation_id(&self) -> String {
        format!("c0ffee00-0000-4000-8000-000000000{}", self.status)
    }

    /// Whether Genesys sends `Retry-After` with this status (429, and 503 when overloaded).
    pub fn retry_after(&self) -> Option<&'static str> {
        matches!(self.status, 429 | 503).then_some("17")
    }

    /// The `ErrorBody` JSON Genesys sends for this case.
    pub fn body(&self) -> Value {
        json!({
            "message": self.message,
            "code": self.code,
            "status": self.status,
            "messageParams": {},
            "contextId": self.correlation_id(),
            "details": [],
            "errors": []
        })
    }
}
