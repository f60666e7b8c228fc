//! The exporter with Prometheus' own tools (Debian's `prometheus` package): `promtool check
//! rules` and `promtool test rules` on the shipped rules, `promtool check metrics` on a real
//! scrape. Without the tools the tests say SKIPPED, except under CI (`CI` set), where they
//! fail.

mod serving;

use std::io::Write;
use std::process::{Command, Stdio};

use serving::{Server, TempDir, profiles, stand_in, tool};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/prometheus/rules.yml");
const RULE_TESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/prometheus/rules.test.yml");

#[track_caller]
fn succeeds(command: &mut Command) -> String {
    let output = command.output().expect("the tool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?}:\n{text}");
    text
}

#[test]
fn promtool_checks_and_unit_tests_the_shipped_rules() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let checked = succeeds(Command::new(&promtool).args(["check", "rules", RULES]));
    assert!(checked.contains("SUCCESS: 7 rules found"), "{checked}");
    succeeds(Command::new(&promtool).args(["test", "rules", RULE_TESTS]));
}

#[tokio::test(flavor = "multi_thread")]
async fn promtool_check_metrics_passes_on_a_real_scrape() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = TempDir::new("promtool");
    let api = stand_in(7).await;
    let path = profiles(&dir, &api);
    let server = Server::start(&["--profiles", &path, "--profile", "acme"], &[], &dir);
    let text = server
        .scrape_until(|t| t.contains("usage_report_projected_overage_requests{"))
        .await;
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics:\n{}{}\n--- scrape\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
