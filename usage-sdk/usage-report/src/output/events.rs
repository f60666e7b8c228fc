//! The operational events' outputs: definitions, events and counts per definition, as a
//! table, CSV, JSON or an HTML page, and the counts as a bar chart. Every string here came
//! from the API: the table makes it terminal-safe, CSV defuses formulas, HTML escapes it.

use std::collections::HashMap;
use std::io::Write;

use usage_sdk::{EventAggregatesResponse, EventDefinition, OperationalEvent};

use super::csv::csv_line;
use super::html;
use super::table::grid;
use crate::analysis::{percent, thousands};
use crate::text::terminal_safe;

/// Definition names by id, to name each event's and count's definition.
#[derive(Clone, Debug, Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    pub fn of(definitions: &[EventDefinition]) -> Self {
        Self(
            definitions
                .iter()
                .filter_map(|d| Some((d.id.clone()?, d.name.clone().unwrap_or_default())))
                .collect(),
        )
    }

    fn name(&self, id: &str) -> &str {
        self.0.get(id).map_or("", String::as_str)
    }
}

/// The columns of the definitions.
pub const DEFINITION_COLUMNS: [&str; 3] = ["id", "name", "description"];

fn definition_cells(definition: &EventDefinition) -> Vec<String> {
    [&definition.id, &definition.name, &definition.description]
        .map(|v| v.clone().unwrap_or_default())
        .to_vec()
}

/// Every column of an event, in the API's own names (`eventDefinitionName` from the
/// definitions, `conversationId` from `conversation.id`).
pub const EVENT_COLUMNS: [&str; 14] = [
    "dateCreated",
    "eventDefinitionId",
    "eventDefinitionName",
    "entityName",
    "entityId",
    "errorCode",
    "previousValue",
    "currentValue",
    "parentEntityId",
    "conversationId",
    "entityVersion",
    "phoneNumber",
    "externalContactId",
    "entityToken",
];

/// The columns a terminal table shows (the first eight of [`EVENT_COLUMNS`]).
const TABLE_EVENT_COLUMNS: usize = 8;

fn event_cells(event: &OperationalEvent, names: &Names) -> Vec<String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let definition = event
        .event_definition
        .as_ref()
        .and_then(|d| d.id.clone())
        .unwrap_or_default();
    vec![
        event
            .date_created
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        definition.clone(),
        names.name(&definition).to_string(),
        text(&event.entity_name),
        text(&event.entity_id),
        text(&event.error_code),
        text(&event.previous_value),
        text(&event.current_value),
        text(&event.parent_entity_id),
        event
            .conversation
            .as_ref()
            .and_then(|c| c.id.clone())
            .unwrap_or_default(),
        text(&event.entity_version),
        text(&event.phone_number),
        text(&event.external_contact_id),
        text(&event.entity_token),
    ]
}

fn safe(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|row| row.iter().map(|c| terminal_safe(c)).collect())
        .collect()
}

fn header(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| c.to_string()).collect()
}

/// The definitions as a table, CSV, JSON or an HTML page.
pub fn definitions(definitions: &[EventDefinition], format: super::Format, page: &Page) -> String {
    let cells: Vec<Vec<String>> = definitions.iter().map(definition_cells).collect();
    match format {
        super::Format::Table => {
            let mut out = grid(
                &header(&DEFINITION_COLUMNS),
                &safe(cells),
                DEFINITION_COLUMNS.len(),
                false,
            );
            out += &format!("{} definitions\n", definitions.len());
            out
        }
        super::Format::Csv => lines(&DEFINITION_COLUMNS, cells),
        super::Format::Json => pretty(definitions),
        super::Format::Html => page.html(
            &[("definitions".into(), thousands(definitions.len() as u64))],
            &[],
            &header(&DEFINITION_COLUMNS),
            &cells,
            &[false; 3],
        ),
    }
}

/// The events as a table (the first columns) or an HTML page (every column), from all of
/// them; CSV and JSON are written as they arrive ([`EventStream`]).
pub fn events(
    events: &[OperationalEvent],
    names: &Names,
    format: super::Format,
    page: &Page,
) -> String {
    let cells = events.iter().map(|e| event_cells(e, names));
    match format {
        super::Format::Html => page.html(
            &[("events".into(), thousands(events.len() as u64))],
            &[],
            &header(&EVENT_COLUMNS),
            &cells.collect::<Vec<_>>(),
            &[false; EVENT_COLUMNS.len()],
        ),
        _ => {
            let cells = cells
                .map(|mut row| {
                    row.truncate(TABLE_EVENT_COLUMNS);
                    row
                })
                .collect();
            let mut out = grid(
                &header(&EVENT_COLUMNS[..TABLE_EVENT_COLUMNS]),
                &safe(cells),
                TABLE_EVENT_COLUMNS,
                false,
            );
            out += &format!(
                "{} events (--format csv or json gives every field)\n",
                events.len()
            );
            out
        }
    }
}

/// Events written as they arrive: CSV lines, or a JSON array of the events exactly as the
/// API sent them.
pub enum EventStream {
    Csv(Names),
    Json { written: u64 },
}

impl EventStream {
    pub fn start(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            EventStream::Csv(_) => out.write_all(csv_line(&header(&EVENT_COLUMNS)).as_bytes()),
            EventStream::Json { .. } => out.write_all(b"["),
        }
    }

    pub fn event(&mut self, out: &mut impl Write, event: &OperationalEvent) -> std::io::Result<()> {
        match self {
            EventStream::Csv(names) => {
                out.write_all(csv_line(&event_cells(event, names)).as_bytes())
            }
            EventStream::Json { written } => {
                out.write_all(if *written == 0 { b"\n  " } else { b",\n  " })?;
                *written += 1;
                serde_json::to_writer(&mut *out, event).map_err(std::io::Error::from)
            }
        }
    }

    pub fn end(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            EventStream::Csv(_) => Ok(()),
            EventStream::Json { .. } => out.write_all(b"\n]\n"),
        }
    }
}

/// The counts per definition, largest first: `(id, name, count)`.
pub fn count_rows(counts: &EventAggregatesResponse, names: &Names) -> Vec<(String, String, u64)> {
    let mut rows: Vec<(String, String, u64)> = counts
        .event_definition_aggregates
        .iter()
        .map(|aggregate| {
            let id = aggregate
                .event_definition
                .as_ref()
                .and_then(|d| d.id.clone())
                .unwrap_or_default();
            let name = names.name(&id).to_string();
            // A negative count is not a count: shown as 0 rather than wrapping.
            let count = aggregate
                .event_count
                .map_or(0, |c| u64::try_from(c).unwrap_or(0));
            (id, name, count)
        })
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    rows
}

/// The columns of the counts.
pub const COUNT_COLUMNS: [&str; 4] = [
    "eventDefinitionId",
    "eventDefinitionName",
    "eventCount",
    "share",
];

/// The counts as a table (with a total), CSV, JSON (the API's answer as sent) or HTML.
pub fn counts(
    counts: &EventAggregatesResponse,
    names: &Names,
    format: super::Format,
    page: &Page,
    chart: Option<&str>,
) -> String {
    let rows = count_rows(counts, names);
    let total: u64 = rows.iter().map(|r| r.2).sum();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(id, name, count)| {
            vec![
                id.clone(),
                name.clone(),
                count.to_string(),
                format!("{:.1}%", percent(*count, total)),
            ]
        })
        .collect();
    match format {
        super::Format::Table => {
            let mut body = safe(cells);
            body.push(vec![
                format!("TOTAL ({} definitions)", rows.len()),
                String::new(),
                total.to_string(),
                String::new(),
            ]);
            grid(&header(&COUNT_COLUMNS), &body, 2, !rows.is_empty())
        }
        super::Format::Csv => lines(&COUNT_COLUMNS, cells),
        super::Format::Json => pretty(counts),
        super::Format::Html => page.html(
            &[
                ("definitions".into(), thousands(rows.len() as u64)),
                ("events".into(), thousands(total)),
            ],
            chart.map(str::to_string).as_slice(),
            &header(&COUNT_COLUMNS),
            &cells,
            &[false, false, true, true],
        ),
    }
}

fn lines(columns: &[&str], cells: Vec<Vec<String>>) -> String {
    let mut out = csv_line(&header(columns));
    for row in cells {
        out += &csv_line(&row);
    }
    out
}

fn pretty<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("API types serialize to JSON") + "\n"
}

/// What an HTML page of events says besides its table.
pub struct Page {
    pub title: String,
    pub demo_notice: Option<String>,
    pub parameters: Vec<(String, String)>,
}

impl Page {
    fn html(
        &self,
        cards: &[(String, String)],
        charts: &[String],
        header: &[String],
        cells: &[Vec<String>],
        numeric: &[bool],
    ) -> String {
        html::page(&html::Page {
            title: &self.title,
            demo_notice: self.demo_notice.as_deref(),
            parameters: &self.parameters,
            notes: &[],
            cards,
            forecast: None,
            charts,
            header,
            cells,
            numeric,
            table_note: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;

    fn event(name: &str) -> OperationalEvent {
        serde_json::from_value(serde_json::json!({
            "eventDefinition": {"id": "d1"},
            "entityName": name,
            "errorCode": "=cmd|' /C calc'!A0",
            "dateCreated": "2026-11-02T10:00:00.000Z",
            "conversation": {"id": "c1"},
            "somethingNew": {"kept": true},
        }))
        .unwrap()
    }

    fn names() -> Names {
        Names::of(&[serde_json::from_value(
            serde_json::json!({"id": "d1", "name": "Flow <error>"}),
        )
        .unwrap()])
    }

    fn page() -> Page {
        Page {
            title: "Operational events".into(),
            demo_notice: None,
            parameters: vec![],
        }
    }

    #[test]
    fn api_strings_are_escaped_in_every_format() {
        let hostile = event("evil\u{1b}[2J<script>");
        let table = events(
            std::slice::from_ref(&hostile),
            &names(),
            Format::Table,
            &page(),
        );
        assert!(
            !table.contains('\u{1b}') && table.contains("evil\\u{1b}[2J"),
            "{table}"
        );
        assert!(table.contains("Flow <error>"), "{table}");
        let html = events(
            std::slice::from_ref(&hostile),
            &names(),
            Format::Html,
            &page(),
        );
        assert!(
            !html.contains("<script") && html.contains("&lt;script&gt;"),
            "{html}"
        );
        let mut csv = Vec::new();
        let mut stream = EventStream::Csv(names());
        stream.start(&mut csv).unwrap();
        stream.event(&mut csv, &hostile).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.starts_with("dateCreated,eventDefinitionId,eventDefinitionName,"),
            "{csv}"
        );
        assert!(csv.contains(",'=cmd|' /C calc'!A0,"), "{csv}");
        assert!(csv.contains(",c1,"), "the conversation id: {csv}");
    }

    #[test]
    fn json_keeps_the_fields_the_spec_does_not_name() {
        let mut out = Vec::new();
        let mut stream = EventStream::Json { written: 0 };
        stream.start(&mut out).unwrap();
        stream.event(&mut out, &event("a")).unwrap();
        stream.event(&mut out, &event("b")).unwrap();
        stream.end(&mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value.as_array().unwrap().len(), 2);
        assert_eq!(value[1]["somethingNew"]["kept"], true, "{value}");
        assert_eq!(value[1]["entityName"], "b");
    }

    #[test]
    fn counts_are_largest_first_with_names_shares_and_a_total() {
        let response: EventAggregatesResponse = serde_json::from_value(serde_json::json!({
            "interval": "2026-11-01T00:00:00Z/2026-11-08T00:00:00Z",
            "eventDefinitionAggregates": [
                {"eventDefinition": {"id": "d2"}, "eventCount": 1},
                {"eventDefinition": {"id": "d1"}, "eventCount": 3},
                {"eventDefinition": {"id": "d3"}, "eventCount": -5},
            ],
        }))
        .unwrap();
        let rows = count_rows(&response, &names());
        assert_eq!(rows[0], ("d1".into(), "Flow <error>".into(), 3));
        assert_eq!(rows[2].2, 0, "a negative count is not wrapped");
        let table = counts(&response, &names(), Format::Table, &page(), None);
        assert!(
            table.contains("TOTAL (3 definitions)") && table.contains("75.0%"),
            "{table}"
        );
        let csv = counts(&response, &names(), Format::Csv, &page(), None);
        assert_eq!(csv.lines().count(), 4, "{csv}");
        let json: serde_json::Value =
            serde_json::from_str(&counts(&response, &names(), Format::Json, &page(), None))
                .unwrap();
        assert_eq!(json["eventDefinitionAggregates"][1]["eventCount"], 3);
    }
}
