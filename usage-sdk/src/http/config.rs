//! Client configuration: where to connect, how to authenticate, how to retry, poll and time out.

use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::http::poller::PollPolicy;
use crate::http::region::Region;
use crate::http::retry::RetryPolicy;
use crate::http::tls::ExtraRoots;
use crate::model::error::Error;
pub use crate::model::secret::Secret;
use crate::model::time::{Clock, TokioClock};

/// The environment variable naming a PEM file of CA certificates trusted in addition to the
/// platform's (see [`ConfigBuilder::extra_root_certificates_pem`]). Not a `GENESYSCLOUD_*`
/// name: it is this crate's, and usage-report's demo mode looks at those names only.
pub(crate) const CA_FILE_VAR: &str = "USAGE_SDK_CA_FILE";

/// How the client authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// OAuth client credentials grant: the client fetches, caches and renews tokens itself.
    ClientCredentials {
        /// The OAuth client id (not secret).
        client_id: String,
        /// The OAuth client secret.
        client_secret: Secret,
    },
    /// An access token obtained elsewhere. It is used as is and cannot be renewed.
    AccessToken(Secret),
}

/// The default of [`ConfigBuilder::max_response_size`]: far above any usage report seen, far
/// below what would hurt a small container.
const DEFAULT_MAX_RESPONSE_SIZE: u64 = 128 << 20;

/// Connection and request timeouts. Both apply to every attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Time to establish a connection (TCP and TLS).
    pub connect: Duration,
    /// Time for one attempt, from sending the request to the end of the response body.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(60),
        }
    }
}

/// A checked client configuration. Build one with [`Config::builder`] or [`Config::from_env`].
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) base_url: String,
    pub(crate) token_url: String,
    pub(crate) credentials: Credentials,
    pub(crate) retry: RetryPolicy,
    pub(crate) poll: PollPolicy,
    pub(crate) timeouts: Timeouts,
    pub(crate) user_agent: String,
    pub(crate) max_response_size: u64,
    pub(crate) extra_roots: ExtraRoots,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Config {
    /// A builder with the defaults: region `us-east-1`, retries on, default timeouts.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// A builder filled from the variables the Genesys tools use:
    /// `GENESYSCLOUD_REGION` (e.g. `us-east-1` or `mypurecloud.com`),
    /// `GENESYSCLOUD_API_REGION` (a full base URL; overrides the region),
    /// `GENESYSCLOUD_OAUTHCLIENT_ID` and `GENESYSCLOUD_OAUTHCLIENT_SECRET`, or
    /// `GENESYSCLOUD_ACCESS_TOKEN` (a token obtained elsewhere; wins over client credentials);
    /// and `USAGE_SDK_CA_FILE`, a PEM file of CA certificates trusted in addition to the
    /// platform's (see [`ConfigBuilder::extra_root_certificates_pem`]; the file is read here,
    /// parsed by [`ConfigBuilder::build`]).
    pub fn from_env() -> Result<ConfigBuilder, Error> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Like [`Config::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ConfigBuilder, Error> {
        let mut builder = Config::builder();
        if let Some(region) = lookup("GENESYSCLOUD_REGION") {
            builder = builder.region(region.parse()?);
        }
        if let Some(url) = lookup("GENESYSCLOUD_API_REGION") {
            builder = builder.base_url(url);
        }
        let id = lookup("GENESYSCLOUD_OAUTHCLIENT_ID");
        let secret = lookup("GENESYSCLOUD_OAUTHCLIENT_SECRET");
        if let Some(token) = lookup("GENESYSCLOUD_ACCESS_TOKEN") {
            builder = builder.access_token(token);
        } else {
            match (id, secret) {
                (Some(id), Some(secret)) => builder = builder.client_credentials(id, secret),
                (Some(_), None) => {
                    return Err(Error::invalid(
                        "GENESYSCLOUD_OAUTHCLIENT_SECRET",
                        "is not set, but GENESYSCLOUD_OAUTHCLIENT_ID is; set both",
                    ));
                }
                (None, Some(_)) => {
                    return Err(Error::invalid(
                        "GENESYSCLOUD_OAUTHCLIENT_ID",
                        "is not set, but GENESYSCLOUD_OAUTHCLIENT_SECRET is; set both",
                    ));
                }
                (None, None) => {}
            }
        }
        if let Some(path) = lookup(CA_FILE_VAR) {
            let pem = std::fs::read(path.trim())
                .map_err(|e| Error::invalid(CA_FILE_VAR, format!("cannot read {path:?}: {e}")))?;
            builder.extra_roots.push(RootsPem {
                field: CA_FILE_VAR,
                origin: format!("{path:?}"),
                pem,
            });
        }
        Ok(builder)
    }

    /// The API base URL, e.g. `https://api.mypurecloud.com`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The OAuth token URL, e.g. `https://login.mypurecloud.com/oauth/token`.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The poll policy of the waiters.
    pub fn poll(&self) -> &PollPolicy {
        &self.poll
    }

    /// The timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The `User-Agent` sent.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The largest response body read, in bytes (see [`ConfigBuilder::max_response_size`]).
    pub fn max_response_size(&self) -> u64 {
        self.max_response_size
    }

    /// The path of the base URL (`""` for most; a gateway's prefix otherwise).
    pub(crate) fn base_path(&self) -> &str {
        let after_scheme = self.base_url.split_once("://").map_or("", |(_, rest)| rest);
        after_scheme.find('/').map_or("", |at| &after_scheme[at..])
    }

    /// Whether the API and token URLs are both on loopback: such a client never goes through
    /// a proxy (`HTTP_PROXY` would otherwise carry its token, in clear, off the machine).
    pub(crate) fn is_loopback(&self) -> bool {
        [&self.base_url, &self.token_url]
            .iter()
            .all(|url| Url::parse(url).is_ok_and(|url| is_loopback(&url)))
    }

    /// How many CA certificates are trusted in addition to the platform's (see
    /// [`ConfigBuilder::extra_root_certificates_pem`]).
    pub fn extra_root_certificates(&self) -> usize {
        self.extra_roots.len()
    }
}

/// PEM given for extra roots, parsed by [`ConfigBuilder::build`]; where it came from names it
/// in errors. `Debug` shows its size, not its text.
#[derive(Clone)]
struct RootsPem {
    field: &'static str,
    origin: String,
    pem: Vec<u8>,
}

impl std::fmt::Debug for RootsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes of PEM)", self.origin, self.pem.len())
    }
}

/// Builds a [`Config`] ([`Config::builder`]) or a client ([`crate::UsageClient::builder`]);
/// [`ConfigBuilder::build`] checks it.
#[derive(Clone, Debug)]
#[must_use]
pub struct ConfigBuilder<T = Config> {
    region: Region,
    base_url: Option<String>,
    token_url: Option<String>,
    credentials: Option<Credentials>,
    retry: RetryPolicy,
    poll: PollPolicy,
    timeouts: Timeouts,
    user_agent_suffix: Option<String>,
    max_response_size: u64,
    extra_roots: Vec<RootsPem>,
    clock: Arc<dyn Clock>,
    /// What `build` makes: a `Config`, or a client.
    product: PhantomData<fn() -> T>,
}

/// What a [`ConfigBuilder`] builds from a checked [`Config`]: the config itself, or a
/// [`crate::UsageClient`].
pub trait FromConfig: Sized {
    /// Makes `Self` from a checked configuration.
    fn from_config(config: Config) -> Result<Self, Error>;
}

impl FromConfig for Config {
    fn from_config(config: Config) -> Result<Self, Error> {
        Ok(config)
    }
}

impl<T> Default for ConfigBuilder<T> {
    fn default() -> Self {
        Self {
            region: Region::UsEast1,
            base_url: None,
            token_url: None,
            credentials: None,
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            timeouts: Timeouts::default(),
            user_agent_suffix: None,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            extra_roots: Vec::new(),
            clock: Arc::new(TokioClock),
            product: PhantomData,
        }
    }
}

impl<T: FromConfig> ConfigBuilder<T> {
    /// The Genesys Cloud region (ignored when a base URL is set).
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// An explicit API base URL, for gateways and tests (`http://127.0.0.1:PORT`). Plain
    /// `http` is accepted only for loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// An explicit token URL. By default it is the base URL's host with a leading `api.`
    /// replaced by `login.`, and path `/oauth/token`.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// Authenticate with the OAuth client credentials grant.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        self.credentials = Some(Credentials::ClientCredentials {
            client_id: client_id.into(),
            client_secret: secret.into(),
        });
        self
    }

    /// Authenticate with an access token obtained elsewhere.
    pub fn access_token(mut self, token: impl Into<Secret>) -> Self {
        self.credentials = Some(Credentials::AccessToken(token.into()));
        self
    }

    /// Whether credentials have been set (e.g. by [`Config::from_env`]).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The poll policy of the waiters.
    pub fn poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// The connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The per-attempt request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.request = timeout;
        self
    }

    /// Appended to the `User-Agent`, e.g. `my-billing-job/2.1`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// The largest response body the client reads, in bytes; default 128 MiB. A larger body
    /// (by its `Content-Length`, or counted while reading) fails the call with
    /// [`Error::ResponseTooLarge`] instead of being buffered: the generated client reads bodies
    /// whole, so without a limit a broken or hostile server could exhaust memory.
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// CA certificates to trust in addition to the platform's: PEM with one or more
    /// `CERTIFICATE` blocks, e.g. the CA of a TLS-inspecting proxy or a private gateway.
    /// Each call adds to the earlier ones (and to `USAGE_SDK_CA_FILE`'s, read by
    /// [`Config::from_env`]). [`build`](Self::build) parses them: PEM that holds no
    /// certificate or a malformed one is [`Error::InvalidInput`].
    ///
    /// The platform's roots stay trusted. (On Linux they are read through rustls-native-certs,
    /// which honours `SSL_CERT_FILE` and `SSL_CERT_DIR` by *replacing* the system's roots
    /// with those; the roots given here are added to whichever set that is.)
    pub fn extra_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(RootsPem {
            field: "extra_root_certificates_pem",
            origin: "the PEM given".into(),
            pem: pem.into(),
        });
        self
    }

    /// The time source and sleep used for retries, polling and token expiry (tests inject
    /// [`crate::model::time::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<T, Error> {
        T::from_config(self.checked()?)
    }

    fn checked(self) -> Result<Config, Error> {
        let base = match &self.base_url {
            Some(url) => checked_url("base_url", "base URL", url)?,
            None => Url::parse(&self.region.api_base_url()).expect("region URLs are valid"),
        };
        let token_url = match &self.token_url {
            Some(url) => checked_url("token_url", "token URL", url)?,
            None => derive_token_url(&base),
        };
        let credentials = self.credentials.ok_or_else(|| {
            Error::invalid(
                "credentials",
                "none set; use client_credentials(id, secret) or access_token(token), \
                 or set GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET",
            )
        })?;
        if let Credentials::ClientCredentials {
            client_id,
            client_secret,
        } = &credentials
        {
            if client_id.trim().is_empty() {
                return Err(Error::invalid("client_id", "is empty"));
            }
            if client_secret.expose().is_empty() {
                return Err(Error::invalid("client_secret", "is empty"));
            }
        }
        if let Credentials::AccessToken(token) = &credentials
            && (token.expose().trim().is_empty() || token.expose().chars().any(char::is_control))
        {
            return Err(Error::invalid(
                "access_token",
                "is empty or contains control characters",
            ));
        }
        let mut extra_roots = Vec::new();
        for given in &self.extra_roots {
            extra_roots.extend(crate::http::tls::parse_roots(
                given.field,
                &given.origin,
                &given.pem,
            )?);
        }
        let mut user_agent = format!("usage-sdk/{} (Rust)", env!("CARGO_PKG_VERSION"));
        if let Some(suffix) = &self.user_agent_suffix {
            user_agent.push(' ');
            user_agent.push_str(suffix);
        }
        Ok(Config {
            base_url: base.as_str().trim_end_matches('/').to_string(),
            token_url: token_url.to_string(),
            credentials,
            retry: self.retry,
            poll: self.poll,
            timeouts: self.timeouts,
            user_agent,
            max_response_size: self.max_response_size,
            extra_roots: extra_roots.into_iter().collect(),
            clock: self.clock,
        })
    }
}

/// Parses a URL and refuses plain `http` to anything but loopback: tokens and secrets must
/// not cross a network in clear text. A URL with `user:password@` is refused too: the
/// password would travel in every `Debug` of the config and every error naming the URL.
fn checked_url(field: &'static str, what: &'static str, url: &str) -> Result<Url, Error> {
    let shown = without_userinfo(url);
    let parsed = Url::parse(url.trim())
        .map_err(|e| Error::invalid(field, format!("{what} {shown:?} is not a URL: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            field,
            format!(
                "{what} {shown:?} carries user information (user:password@); leave it out and \
                 give credentials with client_credentials or access_token"
            ),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::invalid(
            field,
            format!("{what} {url:?} must not have a query or fragment"),
        ));
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(Error::invalid(
            field,
            format!("{what} {url:?} uses plain http to a non-loopback host; use https"),
        )),
        other => Err(Error::invalid(
            field,
            format!("{what} {url:?} has unsupported scheme {other}"),
        )),
    }
}

/// `url` with anything between `://` and an `@` before the path replaced by `***`, for
/// messages about a URL that may carry a password (and may not even parse).
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The token URL the official SDKs derive: `api.` → `login.` in the host; other hosts
/// (loopback, gateways) keep their own host. Any base path is kept.
fn derive_token_url(base: &Url) -> Url {
    let mut url = base.clone();
    if let Some(host) = base.host_str()
        && let Some(rest) = host.strip_prefix("api.")
    {
        url.set_host(Some(&format!("login.{rest}")))
            .expect("a valid host stays valid");
    }
    let path = format!("{}/oauth/token", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_user_information_is_refused_without_echoing_the_password() {
        for url in [
            "https://alice:hunter2-secret@api.mypurecloud.com",
            "http://alice:hunter2-secret@127.0.0.1:8080/",
            "https://:hunter2-secret@api.mypurecloud.com",
            "https://alice@api.mypurecloud.com",
            // Does not even parse (a space in the host): still not echoed.
            "https://alice:hunter2-secret@api my.com/",
        ] {
            for built in [
                Config::builder().base_url(url).access_token("t").build(),
                Config::builder().token_url(url).access_token("t").build(),
            ] {
                let error = built.expect_err(url);
                let message = error.to_string();
                assert!(matches!(error, Error::InvalidInput(_)), "{url}: {message}");
                assert!(!message.contains("hunter2"), "{url}: {message}");
                assert!(
                    !format!("{error:?}").contains("hunter2"),
                    "{url}: {error:?}"
                );
            }
        }
        let message = Config::builder()
            .base_url("https://alice:hunter2-secret@api.mypurecloud.com")
            .access_token("t")
            .build()
            .unwrap_err()
            .to_string();
        assert!(message.contains("user information"), "{message}");
    }

    #[test]
    fn only_a_client_wholly_on_loopback_bypasses_proxies() {
        let config = |base: &str| {
            Config::builder()
                .base_url(base)
                .access_token("t")
                .build()
                .unwrap()
        };
        assert!(config("http://127.0.0.1:9/").is_loopback());
        assert!(config("http://[::1]:9").is_loopback());
        assert!(config("http://localhost:9").is_loopback());
        assert!(!config("https://api.mypurecloud.com").is_loopback());
        let split = Config::builder()
            .base_url("http://127.0.0.1:9")
            .token_url("https://login.mypurecloud.com/oauth/token")
            .access_token("t")
            .build()
            .unwrap();
        assert!(!split.is_loopback());
    }

    fn build(base: &str) -> Result<Config, Error> {
        Config::builder().base_url(base).access_token("t").build()
    }

    #[test]
    fn token_url_swaps_api_for_login_or_keeps_the_host() {
        let region = Config::builder()
            .region(Region::EuWest2)
            .access_token("t")
            .build()
            .unwrap();
        assert_eq!(region.base_url(), "https://api.euw2.pure.cloud");
        assert_eq!(
            region.token_url(),
            "https://login.euw2.pure.cloud/oauth/token"
        );
        let local = build("http://127.0.0.1:8080/").unwrap();
        assert_eq!(local.base_url(), "http://127.0.0.1:8080");
        assert_eq!(local.token_url(), "http://127.0.0.1:8080/oauth/token");
        let gateway = build("https://gw.example.com/genesys").unwrap();
        assert_eq!(
            gateway.token_url(),
            "https://gw.example.com/genesys/oauth/token"
        );
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        for ok in [
            "http://127.0.0.1:1",
            "http://[::1]:1",
            "http://localhost:1",
            "https://example.com",
        ] {
            assert!(build(ok).is_ok(), "{ok}");
        }
        let err = build("http://example.com").unwrap_err().to_string();
        assert!(
            err.contains("plain http") && err.contains("use https"),
            "{err}"
        );
        assert!(build("ftp://127.0.0.1").is_err());
        assert!(build("not a url").is_err());
    }

    #[test]
    fn missing_credentials_say_how_to_provide_them() {
        let err = Config::builder().build().unwrap_err().to_string();
        assert!(err.contains("GENESYSCLOUD_OAUTHCLIENT_ID"), "{err}");
    }

    #[test]
    fn environment_variables_are_read_like_the_genesys_tools() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let config = Config::from_lookup(vars(&[
            ("GENESYSCLOUD_REGION", "eu_central_1"),
            ("GENESYSCLOUD_OAUTHCLIENT_ID", "id"),
            ("GENESYSCLOUD_OAUTHCLIENT_SECRET", "s3cret"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(config.base_url(), "https://api.mypurecloud.de");
        assert!(
            matches!(config.credentials(), Credentials::ClientCredentials { client_id, .. } if client_id == "id")
        );

        let overridden = Config::from_lookup(vars(&[
            ("GENESYSCLOUD_REGION", "eu_central_1"),
            ("GENESYSCLOUD_API_REGION", "https://api.mypurecloud.jp"),
            ("GENESYSCLOUD_ACCESS_TOKEN", "tok"),
        ]))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(overridden.base_url(), "https://api.mypurecloud.jp");
        assert_eq!(
            overridden.credentials(),
            &Credentials::AccessToken("tok".into())
        );

        let half = Config::from_lookup(vars(&[("GENESYSCLOUD_OAUTHCLIENT_ID", "id")])).unwrap_err();
        assert!(
            half.to_string().contains("GENESYSCLOUD_OAUTHCLIENT_SECRET"),
            "{half}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let config = Config::builder()
            .client_credentials("my-id", "very-secret-value")
            .build()
            .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("very-secret-value"), "{debug}");
        assert!(debug.contains("my-id"));
    }
}
