//! The window planner: an interval as aggregates jobs the API accepts, each at most 90 days
//! long and none starting more than a year back ("Start date cannot be more than a year ago.
//! End date cannot be more than 90 days after the start.", the jobs' request schema; the SDK
//! checks both when a query is built). A long report and the store's backfill both split
//! their interval here.

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use usage_sdk::Interval;

/// The longest job: 90 days.
pub const MAX_JOB_DAYS: i64 = 90;

/// The oldest instant a job may start at, as of `now`: a calendar year back, the reading the
/// SDK's query builders use.
pub fn year_ago(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(12))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The first day the jobs can still serve in full, as of `now`.
pub fn first_servable_day(now: DateTime<Utc>) -> NaiveDate {
    let start = year_ago(now);
    let day = start.date_naive();
    if start.time() == chrono::NaiveTime::MIN {
        day
    } else {
        day.succ_opt().unwrap_or(day)
    }
}

/// Why an interval cannot be split into jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooOld {
    /// The start asked for.
    pub start: DateTime<Utc>,
    /// The oldest start the jobs accept.
    pub oldest: DateTime<Utc>,
}

/// `interval` as consecutive jobs of at most [`MAX_JOB_DAYS`], in order, covering it
/// exactly; an error when it starts more than a year before `now`.
pub fn windows(interval: Interval, now: DateTime<Utc>) -> Result<Vec<Interval>, TooOld> {
    let oldest = year_ago(now);
    if interval.start() < oldest {
        return Err(TooOld {
            start: interval.start(),
            oldest,
        });
    }
    Ok(split(interval))
}

/// `interval` as consecutive pieces of at most [`MAX_JOB_DAYS`], in order.
pub fn split(interval: Interval) -> Vec<Interval> {
    let step = TimeDelta::days(MAX_JOB_DAYS);
    let mut pieces = Vec::new();
    let mut start = interval.start();
    while start < interval.end() {
        let end = (start + step).min(interval.end());
        pieces.push(Interval::new(start, end).expect("start < end by construction"));
        start = end;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_year_is_five_jobs_none_over_90_days_none_older_than_a_year() {
        // At midnight the 365 days before today are within the year; later that day, the
        // first of them is not any more, and the year the jobs serve is 364 full days.
        let midnight = at("2026-11-15T00:00:00Z");
        let full = Interval::last_full_days_before(365, midnight).unwrap();
        assert_eq!(windows(full, midnight).unwrap().len(), 5);
        assert_eq!(first_servable_day(midnight), full.start().date_naive());
        let now = at("2026-11-15T10:00:00Z");
        assert!(windows(full, now).is_err());
        let year = Interval::new(at("2025-11-16T00:00:00Z"), at("2026-11-15T00:00:00Z")).unwrap();
        assert_eq!(first_servable_day(now), year.start().date_naive());
        let jobs = windows(year, now).unwrap();
        assert_eq!(jobs.len(), 5, "{jobs:?}");
        assert_eq!(jobs[0].start(), year.start());
        assert_eq!(jobs[4].end(), year.end());
        for pair in jobs.windows(2) {
            assert_eq!(pair[0].end(), pair[1].start(), "no gap, no overlap");
        }
        for job in &jobs {
            assert!(
                job.end() - job.start() <= TimeDelta::days(MAX_JOB_DAYS),
                "{job}"
            );
            assert!(job.start() >= year_ago(now), "{job}");
            // The SDK's own check agrees: each window builds as a job query.
            usage_sdk::OrganizationJobQuery::builder(*job)
                .build_at(now)
                .unwrap();
        }
    }

    #[test]
    fn a_short_interval_is_one_job_and_a_start_beyond_the_year_is_refused() {
        let now = at("2026-11-15T10:00:00Z");
        let week = Interval::last_full_days_before(7, now).unwrap();
        assert_eq!(windows(week, now).unwrap(), vec![week]);
        let ninety = Interval::last_full_days_before(90, now).unwrap();
        assert_eq!(windows(ninety, now).unwrap().len(), 1);
        let ninety_one = Interval::last_full_days_before(91, now).unwrap();
        assert_eq!(windows(ninety_one, now).unwrap().len(), 2);
        let old = Interval::new(at("2025-11-01T00:00:00Z"), at("2025-12-01T00:00:00Z")).unwrap();
        let error = windows(old, now).unwrap_err();
        assert_eq!(error.oldest, at("2025-11-15T10:00:00Z"));
        assert_eq!(first_servable_day(now).to_string(), "2025-11-16");
    }
}
