//! The results table every benchmark prints: one row per figure, with its baseline, ratio,
//! target and verdict. Only `std`: `cargo xtask bench-build` includes this file too.

use std::process::ExitCode;

pub struct Row {
    name: String,
    sdk: String,
    baseline: String,
    ratio: String,
    target: String,
    pass: Option<bool>,
}

impl Row {
    pub fn new(name: &str, sdk: String, baseline: String, ratio: String, target: &str) -> Self {
        Self {
            name: name.into(),
            sdk,
            baseline,
            ratio,
            target: target.into(),
            pass: None,
        }
    }

    pub fn pass(mut self, pass: bool) -> Self {
        self.pass = Some(pass);
        self
    }
}

pub fn print_table(rows: &[Row]) {
    let header = [
        "benchmark",
        "SDK",
        "baseline",
        "ratio",
        "target",
        "pass/fail",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.sdk.clone(),
                r.baseline.clone(),
                r.ratio.clone(),
                r.target.clone(),
                match r.pass {
                    Some(true) => "pass".into(),
                    Some(false) => "FAIL".into(),
                    None => "info".into(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    println!();
    line(&header.map(String::from));
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in &cells {
        line(row);
    }
}

/// Prints the table; exit code 1 when a target was missed.
pub fn finish(rows: &[Row]) -> ExitCode {
    print_table(rows);
    if rows.iter().any(|r| r.pass == Some(false)) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
