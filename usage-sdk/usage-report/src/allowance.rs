//! The fair-use forecast (`--allowance N`, or `--allowance-per-user N --users M`): the month
//! to date against a monthly request allowance, the month-end total projected at the recent
//! daily rate, and the day the allowance runs out at that rate.
//!
//! "The month" is the UTC month holding yesterday, the last full day: on the 1st the report
//! is about the month that just ended. Arithmetic is in `u64` with saturation and checked
//! products, so no allowance, however large, can overflow or panic.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use crate::analysis::thousands;
use crate::row::Row;

/// How many of the latest full days make the "recent daily rate".
pub const RATE_DAYS: u32 = 7;

/// Usage API counts are not what Genesys bills; the forecast says so wherever it is shown.
pub const NOT_BILLING: &str = "Usage API counts are not billing figures: the aggregates jobs \
count every request, including those of Genesys' built-in OAuth clients (the legacy queries \
leave those out); check your contract for what counts against the allowance.";

/// A monthly allowance and how it was given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Allowance {
    pub requests_per_month: u64,
    pub basis: String,
    /// Where the figure comes from, for an allowance from the fair-use table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
}

impl Allowance {
    pub fn per_month(requests: u64) -> Self {
        Self {
            requests_per_month: requests,
            basis: format!("{} requests per month", thousands(requests)),
            source: None,
        }
    }

    /// `per_user * users`, or an error when the product does not fit in 64 bits.
    pub fn per_user(per_user: u64, users: u64) -> Result<Self, String> {
        let total = per_user.checked_mul(users).ok_or_else(|| {
            format!(
                "--allowance-per-user {per_user} times --users {users} is more than {} requests; \
                 give the monthly total with --allowance",
                thousands(u64::MAX)
            )
        })?;
        Ok(Self {
            requests_per_month: total,
            basis: format!(
                "{} requests per user per month x {} users",
                thousands(per_user),
                thousands(users)
            ),
            source: None,
        })
    }
}

/// The Genesys Cloud licenses of the fair-use table (`--license`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum License {
    /// Genesys Cloud CX 1
    Cx1,
    /// Genesys Cloud CX 2
    Cx2,
    /// Genesys Cloud CX 2 Digital
    Cx2Digital,
    /// Genesys Cloud CX 3
    Cx3,
    /// Genesys Cloud CX 3 Digital
    Cx3Digital,
    /// Genesys Cloud Communicate
    Communicate,
    /// Genesys Cloud EX
    Ex,
}

/// Where the table comes from, said in `--help` and in every forecast built from it.
pub const FAIR_USE_SOURCE: &str = "Genesys Cloud fair use policy (help centre article \
\"Genesys Cloud fair use policy\"): monthly Platform API requests per billable user";

impl License {
    pub fn name(self) -> &'static str {
        match self {
            License::Cx1 => "CX 1",
            License::Cx2 => "CX 2",
            License::Cx2Digital => "CX 2 Digital",
            License::Cx3 => "CX 3",
            License::Cx3Digital => "CX 3 Digital",
            License::Communicate => "Communicate",
            License::Ex => "EX",
        }
    }

    /// Requests per user per month, for named or concurrent users; `None` where the table
    /// has no concurrent figure (Communicate, EX).
    pub fn per_user(self, concurrent: bool) -> Option<u64> {
        Some(match (self, concurrent) {
            (License::Communicate, false) => 10_000,
            (License::Cx1 | License::Ex, false) => 75_000,
            (License::Cx1, true) => 97_500,
            (License::Cx2 | License::Cx2Digital, false) => 110_000,
            (License::Cx2 | License::Cx2Digital, true) => 143_000,
            (License::Cx3 | License::Cx3Digital, false) => 140_000,
            (License::Cx3 | License::Cx3Digital, true) => 182_000,
            (License::Communicate | License::Ex, true) => return None,
        })
    }
}

impl Allowance {
    /// The allowance of `users` users of `license` (named, or `concurrent`), from the
    /// fair-use table.
    pub fn by_license(license: License, concurrent: bool, users: u64) -> Result<Self, String> {
        let kind = if concurrent { "concurrent" } else { "named" };
        let per_user = license.per_user(concurrent).ok_or_else(|| {
            format!(
                "the fair-use table has no concurrent-user figure for {}; drop --concurrent",
                license.name()
            )
        })?;
        let mut allowance = Self::per_user(per_user, users)?;
        allowance.basis = format!(
            "{} {kind} users x {} requests per user per month = {} ({})",
            thousands(users),
            thousands(per_user),
            thousands(allowance.requests_per_month),
            license.name()
        );
        allowance.source = Some(FAIR_USE_SOURCE);
        Ok(allowance)
    }
}

/// A positive whole number, with `_` or `,` as thousands separators allowed.
pub fn parse_positive(value: &str) -> Result<u64, String> {
    let digits: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, '_' | ','))
        .collect();
    let n: u64 = digits.parse().map_err(|_| {
        format!(
            "{value:?} is not a whole number from 1 to {}",
            thousands(u64::MAX)
        )
    })?;
    if n == 0 {
        return Err("0 leaves nothing to forecast; give at least 1".to_string());
    }
    Ok(n)
}

/// The first day of the month the forecast covers and the day after its last full day, for
/// a report run on `today` (UTC).
pub fn month_to_date(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let yesterday = today.pred_opt().unwrap_or(today);
    let first = yesterday.with_day(1).expect("every month has a 1st");
    let end = if yesterday.month() == today.month() {
        today
    } else {
        // Run on the 1st: the whole month that just ended.
        today.with_day(1).expect("every month has a 1st")
    };
    (first, end)
}

fn days_in_month(first: NaiveDate) -> u32 {
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("the next month is representable");
    (next - first).num_days() as u32
}

/// The month to date against an allowance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Forecast {
    pub allowance: Allowance,
    pub month: String,
    pub first_day: NaiveDate,
    pub last_full_day: NaiveDate,
    pub full_days: u32,
    pub days_in_month: u32,
    pub requests_so_far: u64,
    pub share_used_percent: f64,
    /// The mean requests per day over `rate_days` latest full days.
    pub daily_rate: f64,
    pub rate_days: u32,
    pub projected_month_end: u64,
    pub projected_share_percent: f64,
    /// Requests projected beyond the allowance by the month's end (0 within it). A count of
    /// requests, never a price: Genesys bills overage per request at a contract rate.
    pub projected_overage: u64,
    /// The day the allowance ran out or runs out at the daily rate, within the month.
    pub runs_out_on: Option<NaiveDate>,
    pub already_exceeded: bool,
    pub note: &'static str,
}

impl Forecast {
    /// The forecast from daily rows; rows dated outside the month (or undated) are ignored.
    pub fn from_rows(rows: &[Row], allowance: Allowance, today: NaiveDate) -> Self {
        let (first, end) = month_to_date(today);
        let last_full_day = end.pred_opt().unwrap_or(end);
        let full_days = (end - first).num_days().max(0) as u32;
        let mut daily: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for row in rows {
            let Some(date) = row
                .date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d").ok())
            else {
                continue;
            };
            if date < first || date >= end {
                continue;
            }
            let requests = row.requests.map_or(0, |r| u64::try_from(r).unwrap_or(0));
            let day = daily.entry(date).or_default();
            *day = day.saturating_add(requests);
        }
        let so_far = daily.values().fold(0u64, |a, v| a.saturating_add(*v));
        let rate_days = RATE_DAYS.min(full_days).max(1);
        let rate_from = end
            .checked_sub_days(Days::new(u64::from(rate_days)))
            .unwrap_or(first);
        let recent = daily
            .range(rate_from..end)
            .fold(0u64, |a, (_, v)| a.saturating_add(*v));
        let daily_rate = recent as f64 / f64::from(rate_days);
        let month_days = days_in_month(first);
        let remaining = month_days.saturating_sub(full_days);
        // `as` from f64 saturates, so a huge rate cannot wrap.
        let projected = so_far.saturating_add((daily_rate * f64::from(remaining)).round() as u64);
        let limit = allowance.requests_per_month;
        let already_exceeded = so_far >= limit;
        let runs_out_on = if already_exceeded {
            // The first day whose running total reached the allowance.
            let mut running = 0u64;
            daily
                .iter()
                .find(|(_, v)| {
                    running = running.saturating_add(**v);
                    running >= limit
                })
                .map(|(d, _)| *d)
        } else if daily_rate > 0.0 {
            let days_needed = ((limit - so_far) as f64 / daily_rate).ceil();
            if days_needed <= f64::from(remaining) {
                // Day 1 after the last full day is the first day it can run out.
                last_full_day.checked_add_days(Days::new(days_needed as u64))
            } else {
                None
            }
        } else {
            None
        };
        Forecast {
            month: first.format("%Y-%m").to_string(),
            first_day: first,
            last_full_day,
            full_days,
            days_in_month: month_days,
            requests_so_far: so_far,
            share_used_percent: crate::analysis::percent(so_far, limit),
            daily_rate,
            rate_days,
            projected_month_end: projected,
            projected_share_percent: crate::analysis::percent(projected, limit),
            projected_overage: projected.saturating_sub(limit),
            runs_out_on,
            already_exceeded,
            allowance,
            note: NOT_BILLING,
        }
    }

    /// The verdict in one sentence.
    pub fn verdict(&self) -> String {
        match (self.already_exceeded, self.runs_out_on) {
            (true, Some(day)) => format!("The allowance ran out on {day}."),
            (true, None) => "The allowance has run out.".to_string(),
            (false, Some(day)) => format!(
                "At the recent rate the allowance runs out on {day}, before the month ends."
            ),
            (false, None) => "At the recent rate the allowance lasts the month.".to_string(),
        }
    }

    /// The figures as label and value lines, shared by the text block and the HTML section.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let mut lines = vec![
            ("Allowance", self.allowance.basis.clone()),
            (
                "Month",
                format!(
                    "{} ({} of {} days complete, {} to {})",
                    self.month,
                    self.full_days,
                    self.days_in_month,
                    self.first_day,
                    self.last_full_day
                ),
            ),
            (
                "Requests so far",
                format!(
                    "{} of {} ({:.1}% used)",
                    thousands(self.requests_so_far),
                    thousands(self.allowance.requests_per_month),
                    self.share_used_percent
                ),
            ),
            (
                "Recent daily rate",
                format!(
                    "{} requests per day (mean of the last {} full days)",
                    thousands(self.daily_rate.round() as u64),
                    self.rate_days
                ),
            ),
            (
                "Projected month end",
                format!(
                    "{} ({:.1}% of the allowance)",
                    thousands(self.projected_month_end),
                    self.projected_share_percent
                ),
            ),
            (
                "Projected overage",
                if self.projected_overage == 0 {
                    "none: within the allowance".to_string()
                } else {
                    format!(
                        "{} requests beyond the allowance by the month's end",
                        thousands(self.projected_overage)
                    )
                },
            ),
            ("Verdict", self.verdict()),
        ];
        if let Some(source) = self.allowance.source {
            lines.push(("Source", source.to_string()));
        }
        lines
    }

    /// The block printed after the table (and on stderr with CSV).
    pub fn text(&self) -> String {
        let mut out = String::from("Allowance forecast\n");
        for (label, value) in self.lines() {
            out += &format!("  {:<20} {value}\n", format!("{label}:"));
        }
        out += &format!("  {NOT_BILLING}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rows(days: &[(&str, i64)]) -> Vec<Row> {
        days.iter()
            .map(|(d, r)| Row {
                date: Some(d.to_string()),
                requests: Some(*r),
                ..Row::default()
            })
            .collect()
    }

    #[test]
    fn the_month_is_the_one_holding_yesterday() {
        assert_eq!(
            month_to_date(day("2026-11-15")),
            (day("2026-11-01"), day("2026-11-15"))
        );
        assert_eq!(
            month_to_date(day("2026-12-01")),
            (day("2026-11-01"), day("2026-12-01"))
        );
    }

    #[test]
    fn projects_the_month_end_at_the_last_seven_days_rate() {
        // Ten full days: 3 days of 100, then 7 days of 1,000.
        let mut days: Vec<(String, i64)> =
            (1..=3).map(|d| (format!("2026-11-{d:02}"), 100)).collect();
        days.extend((4..=10).map(|d| (format!("2026-11-{d:02}"), 1000)));
        let days: Vec<(&str, i64)> = days.iter().map(|(d, r)| (d.as_str(), *r)).collect();
        let f = Forecast::from_rows(
            &rows(&days),
            Allowance::per_month(20_000),
            day("2026-11-11"),
        );
        assert_eq!(f.requests_so_far, 7_300);
        assert_eq!(f.daily_rate, 1000.0);
        assert_eq!(f.projected_month_end, 7_300 + 20 * 1000);
        // 12,700 left at 1,000 a day: 13 more days after the 10th.
        assert_eq!(f.runs_out_on, Some(day("2026-11-23")));
        assert!(!f.already_exceeded);
        assert!(f.text().contains("27,300"), "{}", f.text());
        assert!(f.text().contains("not billing figures"));
    }

    #[test]
    fn an_exceeded_allowance_names_the_day_it_ran_out() {
        let f = Forecast::from_rows(
            &rows(&[("2026-11-01", 5), ("2026-11-02", 10), ("2026-11-03", 10)]),
            Allowance::per_month(12),
            day("2026-11-04"),
        );
        assert!(f.already_exceeded);
        assert_eq!(f.runs_out_on, Some(day("2026-11-02")));
    }

    #[test]
    fn huge_values_saturate_instead_of_overflowing() {
        let f = Forecast::from_rows(
            &rows(&[
                ("2026-11-01", i64::MAX),
                ("2026-11-02", i64::MAX),
                ("2026-11-03", i64::MAX),
            ]),
            Allowance::per_month(u64::MAX),
            day("2026-11-04"),
        );
        assert_eq!(f.projected_month_end, u64::MAX);
        let none = Forecast::from_rows(&[], Allowance::per_month(u64::MAX), day("2026-11-02"));
        assert_eq!(none.requests_so_far, 0);
        assert_eq!(none.runs_out_on, None);
        assert!(Allowance::per_user(u64::MAX, 2).is_err());
        assert_eq!(
            Allowance::per_user(1_000, 50).unwrap().requests_per_month,
            50_000
        );
    }

    #[test]
    fn a_license_gives_the_fair_use_allowance_and_the_forecast_the_overage_in_requests() {
        // The worked example of Genesys' invoice article: 505,992 requests against 182,000
        // allowed (one CX 3 concurrent user) leave 323,992 billable requests.
        let cx3 = Allowance::by_license(License::Cx3, true, 1).unwrap();
        assert_eq!(cx3.requests_per_month, 182_000);
        assert!(cx3.basis.contains("concurrent") && cx3.basis.contains("CX 3"));
        let days: Vec<(String, i64)> = (1..=30)
            .map(|d| (format!("2026-11-{d:02}"), if d == 1 { 505_992 } else { 0 }))
            .collect();
        let days: Vec<(&str, i64)> = days.iter().map(|(d, r)| (d.as_str(), *r)).collect();
        let f = Forecast::from_rows(&rows(&days), cx3, day("2026-12-01"));
        assert_eq!(f.projected_overage, 323_992);
        let text = f.text();
        assert!(text.contains("323,992 requests beyond"), "{text}");
        assert!(text.contains("fair use policy"), "{text}");
        assert!(
            !text.contains('$') && !text.to_lowercase().contains("price"),
            "{text}"
        );
        let table = [
            (License::Communicate, false, Some(10_000)),
            (License::Cx1, false, Some(75_000)),
            (License::Cx1, true, Some(97_500)),
            (License::Cx2Digital, false, Some(110_000)),
            (License::Cx2, true, Some(143_000)),
            (License::Cx3Digital, false, Some(140_000)),
            (License::Cx3Digital, true, Some(182_000)),
            (License::Ex, false, Some(75_000)),
            (License::Ex, true, None),
            (License::Communicate, true, None),
        ];
        for (license, concurrent, per_user) in table {
            assert_eq!(license.per_user(concurrent), per_user, "{license:?}");
        }
        assert!(Allowance::by_license(License::Ex, true, 3).is_err());
        assert_eq!(
            Allowance::by_license(License::Cx2, false, 50)
                .unwrap()
                .requests_per_month,
            5_500_000
        );
    }

    #[test]
    fn allowances_parse_as_positive_whole_numbers() {
        assert_eq!(parse_positive("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_positive("1,000"), Ok(1_000));
        for bad in ["0", "-1", "x", "18446744073709551616", ""] {
            assert!(parse_positive(bad).is_err(), "{bad}");
        }
    }
}
