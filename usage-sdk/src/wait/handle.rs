//! One vocabulary for every kind of asynchronous query: a query is submitted
//! ([`UsageClient::submit`], or [`UsageClient::oauth_client`] for one client's), which gives
//! a **handle** ([`crate::Execution`], [`crate::OrganizationJob`], [`crate::OAuthClientJob`],
//! [`crate::SimpleSearch`]); [`UsageClient::wait`] polls the handle on one schedule and reads
//! its rows as one [`crate::Rows`] stream. A handle displays, parses and serialises as a short string
//! (`aggregates-job:organization:9f32…`), so a program can print or store it and resume
//! from it later: that is the only resume path.
//!
//! The waiter and the client's query methods are in `wait.rs`, with an example.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use crate::client::UsageClient;
use crate::model::error::Error;
use crate::model::ids::OAuthClientId;
use crate::wait::paging::Page;

/// Whether a handle came from a submit in this process (its first poll waits about a second,
/// as Genesys asks) or from elsewhere (parsed, or built from an id: it is polled at once, so a
/// finished result's first page is one round trip away). Never part of equality or hashing:
/// a handle is its operation, scope and id.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fresh(pub(crate) bool);

impl PartialEq for Fresh {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Fresh {}

impl std::hash::Hash for Fresh {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// Only this crate's handles and queries implement its traits (`pub(crate)` items cannot
/// name what the public traits need, so the traits are sealed instead).
pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A submitted query of any kind: what to poll and read, and where.
///
/// Implemented by [`crate::Execution`] (legacy usage queries and the client usage summary),
/// [`crate::OrganizationJob`] and [`crate::OAuthClientJob`] (aggregates query jobs) and
/// [`crate::SimpleSearch`].
pub trait Handle:
    sealed::Sealed + Clone + fmt::Debug + fmt::Display + FromStr<Err = Error> + Send + Sync + 'static
{
    /// The row type of its results.
    type Row: Send + 'static;
    /// What one results GET returns ([`UsageClient::fetch_page`]).
    type Page: Send + 'static;

    /// The id the server gave it.
    fn id(&self) -> &str;

    /// The kind and scope part of its string form, e.g. `aggregates-job:organization`.
    fn kind(&self) -> &'static str;

    /// One results GET.
    #[doc(hidden)]
    fn fetch(
        &self,
        client: &UsageClient,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Self::Page, Error>> + Send;

    /// What a results page says: its status, whether the query is finished, its rows.
    #[doc(hidden)]
    fn read(&self, page: Self::Page) -> Result<Step<Self::Row>, Error>;

    /// The deadline error of this kind.
    #[doc(hidden)]
    fn timed_out(&self, waited: Duration, last_status: Option<&str>) -> Error;

    /// Whether the first poll should wait (a fresh submit) or go at once (a resume).
    #[doc(hidden)]
    fn submitted_here(&self) -> bool;
}

/// What one results page said (see [`Handle::read`]).
#[doc(hidden)]
pub struct Step<R> {
    pub(crate) status: Option<String>,
    pub(crate) state: State,
    pub(crate) page: Page<R>,
}

#[doc(hidden)]
pub enum State {
    /// Not finished yet (queued, running, or a status this crate does not know).
    Pending,
    /// Finished: the rows can be read.
    Done,
    /// Ended without rows (failed, cancelled).
    Failed(Error),
}

/// A query that is submitted on its own (an organization's): [`crate::UsageClient::submit`].
pub trait Submit: sealed::Sealed {
    /// What submitting it gives.
    type Handle: Handle;

    /// Sends it.
    #[doc(hidden)]
    fn submit(
        &self,
        client: &UsageClient,
    ) -> impl Future<Output = Result<Self::Handle, Error>> + Send;
}

/// A query of one OAuth client's usage: [`crate::OAuthClientScope::submit`].
pub trait SubmitForClient: sealed::Sealed {
    /// What submitting it gives.
    type Handle: Handle;

    /// Sends it for `client_id`.
    #[doc(hidden)]
    fn submit(
        &self,
        client: &UsageClient,
        client_id: &OAuthClientId,
    ) -> impl Future<Output = Result<Self::Handle, Error>> + Send;
}

/// What a waiter saw on one poll, for every kind.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct WaitEvent<'a> {
    /// The handle's string form's kind and scope, e.g. `aggregates-job:organization`.
    pub kind: &'static str,
    /// The id polled.
    pub id: &'a str,
    /// The poll number, from 1.
    pub poll: u32,
    /// The status the server reported (`queryStatus`), as sent.
    pub status: Option<&'a str>,
    /// Time since the waiter started.
    pub elapsed: Duration,
}

/// Writes a handle's string form: its kind and scope, then its ids with `%` and `:` escaped
/// (ids are opaque strings and may hold either).
pub(crate) fn write_handle(f: &mut fmt::Formatter<'_>, form: &str, ids: &[&str]) -> fmt::Result {
    f.write_str(form)?;
    for id in ids {
        write!(f, ":{}", id.replace('%', "%25").replace(':', "%3A"))?;
    }
    Ok(())
}

/// Which of `forms` (kind and scope, number of ids) `text` has, and its ids, unescaped.
pub(crate) fn parse_handle(
    text: &str,
    forms: &[(&'static str, usize)],
) -> Result<(&'static str, Vec<String>), Error> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    forms
        .iter()
        .find_map(|(form, ids)| {
            let head = form.split(':').count();
            (parts.len() == head + ids && parts[..head].join(":") == *form)
                .then(|| (*form, parts[head..].iter().map(|p| unescape(p)).collect()))
        })
        .ok_or_else(|| {
            let expected: Vec<String> = forms
                .iter()
                .map(|(form, ids)| match ids {
                    1 => format!("{form}:ID"),
                    _ => format!("{form}:CLIENT:ID"),
                })
                .collect();
            Error::invalid(
                "handle",
                format!(
                    "{:?} is not a handle of the form {}",
                    crate::model::error::snippet(text.as_bytes(), 120),
                    expected.join(" or ")
                ),
            )
        })
}

fn unescape(part: &str) -> String {
    part.replace("%3A", ":")
        .replace("%3a", ":")
        .replace("%25", "%")
}

/// Serde of a handle: its string form.
macro_rules! handle_serde {
    ($ty:ident) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use handle_serde;
