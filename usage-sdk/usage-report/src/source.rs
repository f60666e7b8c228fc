//! Where the data comes from, for every subcommand: the organization the `GENESYSCLOUD_*`
//! variables configure, or the demo stand-in started here (and said so on stderr), as
//! `setup` decides.

use usage_sdk::{Config, PollPolicy, UsageClient};
use usage_sdk_stand_in::{RunningStandIn, StandIn};

use crate::exit::Exit;
use crate::setup::{self, Source};

/// Why the data is the demo stand-in's (`--demo` given as `demo_flag`, or no
/// `GENESYSCLOUD_*` variable), or `None` for the configured API.
pub fn demo_reason(demo_flag: bool) -> Result<Option<&'static str>, Exit> {
    let vars = genesys_vars();
    let demo = if demo_flag {
        if !vars.is_empty() {
            eprintln!("usage-report: --demo: ignoring the GENESYSCLOUD_* variables");
        }
        true
    } else {
        setup::decide(&vars).map_err(Exit::usage)? == Source::Demo
    };
    Ok(demo.then_some(if demo_flag {
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
    demo: Option<&str>,
) -> Result<(UsageClient, PollPolicy, Option<RunningStandIn>), Exit> {
    let mut running = None;
    let config = match demo {
        Some(why) => {
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
                .client_credentials(client.id.clone(), client.secret.clone());
            running = Some(stand_in);
            builder
        }
        None => Config::from_env()?,
    }
    .user_agent_suffix(concat!("usage-report/", env!("CARGO_PKG_VERSION")))
    .build()?;
    let poll = config.poll().clone();
    Ok((UsageClient::new(config)?, poll, running))
}
