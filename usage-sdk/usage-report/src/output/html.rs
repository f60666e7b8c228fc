//! `--format html`: one self-contained page (inline CSS and SVG, no script, nothing fetched)
//! with the query's parameters, the totals, the allowance forecast, the charts and the table.
//!
//! Every string that came from the API (client names, template URIs, ids) is escaped here;
//! inside the SVGs plotters escapes the text it writes.

use crate::allowance::{Forecast, NOT_BILLING};
use crate::analysis::{Totals, percent, thousands};

/// What the page shows.
pub struct Page<'a> {
    pub title: &'a str,
    pub demo_notice: Option<&'a str>,
    /// The query's parameters, label and value.
    pub parameters: &'a [(String, String)],
    pub notes: &'a [String],
    /// The figures shown as cards, label and value ([`totals_cards`] for usage rows).
    pub cards: &'a [(String, String)],
    pub forecast: Option<&'a Forecast>,
    /// Inline SVG documents from `chart::panels`.
    pub charts: &'a [String],
    pub header: &'a [String],
    pub cells: &'a [Vec<String>],
    /// Which columns hold numbers (right-aligned).
    pub numeric: &'a [bool],
    /// Said above the table when `--top` cut it.
    pub table_note: Option<String>,
}

/// The totals of usage rows as cards: rows, requests, and the 4xx, 429 and 5xx shares.
pub fn totals_cards(t: Totals) -> Vec<(String, String)> {
    let share = |count: u64| format!("{} ({:.1}%)", thousands(count), percent(count, t.requests));
    vec![
        ("rows".into(), thousands(t.rows as u64)),
        ("requests".into(), thousands(t.requests)),
        ("4xx".into(), share(t.status400)),
        ("429".into(), share(t.status429)),
        ("5xx".into(), share(t.status500)),
    ]
}

/// `text` safe as HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (an ANSI escape in a name) are shown, not passed on.
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif;
  margin: 0 auto; padding: 1.5rem; max-width: 1200px; color: #222; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.demo { background: #fff3cd; border: 1px solid #e0c36a; padding: .5rem .8rem; font-weight: 600; }
dl.params { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.params dt { font-weight: 600; color: #555; }
dl.params dd { margin: 0; overflow-wrap: anywhere; }
.totals { display: flex; flex-wrap: wrap; gap: .8rem; margin: 0; padding: 0; list-style: none; }
.totals li { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .9rem; min-width: 8rem; }
.totals b { display: block; font-size: 1.3rem; font-variant-numeric: tabular-nums; }
.notes { color: #555; font-size: .9rem; }
.forecast { border-left: 4px solid #4e79a7; padding: .3rem 1rem; background: #f6f8fb; }
.verdict { font-weight: 600; }
figure.chart { margin: 0 0 1.5rem; }
figure.chart svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { padding: .25rem .5rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid #999; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  th { position: static; }
  figure.chart, .forecast, .totals li { break-inside: avoid; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
}
";

/// The page.
pub fn page(page: &Page<'_>) -> String {
    let mut out = String::new();
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += &format!("<title>{}</title>\n", escape(page.title));
    out += &format!("<style>{STYLE}</style>\n</head>\n<body>\n");
    if let Some(notice) = page.demo_notice {
        out += &format!("<p class=\"demo\">{}</p>\n", escape(notice));
    }
    out += &format!("<h1>{}</h1>\n", escape(page.title));

    out += "<section id=\"query\">\n<h2>Query</h2>\n<dl class=\"params\">\n";
    for (label, value) in page.parameters {
        out += &format!("<dt>{}</dt><dd>{}</dd>\n", escape(label), escape(value));
    }
    out += "</dl>\n";
    if !page.notes.is_empty() {
        out += "<ul class=\"notes\">\n";
        for note in page.notes {
            out += &format!("<li>{}</li>\n", escape(note));
        }
        out += "</ul>\n";
    }
    out += "</section>\n";

    out += "<section id=\"totals\">\n<h2>Totals</h2>\n<ul class=\"totals\">\n";
    for (label, value) in page.cards {
        out += &format!("<li>{}<b>{}</b></li>\n", escape(label), escape(value));
    }
    out += "</ul>\n</section>\n";

    if let Some(forecast) = page.forecast {
        out += "<section id=\"allowance\" class=\"forecast\">\n<h2>Allowance forecast</h2>\n";
        out += "<dl class=\"params\">\n";
        for (label, value) in forecast.lines() {
            let class = if label == "Verdict" {
                " class=\"verdict\""
            } else {
                ""
            };
            out += &format!(
                "<dt>{}</dt><dd{class}>{}</dd>\n",
                escape(label),
                escape(&value)
            );
        }
        out += &format!(
            "</dl>\n<p class=\"notes\">{}</p>\n</section>\n",
            escape(NOT_BILLING)
        );
    }

    if !page.charts.is_empty() {
        out += "<section id=\"charts\">\n<h2>Charts</h2>\n";
        for svg in page.charts {
            out += "<figure class=\"chart\">\n";
            out += svg;
            out += "</figure>\n";
        }
        out += "</section>\n";
    }

    out += "<section id=\"rows\">\n<h2>Rows</h2>\n";
    if let Some(note) = &page.table_note {
        out += &format!("<p class=\"notes\">{}</p>\n", escape(note));
    }
    out += "<table>\n<thead><tr>";
    let class = |i: usize| {
        if page.numeric.get(i).copied().unwrap_or(false) {
            " class=\"n\""
        } else {
            ""
        }
    };
    for (i, h) in page.header.iter().enumerate() {
        out += &format!("<th{}>{}</th>", class(i), escape(h));
    }
    out += "</tr></thead>\n<tbody>\n";
    for row in page.cells {
        out += "<tr>";
        for (i, c) in row.iter().enumerate() {
            out += &format!("<td{}>{}</td>", class(i), escape(c));
        }
        out += "</tr>\n";
    }
    if page.cells.is_empty() {
        out += &format!(
            "<tr><td colspan=\"{}\">No rows.</td></tr>\n",
            page.header.len().max(1)
        );
    }
    out += "</tbody>\n</table>\n</section>\n</body>\n</html>\n";
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\"\u{1b}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;\\u{1b}"
        );
    }
}
