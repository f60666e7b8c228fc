//! `--chart FILE.svg` as a person sees it: the program runs against a stand-in started in
//! this test process, and its SVG is rendered with resvg (text too, with the system's fonts)
//! to count what is on the picture. (The stand-in has at most nine clients: the "other"
//! series of more than ten is checked in chart.rs's unit tests, rendered the same way.)
//!
//! `chart_of_the_last_week_draws_every_client_and_writes_a_png` also leaves the picture at
//! `target/tmp/usage-chart.png` to look at, and the events chart test `target/tmp/events-chart.png`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;
use usage_sdk_stand_in::{RunningStandIn, StandIn};

const BIN: &str = env!("CARGO_BIN_EXE_usage-report");

/// The chart palette (chart.rs), Tableau 10.
const PALETTE: [(u8, u8, u8); 10] = [
    (0x4e, 0x79, 0xa7),
    (0xf2, 0x8e, 0x2b),
    (0xe1, 0x57, 0x59),
    (0x76, 0xb7, 0xb2),
    (0x59, 0xa1, 0x4f),
    (0xed, 0xc9, 0x48),
    (0xb0, 0x7a, 0xa1),
    (0xff, 0x9d, 0xa7),
    (0x9c, 0x75, 0x5f),
    (0xba, 0xb0, 0xac),
];

async fn stand_in(clients: usize) -> RunningStandIn {
    StandIn::builder()
        .seed(13)
        .oauth_clients(clients)
        .execution_time(Duration::from_millis(50))
        .job_times(Duration::from_millis(10), Duration::from_millis(50))
        .start()
        .await
        .expect("the stand-in starts")
}

fn out_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Runs the program against `api` (blocking, off the stand-in's threads) and returns the SVG
/// it wrote.
async fn chart(api: &RunningStandIn, name: &str, args: &[&str]) -> String {
    let path = out_path(name);
    let _ = std::fs::remove_file(&path);
    let client = api.demo_client();
    let mut command = std::process::Command::new(BIN);
    command
        .args(args)
        .arg("--chart")
        .arg(&path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GENESYSCLOUD_API_REGION", api.base_url())
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", &client.id)
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", &client.secret);
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await
    .expect("the program finishes within 60 s")
    .unwrap()
    .expect("the program runs");
    assert!(
        output.status.success(),
        "exit {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(&path).expect("the chart file is written")
}

/// The SVG as pixels, with the system's sans-serif font for the text.
fn render(svg: &str) -> Pixmap {
    let mut options = usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_system_fonts();
    if fonts
        .faces()
        .any(|f| f.families.iter().any(|(n, _)| n == "DejaVu Sans"))
    {
        fonts.set_sans_serif_family("DejaVu Sans");
    }
    let tree = usvg::Tree::from_str(svg, &options).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height()).expect("a non-empty picture");
    resvg::render(&tree, Transform::default(), &mut pixmap.as_mut());
    pixmap
}

/// Pixels of exactly `colour` (opaque), in rows `rows` of the picture.
fn count(pixmap: &Pixmap, colour: (u8, u8, u8), rows: std::ops::Range<u32>) -> usize {
    let width = pixmap.width();
    pixmap
        .pixels()
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            let y = *i as u32 / width;
            rows.contains(&y) && p.alpha() == 255 && (p.red(), p.green(), p.blue()) == colour
        })
        .count()
}

/// Pixels clearly darker than the background (text, axes, bars).
fn ink(pixmap: &Pixmap, rows: std::ops::Range<u32>) -> usize {
    let width = pixmap.width();
    pixmap
        .pixels()
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            rows.contains(&(*i as u32 / width))
                && u32::from(p.red()) + u32::from(p.green()) + u32::from(p.blue()) < 3 * 160
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn chart_of_the_last_week_draws_every_client_and_writes_a_png() {
    let api = stand_in(6).await;
    let svg = chart(&api, "week.svg", &["--days", "7"]).await;
    let pixmap = render(&svg);
    let png = out_path("usage-chart.png");
    pixmap.save_png(&png).expect("the PNG is written");
    eprintln!("the chart of the last 7 days: {}", png.display());

    let all = 0..pixmap.height();
    assert!(
        ink(&pixmap, all.clone()) > 5_000,
        "the picture is not blank"
    );
    // The demo clients plus Genesys' built-in ones (the jobs count them), at most ten series:
    // the first colours are each drawn as bars and swatches.
    let series = (api.oauth_clients().len() + api.builtin_clients().len()).min(10);
    for (i, colour) in PALETTE.iter().take(series).enumerate() {
        let pixels = count(&pixmap, *colour, all.clone());
        assert!(
            pixels > 150,
            "series {i} colour {colour:?}: {pixels} pixels"
        );
    }
    // Text is drawn: the titles, dates and thousands-separated axis labels.
    assert!(svg.contains("Requests per day by OAuth client"), "{svg}");
    assert!(svg.contains("requests per day"));
    assert!(svg.contains("Top endpoints by requests"));
    assert!(
        svg.split("<text").any(|t| t.contains(",000")),
        "thousands separators on an axis"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_without_rows_draws_a_no_data_picture() {
    let api = stand_in(6).await;
    let svg = chart(
        &api,
        "empty.svg",
        &["--days", "2", "--template-uris", "/api/v2/nothing/here"],
    )
    .await;
    assert!(svg.contains("No data"), "{svg}");
    let pixmap = render(&svg);
    let blank = render(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/></svg>",
        pixmap.width(),
        pixmap.height()
    ));
    let middle = pixmap.height() / 3..pixmap.height() * 2 / 3;
    assert_eq!(ink(&blank, middle.clone()), 0);
    assert!(
        ink(&pixmap, middle) > 500,
        "the message is drawn in the middle (text rendered with the system's fonts)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_day_and_the_legacy_api_still_draw_readable_charts() {
    let api = stand_in(6).await;
    for (name, args) in [
        ("one-day.svg", &["--days", "1"][..]),
        (
            "one-row.svg",
            &[
                "--days",
                "1",
                "--group-by",
                "HttpMethod",
                "--http-methods",
                "DELETE",
            ],
        ),
        ("legacy.svg", &["--api", "legacy", "--days", "2"]),
    ] {
        let svg = chart(&api, name, args).await;
        let pixmap = render(&svg);
        assert!(ink(&pixmap, 0..pixmap.height()) > 2_000, "{name}");
        assert!(
            count(&pixmap, PALETTE[0], 0..pixmap.height()) > 100,
            "{name}: the first series is drawn"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn events_counts_chart_draws_one_bar_per_definition_longest_first() {
    let api = stand_in(4).await;
    let svg = chart(&api, "events.svg", &["events", "counts", "--days", "14"]).await;
    assert!(svg.contains("Events per definition"), "{svg}");
    let pixmap = render(&svg);
    pixmap
        .save_png(out_path("events-chart.png"))
        .expect("the PNG is written");
    // Bars are PALETTE[0]: one run of rows per bar, top to bottom, each run's width its count.
    let width = pixmap.width();
    let bar_width = |y: u32| {
        (0..width)
            .filter(|&x| {
                let p = pixmap.pixel(x, y).unwrap();
                p.alpha() == 255 && (p.red(), p.green(), p.blue()) == PALETTE[0]
            })
            .count()
    };
    let mut bars: Vec<usize> = Vec::new();
    let mut in_bar = false;
    for y in 0..pixmap.height() {
        let w = bar_width(y);
        if w > 20 && !in_bar {
            bars.push(w);
        }
        in_bar = w > 20;
    }
    let counts = {
        let client = api.demo_client();
        let output = std::process::Command::new(BIN)
            .args(["events", "counts", "--days", "14", "--format", "csv"])
            .env_clear()
            .env("GENESYSCLOUD_API_REGION", api.base_url())
            .env("GENESYSCLOUD_OAUTHCLIENT_ID", &client.id)
            .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", &client.secret)
            .output()
            .expect("the program runs");
        String::from_utf8(output.stdout).unwrap()
    };
    let definitions = counts.lines().count() - 1;
    assert!(definitions >= 5, "{counts}");
    assert_eq!(bars.len(), definitions, "one bar per definition: {bars:?}");
    assert!(
        bars.windows(2).all(|w| w[0] + 2 >= w[1]),
        "longest first: {bars:?}"
    );
}
