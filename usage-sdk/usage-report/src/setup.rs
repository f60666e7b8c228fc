//! Where the report comes from: the configured organization, or the demo stand-in.
//!
//! Issue 14: demo data must never pass for real data. The stand-in is used only when no
//! `GENESYSCLOUD_*` variable is present at all, or with `--demo`. A variable that is present
//! but empty counts as present: a CI job exporting secrets that are missing must fail, not
//! report on made-up data. Anything short of a complete configuration is an error naming
//! what is missing. `USAGE_SDK_CA_FILE` (extra trusted CAs, read by `Config::from_env`) is
//! not a `GENESYSCLOUD_*` variable and plays no part in that decision. A profile
//! (`--profile`, `--all-profiles`) is a complete configuration of its own: never demo, and
//! the `GENESYSCLOUD_*` variables play no part.

use usage_sdk::{Config, PollPolicy, UsageClient};
use usage_sdk_stand_in::{RunningStandIn, StandIn};

use crate::exit::Exit;
use crate::profiles::Profile;

/// Where a command's rows come from, decided before anything is started or sent.
#[derive(Clone, Debug)]
pub enum Origin {
    /// The demo stand-in, and why.
    Demo(&'static str),
    /// The `GENESYSCLOUD_*` variables.
    Environment,
    /// A profile of the profiles file.
    Profile(Box<Profile>),
}

impl Origin {
    /// Why the rows are the demo stand-in's, or `None`.
    pub fn demo(&self) -> Option<&'static str> {
        match self {
            Origin::Demo(why) => Some(why),
            _ => None,
        }
    }

    /// The API's base URL (an organization's store records it); `None` for the demo.
    pub fn api(&self) -> Result<Option<String>, Exit> {
        let builder = match self {
            Origin::Demo(_) => return Ok(None),
            Origin::Environment => Config::from_env()?,
            Origin::Profile(profile) => profile.config()?,
        };
        Ok(Some(builder.build()?.base_url().to_string()))
    }
}

/// The origin of a command: `profile` when given (never with `--demo`), else the demo rule
/// of [`demo_reason`].
pub fn origin(demo: bool, resumes: bool, profile: Option<&Profile>) -> Result<Origin, Exit> {
    match profile {
        Some(_) if demo => Err(Exit::usage(
            "--demo with a profile: a profile is an organization's configuration, never demo \
             data; drop --demo, or --profile / --all-profiles",
        )),
        Some(profile) => Ok(Origin::Profile(Box::new(profile.clone()))),
        None => Ok(match demo_reason(demo, resumes)? {
            Some(why) => Origin::Demo(why),
            None => Origin::Environment,
        }),
    }
}

/// The variables `usage_sdk::Config::from_lookup` reads.
pub const REGION: &str = "GENESYSCLOUD_REGION";
pub const API_REGION: &str = "GENESYSCLOUD_API_REGION";
pub const CLIENT_ID: &str = "GENESYSCLOUD_OAUTHCLIENT_ID";
pub const CLIENT_SECRET: &str = "GENESYSCLOUD_OAUTHCLIENT_SECRET";
pub const ACCESS_TOKEN: &str = "GENESYSCLOUD_ACCESS_TOKEN";

/// What the environment asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// No `GENESYSCLOUD_*` variable at all: the demo stand-in.
    Demo,
    /// A complete configuration: build it with `Config::from_lookup`.
    Configured,
}

/// Decides from the `GENESYSCLOUD_*` variables present (name, value), or says what is
/// missing. Only variables starting with `GENESYSCLOUD_` are looked at; values are only
/// checked for being empty, never printed.
pub fn decide(vars: &[(String, String)]) -> Result<Source, String> {
    let ours: Vec<&(String, String)> = vars
        .iter()
        .filter(|(name, _)| name.starts_with("GENESYSCLOUD_"))
        .collect();
    if ours.is_empty() {
        return Ok(Source::Demo);
    }
    let filled = |name: &str| {
        ours.iter()
            .any(|(n, value)| n == name && !value.trim().is_empty())
    };
    let mut missing = Vec::new();
    if !filled(REGION) && !filled(API_REGION) {
        missing.push(format!(
            "a region: {REGION} (e.g. eu-west-1) or {API_REGION} (a base URL)"
        ));
    }
    if !filled(ACCESS_TOKEN) {
        match (filled(CLIENT_ID), filled(CLIENT_SECRET)) {
            (true, true) => {}
            (true, false) => missing.push(format!("{CLIENT_SECRET} (for {CLIENT_ID})")),
            (false, true) => missing.push(format!("{CLIENT_ID} (for {CLIENT_SECRET})")),
            (false, false) => missing.push(format!(
                "credentials: {CLIENT_ID} and {CLIENT_SECRET}, or {ACCESS_TOKEN}"
            )),
        }
    }
    if missing.is_empty() {
        return Ok(Source::Configured);
    }
    let mut present: Vec<String> = ours
        .iter()
        .map(|(name, value)| {
            if value.trim().is_empty() {
                format!("{name} (empty)")
            } else {
                name.clone()
            }
        })
        .collect();
    present.sort();
    Err(format!(
        "incomplete Genesys Cloud configuration: missing {}. Set: {}. \
         Unset every GENESYSCLOUD_* variable, or pass --demo, for the demo stand-in instead",
        missing.join("; and "),
        present.join(", ")
    ))
}

/// Why the rows are the demo stand-in's, or `None` for the configured API.
/// `demo`: `--demo` was given; `resumes`: the run picks up a query submitted earlier.
pub fn demo_reason(demo: bool, resumes: bool) -> Result<Option<&'static str>, Exit> {
    let vars = genesys_vars();
    let asked = demo;
    let demo = if asked {
        if !vars.is_empty() {
            eprintln!("usage-report: --demo: ignoring the GENESYSCLOUD_* variables");
        }
        true
    } else {
        decide(&vars).map_err(Exit::usage)? == Source::Demo
    };
    if demo && resumes {
        return Err(Exit::usage(
            "--resume needs a Genesys Cloud configuration (GENESYSCLOUD_*): executions of the \
             demo stand-in end with the program that started it",
        ));
    }
    Ok(demo.then_some(if asked {
        "--demo"
    } else {
        "no GENESYSCLOUD_* variable set"
    }))
}

/// The `GENESYSCLOUD_*` variables present, with their values (which are never printed).
fn genesys_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with("GENESYSCLOUD_")
                .then(|| (name, value.to_string_lossy().into_owned()))
        })
        .collect()
}

/// The client of the configured API, or of the demo stand-in started here (returned, so
/// it lives as long as the caller keeps it).
pub async fn connect(
    origin: &Origin,
) -> Result<(UsageClient, PollPolicy, Option<RunningStandIn>), Exit> {
    let mut running = None;
    let config = match origin {
        Origin::Profile(profile) => profile.config()?,
        Origin::Demo(why) => {
            let stand_in = StandIn::builder()
                .start()
                .await
                .map_err(|e| Exit::failed(format!("cannot start the local stand-in: {e}")))?;
            let client = stand_in.demo_client();
            eprintln!(
                "usage-report: {why}; using the local Usage API stand-in at {} (demo OAuth client {}): demo data, not your organization",
                stand_in.base_url(),
                client.id
            );
            let builder = Config::builder()
                .base_url(stand_in.base_url())
                .client_credentials(client.id.clone(), client.secret.clone())
                .user_agent_suffix(concat!("usage-report/", env!("CARGO_PKG_VERSION")));
            running = Some(stand_in);
            builder
        }
        Origin::Environment => Config::from_env()?
            .user_agent_suffix(concat!("usage-report/", env!("CARGO_PKG_VERSION"))),
    }
    .build()?;
    let poll = config.poll().clone();
    Ok((UsageClient::new(config)?, poll, running))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn nothing_set_means_demo() {
        assert_eq!(decide(&vars(&[("HOME", "/root")])), Ok(Source::Demo));
    }

    #[test]
    fn the_ca_file_variable_alone_is_not_a_genesys_configuration() {
        // USAGE_SDK_CA_FILE is read by Config::from_env, but only GENESYSCLOUD_* decide.
        assert_eq!(
            decide(&vars(&[("USAGE_SDK_CA_FILE", "/etc/proxy-ca.pem")])),
            Ok(Source::Demo)
        );
        assert_eq!(
            decide(&vars(&[
                ("USAGE_SDK_CA_FILE", "/etc/proxy-ca.pem"),
                (API_REGION, "https://api.example.com"),
                (ACCESS_TOKEN, "t"),
            ])),
            Ok(Source::Configured)
        );
    }

    #[test]
    fn a_region_and_credentials_or_a_token_are_complete() {
        for set in [
            &[
                (REGION, "eu-west-1"),
                (CLIENT_ID, "id"),
                (CLIENT_SECRET, "s"),
            ][..],
            &[(API_REGION, "http://127.0.0.1:1"), (ACCESS_TOKEN, "t")],
            &[
                (REGION, "eu-west-1"),
                (CLIENT_ID, "id"),
                (ACCESS_TOKEN, "t"),
            ],
        ] {
            assert_eq!(decide(&vars(set)), Ok(Source::Configured), "{set:?}");
        }
    }

    #[test]
    fn partial_configurations_name_what_is_missing() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[(REGION, "eu-west-1")], "credentials"),
            (&[(API_REGION, "https://api.example.com")], "credentials"),
            (&[(CLIENT_ID, "id")], "a region"),
            (&[(REGION, "eu-west-1"), (CLIENT_ID, "id")], CLIENT_SECRET),
            (&[(REGION, "eu-west-1"), (CLIENT_SECRET, "s")], CLIENT_ID),
            (&[("GENESYSCLOUD_ENVIRONMENT", "x")], "a region"),
        ];
        for (set, named) in cases {
            let message = decide(&vars(set)).unwrap_err();
            assert!(message.contains(named), "{set:?}: {message}");
        }
    }

    #[test]
    fn empty_variables_count_as_set_but_not_as_filled() {
        let message = decide(&vars(&[
            (REGION, ""),
            (CLIENT_ID, ""),
            (CLIENT_SECRET, " "),
        ]))
        .unwrap_err();
        assert!(message.contains("a region"), "{message}");
        assert!(message.contains("GENESYSCLOUD_REGION (empty)"), "{message}");
    }

    #[test]
    fn values_never_appear_in_the_message() {
        let message = decide(&vars(&[
            (CLIENT_ID, "the-id"),
            (CLIENT_SECRET, "hunter2-secret"),
        ]))
        .unwrap_err();
        assert!(!message.contains("hunter2-secret") && !message.contains("the-id"));
    }
}
