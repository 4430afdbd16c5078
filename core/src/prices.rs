//! Which price a device is ranked at: the cheapest listed price of the provider class asked for,
//! or the user's own; how old it is; and the calendar dates prices carry.
//!
//! A price checked more than [`STALE_AFTER_DAYS`] days before the request's date is flagged:
//! cloud prices move monthly, and a buyer should check a stale one before relying on it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hardware::{CloudPrice, Hardware, ProviderClass};
use crate::provenance::Confidence;

/// Days after which a price is flagged as stale.
pub const STALE_AFTER_DAYS: i64 = 90;

/// A calendar date (proleptic Gregorian), written `YYYY-MM-DD`.
///
/// Hand-written rather than from a date crate: `ridge-core` stays free of anything that can read
/// the clock (the `core-deps` gate refuses `time` and `chrono`), and the arithmetic it needs is
/// a day count, checked in the tests against leap years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    year: i32,
    month: u32,
    day: u32,
}

/// Why text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date `YYYY-MM-DD`")]
pub struct NotADate(pub String);

fn leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl std::str::FromStr for Day {
    type Err = NotADate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || NotADate(s.to_string());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let number = |r: std::ops::Range<usize>| -> Result<u32, NotADate> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().map_err(|_| bad()) } else { Err(bad()) }
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let year = i32::try_from(year).map_err(|_| bad())?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Day { year, month, day })
    }
}

impl Day {
    /// Days since 1970-01-01 (H. Hinnant's `days_from_civil`: years counted from March, so the
    /// leap day ends a year).
    fn ordinal(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Whole days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Day) -> i64 {
        self.ordinal() - earlier.ordinal()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The price a row is costed at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceQuote {
    /// Provider and offer (`CoreWeave 8x`), or `your price`.
    pub provider: String,
    /// Its class; `None` for a price the user gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<ProviderClass>,
    /// US dollars per device-hour.
    pub usd_per_device_hour: f64,
    /// Date it was checked, where listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked: Option<Day>,
    /// Days between the check and the request's date, where both are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// Older than [`STALE_AFTER_DAYS`], or from an undated source.
    pub stale: bool,
    /// The source carries no date (`checked` is when it was read).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub undated: bool,
    /// Where it was read.
    pub source: String,
    /// How far it has been checked; `None` for the user's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
}

impl PriceQuote {
    /// A listed price, aged against `today` where given. A check date that does not parse (the
    /// datasets refuse one) leaves the age unknown.
    pub fn listed(p: &CloudPrice, today: Option<Day>) -> PriceQuote {
        let checked = p.checked.parse::<Day>().ok();
        let age_days = checked.zip(today).map(|(c, t)| t.days_since(c));
        PriceQuote {
            provider: p.provider.clone(),
            class: Some(p.class),
            usd_per_device_hour: p.usd_per_device_hour,
            checked,
            age_days,
            stale: p.undated || age_days.is_some_and(|d| d > STALE_AFTER_DAYS),
            undated: p.undated,
            source: p.source.clone(),
            confidence: Some(p.confidence),
        }
    }

    /// A price the user gave.
    pub fn users(usd_per_device_hour: f64) -> PriceQuote {
        PriceQuote {
            provider: "your price".into(),
            class: None,
            usd_per_device_hour,
            checked: None,
            age_days: None,
            stale: false,
            undated: false,
            source: "given with the request".into(),
            confidence: None,
        }
    }
}

impl fmt::Display for PriceQuote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ${}/h", self.provider, self.usd_per_device_hour)?;
        if self.undated {
            return match self.checked {
                Some(c) => write!(f, " (undated source, read {c}: check it)"),
                None => f.write_str(" (undated source: check it)"),
            };
        }
        if let Some(c) = self.checked {
            write!(f, ", checked {c}")?;
        }
        match self.age_days {
            Some(d) if self.stale => write!(f, " ({d} days ago: over {STALE_AFTER_DAYS}, check it)"),
            Some(d) => write!(f, " ({d} days ago)"),
            None => Ok(()),
        }
    }
}

/// The price a device is ranked at: the user's own if given, else the cheapest listed of the
/// class (any class when `None`); `None` when there is neither.
pub fn quote(
    hw: &Hardware,
    class: Option<ProviderClass>,
    users: Option<f64>,
    today: Option<Day>,
) -> Option<PriceQuote> {
    if let Some(usd) = users {
        return Some(PriceQuote::users(usd));
    }
    hw.cheapest_cloud_price(class).map(|p| PriceQuote::listed(p, today))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn dates_parse_strictly_and_count_days() {
        assert_eq!(day("2026-12-01").to_string(), "2026-12-01");
        // 2026-09-02 to 2026-12-01: 28 + 31 + 30 + 1 = 90 days; 2024 is a leap year.
        assert_eq!(day("2026-12-01").days_since(day("2026-09-02")), 90);
        assert_eq!(day("2024-03-01").days_since(day("2024-02-28")), 2);
        assert_eq!(day("2025-03-01").days_since(day("2025-02-28")), 1);
        // 1970-01-01 is day 0; 2000 was a leap year (divisible by 400), 1900 was not.
        assert_eq!(day("1970-01-01").ordinal(), 0);
        assert_eq!(day("2000-03-01").days_since(day("2000-02-28")), 2);
        assert_eq!(day("1900-03-01").days_since(day("1900-02-28")), 1);
        assert_eq!(day("2027-01-01").days_since(day("2026-01-01")), 365);
        assert_eq!(day("2025-01-01").days_since(day("2024-01-01")), 366);
        assert_eq!(day("2024-02-29").to_string(), "2024-02-29");
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-1-01",
            "26-01-01",
            "2026/01/01",
            "",
            "2026-01-0x",
        ] {
            assert!(bad.parse::<Day>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_price_over_ninety_days_old_is_stale() {
        let p = |checked: &str| CloudPrice {
            provider: "Lambda 8x".into(),
            class: ProviderClass::Neocloud,
            usd_per_device_hour: 3.99,
            checked: checked.into(),
            source: "s".into(),
            confidence: Confidence::Uncertain,
            whole_vm: false,
            undated: false,
        };
        let today = Some(day("2026-12-01"));
        let fresh = PriceQuote::listed(&p("2026-09-02"), today);
        assert_eq!((fresh.age_days, fresh.stale), (Some(90), false));
        let old = PriceQuote::listed(&p("2026-09-01"), today);
        assert_eq!((old.age_days, old.stale), (Some(91), true));
        assert_eq!(old.to_string(), "Lambda 8x $3.99/h, checked 2026-09-01 (91 days ago: over 90, check it)");
        // No date to age against: no flag.
        let unaged = PriceQuote::listed(&p("2020-01-01"), None);
        assert_eq!((unaged.age_days, unaged.stale), (None, false));
        // A source without a date is flagged however recently it was read.
        let undated = PriceQuote::listed(&CloudPrice { undated: true, ..p("2026-12-01") }, today);
        assert_eq!((undated.age_days, undated.stale), (Some(0), true));
        assert_eq!(undated.to_string(), "Lambda 8x $3.99/h (undated source, read 2026-12-01: check it)");
    }
}
