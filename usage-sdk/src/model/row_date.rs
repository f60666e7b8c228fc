//! The `date` of a usage row, read leniently.
//!
//! The generated row types use these in place of chrono's types (see `ROW_DATES` in
//! usage-sdk-codegen). The reference records that dimensions a query does not group by come
//! back as `""` rather than being left out, and that `date` appears only with a granularity;
//! whether `date` itself is ever `""` is unconfirmed. Read strictly, one such row would fail
//! the whole page. So a date that does not parse is kept verbatim instead, as the open enums
//! keep an unknown value, and [`UsageDate::date`] / [`UsageDateTime::date_time`] say `None`.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::open_enum::deserialize_str;

/// `date` of an aggregates job row: the day its granularity bucket starts, written
/// `yyyy-MM-dd`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UsageDate {
    /// The day. A full date-time (the legacy rows' form) is read as its UTC day.
    Day(NaiveDate),
    /// Text that is neither a date nor a date-time (for example `""`), kept verbatim.
    Unparsed(String),
}

impl UsageDate {
    /// The day, if the server sent one.
    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Self::Day(day) => Some(*day),
            Self::Unparsed(_) => None,
        }
    }
}

impl FromStr for UsageDate {
    type Err = Infallible;

    /// chrono's own parsers (`FromStr`), which its serde support uses: whatever the strict
    /// type read before still reads the same way.
    fn from_str(s: &str) -> Result<Self, Infallible> {
        // The API's own forms first, read directly: they agree with chrono on every text
        // they accept (a unit test below).
        Ok(if let Some(day) = api_date(s.as_bytes()) {
            Self::Day(day)
        } else if let Some(at) = api_date_time(s.as_bytes()) {
            Self::Day(at.date_naive())
        } else if let Ok(day) = s.parse::<NaiveDate>() {
            Self::Day(day)
        } else if let Ok(at) = s.parse::<DateTime<FixedOffset>>() {
            Self::Day(at.with_timezone(&Utc).date_naive())
        } else {
            Self::Unparsed(s.to_string())
        })
    }
}

impl From<NaiveDate> for UsageDate {
    fn from(day: NaiveDate) -> Self {
        Self::Day(day)
    }
}

impl fmt::Display for UsageDate {
    /// `yyyy-MM-dd`, or the unparsed text as it came.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // NaiveDate's Display is yyyy-MM-dd and allocates nothing (`format` would).
            Self::Day(day) => fmt::Display::fmt(day, f),
            Self::Unparsed(text) => f.write_str(text),
        }
    }
}

/// Every `date-time` of the spec: the `date` of a legacy usage row or simple search row (the
/// instant its granularity bucket starts) and an operational event's `dateCreated`, an
/// ISO-8601 date-time such as `2026-11-01T00:00:00Z`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UsageDateTime {
    /// The instant. A bare `yyyy-MM-dd` is read as midnight UTC.
    At(DateTime<Utc>),
    /// Text that is neither a date-time nor a date (for example `""`), kept verbatim.
    Unparsed(String),
}

impl UsageDateTime {
    /// The instant, if the server sent one.
    pub fn date_time(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::At(at) => Some(*at),
            Self::Unparsed(_) => None,
        }
    }
}

impl FromStr for UsageDateTime {
    type Err = Infallible;

    /// chrono's own parsers, as for [`UsageDate`], after the API's own form.
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(if let Some(at) = api_date_time(s.as_bytes()) {
            Self::At(at)
        } else if let Ok(at) = s.parse::<DateTime<FixedOffset>>() {
            Self::At(at.with_timezone(&Utc))
        } else if let Ok(day) = s.parse::<NaiveDate>() {
            Self::At(day.and_time(NaiveTime::MIN).and_utc())
        } else {
            Self::Unparsed(s.to_string())
        })
    }
}

impl From<DateTime<Utc>> for UsageDateTime {
    fn from(at: DateTime<Utc>) -> Self {
        Self::At(at)
    }
}

impl fmt::Display for UsageDateTime {
    /// RFC 3339 in UTC with a `Z` (fractional seconds only when there are any), or the
    /// unparsed text as it came.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::At(at) => f.write_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Self::Unparsed(text) => f.write_str(text),
        }
    }
}

/// `yyyy-MM-dd`, the form the API writes a job row's `date` in, read without chrono's
/// general parser (every row has a date: ~200 instructions against ~600 for a date, ~260
/// against ~1,850 for a date-time; callgrind, benches/HISTORY.md). `None` for any other
/// text, which chrono then reads as before.
fn api_date(s: &[u8]) -> Option<NaiveDate> {
    let &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = s else {
        return None;
    };
    NaiveDate::from_ymd_opt(
        number(&[y0, y1, y2, y3])? as i32,
        number(&[m0, m1])?,
        number(&[d0, d1])?,
    )
}

/// `yyyy-MM-ddTHH:mm:ssZ` with up to nine digits of fractions (`.000Z` as Genesys writes
/// it), read without chrono's general parser; `None` for any other text (an offset, a leap
/// second, ...), which chrono then reads as before.
fn api_date_time(s: &[u8]) -> Option<DateTime<Utc>> {
    let (date, time) = s.split_at_checked(10)?;
    let &[
        b'T',
        h0,
        h1,
        b':',
        m0,
        m1,
        b':',
        s0,
        s1,
        ref rest @ ..,
        b'Z',
    ] = time
    else {
        return None;
    };
    let nanos = match rest {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            number(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        number(&[h0, h1])?,
        number(&[m0, m1])?,
        number(&[s0, s1])?,
        nanos,
    )?;
    Some(api_date(date)?.and_time(time).and_utc())
}

/// The value of up to nine ASCII digits, `None` if any byte is not one.
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// Serde as a string, both ways; reading never fails on a string. A parsed value is written
/// by chrono in the type's own form, as the generated types wrote it before (so a date-time
/// read into a [`UsageDate`] is written back as its UTC day); unparsed text as it came.
macro_rules! date_serde {
    ($ty:ty, $parsed:ident, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    Self::$parsed(value) => value.serialize(serializer),
                    Self::Unparsed(text) => serializer.serialize_str(text),
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_str(deserializer, $expecting)
            }
        }
    };
}

date_serde!(UsageDate, Day, "a date string (yyyy-MM-dd)");
date_serde!(UsageDateTime, At, "a date-time string (ISO-8601)");

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_job_row_date_reads_the_day_in_either_form_and_keeps_anything_else() {
        let read = |json: &str| serde_json::from_str::<UsageDate>(json).unwrap();
        assert_eq!(read(r#""2026-11-02""#).date(), Some(day(2026, 11, 2)));
        assert_eq!(
            read(r#""2026-11-02T00:00:00Z""#).date(),
            Some(day(2026, 11, 2))
        );
        // The UTC day, whatever offset the server writes.
        assert_eq!(
            read(r#""2026-11-02T23:30:00-02:00""#).date(),
            Some(day(2026, 11, 3))
        );
        assert_eq!(read(r#""""#), UsageDate::Unparsed(String::new()));
        assert_eq!(
            read(r#""2026-02-30""#),
            UsageDate::Unparsed("2026-02-30".into())
        );
        assert!(
            serde_json::from_str::<UsageDate>("20261102").is_err(),
            "not a string"
        );
    }

    #[test]
    fn a_legacy_row_date_reads_the_instant_in_either_form_and_keeps_anything_else() {
        let read = |json: &str| serde_json::from_str::<UsageDateTime>(json).unwrap();
        let midnight = day(2020, 2, 3).and_time(NaiveTime::MIN).and_utc();
        assert_eq!(
            read(r#""2020-02-03T00:00:00.000Z""#).date_time(),
            Some(midnight)
        );
        assert_eq!(read(r#""2020-02-03""#).date_time(), Some(midnight));
        assert_eq!(read(r#""""#), UsageDateTime::Unparsed(String::new()));
        assert_eq!(read(r#""yesterday""#).date_time(), None);
    }

    #[test]
    fn both_write_back_what_they_read_in_their_own_form() {
        for text in ["2026-11-02", "", "not a date"] {
            let date: UsageDate = serde_json::from_value(text.into()).unwrap();
            assert_eq!(serde_json::to_value(&date).unwrap(), text);
        }
        // A date-time in a job row is kept as its UTC day only.
        let date: UsageDate = serde_json::from_value("2026-11-02T10:00:00Z".into()).unwrap();
        assert_eq!(serde_json::to_value(&date).unwrap(), "2026-11-02");
        for text in [
            "2020-02-03T00:00:00Z",
            "2020-02-03T00:00:00.250Z",
            "",
            "soon",
        ] {
            let at: UsageDateTime = serde_json::from_value(text.into()).unwrap();
            assert_eq!(serde_json::to_value(&at).unwrap(), text);
        }
    }

    /// Texts near the API's forms: every field at and past its bounds, every separator and
    /// fraction length, and one-byte changes of Genesys' own form at every position.
    fn near_api_forms() -> Vec<String> {
        let mut texts = Vec::new();
        for (y, m, d) in [
            ("2026", "11", "02"),
            ("0000", "01", "01"),
            ("9999", "12", "31"),
            ("2024", "02", "29"),
            ("2026", "02", "29"),
            ("2026", "00", "10"),
            ("2026", "13", "10"),
            ("2026", "04", "31"),
            ("2026", "04", "00"),
        ] {
            texts.push(format!("{y}-{m}-{d}"));
            for (h, mi, s) in [
                ("00", "00", "00"),
                ("23", "59", "59"),
                ("24", "00", "00"),
                ("10", "60", "00"),
                ("23", "59", "60"),
            ] {
                for fraction in ["", ".", ".0", ".5", ".123", ".123456789", ".1234567890"] {
                    for zone in ["Z", "z", "+00:00", "-02:00", ""] {
                        for t in ["T", "t", " "] {
                            texts.push(format!("{y}-{m}-{d}{t}{h}:{mi}:{s}{fraction}{zone}"));
                        }
                    }
                }
            }
        }
        let genesys = "2026-11-02T10:07:00.000Z";
        for at in 0..genesys.len() {
            for b in ["0", "9", "-", ":", "T", "Z", ".", "x", " ", "+", "\u{e9}"] {
                texts.push(format!("{}{b}{}", &genesys[..at], &genesys[at + 1..]));
                texts.push(format!("{}{b}{}", &genesys[..at], &genesys[at..]));
            }
            texts.push(format!("{}{}", &genesys[..at], &genesys[at + 1..]));
        }
        texts
    }

    #[test]
    fn the_api_forms_read_fast_exactly_as_chrono_reads_them() {
        let (mut fast_dates, mut fast_times) = (0, 0);
        for text in near_api_forms() {
            if let Some(day) = api_date(text.as_bytes()) {
                assert_eq!(text.parse::<NaiveDate>().ok(), Some(day), "{text:?}");
                fast_dates += 1;
            }
            if let Some(at) = api_date_time(text.as_bytes()) {
                let chrono = text.parse::<DateTime<FixedOffset>>().ok();
                assert_eq!(
                    chrono.map(|at| at.with_timezone(&Utc)),
                    Some(at),
                    "{text:?}"
                );
                fast_times += 1;
            }
            // Whichever path reads it, the result is chrono's.
            let strict = text
                .parse::<DateTime<FixedOffset>>()
                .map(|at| at.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    let day = text.parse::<NaiveDate>().ok()?;
                    Some(day.and_time(NaiveTime::MIN).and_utc())
                });
            let read: UsageDateTime = text.parse().unwrap();
            assert_eq!(read.date_time(), strict, "{text:?}");
        }
        // Genesys' own forms do take the fast path.
        assert!(api_date(b"2026-11-02").is_some());
        for text in [
            "2026-11-02T10:07:00.000Z",
            "2026-11-02T10:07:00Z",
            "2020-02-03T00:00:00.250Z",
        ] {
            assert!(api_date_time(text.as_bytes()).is_some(), "{text}");
        }
        assert!(
            fast_dates >= 4 && fast_times > 50,
            "{fast_dates} {fast_times}"
        );
    }
}
