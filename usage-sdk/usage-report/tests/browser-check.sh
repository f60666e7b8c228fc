#!/usr/bin/env bash
# The HTML report (--format html) in a real browser: headless Chromium loads
#  1. the demo report of the binary (stand-in data), and
#  2. a report whose client name is `<script>alert(1)</script>` (written by the unit test
#     extras::tests::the_html_report_escapes_api_strings_everywhere),
# and this checks: no console errors, every chart has a non-zero size, the hostile name is
# text (escaped in the DOM, no alert), and a screenshot is not blank.
# Skips, saying so, when no Chromium is installed. Run from anywhere:
#   usage-sdk/usage-report/tests/browser-check.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    echo "browser-check: SKIPPED: no chromium installed (apt-get install chromium)"
    exit 0
fi
out=${BROWSER_CHECK_DIR:-target/browser-check}
mkdir -p "$out"
out=$(cd "$out" && pwd)

cargo build -q -p usage-report
env -i PATH="$PATH" HOME="$HOME" target/debug/usage-report --demo --format html >"$out/demo.html" 2>/dev/null
USAGE_REPORT_HOSTILE_HTML="$out/hostile.html" \
    cargo test -q -p usage-report --bin usage-report the_html_report_escapes_api_strings_everywhere >/dev/null

# A probe appended to a copy: records alert() calls and each chart's rendered size in the DOM.
probe='<script>
window.__alerts = [];
window.alert = function (m) { window.__alerts.push(String(m)); };
addEventListener("load", function () {
  var sizes = Array.from(document.querySelectorAll("figure.chart svg")).map(function (s) {
    var r = s.getBoundingClientRect(); return Math.round(r.width) + "x" + Math.round(r.height); });
  var p = document.createElement("pre"); p.id = "probe";
  p.textContent = "charts=" + sizes.join(",") + " alerts=" + window.__alerts.length;
  document.body.appendChild(p);
});
</script>'

chrome() {
    local profile
    profile=$(mktemp -d)
    "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
        --enable-logging=stderr --v=0 --window-size=1280,2000 "$@"
    rm -rf "$profile"
}

failed=0
for name in demo hostile; do
    page="$out/$name.html"
    # The probe goes first in <head>, so it sees any alert the page could make.
    sed "s#<head>#<head>${probe//$'\n'/ }#" "$page" >"$out/$name.probe.html"
    chrome --dump-dom "file://$out/$name.probe.html" >"$out/$name.dom.html" 2>"$out/$name.log"
    chrome --screenshot="$out/$name.png" "file://$page" >/dev/null 2>>"$out/$name.log"
    probe_line=$(grep -oE 'charts=[0-9x,]* alerts=[0-9]+' "$out/$name.dom.html" || true)
    echo "$name: $probe_line"
    if grep -E "Uncaught|ERROR:CONSOLE|CONSOLE\(" "$out/$name.log"; then
        echo "$name: FAIL: console errors (above)"; failed=1
    fi
    # Every chart WIDTHxHEIGHT with both non-zero, and at least one chart.
    if ! [[ "$probe_line" =~ ^charts=[1-9][0-9]*x[1-9][0-9]*(,[1-9][0-9]*x[1-9][0-9]*)*\ alerts= ]]; then
        echo "$name: FAIL: a chart has no size, or the probe did not run"; failed=1
    fi
    case "$probe_line" in *alerts=0) ;; *) echo "$name: FAIL: alert() was called"; failed=1 ;; esac
    size=$(stat -c %s "$out/$name.png" 2>/dev/null || echo 0)
    # A blank 1280x2000 PNG compresses to a few kB; charts and text make it far larger.
    if [ "$size" -lt 50000 ]; then echo "$name: FAIL: screenshot looks blank ($size bytes)"; failed=1; fi
    echo "$name: screenshot $out/$name.png ($size bytes)"
done

if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$out/hostile.dom.html" &&
    ! grep -q '<script>alert(1)' "$out/hostile.dom.html"; then
    echo "hostile: the client name <script>alert(1)</script> is text in the DOM"
else
    echo "hostile: FAIL: the client name is not shown as text"; failed=1
fi
if [ "$failed" = 0 ]; then echo "browser-check: PASSED ($("$browser" --version))"; else echo "browser-check: FAILED"; fi
exit "$failed"
