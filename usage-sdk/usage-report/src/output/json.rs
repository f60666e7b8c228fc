//! JSON: the rows exactly as the API sent them (fields this SDK does not know included),
//! as one array; with an allowance, `{"rows": [...], "allowance": {...}}`.

use std::io::Write;

use crate::allowance::Forecast;
use crate::row::ApiRow;

/// Every row at once, pretty-printed.
pub fn json(rows: &[&ApiRow], forecast: Option<&Forecast>) -> String {
    let json = match forecast {
        Some(forecast) => serde_json::to_string_pretty(&serde_json::json!({
            "rows": rows,
            "allowance": forecast,
        })),
        None => serde_json::to_string_pretty(rows),
    };
    json.expect("rows serialize to JSON") + "\n"
}

/// A JSON array written a row at a time, one row per line.
#[derive(Default)]
pub struct JsonStream {
    rows: u64,
}

impl JsonStream {
    pub fn start(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(b"[")
    }

    pub fn row(&mut self, out: &mut impl Write, row: &ApiRow) -> std::io::Result<()> {
        let separator = if self.rows == 0 { "\n  " } else { ",\n  " };
        self.rows += 1;
        out.write_all(separator.as_bytes())?;
        // Straight into the buffered output: no String per row.
        serde_json::to_writer(&mut *out, row).map_err(std::io::Error::from)
    }

    pub fn end(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(b"\n]\n")
    }
}
