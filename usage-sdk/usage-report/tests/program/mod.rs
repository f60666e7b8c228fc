//! What the test files that run the built binary in a folder of their own share: the clean
//! environment (only `PATH` and `HOME` kept; the data and config directories in the test's
//! folder, so no test touches a developer's stores or profiles), the run's exit code and
//! output, and the folder. Not every test file uses every helper.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;

pub const BIN: &str = env!("CARGO_BIN_EXE_usage-report");

/// What a run of the program left.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A folder for one test's files (stores, profiles, data and config directories), removed at
/// the end.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "usage-report-test-{name}-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    /// Writes a profiles file readable by its owner only; returns its path.
    pub fn profiles(&self, text: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = self.file("profiles.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The program with `args` in a clean environment plus `env`, its data and config
/// directories in `dir`; stdin empty, stdout and stderr piped.
pub fn command(args: &[&str], env: &[(&str, String)], dir: &TempDir) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.env("XDG_DATA_HOME", dir.0.join("data"));
    command.env("XDG_CONFIG_HOME", dir.0.join("config"));
    command.envs(env.iter().map(|(name, value)| (*name, value)));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for `child` off the async threads (a stand-in in the test keeps serving), at most
/// 120 s.
pub async fn finish(child: Child) -> Run {
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await
    .expect("the program finishes within 120 s")
    .expect("the waiting thread")
    .expect("the program's output");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the program to its end.
pub async fn run(args: &[&str], env: &[(&str, String)], dir: &TempDir) -> Run {
    finish(command(args, env, dir).spawn().expect("the program starts")).await
}
