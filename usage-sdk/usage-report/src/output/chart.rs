//! The charts (`--chart FILE.svg`, and inline in `--format html`), drawn with plotters' SVG
//! backend: requests per date bucket stacked by OAuth client, the 429 share per client over
//! time, and the top endpoints by requests.
//!
//! plotters is built without `ttf`: its SVG backend writes `<text>` elements (escaped) and
//! lays text out with a size estimate, so no font files are loaded here; the viewer's
//! sans-serif font draws them.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::{ChartData, OTHER, Series, thousands};

/// Ten colours that stay apart for the eye (Tableau 10); the grey is kept for the last
/// series, which is "other" when there are more than ten clients.
pub const PALETTE: [(u8, u8, u8); 10] = [
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
const GREY: (u8, u8, u8) = (0xba, 0xb0, 0xac);

pub const WIDTH: u32 = 1100;
const HEADER: u32 = 44;
const PANEL_HEIGHTS: [u32; 3] = [420, 320, 380];
const LEGEND_WIDTH: u32 = 260;
const FONT: &str = "sans-serif";

/// What the charts say about the query beside the rows.
#[derive(Clone, Debug, Default)]
pub struct ChartContext {
    /// `day`, `week` or `month`: the unit of a bucket (`None`: the rows are not bucketed).
    pub unit: Option<&'static str>,
    /// One line naming the query (scope, interval), drawn at the top of the combined SVG.
    pub heading: String,
    /// Notes on how the query was widened or what the rows cannot show.
    pub notes: Vec<String>,
}

fn colour(index: usize, series: &Series, count: usize) -> RGBColor {
    let (r, g, b) = if series.name == OTHER {
        GREY
    } else if count <= PALETTE.len() {
        PALETTE[index % PALETTE.len()]
    } else {
        PALETTE[index % (PALETTE.len() - 1)]
    };
    RGBColor(r, g, b)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), String>;

fn fail<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw the chart: {e:?}")
}

/// `text` cut to `max` characters with an ellipsis.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// Dates as `MM-DD` when every bucket is a `yyyy-MM-dd` day of one year (the year goes in the
/// axis title). A bucket may be any text the server sent as a date (see
/// `usage_sdk::UsageDate`), so the labels are cut only after checking each is a day.
fn date_labels(data: &ChartData) -> (Vec<String>, Option<String>) {
    let day = |b: &str| chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").is_ok() && b.len() == 10;
    let year = |b: &str| b.get(..4).map(str::to_string);
    let first = data.buckets.first().and_then(|b| year(b));
    let one_year =
        data.dated && first.is_some() && data.buckets.iter().all(|b| day(b) && year(b) == first);
    if one_year {
        (
            data.buckets
                .iter()
                .map(|b| b.get(5..).unwrap_or(b).to_string())
                .collect(),
            first,
        )
    } else {
        (data.buckets.clone(), None)
    }
}

fn x_description(context: &ChartContext, data: &ChartData, year: Option<&str>) -> String {
    if !data.dated {
        return "the whole interval (the rows have no dates)".to_string();
    }
    let unit = match context.unit {
        Some("week") => "week starting",
        Some("month") => "month",
        _ => "day",
    };
    match year {
        Some(year) => format!("{unit} (UTC), {year}"),
        None => format!("{unit} (UTC)"),
    }
}

fn per_unit(context: &ChartContext, data: &ChartData) -> &'static str {
    if !data.dated {
        return "in the interval";
    }
    match context.unit {
        Some("week") => "per week",
        Some("month") => "per month",
        _ => "per day",
    }
}

/// The legend in its own column: a swatch and a name per series, then the notes.
fn legend(area: &Area, title: &str, entries: &[(String, RGBColor)], notes: &[String]) -> Drawn {
    let style = (FONT, 15).into_font().color(&BLACK);
    let mut y = 34;
    area.draw(&Text::new(
        title.to_string(),
        (8, y),
        (FONT, 16).into_font().style(FontStyle::Bold),
    ))
    .map_err(fail)?;
    y += 24;
    for (name, c) in entries {
        area.draw(&Rectangle::new([(8, y), (24, y + 14)], c.filled()))
            .map_err(fail)?;
        area.draw(&Text::new(cut(name, 28), (32, y), style.clone()))
            .map_err(fail)?;
        y += 22;
    }
    y += 8;
    for note in notes {
        for line in wrap(note, 34) {
            area.draw(&Text::new(
                line,
                (8, y),
                (FONT, 14).into_font().color(&RGBColor(0x55, 0x55, 0x55)),
            ))
            .map_err(fail)?;
            y += 18;
        }
        y += 6;
    }
    Ok(())
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line at least");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// A message in the middle of an area (a panel the rows cannot fill).
fn message(area: &Area, title: &str, text: &str) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    area.draw(&Text::new(
        title.to_string(),
        (16, 12),
        (FONT, 20).into_font().style(FontStyle::Bold),
    ))
    .map_err(fail)?;
    area.draw(&Rectangle::new(
        [(16, 44), (w - 16, h - 12)],
        RGBColor(0xcc, 0xcc, 0xcc).stroke_width(1),
    ))
    .map_err(fail)?;
    let centred = (FONT, 19)
        .into_font()
        .color(&RGBColor(0x44, 0x44, 0x44))
        .pos(Pos::new(HPos::Center, VPos::Center));
    for (i, line) in wrap(text, 80).into_iter().enumerate() {
        area.draw(&Text::new(
            line,
            (w / 2, h / 2 + i as i32 * 26),
            centred.clone(),
        ))
        .map_err(fail)?;
    }
    Ok(())
}

fn requests_panel(area: &Area, data: &ChartData, context: &ChartContext) -> Drawn {
    let (plot, side) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
    let n = data.buckets.len();
    let count = data.clients.len();
    let stacked = |b: usize| {
        data.clients
            .iter()
            .fold(0u64, |acc, s| acc.saturating_add(s.requests[b]))
    };
    let max = (0..n).map(stacked).max().unwrap_or(0).max(1);
    let (labels, year) = date_labels(data);
    let title = if data.by_client {
        format!(
            "Requests {} by OAuth client",
            per_unit(context, data).trim_start_matches("in the ")
        )
    } else {
        format!("Requests {}", per_unit(context, data))
    };
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(12)
        .x_label_area_size(52)
        .y_label_area_size(96)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..(max as f64 * 1.08))
        .map_err(fail)?;
    let x_label = |v: &f64| -> String {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
            labels[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.clamp(1, 12))
        .y_labels(6)
        .x_label_formatter(&x_label)
        .y_label_formatter(&|v| thousands(v.max(0.0).round() as u64))
        .x_desc(x_description(context, data, year.as_deref()))
        .y_desc(format!("requests {}", per_unit(context, data)))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(fail)?;
    // One bucket would fill the panel: a bar as wide as in a week's chart reads better.
    let width = if n == 1 { 0.08 } else { 0.38 };
    for b in 0..n {
        let mut base = 0u64;
        for (i, s) in data.clients.iter().enumerate() {
            let top = base.saturating_add(s.requests[b]);
            if top > base {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (b as f64 - width, base as f64),
                            (b as f64 + width, top as f64),
                        ],
                        colour(i, s, count).filled(),
                    )))
                    .map_err(fail)?;
            }
            base = top;
        }
    }
    let entries: Vec<(String, RGBColor)> = data
        .clients
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), colour(i, s, count)))
        .collect();
    let legend_title = if data.by_client {
        "OAuth client"
    } else {
        "Series"
    };
    legend(&side, legend_title, &entries, &context.notes)
}

fn rate_panel(area: &Area, data: &ChartData, context: &ChartContext) -> Drawn {
    let title = format!("429 responses as a share of requests, {}", {
        let unit = per_unit(context, data);
        if data.by_client {
            format!("by OAuth client, {unit}")
        } else {
            unit.to_string()
        }
    });
    if !data.has_429 {
        return message(
            area,
            &title,
            "The rows carry no 429 counts: add Status429 (and Requests) to --metrics.",
        );
    }
    let (plot, side) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
    let n = data.buckets.len();
    let count = data.clients.len();
    let share = |s: &Series, b: usize| -> Option<f64> {
        (s.requests[b] > 0).then(|| s.status429[b] as f64 * 100.0 / s.requests[b] as f64)
    };
    let max = data
        .clients
        .iter()
        .flat_map(|s| (0..n).filter_map(move |b| share(s, b)))
        .fold(0.0f64, f64::max);
    let top = if max <= 0.0 { 1.0 } else { max * 1.15 };
    let (labels, year) = date_labels(data);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(12)
        .x_label_area_size(52)
        .y_label_area_size(96)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
        .map_err(fail)?;
    let x_label = |v: &f64| -> String {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
            labels[i as usize].clone()
        } else {
            String::new()
        }
    };
    let decimals = if top < 2.0 { 2 } else { 1 };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.clamp(1, 12))
        .y_labels(6)
        .x_label_formatter(&x_label)
        .y_label_formatter(&|v| format!("{v:.decimals$} %"))
        .x_desc(x_description(context, data, year.as_deref()))
        .y_desc("429 responses, % of requests")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(fail)?;
    for (i, s) in data.clients.iter().enumerate() {
        let c = colour(i, s, count);
        // A bucket without requests has no share: the line breaks there.
        let mut segment: Vec<(f64, f64)> = Vec::new();
        for b in 0..=n {
            match (b < n).then(|| share(s, b)).flatten() {
                Some(y) => segment.push((b as f64, y)),
                None => {
                    if segment.len() > 1 {
                        chart
                            .draw_series(std::iter::once(PathElement::new(
                                std::mem::take(&mut segment),
                                c.stroke_width(3),
                            )))
                            .map_err(fail)?;
                    }
                    segment.clear();
                }
            }
        }
        chart
            .draw_series(
                (0..n)
                    .filter_map(|b| share(s, b).map(|y| Circle::new((b as f64, y), 4, c.filled()))),
            )
            .map_err(fail)?;
    }
    let entries: Vec<(String, RGBColor)> = data
        .clients
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), colour(i, s, count)))
        .collect();
    legend(
        &side,
        if data.by_client {
            "OAuth client"
        } else {
            "Series"
        },
        &entries,
        &[],
    )
}

fn endpoints_panel(area: &Area, data: &ChartData) -> Drawn {
    let title = "Top endpoints by requests (method and templateUri)";
    if !data.by_endpoint || data.endpoints.is_empty() {
        return message(
            area,
            title,
            "The rows are not grouped by endpoint: add TemplateUri,HttpMethod to --group-by \
             (the default with --chart or --format html when --group-by is not given).",
        );
    }
    bars_panel(area, title, "requests in the interval", &data.endpoints)
}

/// Horizontal bars, largest first as given, each labelled with its value.
fn bars_panel(area: &Area, title: &str, x_desc: &str, bars: &[(String, u64)]) -> Drawn {
    let k = bars.len();
    // At least five slots, so one or two bars are bars, not blocks.
    let slots = k.max(5);
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let labels: Vec<String> = bars.iter().map(|(l, _)| cut(l, 46)).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(52)
        .y_label_area_size(400)
        .build_cartesian_2d(0f64..(max as f64 * 1.15), -0.5f64..(slots as f64 - 0.5))
        .map_err(fail)?;
    let y_label = |v: &f64| -> String {
        let i = v.round();
        let top = slots - 1;
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) <= top && top - (i as usize) < k {
            labels[top - i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(slots)
        .x_labels(6)
        .y_label_formatter(&y_label)
        .x_label_formatter(&|v| thousands(v.max(0.0).round() as u64))
        .x_desc(x_desc)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(fail)?;
    let (r, g, b) = PALETTE[0];
    for (i, (_, value)) in bars.iter().enumerate() {
        let y = (slots - 1 - i) as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - 0.35), (*value as f64, y + 0.35)],
                RGBColor(r, g, b).filled(),
            )))
            .map_err(fail)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {}", thousands(*value)),
                (*value as f64, y),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(fail)?;
    }
    Ok(())
}

/// One bar chart under a heading (the operational events' counts per definition); with no
/// bars, `empty` says why there is nothing to draw.
pub fn bars(
    title: &str,
    x_desc: &str,
    bars: &[(String, u64)],
    context: &ChartContext,
    empty: &str,
) -> Result<String, String> {
    let height = HEADER + (PANEL_HEIGHTS[2]).max(120 + 34 * bars.len() as u32);
    svg(height, |root| {
        let (top, rest) = root.split_vertically(HEADER);
        heading(&top, context)?;
        if bars.is_empty() {
            message(&rest, title, empty)
        } else {
            bars_panel(&rest, title, x_desc, bars)
        }
    })
}

fn no_data(area: &Area, context: &ChartContext) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let centred = |size: u32, bold: bool| {
        let font = (FONT, size).into_font();
        let font = if bold {
            font.style(FontStyle::Bold)
        } else {
            font
        };
        font.color(&RGBColor(0x33, 0x33, 0x33))
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    area.draw(&Text::new(
        "No data",
        (w / 2, h / 2 - 40),
        centred(56, true),
    ))
    .map_err(fail)?;
    area.draw(&Text::new(
        "The query returned no rows: nothing to chart.",
        (w / 2, h / 2 + 20),
        centred(22, false),
    ))
    .map_err(fail)?;
    for (i, line) in context.notes.iter().enumerate() {
        area.draw(&Text::new(
            cut(line, 100),
            (w / 2, h / 2 + 56 + 24 * i as i32),
            centred(16, false),
        ))
        .map_err(fail)?;
    }
    Ok(())
}

fn heading(area: &Area, context: &ChartContext) -> Drawn {
    area.draw(&Text::new(
        cut(&context.heading, 120),
        (16, 12),
        (FONT, 18).into_font().color(&RGBColor(0x33, 0x33, 0x33)),
    ))
    .map_err(fail)
}

fn svg(height: u32, draw: impl FnOnce(&Area) -> Drawn) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        draw(&root)?;
        root.present().map_err(fail)?;
    }
    Ok(out)
}

/// The three charts in one SVG, under a heading naming the query; with no rows, one
/// "No data" picture.
pub fn combined(data: &ChartData, context: &ChartContext) -> Result<String, String> {
    if data.is_empty() {
        return svg(420, |root| {
            let (top, rest) = root.split_vertically(HEADER);
            heading(&top, context)?;
            no_data(&rest, context)
        });
    }
    let height = HEADER + PANEL_HEIGHTS.iter().sum::<u32>();
    svg(height, |root| {
        let (top, rest) = root.split_vertically(HEADER);
        heading(&top, context)?;
        let (first, rest) = rest.split_vertically(PANEL_HEIGHTS[0]);
        let (second, third) = rest.split_vertically(PANEL_HEIGHTS[1]);
        requests_panel(&first, data, context)?;
        rate_panel(&second, data, context)?;
        endpoints_panel(&third, data)
    })
}

/// The charts as separate SVGs (for the HTML report); with no rows, the "No data" picture.
pub fn panels(data: &ChartData, context: &ChartContext) -> Result<Vec<String>, String> {
    if data.is_empty() {
        return Ok(vec![svg(360, |root| no_data(root, context))?]);
    }
    Ok(vec![
        svg(PANEL_HEIGHTS[0], |a| requests_panel(a, data, context))?,
        svg(PANEL_HEIGHTS[1], |a| rate_panel(a, data, context))?,
        svg(PANEL_HEIGHTS[2], |a| endpoints_panel(a, data))?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Row;

    fn hostile() -> Vec<Row> {
        vec![Row {
            date: Some("2026-11-01".into()),
            client_name: Some("<script>alert(1)</script> & \"co\"".into()),
            template_uri: Some("/api/v2/<b>".into()),
            http_method: Some("GET".into()),
            requests: Some(12),
            status429: Some(1),
            ..Row::default()
        }]
    }

    #[test]
    fn api_strings_are_escaped_inside_the_svg() {
        let context = ChartContext {
            heading: "<h1>".into(),
            notes: vec!["a <note>".into()],
            ..ChartContext::default()
        };
        let svg = combined(&ChartData::from_rows(&hostile()), &context).unwrap();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<b>") && !svg.contains("<h1>") && !svg.contains("<note>"));
        assert!(
            svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;"),
            "{svg}"
        );
        assert!(svg.contains("&lt;b&gt;") && svg.contains("&lt;h1&gt;"));
    }

    #[test]
    fn dates_that_are_not_days_are_drawn_as_they_came() {
        let dated = |dates: [&str; 2]| {
            let rows: Vec<Row> = dates
                .into_iter()
                .map(|date| Row {
                    date: Some(date.into()),
                    requests: Some(3),
                    ..Row::default()
                })
                .collect();
            ChartData::from_rows(&rows)
        };
        // Ten bytes with a four-character year, but not a day: cutting at byte 5 would
        // split the 'é'.
        for odd in ["2026éabcd", "2026-11-1x", "Q4"] {
            let data = dated(["2026-11-01", odd]);
            let (labels, year) = date_labels(&data);
            assert_eq!(year, None, "{odd}");
            assert!(labels.iter().any(|l| l == odd), "{odd}: {labels:?}");
            combined(&data, &ChartContext::default()).unwrap();
        }
        let (labels, year) = date_labels(&dated(["2026-11-01", "2026-11-02"]));
        assert_eq!(labels, ["11-01", "11-02"]);
        assert_eq!(year.as_deref(), Some("2026"));
    }

    #[test]
    fn no_rows_draw_a_no_data_picture() {
        let svg = combined(&ChartData::default(), &ChartContext::default()).unwrap();
        assert!(svg.contains("No data"), "{svg}");
        assert_eq!(
            panels(&ChartData::default(), &ChartContext::default())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn one_undated_row_still_draws_three_panels() {
        let rows = [Row {
            requests: Some(5),
            ..Row::default()
        }];
        let data = ChartData::from_rows(&rows);
        let svgs = panels(&data, &ChartContext::default()).unwrap();
        assert_eq!(svgs.len(), 3);
        assert!(svgs[2].contains("not grouped by endpoint"), "{}", svgs[2]);
        assert!(svgs[0].contains("the whole interval"));
    }

    /// The SVG as pixels, as the integration tests render it (tests/charts.rs).
    fn render(svg: &str) -> resvg::tiny_skia::Pixmap {
        let mut options = resvg::usvg::Options::default();
        options.fontdb_mut().load_system_fonts();
        let tree = resvg::usvg::Tree::from_str(svg, &options).unwrap();
        let size = tree.size().to_int_size();
        let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
        resvg::render(&tree, Default::default(), &mut pixmap.as_mut());
        pixmap
    }

    #[test]
    fn fourteen_clients_are_drawn_as_nine_and_other_in_ten_distinct_colours() {
        let rows: Vec<Row> = (0..14)
            .flat_map(|c| {
                ["2026-11-01", "2026-11-02"].map(|d| Row {
                    date: Some(d.into()),
                    client_name: Some(format!("client {c:02}")),
                    template_uri: Some("/api/v2/x".into()),
                    http_method: Some("GET".into()),
                    requests: Some(1_000 - 10 * c),
                    status429: Some(c),
                    ..Row::default()
                })
            })
            .collect();
        let data = ChartData::from_rows(&rows);
        let svg = combined(&data, &ChartContext::default()).unwrap();
        assert!(svg.contains("other"), "{svg}");
        assert!(!svg.contains("client 09"), "the tenth client is in other");
        let pixmap = render(&svg);
        // The first panel (below the heading) holds every colour as bars and swatches.
        let first_panel = HEADER..HEADER + PANEL_HEIGHTS[0];
        for (r, g, b) in PALETTE {
            let pixels = pixmap
                .pixels()
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    first_panel.contains(&(*i as u32 / WIDTH))
                        && (p.red(), p.green(), p.blue(), p.alpha()) == (r, g, b, 255)
                })
                .count();
            assert!(
                pixels > 200,
                "colour {r:02x}{g:02x}{b:02x}: {pixels} pixels"
            );
        }
    }

    #[test]
    fn more_than_ten_series_keep_grey_for_other_only() {
        let other = Series {
            name: OTHER.into(),
            requests: vec![],
            status429: vec![],
        };
        let named = Series {
            name: "x".into(),
            ..other.clone()
        };
        assert_eq!(colour(9, &other, 10), RGBColor(0xba, 0xb0, 0xac));
        for i in 0..9 {
            assert_ne!(colour(i, &named, 10), RGBColor(0xba, 0xb0, 0xac));
        }
    }
}
