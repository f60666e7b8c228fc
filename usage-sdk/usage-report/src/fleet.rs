//! `--all-profiles`: the report or the sync of every organization of the profiles file,
//! concurrently, each with its own client (its own token and rate-limit pacing). One
//! organization failing does not stop the others; the exit code (1) and stderr name those
//! that failed.

use tokio::task::JoinSet;

use crate::cli::{ReportArgs, SyncArgs};
use crate::exit::Exit;
use crate::profiles::Profile;
use crate::report;
use crate::sync;

/// Runs `work` for every profile concurrently; the results in the profiles' order. Tasks
/// of this thread (a `LocalSet`): a store's open transaction is not `Send`; the requests
/// are what takes the time, and they go on concurrently.
pub async fn each<T: 'static, F>(
    profiles: &[Profile],
    work: impl Fn(Profile) -> F,
) -> Vec<(String, Result<T, Exit>)>
where
    F: Future<Output = Result<T, Exit>> + 'static,
{
    let mut results: Vec<Option<Result<T, Exit>>> = profiles.iter().map(|_| None).collect();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut tasks = JoinSet::new();
            for (at, profile) in profiles.iter().enumerate() {
                let done = work(profile.clone());
                tasks.spawn_local(async move { (at, done.await) });
            }
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok((at, result)) => results[at] = Some(result),
                    Err(e) => eprintln!("usage-report: an organization's task ended: {e}"),
                }
            }
        })
        .await;
    profiles
        .iter()
        .zip(results)
        .map(|(p, r)| {
            let r = r.unwrap_or_else(|| Err(Exit::failed("its task ended without a result")));
            (p.name.clone(), r)
        })
        .collect()
}

/// Says which organizations failed, on stderr and in the exit (1).
fn outcome(failed: Vec<(String, Exit)>, of: usize) -> Result<(), Exit> {
    if failed.is_empty() {
        return Ok(());
    }
    for (name, exit) in &failed {
        eprintln!(
            "usage-report: profile {name}: {}",
            crate::text::terminal_safe_lines(&exit.message)
        );
    }
    let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
    Err(Exit::failed(format!(
        "{} of {of} organization(s) failed: {} (the others completed)",
        failed.len(),
        names.join(", ")
    )))
}

/// `usage-report sync --all-profiles`: each profile into its own store.
pub async fn sync(args: &SyncArgs, profiles: &[Profile]) -> Result<(), Exit> {
    if args.store.is_some() {
        return Err(Exit::usage(
            "--store with --all-profiles: each organization has its own store (`store` in its \
             profile, else usage-report/NAME.sqlite3 in the data directory); drop --store",
        ));
    }
    if args.demo {
        return Err(Exit::usage(
            "--demo with --all-profiles: profiles are organizations, never demo data",
        ));
    }
    let results = each(profiles, |profile| {
        let args = args.clone();
        async move { sync::run(&args, Some(&profile)).await }
    })
    .await;
    let failed = results
        .into_iter()
        .filter_map(|(name, r)| r.err().map(|e| (name, e)))
        .collect();
    outcome(failed, profiles.len())
}

/// `usage-report --all-profiles`: one report of every organization's rows, each row with an
/// `organization` column (the profile's name).
pub async fn report(args: &ReportArgs, profiles: &[Profile]) -> Result<(), Exit> {
    let given: Vec<&str> = [
        ("--allowance", args.extras.allowance.is_some()),
        (
            "--allowance-per-user",
            args.extras.allowance_per_user.is_some(),
        ),
        ("--license", args.extras.license.is_some()),
        ("--resume", args.resume.is_some()),
        ("--demo", args.demo),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if !given.is_empty() {
        return Err(Exit::usage(format!(
            "{} with --all-profiles: each organization has its own allowance and jobs; run it \
             with --profile NAME (an allowance in a profile is forecast by `usage-report serve`)",
            given.join(", ")
        )));
    }
    let results = each(profiles, |profile| {
        let args = args.clone();
        async move { report::collect(&args, &profile).await }
    })
    .await;
    let (mut plan, mut rows, mut failed) = (None, Vec::new(), Vec::new());
    for (name, result) in results {
        match result {
            Ok((p, r)) => {
                plan.get_or_insert(p);
                rows.extend(r);
            }
            Err(e) => failed.push((name, e)),
        }
    }
    if let Some(plan) = &plan {
        report::write_all(plan, rows)?;
    }
    outcome(failed, profiles.len())
}
