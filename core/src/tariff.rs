//! Electricity by the hour: a tariff (a price for each hour of the day), the hours a load runs
//! (a schedule), the energy bill they make, and a training run's wall-clock time and cost when it
//! runs only in chosen hours.
//!
//! Hours are hours of the local day, 0 to 23; `22-5` is 22:00 to 05:59 (both ends included,
//! wrapping midnight). A day is the same every day of the year (365 days).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Days in a (non-leap) year.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// A set of hours of the day, 0–23. Written as comma-separated hours and ranges, both ends
/// included, a range wrapping midnight when it ends before it starts: `8-19`, `22-5`, `0-6,23`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hours(u32);

impl Hours {
    /// Every hour of the day.
    pub const ALL: Hours = Hours((1 << 24) - 1);
    /// No hour.
    pub const NONE: Hours = Hours(0);

    /// Hours `from` to `to`, both included, wrapping midnight when `to < from`.
    pub fn range(from: u8, to: u8) -> Result<Hours, TariffError> {
        for h in [from, to] {
            if h > 23 {
                return Err(TariffError::HourOutOfRange { hour: u32::from(h) });
            }
        }
        let mut bits = 0u32;
        let mut h = from;
        loop {
            bits |= 1 << h;
            if h == to {
                break;
            }
            h = (h + 1) % 24;
        }
        Ok(Hours(bits))
    }

    /// Whether hour `h` (0–23) is in the set.
    pub fn contains(self, h: u8) -> bool {
        h < 24 && self.0 & (1 << h) != 0
    }

    /// How many hours a day.
    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// The hours in the set, from 0 up.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (0..24u8).filter(move |&h| self.contains(h))
    }

    /// Hours in both.
    pub fn and(self, other: Hours) -> Hours {
        Hours(self.0 & other.0)
    }

    /// Hours in either.
    pub fn or(self, other: Hours) -> Hours {
        Hours(self.0 | other.0)
    }

    /// Hours not in the set.
    pub fn complement(self) -> Hours {
        Hours(!self.0 & Hours::ALL.0)
    }

    /// The hour a day of this schedule starts: the first hour of the set whose previous hour is
    /// not in it (22 for `22-5`), or 0 when the set is every hour; `None` when empty.
    pub fn start(self) -> Option<u8> {
        if self == Hours::ALL {
            return Some(0);
        }
        self.iter().find(|&h| !self.contains((h + 23) % 24))
    }
}

impl fmt::Display for Hours {
    /// Ranges in the written form, starting at the set's first run of hours: `22-5`, `8-19`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(start) = self.start() else { return f.write_str("none") };
        let mut parts = Vec::new();
        let mut k = 0u8;
        while k < 24 {
            let h = (start + k) % 24;
            if !self.contains(h) {
                k += 1;
                continue;
            }
            let mut len = 1u8;
            while k + len < 24 && self.contains((start + k + len) % 24) {
                len += 1;
            }
            let end = (h + len - 1) % 24;
            parts.push(if len == 1 { h.to_string() } else { format!("{h}-{end}") });
            k += len;
        }
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Hours {
    type Err = TariffError;

    fn from_str(s: &str) -> Result<Hours, TariffError> {
        let mut all = Hours::NONE;
        if s.trim().is_empty() {
            return Err(TariffError::Syntax { text: s.to_string(), expected: "hours such as 8-19 or 22-5" });
        }
        for part in s.split(',') {
            let part = part.trim();
            let hour = |t: &str| -> Result<u8, TariffError> {
                let n: u32 = t.trim().parse().map_err(|_| TariffError::Syntax {
                    text: part.to_string(),
                    expected: "hours such as 8-19 or 22-5",
                })?;
                u8::try_from(n).ok().filter(|&h| h < 24).ok_or(TariffError::HourOutOfRange { hour: n })
            };
            let these = match part.split_once('-') {
                Some((a, b)) => Hours::range(hour(a)?, hour(b)?)?,
                None => Hours::range(hour(part)?, hour(part)?)?,
            };
            all = all.or(these);
        }
        Ok(all)
    }
}

impl Serialize for Hours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hours, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An electricity price for each hour of the day, USD per kWh. Written as `HOURS=PRICE` periods
/// and one bare price for the hours no period names: `8-19=0.20,0.08` (day and night),
/// `17-20=0.35,0-6=0.09,0.15`, or a single price for a flat tariff.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tariff {
    usd_per_kwh: [f64; 24],
}

impl Tariff {
    /// The same price every hour.
    pub fn flat(usd_per_kwh: f64) -> Result<Tariff, TariffError> {
        check_price(usd_per_kwh)?;
        Ok(Tariff { usd_per_kwh: [usd_per_kwh; 24] })
    }

    /// The price of hour `h` (0–23).
    pub fn price(&self, h: u8) -> f64 {
        self.usd_per_kwh[usize::from(h % 24)]
    }

    /// The mean price over `hours` (over the day when empty).
    pub fn mean(&self, hours: Hours) -> f64 {
        let hours = if hours.count() == 0 { Hours::ALL } else { hours };
        hours.iter().map(|h| self.price(h)).sum::<f64>() / f64::from(hours.count())
    }

    /// The `n` cheapest hours of the day (earlier hours first among equal prices).
    pub fn cheapest(&self, n: u32) -> Hours {
        let mut order: Vec<u8> = (0..24).collect();
        order.sort_by(|&a, &b| self.price(a).total_cmp(&self.price(b)).then(a.cmp(&b)));
        order
            .into_iter()
            .take(n.min(24) as usize)
            .fold(Hours::NONE, |set, h| set.or(Hours::range(h, h).unwrap_or(Hours::NONE)))
    }

    /// Whether every hour has the same price.
    pub fn is_flat(&self) -> bool {
        self.usd_per_kwh.iter().all(|&p| p.to_bits() == self.usd_per_kwh[0].to_bits())
    }
}

fn check_price(p: f64) -> Result<(), TariffError> {
    if p.is_finite() && p >= 0.0 { Ok(()) } else { Err(TariffError::Price { usd_per_kwh: p }) }
}

impl fmt::Display for Tariff {
    /// Periods of equal price, the most common price last and bare: `8-19=0.2,0.08`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prices: Vec<f64> = Vec::new();
        for &p in &self.usd_per_kwh {
            if !prices.iter().any(|q| q.to_bits() == p.to_bits()) {
                prices.push(p);
            }
        }
        let hours_at = |p: f64| (0..24u8).filter(|&h| self.price(h).to_bits() == p.to_bits()).count();
        // The most common price (the first from midnight among equals) is the bare one.
        let rest = prices.iter().copied().fold(None::<(f64, usize)>, |best, p| match best {
            Some((_, n)) if n >= hours_at(p) => best,
            _ => Some((p, hours_at(p))),
        });
        let rest = rest.map_or(0.0, |(p, _)| p);
        let mut parts = Vec::new();
        for &p in prices.iter().filter(|p| p.to_bits() != rest.to_bits()) {
            let set = (0..24u8)
                .filter(|&h| self.price(h).to_bits() == p.to_bits())
                .fold(Hours::NONE, |s, h| s.or(Hours::range(h, h).unwrap_or(Hours::NONE)));
            parts.push(format!("{set}={p}"));
        }
        parts.push(rest.to_string());
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Tariff {
    type Err = TariffError;

    fn from_str(s: &str) -> Result<Tariff, TariffError> {
        let mut prices = [None::<f64>; 24];
        let mut named: Vec<(Hours, String)> = Vec::new();
        let mut rest = None;
        let price = |t: &str| -> Result<f64, TariffError> {
            let p: f64 = t.trim().trim_start_matches('$').parse().map_err(|_| TariffError::Syntax {
                text: t.trim().to_string(),
                expected: "a price in USD per kWh such as 0.12",
            })?;
            check_price(p).map(|()| p)
        };
        for part in s.split(',') {
            let part = part.trim();
            match part.split_once('=') {
                Some((hours, p)) => {
                    let set: Hours = hours.parse()?;
                    if let Some((other, _)) = named.iter().find(|(o, _)| o.and(set).count() > 0) {
                        return Err(TariffError::Overlap {
                            first: *other,
                            second: set,
                            hour: other.and(set).iter().next().unwrap_or(0),
                        });
                    }
                    let p = price(p)?;
                    for h in set.iter() {
                        prices[usize::from(h)] = Some(p);
                    }
                    named.push((set, part.to_string()));
                }
                None if rest.is_some() => return Err(TariffError::TwoDefaults),
                None => rest = Some(price(part)?),
            }
        }
        let missing = (0..24u8)
            .filter(|&h| prices[usize::from(h)].is_none())
            .fold(Hours::NONE, |s, h| s.or(Hours::range(h, h).unwrap_or(Hours::NONE)));
        let mut out = [0.0; 24];
        for (h, p) in prices.iter().enumerate() {
            out[h] = match (p, rest) {
                (Some(p), _) => *p,
                (None, Some(r)) => r,
                (None, None) => return Err(TariffError::Uncovered { hours: missing }),
            };
        }
        Ok(Tariff { usd_per_kwh: out })
    }
}

impl Serialize for Tariff {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Tariff {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tariff, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a tariff or a set of hours cannot be read.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum TariffError {
    /// An hour past 23.
    #[error("hour {hour} is outside 0-23 (hours of the day; 22-5 wraps midnight)")]
    HourOutOfRange {
        /// The hour given.
        hour: u32,
    },
    /// Two periods price the same hour.
    #[error("periods {first} and {second} both price hour {hour}: each hour takes one price")]
    Overlap {
        /// The period written first.
        first: Hours,
        /// The one that overlaps it.
        second: Hours,
        /// The first hour in both.
        hour: u8,
    },
    /// Hours no period prices, and no price for the rest.
    #[error("hours {hours} have no price: add one for the hours no period names, e.g. 8-19=0.20,0.08")]
    Uncovered {
        /// The hours left without a price.
        hours: Hours,
    },
    /// More than one bare price.
    #[error("two prices for the rest of the day: give one bare price, the others as HOURS=PRICE")]
    TwoDefaults,
    /// A negative or non-finite price.
    #[error("price {usd_per_kwh} USD/kWh: must be zero or positive")]
    Price {
        /// The price given.
        usd_per_kwh: f64,
    },
    /// Text that is not what was expected.
    #[error("`{text}` is not {expected}")]
    Syntax {
        /// The text.
        text: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// A load that runs only in some hours: its units' power at load and idle, the facility's
/// overhead, and the hours it runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HourlyLoad {
    /// Power of all units while the load runs, watts (before PUE).
    pub load_w: f64,
    /// Power of all units outside those hours, watts (before PUE).
    pub idle_w: f64,
    /// Facility power usage effectiveness.
    pub pue: f64,
    /// The hours the load runs.
    pub hours: Hours,
}

impl HourlyLoad {
    /// Power drawn from the grid in hour `h`, kW.
    pub fn grid_kw(&self, h: u8) -> f64 {
        let w = if self.hours.contains(h) { self.load_w } else { self.idle_w };
        w * self.pue / 1000.0
    }

    /// Energy of one day, kWh, and its cost under `tariff`, USD.
    pub fn day(&self, tariff: &Tariff) -> (f64, f64) {
        (0..24u8).fold((0.0, 0.0), |(kwh, usd), h| (kwh + self.grid_kw(h), usd + self.grid_kw(h) * tariff.price(h)))
    }
}

/// A training run that needs `load_hours` hours of the whole cluster at load, run only in the
/// hours of a schedule: when it ends and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScheduledTraining {
    /// Hours of work at load the run needs.
    pub load_hours: f64,
    /// Hours from its start (the first hour of the schedule) to its end.
    pub wall_clock_hours: f64,
    /// Energy drawn from the grid over that time (load in the schedule's hours, idle outside),
    /// kWh.
    pub energy_kwh: f64,
    /// Its cost under the tariff, USD.
    pub energy_usd: f64,
    /// The owned cluster's amortised purchase over the wall-clock time, USD.
    pub capex_usd: f64,
    /// Energy and purchase, USD.
    pub total_usd: f64,
}

/// Runs `load_hours` of work in the hours of `load.hours` only, starting at the schedule's first
/// hour, paying `capex_usd_per_hour` for every wall-clock hour the cluster is held (its purchase
/// amortised; 0 for energy only). Whole days are added at once; the last day is walked hour by
/// hour, its last working hour counted in part.
pub fn scheduled_training(
    load_hours: f64,
    load: &HourlyLoad,
    tariff: &Tariff,
    capex_usd_per_hour: f64,
) -> Result<ScheduledTraining, ScheduleError> {
    let per_day = load.hours.count();
    let Some(start) = load.hours.start() else { return Err(ScheduleError::NoHours) };
    if !(load_hours.is_finite() && load_hours >= 0.0) {
        return Err(ScheduleError::LoadHours { value: load_hours });
    }
    let (day_kwh, day_usd) = load.day(tariff);
    let mut days = (load_hours / f64::from(per_day)).floor();
    // A run that ends exactly at a day's last working hour ends that day, not at the next one's
    // start: walk the last day in full.
    if days > 0.0 && days * f64::from(per_day) == load_hours {
        days -= 1.0;
    }
    let (mut left, mut hours, mut kwh, mut usd) =
        (load_hours - days * f64::from(per_day), days * 24.0, days * day_kwh, days * day_usd);
    let mut k = 0u8;
    while left > 0.0 && k < 24 {
        let h = (start + k) % 24;
        let share = if load.hours.contains(h) { left.min(1.0) } else { 1.0 };
        if load.hours.contains(h) {
            left -= share;
        }
        hours += share;
        kwh += load.grid_kw(h) * share;
        usd += load.grid_kw(h) * share * tariff.price(h);
        k += 1;
    }
    let capex = capex_usd_per_hour * hours;
    Ok(ScheduledTraining {
        load_hours,
        wall_clock_hours: hours,
        energy_kwh: kwh,
        energy_usd: usd,
        capex_usd: capex,
        total_usd: usd + capex,
    })
}

/// Why a scheduled run cannot be computed.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleError {
    /// The schedule has no hour.
    #[error("the schedule has no hour to run in")]
    NoHours,
    /// Negative or non-finite work.
    #[error("hours of work must be zero or positive, got {value}")]
    LoadHours {
        /// The value given.
        value: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(s: &str) -> Hours {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn tariff(s: &str) -> Tariff {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn hours_read_ranges_that_wrap_midnight() {
        assert_eq!(hours("8-19").count(), 12);
        let night = hours("22-5");
        assert_eq!(night.count(), 8);
        assert!(
            night.contains(23) && night.contains(0) && night.contains(5) && !night.contains(6) && !night.contains(21)
        );
        assert_eq!(night.start(), Some(22));
        assert_eq!(night.to_string(), "22-5");
        assert_eq!(hours("0-6,23").to_string(), "23-6");
        assert_eq!(hours("7").count(), 1);
        assert_eq!(hours("0-23"), Hours::ALL);
        assert_eq!(Hours::ALL.start(), Some(0));
        assert_eq!(hours("8-19").complement(), hours("20-7"));
    }

    #[test]
    fn bad_hours_and_tariffs_say_what_is_wrong() {
        assert_eq!("24".parse::<Hours>(), Err(TariffError::HourOutOfRange { hour: 24 }));
        assert_eq!("8-25".parse::<Hours>(), Err(TariffError::HourOutOfRange { hour: 25 }));
        assert!(matches!("-3".parse::<Hours>(), Err(TariffError::Syntax { .. })));
        assert!(matches!("".parse::<Hours>(), Err(TariffError::Syntax { .. })));
        let overlap = "8-19=0.20,18-22=0.30,0.08".parse::<Tariff>();
        assert_eq!(overlap, Err(TariffError::Overlap { first: hours("8-19"), second: hours("18-22"), hour: 18 }));
        assert_eq!(
            overlap.err().map(|e| e.to_string()).as_deref(),
            Some("periods 8-19 and 18-22 both price hour 18: each hour takes one price")
        );
        assert_eq!("8-19=0.20".parse::<Tariff>(), Err(TariffError::Uncovered { hours: hours("20-7") }));
        assert_eq!("8-19=-0.20,0.08".parse::<Tariff>(), Err(TariffError::Price { usd_per_kwh: -0.2 }));
        assert_eq!("0.1,0.2".parse::<Tariff>(), Err(TariffError::TwoDefaults));
        assert_eq!("8-19=0.2,24=0.1,0.08".parse::<Tariff>(), Err(TariffError::HourOutOfRange { hour: 24 }));
    }

    #[test]
    fn a_tariff_prices_each_hour_and_writes_itself_back() {
        let t = tariff("8-19=0.20,0.08");
        assert_eq!((t.price(8), t.price(19), t.price(20), t.price(7)), (0.20, 0.20, 0.08, 0.08));
        assert!((t.mean(Hours::ALL) - 0.14).abs() < 1e-12);
        assert_eq!(t.cheapest(8), hours("0-7"));
        assert_eq!(t.to_string(), "8-19=0.2,0.08");
        assert_eq!(tariff(&t.to_string()), t);
        assert!(tariff("0.12").is_flat());
        assert_eq!(tariff("$0.12"), Tariff::flat(0.12).unwrap_or_else(|e| panic!("{e}")));
    }

    #[test]
    fn a_flat_load_under_a_day_night_tariff_costs_the_mean_price() {
        // The seed figure: 100 nodes at 815 W, 70% utilisation: 57.05 kW at all hours. At a flat
        // $0.12/kWh that is 57.05 x 8,760 x 0.12 = $59,971 a year. Day 8-19 at $0.16 and night
        // at $0.08 average $0.12: the same bill; day at $0.20 raises it to 57.05 x 365 x (12 x
        // 0.20 + 12 x 0.08) = $69,966.
        let load = HourlyLoad { load_w: 57_050.0, idle_w: 57_050.0, pue: 1.0, hours: Hours::ALL };
        let year = |t: &Tariff| load.day(t).1 * DAYS_PER_YEAR;
        assert!((year(&tariff("0.12")) - 59_971.0).abs() < 1.0);
        assert!((year(&tariff("8-19=0.16,0.08")) - 59_971.0).abs() < 1.0);
        assert!((year(&tariff("8-19=0.20,0.08")) - 69_966.1).abs() < 1.0, "{}", year(&tariff("8-19=0.20,0.08")));
    }

    #[test]
    fn training_at_night_takes_longer_and_pays_less_for_energy() {
        // 10 kW at load, 1 kW idle, PUE 1.5; day 8-19 at $0.20, night at $0.08; 30 hours of work.
        let t = tariff("8-19=0.20,0.08");
        let all = HourlyLoad { load_w: 10_000.0, idle_w: 1_000.0, pue: 1.5, hours: Hours::ALL };
        // Every hour, from midnight: 30 hours straight, 8 + 12 at night = 18 h at $0.08 and 12 at
        // $0.20, all at 15 kW: 450 kWh, 15 x (18 x 0.08 + 12 x 0.20) = $57.60.
        let r = scheduled_training(30.0, &all, &t, 0.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.wall_clock_hours, 30.0);
        assert!((r.energy_kwh - 450.0).abs() < 1e-9);
        assert!((r.energy_usd - 57.6).abs() < 1e-9);
        // Nights only (20-7, 12 hours from 20:00): the first night does 12 hours, the day after
        // idles 12 at $0.20, the second night 12 more, the next day idles, and the third night
        // 6: 12 + 12 + 12 + 12 + 6 = 54 hours. Load: 30 h x 15 kW x $0.08 = $36; idle: 24 h x
        // 1.5 kW x $0.20 = $7.20; 450 + 36 = 486 kWh.
        let night = HourlyLoad { hours: hours("20-7"), ..all };
        let r = scheduled_training(30.0, &night, &t, 2.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.wall_clock_hours, 54.0);
        assert!((r.energy_kwh - 486.0).abs() < 1e-9);
        assert!((r.energy_usd - 43.2).abs() < 1e-9, "{}", r.energy_usd);
        // The cluster is held 54 hours at $2 an hour: $108, against $60 for 30 hours.
        assert!((r.capex_usd - 108.0).abs() < 1e-9);
        assert!((r.total_usd - 151.2).abs() < 1e-9);
        // A part of an hour counts in part; exactly one night's work ends with the night.
        let r = scheduled_training(12.5, &night, &t, 0.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.wall_clock_hours, 24.5);
        let r = scheduled_training(12.0, &night, &t, 0.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.wall_clock_hours, 12.0);
        // Two windows, 8-9 and 20-21, from 8:00: 2.5 hours of work are 8 and 9, ten idle hours,
        // and half of 20: 12.5 hours; energy 2.5 h at 15 kW at $0.20 and $0.08 (2 h by day, 0.5 at
        // night) and 10 idle hours at 1.5 kW by day: 6 + 0.6 + 3 = $9.60.
        let split = HourlyLoad { hours: hours("8-9,20-21"), ..all };
        let r = scheduled_training(2.5, &split, &t, 0.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.wall_clock_hours, 12.5);
        assert!((r.energy_usd - 9.6).abs() < 1e-9, "{}", r.energy_usd);
        assert_eq!(
            scheduled_training(1.0, &HourlyLoad { hours: Hours::NONE, ..all }, &t, 0.0),
            Err(ScheduleError::NoHours)
        );
        assert_eq!(scheduled_training(-1.0, &all, &t, 0.0), Err(ScheduleError::LoadHours { value: -1.0 }));
    }
}
