//! The generated client's hooks: every request, through [`crate::UsageClient`] or a raw
//! client from [`crate::UsageClient::raw`], gets the bearer token, is sent with retries and
//! pacing ([`crate::http::transport::send`]), and after a 401 is sent once more with a renewed
//! token. What the attempts saw stays in the client's [`Session`] for error mapping.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::AUTHORIZATION;
use reqwest::{Request, Response, StatusCode};

use crate::http::raw::Client;
use crate::http::session::Session;
use crate::http::transport::send;

impl ClientHooks<Session> for Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        crate::http::routes::check(
            info.operation_id,
            self.inner().shared.config.base_path(),
            request.url().path(),
        )
        .map_err(progenitor_client::Error::InvalidRequest)?;
        let session = self.inner();
        let bearer = match session.given_bearer() {
            Some(bearer) => bearer,
            // A raw client asks the token cache on every request (renewed ahead of expiry);
            // UsageClient passes one in, so that a token failure stays a typed error.
            None => {
                let shared = &session.shared;
                let bearer = shared
                    .tokens
                    .bearer(&shared.http, &shared.config)
                    .await
                    .map_err(|e| progenitor_client::Error::Custom(e.to_string()))?;
                session.set_bearer(bearer.clone());
                bearer
            }
        };
        request
            .headers_mut()
            .insert(AUTHORIZATION, bearer.header().clone());
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let session = self.inner();
        let shared = &session.shared;
        let operation = info.operation_id;
        let throttle = shared.throttle.as_deref();
        // Bodies here are always buffered, so a copy for the one renewal is cheap.
        let again = shared
            .tokens
            .can_renew()
            .then(|| request.try_clone())
            .flatten();
        let response = send(
            self.client(),
            request,
            operation,
            &shared.config,
            session.attempts(),
            throttle,
            Some(&shared.bodies),
        )
        .await?;
        let (Some(mut again), Some(rejected)) = (again, session.bearer()) else {
            return Ok(response);
        };
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        // The token was revoked or expired early: renew once, send once more. If no new
        // token can be had, the 401 stands.
        tracing::debug!(
            operation,
            "401: renewing the access token and retrying once"
        );
        shared.tokens.invalidate(&rejected).await;
        let Ok(renewed) = shared.tokens.bearer(&shared.http, &shared.config).await else {
            return Ok(response);
        };
        session.set_bearer(renewed.clone());
        again
            .headers_mut()
            .insert(AUTHORIZATION, renewed.header().clone());
        drop(response);
        send(
            self.client(),
            again,
            operation,
            &shared.config,
            session.attempts(),
            throttle,
            Some(&shared.bodies),
        )
        .await
    }
}
