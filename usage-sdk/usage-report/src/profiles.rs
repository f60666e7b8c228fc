//! The profiles file (`--profiles PATH`, default `usage-report/profiles.toml` in the user's
//! config directory): one `[profile.NAME]` table per organization, each a complete
//! configuration (so never demo data):
//!
//! ```toml
//! [profile.acme]
//! region = "eu-west-1"                # or base_url = "https://api.mypurecloud.ie"
//! client_id = "6f1c2b1e-..."
//! client_secret_env = "ACME_SECRET"   # or client_secret = "..." in the file itself
//! license = "cx3"                     # optional: license + users [+ concurrent],
//! users = 40                          #   allowance_per_user + users, or allowance
//! store = "/var/lib/usage-report/acme.sqlite3"   # optional; default <data dir>/usage-report/acme.sqlite3
//! ```
//!
//! Like ssh with a private key, a file that others can read is refused (it may hold
//! secrets). Secrets are kept as `usage_sdk::Secret`, which never prints; errors name the
//! file, the line and what to fix, never a value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Deserialize;
use usage_sdk::{Config, ConfigBuilder, Secret};

use crate::allowance::{Allowance, License};
use crate::exit::Exit;

/// One organization's configuration.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    region: Option<String>,
    base_url: Option<String>,
    client_id: String,
    /// Never printed: `Secret`'s Debug and Display say `[redacted]`.
    client_secret: Secret,
    allowance: Option<Allowance>,
    store: Option<PathBuf>,
}

/// A `[profile.NAME]` table as written. No Debug: it holds the secret as plain text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    region: Option<String>,
    base_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    license: Option<String>,
    #[serde(default)]
    concurrent: bool,
    users: Option<u64>,
    allowance: Option<u64>,
    allowance_per_user: Option<u64>,
    store: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    profile: BTreeMap<String, toml::Spanned<Written>>,
}

/// The profiles of a file, by name.
#[derive(Debug)]
pub struct Profiles {
    pub path: PathBuf,
    pub profiles: BTreeMap<String, Profile>,
}

/// The default profiles file: `usage-report/profiles.toml` in the user's config directory
/// (`$XDG_CONFIG_HOME`, else `~/.config`, on Linux).
pub fn default_path() -> Result<PathBuf, Exit> {
    dirs::config_dir()
        .map(|dir| dir.join("usage-report").join("profiles.toml"))
        .ok_or_else(|| {
            Exit::usage(
                "no config directory is known for this user (HOME unset?); give --profiles PATH",
            )
        })
}

/// Refuses a file that the group or others may read, as ssh does with a private key.
#[cfg(unix)]
fn check_private(path: &Path, metadata: &std::fs::Metadata) -> Result<(), Exit> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        let shown = path.display();
        return Err(Exit::usage(format!(
            "permissions {mode:04o} for the profiles file {shown} are too open: it may hold \
             client secrets, so it must not be accessible by others. Run `chmod 600 {shown}`"
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path, _: &std::fs::Metadata) -> Result<(), Exit> {
    Ok(())
}

/// Which organizations a command is about.
#[derive(Debug)]
pub enum Selection {
    /// The `GENESYSCLOUD_*` variables (or the demo stand-in): no profile asked for.
    Environment,
    One(Profile),
    /// `--all-profiles`, in the order of their names.
    All(Vec<Profile>),
}

/// The selection of `--profiles PATH`, `--profile NAME` and `--all-profiles`. The file is
/// read only when a profile is asked for.
pub fn select(path: Option<&Path>, one: Option<&str>, all: bool) -> Result<Selection, Exit> {
    if one.is_none() && !all {
        return Ok(Selection::Environment);
    }
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => default_path()?,
    };
    let profiles = Profiles::load(&path, |var| std::env::var(var).ok())?;
    match one {
        Some(name) => Ok(Selection::One(profiles.get(name)?.clone())),
        None if profiles.profiles.is_empty() => Err(Exit::usage(format!(
            "--all-profiles: the profiles file {} has no [profile.NAME] table",
            path.display()
        ))),
        None => Ok(Selection::All(profiles.profiles.into_values().collect())),
    }
}

impl Profiles {
    /// Reads, checks and parses the profiles file at `path`; `env` looks up the variables
    /// `client_secret_env` names.
    pub fn load(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Self, Exit> {
        let shown = path.display();
        let metadata = std::fs::metadata(path).map_err(|e| {
            Exit::usage(format!(
                "cannot read the profiles file {shown}: {e}{}",
                if e.kind() == std::io::ErrorKind::NotFound {
                    " (give --profiles PATH, or write one: README, \"Profiles\")"
                } else {
                    ""
                }
            ))
        })?;
        check_private(path, &metadata)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| Exit::usage(format!("cannot read the profiles file {shown}: {e}")))?;
        Self::parse(path, &text, env)
    }

    /// Parses the text of a profiles file (`path` names it in errors).
    pub fn parse(
        path: &Path,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Exit> {
        let shown = path.display();
        // toml's Display quotes the line, which may be a secret's: only its line, column and
        // message are said, with the line's value cut out of the message.
        let file: File = toml::from_str(text).map_err(|e| syntax_error(&shown, text, &e))?;
        let mut profiles = BTreeMap::new();
        for (name, written) in file.profile {
            // The span is the table's body: name the line of its header above it.
            let before = &text[..written.span().start.min(text.len())];
            let line = before
                .lines()
                .enumerate()
                .filter(|(_, l)| l.trim_start().starts_with('['))
                .last()
                .map_or(before.matches('\n').count(), |(at, _)| at)
                + 1;
            let at = format!("the profiles file {shown}, line {line}, [profile.{name}]");
            let profile = Profile::from_written(&name, written.into_inner(), &env)
                .map_err(|e| Exit::usage(format!("{at}: {e}")))?;
            profiles.insert(name, profile);
        }
        Ok(Self {
            path: path.to_path_buf(),
            profiles,
        })
    }

    /// The profile called `name`, or an error listing those there are.
    pub fn get(&self, name: &str) -> Result<&Profile, Exit> {
        self.profiles.get(name).ok_or_else(|| {
            Exit::usage(format!(
                "no profile {name:?} in {}; it has: {}",
                self.path.display(),
                self.names()
            ))
        })
    }

    fn names(&self) -> String {
        if self.profiles.is_empty() {
            "none".to_string()
        } else {
            self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    }
}

impl Profile {
    fn from_written(
        name: &str,
        w: Written,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(
                "a profile name takes letters, digits, '-', '_' and '.' only (it names a store \
                 file and a metric label)"
                    .to_string(),
            );
        }
        let filled = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let (region, base_url) = (filled(w.region), filled(w.base_url));
        if region.is_none() && base_url.is_none() {
            return Err("give region (e.g. \"eu-west-1\") or base_url".to_string());
        }
        if let Some(region) = &region {
            region
                .parse::<usage_sdk::Region>()
                .map_err(|e| format!("region: {e}"))?;
        }
        let client_id = filled(w.client_id).ok_or("give client_id")?;
        let client_secret = match (filled(w.client_secret), filled(w.client_secret_env)) {
            (Some(secret), None) => Secret::new(secret),
            (None, Some(var)) => Secret::new(filled(env(&var)).ok_or_else(|| {
                format!("client_secret_env names {var}, which is not set (or empty)")
            })?),
            (Some(_), Some(_)) => {
                return Err("give client_secret or client_secret_env, not both".to_string());
            }
            (None, None) => {
                return Err(
                    "give client_secret_env = \"VAR\" (a variable holding the secret) or \
                     client_secret"
                        .to_string(),
                );
            }
        };
        let allowance = match (w.allowance, w.allowance_per_user, w.license, w.users) {
            (None, None, None, None) => None,
            (Some(n), None, None, None) => Some(Allowance::per_month(positive("allowance", n)?)),
            (None, Some(per_user), None, Some(users)) => Some(Allowance::per_user(
                positive("allowance_per_user", per_user)?,
                positive("users", users)?,
            )?),
            (None, None, Some(license), Some(users)) => {
                let license = License::from_str(&license, true).map_err(|_| {
                    let names: Vec<String> = License::value_variants()
                        .iter()
                        .filter_map(|l| l.to_possible_value().map(|v| v.get_name().to_string()))
                        .collect();
                    format!("license {license:?} is not one of {}", names.join(", "))
                })?;
                Some(Allowance::by_license(
                    license,
                    w.concurrent,
                    positive("users", users)?,
                )?)
            }
            _ => {
                return Err(
                    "an allowance is one of: allowance = N; allowance_per_user = N with users = \
                     M; license = \"cx3\" with users = M"
                        .to_string(),
                );
            }
        };
        if w.concurrent && allowance.as_ref().is_none_or(|a| a.source.is_none()) {
            return Err("concurrent goes with license".to_string());
        }
        Ok(Self {
            name: name.to_string(),
            region,
            base_url,
            client_id,
            client_secret,
            allowance,
            store: w.store,
        })
    }

    /// The client's configuration: the profile's region or base URL and credentials, and
    /// `USAGE_SDK_CA_FILE` from the environment (extra trusted CAs apply to every profile).
    pub fn config(&self) -> Result<ConfigBuilder, Exit> {
        Ok(Config::from_lookup(|var| match var {
            "GENESYSCLOUD_REGION" => self.region.clone(),
            "GENESYSCLOUD_API_REGION" => self.base_url.clone(),
            "GENESYSCLOUD_OAUTHCLIENT_ID" => Some(self.client_id.clone()),
            "GENESYSCLOUD_OAUTHCLIENT_SECRET" => Some(self.client_secret.expose().to_string()),
            "USAGE_SDK_CA_FILE" => std::env::var(var).ok().filter(|v| !v.trim().is_empty()),
            _ => None,
        })
        .map_err(|e| Exit::usage(format!("profile {}: {e}", self.name)))?
        .user_agent_suffix(concat!("usage-report/", env!("CARGO_PKG_VERSION"))))
    }

    /// The monthly allowance the profile names, if any.
    pub fn allowance(&self) -> Option<&Allowance> {
        self.allowance.as_ref()
    }

    /// The profile's store: `store`, else `usage-report/NAME.sqlite3` in the user's data
    /// directory (one store per organization: a store never mixes them).
    pub fn store(&self) -> Result<PathBuf, Exit> {
        match &self.store {
            Some(path) => Ok(path.clone()),
            None => {
                Ok(crate::store::default_path()?.with_file_name(format!("{}.sqlite3", self.name)))
            }
        }
    }
}

fn positive(field: &str, n: u64) -> Result<u64, String> {
    if n == 0 {
        Err(format!(
            "{field} = 0 leaves nothing to forecast; give at least 1"
        ))
    } else {
        Ok(n)
    }
}

/// A malformed profiles file: the line and column and what is wrong, never a value the file
/// holds (toml's own Display quotes the whole line, a `client_secret` line included; serde's
/// message may quote the value, which is cut out).
fn syntax_error(shown: &impl std::fmt::Display, text: &str, error: &toml::de::Error) -> Exit {
    let start = error.span().map_or(0, |span| span.start.min(text.len()));
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
    let mut message = error.message().trim().to_string();
    let value = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.split_once('='))
        .map(|(_, v)| v.trim().trim_matches(['"', '\'']).trim());
    // serde quotes a value it cannot use in backticks (`invalid type: integer `123``).
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        message = message.replace(&format!("`{value}`"), "`…`");
    }
    Exit::usage(format!(
        "the profiles file {shown}, line {line}, column {column}: {message}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profiles, Exit> {
        Profiles::parse(Path::new("p.toml"), text, |var| {
            (var == "ACME_SECRET").then(|| "hunter2-from-env".to_string())
        })
    }

    const TWO: &str = r#"
[profile.acme]
region = "eu-west-1"
client_id = "id-acme"
client_secret_env = "ACME_SECRET"
license = "cx3"
concurrent = true
users = 40

[profile.globex]
base_url = "http://127.0.0.1:1"
client_id = "id-globex"
client_secret = "hunter2-in-file"
allowance = 1_000_000
store = "/tmp/globex.sqlite3"
"#;

    #[test]
    fn two_organizations_parse_with_their_allowances() {
        let profiles = parse(TWO).unwrap();
        assert_eq!(
            profiles.profiles.keys().collect::<Vec<_>>(),
            ["acme", "globex"]
        );
        let acme = profiles.get("acme").unwrap();
        assert_eq!(acme.allowance().unwrap().requests_per_month, 40 * 182_000);
        let globex = profiles.get("globex").unwrap();
        assert_eq!(globex.allowance().unwrap().requests_per_month, 1_000_000);
        assert_eq!(globex.store().unwrap(), Path::new("/tmp/globex.sqlite3"));
        let config = globex.config().unwrap().build().unwrap();
        assert_eq!(config.base_url(), "http://127.0.0.1:1");
        let error = profiles.get("initech").unwrap_err();
        assert!(error.message.contains("acme, globex"), "{}", error.message);
    }

    #[test]
    fn secrets_never_print() {
        let profiles = parse(TWO).unwrap();
        let shown = format!("{profiles:?}");
        assert!(shown.contains("id-acme"), "{shown}");
        assert!(
            !shown.contains("hunter2"),
            "a secret in the Debug output: {shown}"
        );
        // Nor in an error about the profile it is in.
        let bad = TWO.replace("allowance = 1_000_000", "allowance = 0");
        let error = parse(&bad).unwrap_err();
        assert!(!error.message.contains("hunter2"), "{}", error.message);
    }

    #[test]
    fn a_malformed_secret_line_is_named_but_never_quoted() {
        for text in [
            "[profile.a]\nregion = \"eu-west-1\"\nclient_id = \"x\"\nclient_secret = \"hunter2-unterminated\n",
            "[profile.a]\nregion = \"eu-west-1\"\nclient_id = \"x\"\nclient_secret = 31415926535\n",
            "[profile.a]\nregion = \"eu-west-1\"\nclient_id = \"x\"\nclient_secrte = \"hunter2-typo\"\n",
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.code, 2, "{text}");
            assert!(error.message.contains("line 4"), "{}", error.message);
            for secret in ["hunter2", "31415926535"] {
                assert!(!error.message.contains(secret), "{}", error.message);
            }
        }
    }

    #[test]
    fn malformed_files_name_the_line() {
        for (text, line, says) in [
            (
                "[profile.a]\nregion = \"eu-west-1\"\nclient_id = \n",
                "line 3",
                "",
            ),
            (
                "[profile.a]\nregion = \"eu-west-1\"\nclient_id = \"x\"\nclient_secrte = \"s\"\n",
                "line 4",
                "client_secrte",
            ),
            (
                "\n\n[profile.a]\nregion = \"eu-west-1\"\nclient_id = \"x\"\n",
                "line 3",
                "client_secret_env",
            ),
            (
                "[profile.a]\nregion = \"mars-1\"\nclient_id = \"x\"\nclient_secret = \"s\"\n",
                "line 1",
                "mars-1",
            ),
            (
                "[profile.a]\nbase_url = \"http://x\"\nclient_id = \"x\"\nclient_secret_env = \"NOPE\"\n",
                "line 1",
                "NOPE",
            ),
            (
                "[profile.a]\nbase_url = \"http://x\"\nclient_id = \"x\"\nclient_secret = \"s\"\nlicense = \"cx9\"\nusers = 3\n",
                "line 1",
                "cx3-digital",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.code, 2, "{text}");
            assert!(
                error.message.contains(line) && error.message.contains(says),
                "{text}: {}",
                error.message
            );
            assert!(error.message.contains("p.toml"), "{}", error.message);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_refused_like_ssh_does() {
        use std::os::unix::fs::PermissionsExt;
        let dir =
            std::env::temp_dir().join(format!("usage-report-profiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("profiles.toml");
        std::fs::write(&path, TWO).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Profiles::load(&path, |_| Some("s".into())).unwrap_err();
        assert_eq!(error.code, 2);
        assert!(
            error.message.contains("0644") && error.message.contains("chmod 600"),
            "{}",
            error.message
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Profiles::load(&path, |_| Some("s".into())).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
