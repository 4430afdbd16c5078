//! Energy and cost of ownership: average power from idle and board power by utilisation,
//! the facility's overhead (PUE), the energy bill, and purchase cost amortised over years.
//!
//! Average power = idle + (peak − idle) × utilisation, per unit (device or node); facility power
//! = average × PUE; energy per year = facility power × 8,760 h. With a tariff ([`Tariff`]) each
//! hour of the day is billed at its price, and a load that runs only some hours ([`Hours`]) draws
//! idle power in the others.

use serde::{Deserialize, Serialize};

use crate::rack::{RackBudget, RackError, RackField, RackProblem, RackReport, Racking};
use crate::tariff::{DAYS_PER_YEAR, HourlyLoad, Hours, Tariff};

pub use crate::units::{Domain, HOURS_PER_YEAR, OutOfDomain};

/// What `tco` needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TcoInputs {
    /// Devices or nodes.
    pub units: f64,
    /// Power of one unit at full load, watts.
    pub peak_w: f64,
    /// Power of one unit when idle, watts.
    pub idle_w: f64,
    /// Fraction of time at full load, 0..=1.
    pub utilization: f64,
    /// Electricity price, US dollars per kWh (with a tariff, not used: the tariff is billed).
    pub usd_per_kwh: f64,
    /// Power usage effectiveness of the facility (1.0 = no overhead).
    pub pue: f64,
    /// Purchase price of one unit, US dollars (0 for energy only).
    pub purchase_usd: f64,
    /// Years the purchase is amortised over.
    pub years: f64,
    /// Electricity by the hour of the day; replaces `usd_per_kwh` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff: Option<Tariff>,
    /// The hours of the day the load runs (`utilization` is its share of those hours); the units
    /// idle in the others. Every hour when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Hours>,
    /// A rack power budget the units fill ([`crate::rack`]): its racks' monthly fees join the
    /// total. Each unit counts its `peak_w` × the budget's host overhead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<RackBudget>,
    /// With a rack: units to a server, so racks hold whole servers (none: each unit stands alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units_per_server: Option<u32>,
}

/// Energy and cost per year, and over the amortisation period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TcoReport {
    /// Average power of all units, watts (before PUE).
    pub average_power_w: f64,
    /// Average power drawn from the grid, watts (after PUE).
    pub facility_power_w: f64,
    /// Energy per year, kWh.
    pub kwh_per_year: f64,
    /// Energy bill per year, USD.
    pub energy_usd_per_year: f64,
    /// Purchase amortised per year, USD.
    pub capex_usd_per_year: f64,
    /// Energy plus amortised purchase per year, USD.
    pub total_usd_per_year: f64,
    /// The same per hour of ownership, USD.
    pub total_usd_per_hour: f64,
    /// Over the whole amortisation period, USD.
    pub total_usd: f64,
    /// Energy bill over energy drawn, USD per kWh: the tariff's mean as the load draws it.
    pub effective_usd_per_kwh: f64,
    /// Hours a day the load runs.
    pub load_hours_per_day: u32,
    /// With a tariff and a load that runs only some hours: the same number of hours at the
    /// tariff's cheapest, and what moving there saves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cheapest: Option<CheapestHours>,
    /// With a rack budget: units per rack, racks and their fees (in the totals above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<RackReport>,
}

/// The load moved to the cheapest hours of the tariff, as many a day as it runs now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CheapestHours {
    /// Those hours.
    pub hours: Hours,
    /// The energy bill there, USD per year.
    pub energy_usd_per_year: f64,
    /// Less than now, USD per year (0 when the load already runs there).
    pub saving_usd_per_year: f64,
}

/// An input of [`tco`]: a field of [`TcoInputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcoField {
    /// [`TcoInputs::units`].
    Units,
    /// [`TcoInputs::peak_w`].
    PeakW,
    /// [`TcoInputs::idle_w`].
    IdleW,
    /// [`TcoInputs::utilization`].
    Utilization,
    /// [`TcoInputs::usd_per_kwh`].
    UsdPerKwh,
    /// [`TcoInputs::pue`].
    Pue,
    /// [`TcoInputs::purchase_usd`].
    PurchaseUsd,
    /// [`TcoInputs::years`].
    Years,
    /// [`TcoInputs::hours`].
    Hours,
    /// A field of [`TcoInputs::rack`].
    Rack(RackField),
}

impl TcoField {
    /// The field's name in [`TcoInputs`] (and its JSON).
    pub fn name(self) -> &'static str {
        match self {
            TcoField::Units => "units",
            TcoField::PeakW => "peak_w",
            TcoField::IdleW => "idle_w",
            TcoField::Utilization => "utilization",
            TcoField::UsdPerKwh => "usd_per_kwh",
            TcoField::Pue => "pue",
            TcoField::PurchaseUsd => "purchase_usd",
            TcoField::Years => "years",
            TcoField::Hours => "hours",
            TcoField::Rack(RackField::KwPerRack) => "rack.kw_per_rack",
            TcoField::Rack(RackField::UsdPerRackMonth) => "rack.usd_per_rack_month",
            TcoField::Rack(RackField::HostOverhead) => "rack.host_overhead",
        }
    }
}

impl std::fmt::Display for TcoField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An input outside its domain.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct CostError {
    /// The input at fault.
    pub field: TcoField,
    /// What is wrong with it.
    pub problem: CostProblem,
}

/// What is wrong with an input of [`tco`].
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum CostProblem {
    /// A value outside its domain.
    #[error(transparent)]
    OutOfDomain(#[from] OutOfDomain),
    /// A unit too large for the rack.
    #[error(transparent)]
    Rack(RackProblem),
}

impl CostProblem {
    /// The domain the value left, when that is the problem.
    pub fn domain(&self) -> Option<Domain> {
        match self {
            CostProblem::OutOfDomain(o) | CostProblem::Rack(RackProblem::OutOfDomain(o)) => Some(o.domain),
            CostProblem::Rack(RackProblem::TooBig { .. }) => None,
        }
    }
}

impl From<RackError> for CostError {
    fn from(e: RackError) -> CostError {
        CostError { field: TcoField::Rack(e.field), problem: CostProblem::Rack(e.problem) }
    }
}

fn check(field: TcoField, value: f64, ok: bool, domain: Domain) -> Result<(), CostError> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(CostError { field, problem: OutOfDomain { domain, value }.into() })
    }
}

/// US dollars per million units of work (tokens, samples) at `usd_per_hour` for the hardware
/// doing `per_s` units a second.
pub fn usd_per_million(usd_per_hour: f64, per_s: f64) -> f64 {
    usd_per_hour / 3600.0 / per_s * 1e6
}

/// Energy and total cost of ownership.
pub fn tco(i: &TcoInputs) -> Result<TcoReport, CostError> {
    check(TcoField::Units, i.units, i.units > 0.0, Domain::Positive)?;
    check(TcoField::PeakW, i.peak_w, i.peak_w > 0.0, Domain::Positive)?;
    check(TcoField::IdleW, i.idle_w, i.idle_w >= 0.0 && i.idle_w <= i.peak_w, Domain::UpToPeak)?;
    check(TcoField::Utilization, i.utilization, (0.0..=1.0).contains(&i.utilization), Domain::Share)?;
    check(TcoField::UsdPerKwh, i.usd_per_kwh, i.usd_per_kwh >= 0.0, Domain::NonNegative)?;
    check(TcoField::Pue, i.pue, i.pue >= 1.0, Domain::AtLeastOne)?;
    check(TcoField::PurchaseUsd, i.purchase_usd, i.purchase_usd >= 0.0, Domain::NonNegative)?;
    check(TcoField::Years, i.years, i.years > 0.0, Domain::Positive)?;
    let hours = i.hours.unwrap_or(Hours::ALL);
    if hours.count() == 0 {
        return Err(CostError {
            field: TcoField::Hours,
            problem: OutOfDomain { domain: Domain::Positive, value: 0.0 }.into(),
        });
    }
    let rack = match &i.rack {
        Some(b) => {
            let fit = b.fit(i.peak_w, i.units_per_server)?;
            let racks = fit.racks(i.units);
            Some(RackReport { fit, racks, usd_per_year: racks * b.usd_per_rack_month * 12.0 })
        }
        None => None,
    };
    // The load runs `utilization` of its hours; the units idle the rest of the day.
    let load = HourlyLoad {
        load_w: i.units * (i.idle_w + (i.peak_w - i.idle_w) * i.utilization),
        idle_w: i.units * i.idle_w,
        pue: i.pue,
        hours,
    };
    let share = f64::from(hours.count()) / 24.0;
    let average = i.units * (i.idle_w + (i.peak_w - i.idle_w) * i.utilization * share);
    let facility = average * i.pue;
    let kwh = facility / 1000.0 * HOURS_PER_YEAR;
    let (energy, cheapest) = match &i.tariff {
        None => (kwh * i.usd_per_kwh, None),
        Some(t) => {
            let energy = load.day(t).1 * DAYS_PER_YEAR;
            let best = t.cheapest(hours.count());
            let there = HourlyLoad { hours: best, ..load }.day(t).1 * DAYS_PER_YEAR;
            let cheapest = (hours != Hours::ALL).then_some(CheapestHours {
                hours: best,
                energy_usd_per_year: there,
                saving_usd_per_year: (energy - there).max(0.0),
            });
            (energy, cheapest)
        }
    };
    let capex = i.units * i.purchase_usd / i.years;
    let total = energy + capex + rack.map_or(0.0, |r| r.usd_per_year);
    Ok(TcoReport {
        average_power_w: average,
        facility_power_w: facility,
        kwh_per_year: kwh,
        energy_usd_per_year: energy,
        capex_usd_per_year: capex,
        total_usd_per_year: total,
        total_usd_per_hour: total / HOURS_PER_YEAR,
        total_usd: total * i.years,
        effective_usd_per_kwh: if kwh > 0.0 { energy / kwh } else { i.usd_per_kwh },
        load_hours_per_day: hours.count(),
        cheapest,
        rack,
    })
}

/// Owning a device: the terms its cost per hour is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ownership {
    /// Years the purchase is amortised over.
    pub years: f64,
    /// Electricity, USD per kWh.
    pub usd_per_kwh: f64,
    /// Facility power usage effectiveness.
    pub pue: f64,
    /// Share of time at full load, 0..=1.
    pub utilization: f64,
    /// Electricity by the hour of the day; replaces `usd_per_kwh` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff: Option<Tariff>,
    /// A rack power budget the devices fill: each rack's monthly fee joins the cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<RackBudget>,
}

/// What one owned device costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedCost {
    /// Purchase amortised plus energy, USD per hour of ownership.
    pub usd_per_device_hour: f64,
    /// Energy from the grid per year, kWh.
    pub kwh_per_device_year: f64,
    /// The terms, in words (a rack budget's racks depend on the devices: [`Racking::words`]).
    pub basis: String,
    /// With a rack budget: how the device fills a rack, whose fees are added per configuration
    /// ([`OwnedCost::usd_per_hour`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<Racking>,
    /// What a training run's schedule is costed from (not written out: the terms say it).
    #[serde(skip)]
    pub schedule: Option<ScheduleTerms>,
}

impl OwnedCost {
    /// What `devices` of this device cost per hour: each one's purchase and energy, and the
    /// racks they fill (⌈devices / per rack⌉, each at its monthly fee).
    pub fn usd_per_hour(&self, devices: f64) -> f64 {
        self.usd_per_device_hour * devices + self.rack.map_or(0.0, |r| r.usd_per_hour(devices))
    }

    /// The terms for `devices` in words: the basis, then their racks.
    pub fn basis_for(&self, devices: f64) -> String {
        match &self.rack {
            Some(r) => format!("{} {}", self.basis, r.words(devices)),
            None => self.basis.clone(),
        }
    }
}

/// One owned device's figures for a run that works only some hours of the day
/// ([`ScheduleTerms::training`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleTerms {
    /// Board power at load (TDP), watts.
    pub load_w: f64,
    /// Board power idle, watts.
    pub idle_w: f64,
    /// Facility power usage effectiveness.
    pub pue: f64,
    /// The tariff billed (a flat one at the flat price).
    pub tariff: Tariff,
    /// The purchase amortised per hour held, USD.
    pub capex_usd_per_hour: f64,
    /// The racks the devices fill, paid every hour they are held.
    pub rack: Option<Racking>,
}

impl ScheduleTerms {
    /// A training run on `devices` of these devices that needs `load_hours` at full load, run in
    /// `hours` only (idle power in the others): [`crate::tariff::scheduled_training`].
    pub fn training(
        &self,
        devices: f64,
        load_hours: f64,
        hours: Hours,
    ) -> Result<crate::tariff::ScheduledTraining, crate::tariff::ScheduleError> {
        let load = HourlyLoad { load_w: devices * self.load_w, idle_w: devices * self.idle_w, pue: self.pue, hours };
        let held = devices * self.capex_usd_per_hour + self.rack.map_or(0.0, |r| r.usd_per_hour(devices));
        crate::tariff::scheduled_training(load_hours, &load, &self.tariff, held)
    }
}

/// Why a device's cost of ownership cannot be computed.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum OwnedCostError {
    /// The catalog lists no purchase price.
    #[error("no purchase price listed")]
    NoPurchasePrice,
    /// The catalog lists no TDP.
    #[error("no published TDP for the energy cost")]
    NoTdp,
    /// A term is out of range.
    #[error(transparent)]
    Terms(#[from] CostError),
}

/// The cost per hour of owning one device of `hw`: its catalog purchase price over the years
/// plus the [`tco`] energy at its TDP and idle power; with a rack budget, how it fills a rack
/// (`per_server` devices to a server, when known). Errors say what the catalog lacks or which
/// term is out of range (or that one device, or server, outgrows the rack).
pub fn owned_device_cost(
    hw: &crate::hardware::Hardware,
    o: &Ownership,
    per_server: Option<u32>,
) -> Result<OwnedCost, OwnedCostError> {
    let purchase = hw.purchase.as_ref().ok_or(OwnedCostError::NoPurchasePrice)?;
    let tdp = hw.power.tdp_w.as_ref().map(|f| f.value).ok_or(OwnedCostError::NoTdp)?;
    let idle = hw.power.idle_w.as_ref().map(|f| f.value).unwrap_or(0.0);
    let r = tco(&TcoInputs {
        units: 1.0,
        peak_w: tdp,
        idle_w: idle.min(tdp),
        utilization: o.utilization,
        usd_per_kwh: o.usd_per_kwh,
        pue: o.pue,
        purchase_usd: purchase.usd,
        years: o.years,
        tariff: o.tariff,
        hours: None,
        rack: None,
        units_per_server: None,
    })?;
    let rack = match o.rack {
        Some(budget) => Some(Racking { budget, fit: budget.fit(tdp, per_server).map_err(CostError::from)? }),
        None => None,
    };
    let energy = match &o.tariff {
        Some(t) => format!("the tariff {t} $/kWh (${:.3}/kWh on average)", r.effective_usd_per_kwh),
        None => format!("${}/kWh", o.usd_per_kwh),
    };
    // The flat price as a tariff (`tco` has checked it).
    let tariff = o.tariff.or_else(|| Tariff::flat(o.usd_per_kwh).ok());
    Ok(OwnedCost {
        usd_per_device_hour: r.total_usd_per_hour,
        kwh_per_device_year: r.kwh_per_year,
        basis: format!(
            "purchase ${:.0} ({}) over {} years + energy at {:.0}% utilisation, {energy}, PUE {}",
            purchase.usd,
            purchase.date,
            o.years,
            o.utilization * 100.0,
            o.pue
        ),
        schedule: tariff.map(|tariff| ScheduleTerms {
            load_w: tdp,
            idle_w: idle.min(tdp),
            pue: o.pue,
            tariff,
            capex_usd_per_hour: purchase.usd / o.years / HOURS_PER_YEAR,
            rack,
        }),
        rack,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> TcoInputs {
        TcoInputs {
            units: 100.0,
            peak_w: 815.0,
            idle_w: 0.0,
            utilization: 0.7,
            usd_per_kwh: 0.12,
            pue: 1.0,
            purchase_usd: 0.0,
            years: 1.0,
            tariff: None,
            hours: None,
            rack: None,
            units_per_server: None,
        }
    }

    #[test]
    fn reproduces_the_published_sixty_thousand_dollars() {
        // 100 nodes at 815 W, 70% utilisation, $0.12/kWh, PUE 1.0, idle 0: about $60,000 a year.
        let r = tco(&inputs()).unwrap_or_else(|e| panic!("{e}"));
        assert!((r.energy_usd_per_year - 59_971.0).abs() < 1.0, "{}", r.energy_usd_per_year);
        assert!((r.kwh_per_year - 499_758.0).abs() < 1.0);
    }

    #[test]
    fn a_day_night_tariff_changes_the_sixty_thousand_dollars_as_expected() {
        let t = |s: &str| s.parse::<Tariff>().unwrap_or_else(|e| panic!("{e}"));
        let with = |tariff: &str, hours: Option<&str>| {
            tco(&TcoInputs {
                tariff: Some(t(tariff)),
                hours: hours.map(|h| h.parse().unwrap_or_else(|e| panic!("{e}"))),
                ..inputs()
            })
            .unwrap_or_else(|e| panic!("{e}"))
        };
        // 57.05 kW at all hours. Day (8-19) at $0.16 and night at $0.08 average $0.12: the bill
        // of the flat tariff.
        let r = with("8-19=0.16,0.08", None);
        assert!((r.energy_usd_per_year - 59_971.0).abs() < 1.0, "{}", r.energy_usd_per_year);
        assert!((r.effective_usd_per_kwh - 0.12).abs() < 1e-12);
        assert_eq!(r.cheapest, None);
        // Day at $0.20: 57.05 kW x 365 x (12 x 0.20 + 12 x 0.08) = $69,966.
        assert!((with("8-19=0.20,0.08", None).energy_usd_per_year - 69_966.1).abs() < 1.0);
        // The same load (70% of the hours it runs) in the day only, 12 hours: half the energy,
        // all at $0.20: 57.05 x 12 x 365 x 0.20 = $49,976; at night, 57.05 x 12 x 365 x 0.08 =
        // $19,991: moving there saves $29,985 a year.
        let day = with("8-19=0.20,0.08", Some("8-19"));
        assert!((day.kwh_per_year - 499_758.0 / 2.0).abs() < 1.0);
        assert!((day.energy_usd_per_year - 49_975.8).abs() < 1.0, "{}", day.energy_usd_per_year);
        let cheapest = day.cheapest.unwrap_or_else(|| panic!("no cheapest hours"));
        assert_eq!(cheapest.hours, "20-7".parse().unwrap_or_else(|e| panic!("{e}")));
        assert!((cheapest.energy_usd_per_year - 19_990.3).abs() < 1.0, "{}", cheapest.energy_usd_per_year);
        assert!((cheapest.saving_usd_per_year - 29_985.5).abs() < 1.0);
        assert_eq!(day.load_hours_per_day, 12);
    }

    #[test]
    fn idle_pue_and_purchase_add_up() {
        let r = tco(&TcoInputs {
            units: 1.0,
            peak_w: 700.0,
            idle_w: 100.0,
            utilization: 0.5,
            pue: 1.5,
            purchase_usd: 30_000.0,
            years: 3.0,
            ..inputs()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.average_power_w, 400.0);
        assert_eq!(r.facility_power_w, 600.0);
        assert!((r.capex_usd_per_year - 10_000.0).abs() < 1e-9);
        assert!((r.total_usd - 3.0 * r.total_usd_per_year).abs() < 1e-6);
    }

    #[test]
    fn every_unit_is_bought() {
        // 4 units at $10,000 over 2 years, no energy bill: $20,000 a year, $40,000 in all.
        let r = tco(&TcoInputs { units: 4.0, usd_per_kwh: 0.0, purchase_usd: 10_000.0, years: 2.0, ..inputs() })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.capex_usd_per_year, r.total_usd), (20_000.0, 40_000.0));
    }

    #[test]
    fn racks_join_the_total() {
        // 100 units of 815 W in 40 kW racks at $1,500 a month: 40,000 / 815 = 49.08, so 49 to a
        // rack and ⌈100 / 49⌉ = 3 racks; 3 × $1,500 × 12 = $54,000 a year, beside the $59,971 of
        // energy: $113,971 a year.
        let rack = Some(RackBudget::new(40.0, 1500.0));
        let r = tco(&TcoInputs { rack, ..inputs() }).unwrap_or_else(|e| panic!("{e}"));
        let k = r.rack.unwrap_or_else(|| panic!("no rack"));
        assert_eq!((k.fit.devices_per_rack, k.racks), (49, 3.0));
        assert!((k.usd_per_year - 54_000.0).abs() < 1e-9);
        assert!((r.total_usd_per_year - 113_971.0).abs() < 1.0, "{}", r.total_usd_per_year);
        assert!((r.energy_usd_per_year - 59_971.0).abs() < 1.0);
        // Whole servers of 8: 8 × 815 = 6,520 W, ⌊40,000 / 6,520⌋ = 6 servers = 48 units a rack;
        let servers = tco(&TcoInputs { rack, units_per_server: Some(8), units: 196.0, ..inputs() })
            .unwrap_or_else(|e| panic!("{e}"));
        let k = servers.rack.unwrap_or_else(|| panic!("no rack"));
        // 196 units need ⌈196 / 48⌉ = 5 racks, where 49 to a rack would need 4.
        assert_eq!((k.fit.devices_per_rack, k.fit.servers_per_rack, k.racks), (48, 6, 5.0));
        // A unit over the rack names the rack's field.
        let e = tco(&TcoInputs { rack: Some(RackBudget::new(0.5, 0.0)), ..inputs() }).err();
        assert_eq!(e.as_ref().map(|e| e.field), Some(TcoField::Rack(RackField::KwPerRack)));
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("rack.kw_per_rack: one device draws 815 W (0.81 kW), more than a rack's 0.5 kW")
        );
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let bad = |i: TcoInputs| tco(&i).err().and_then(|e| e.problem.domain().map(|d| (e.field, d)));
        assert_eq!(bad(TcoInputs { utilization: 1.5, ..inputs() }), Some((TcoField::Utilization, Domain::Share)));
        assert_eq!(bad(TcoInputs { pue: 0.9, ..inputs() }), Some((TcoField::Pue, Domain::AtLeastOne)));
        assert_eq!(bad(TcoInputs { units: f64::NAN, ..inputs() }), Some((TcoField::Units, Domain::Positive)));
        assert_eq!(bad(TcoInputs { idle_w: 900.0, ..inputs() }), Some((TcoField::IdleW, Domain::UpToPeak)));
        // The message a CLI user sees.
        let e = tco(&TcoInputs { utilization: 1.5, ..inputs() }).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("utilization: must be between 0 and 1, got 1.5"));
    }
}
