//! Rack power: a budget of IT power per rack limits how many devices share a rack, and each rack
//! position costs a monthly fee (colocation, floor space, cooling).
//!
//! Power counted per device = TDP × host overhead (the rest of the server: CPUs, NICs, fans,
//! drives). Devices per rack = ⌊kW · 1000 / (TDP × overhead)⌋, rounded down to whole servers
//! when the server's device count is known (a node preset's `devices`). Racks for N devices =
//! ⌈N / per rack⌉; their cost per hour = racks × USD per month × 12 / 8,760.
//!
//! The overhead's default is 1.0 (the device's TDP only): the reference material beside the
//! project (`shared/reference/`) publishes no 8-GPU server's system power to set it from. Its one
//! whole-system figure, GB200 NVL72's rack power of about 120-132 kW (marked uncertain) against
//! 72 × 1.2 kW of GPUs, gives 1.39-1.53 for a rack whose Grace CPUs and switch trays are counted;
//! give such a factor where the servers are known. The overhead only counts rack space: energy
//! stays at the device's own power, as without a rack.

use serde::{Deserialize, Serialize};

use crate::units::{Domain, HOURS_PER_YEAR, OutOfDomain};

/// The host overhead when none is given: the device's TDP only (see the module's documentation
/// for why no larger figure is assumed).
pub const DEFAULT_HOST_OVERHEAD: f64 = 1.0;

fn default_host_overhead() -> f64 {
    DEFAULT_HOST_OVERHEAD
}

/// The rack terms a buyer gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RackBudget {
    /// IT power one rack may draw, kW (above zero).
    pub kw_per_rack: f64,
    /// What one rack position costs a month, USD (zero or more).
    #[serde(default)]
    pub usd_per_rack_month: f64,
    /// Power counted per device over its TDP, for the rest of the server (at least 1).
    #[serde(default = "default_host_overhead")]
    pub host_overhead: f64,
}

/// An input of a rack budget: a field of [`RackBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RackField {
    /// [`RackBudget::kw_per_rack`].
    KwPerRack,
    /// [`RackBudget::usd_per_rack_month`].
    UsdPerRackMonth,
    /// [`RackBudget::host_overhead`].
    HostOverhead,
}

impl RackField {
    /// The field's name in [`RackBudget`] (and its JSON).
    pub fn name(self) -> &'static str {
        match self {
            RackField::KwPerRack => "kw_per_rack",
            RackField::UsdPerRackMonth => "usd_per_rack_month",
            RackField::HostOverhead => "host_overhead",
        }
    }
}

impl std::fmt::Display for RackField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A rack budget that cannot be used: the field and why.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct RackError {
    /// The input at fault.
    pub field: RackField,
    /// What is wrong with it.
    pub problem: RackProblem,
}

/// What is wrong with a rack budget.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum RackProblem {
    /// A value outside its domain.
    #[error(transparent)]
    OutOfDomain(#[from] OutOfDomain),
    /// One device, or one server of them, draws more than a rack may.
    #[error(
        "{} draws {watts:.0} W ({:.2} kW), more than a rack's {kw_per_rack} kW",
        if *devices == 1 { "one device".to_string() } else { format!("one server of {devices} devices") },
        watts / 1000.0
    )]
    TooBig {
        /// Devices in the smallest whole unit (1, or a server's).
        devices: u32,
        /// Power counted for that unit, watts.
        watts: f64,
        /// The rack's budget, kW.
        kw_per_rack: f64,
    },
}

fn check(field: RackField, value: f64, ok: bool, domain: Domain) -> Result<(), RackError> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(RackError { field, problem: OutOfDomain { domain, value }.into() })
    }
}

impl RackBudget {
    /// A budget of `kw_per_rack` at `usd_per_rack_month`, counting the TDP only.
    pub fn new(kw_per_rack: f64, usd_per_rack_month: f64) -> RackBudget {
        RackBudget { kw_per_rack, usd_per_rack_month, host_overhead: DEFAULT_HOST_OVERHEAD }
    }

    /// Checks each field's domain.
    pub fn check(&self) -> Result<(), RackError> {
        check(RackField::KwPerRack, self.kw_per_rack, self.kw_per_rack > 0.0, Domain::Positive)?;
        check(
            RackField::UsdPerRackMonth,
            self.usd_per_rack_month,
            self.usd_per_rack_month >= 0.0,
            Domain::NonNegative,
        )?;
        check(RackField::HostOverhead, self.host_overhead, self.host_overhead >= 1.0, Domain::AtLeastOne)
    }

    /// One rack position, USD per hour: USD per month × 12 / 8,760.
    pub fn usd_per_rack_hour(&self) -> f64 {
        self.usd_per_rack_month * 12.0 / HOURS_PER_YEAR
    }

    /// How devices of `tdp_w` watts fill a rack, `per_server` to a server when known. Errors
    /// when the budget is out of its domain or one device (or server) draws more than a rack.
    pub fn fit(&self, tdp_w: f64, per_server: Option<u32>) -> Result<RackFit, RackError> {
        self.check()?;
        let watts_per_device = tdp_w * self.host_overhead;
        let devices_per_server = per_server.unwrap_or(1).max(1);
        let server_w = watts_per_device * f64::from(devices_per_server);
        // A relative nudge so that a budget that holds a whole number exactly is not lost to
        // rounding (40 kW of 800 W: 50, not 49.999…).
        let servers = (self.kw_per_rack * 1000.0 / server_w * (1.0 + 1e-12)).floor();
        if servers.is_nan() || servers < 1.0 {
            return Err(RackError {
                field: RackField::KwPerRack,
                problem: RackProblem::TooBig {
                    devices: devices_per_server,
                    watts: server_w,
                    kw_per_rack: self.kw_per_rack,
                },
            });
        }
        let servers_per_rack = servers.min(f64::from(u32::MAX / devices_per_server)) as u32;
        Ok(RackFit {
            watts_per_device,
            devices_per_server,
            servers_per_rack,
            devices_per_rack: servers_per_rack * devices_per_server,
        })
    }
}

/// How devices fill a rack.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RackFit {
    /// Power counted per device: TDP × host overhead, watts.
    pub watts_per_device: f64,
    /// Devices a server holds (1 when not known).
    pub devices_per_server: u32,
    /// Whole servers a rack holds.
    pub servers_per_rack: u32,
    /// Devices a rack holds: servers × devices per server.
    pub devices_per_rack: u32,
}

impl RackFit {
    /// Racks that hold `devices`: ⌈devices / per rack⌉ (0 for none).
    pub fn racks(&self, devices: f64) -> f64 {
        (devices / f64::from(self.devices_per_rack)).ceil().max(0.0)
    }
}

/// The racks a number of units fill, in [`crate::cost::TcoReport`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RackReport {
    /// How a unit fills a rack.
    pub fit: RackFit,
    /// Racks the units need: ⌈units / per rack⌉.
    pub racks: f64,
    /// Their fees, USD per year: racks × USD per month × 12.
    pub usd_per_year: f64,
}

/// A rack budget applied to one kind of device: what owned cost adds for its racks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Racking {
    /// The terms.
    pub budget: RackBudget,
    /// How the device fills a rack.
    pub fit: RackFit,
}

impl Racking {
    /// The racks of `devices` and what they cost per hour, USD.
    pub fn usd_per_hour(&self, devices: f64) -> f64 {
        self.fit.racks(devices) * self.budget.usd_per_rack_hour()
    }

    /// The racks of `devices` in words, as a cost basis continues: `+ 2 racks at $1,500/month
    /// (40 kW: 56 devices per rack, 7 servers of 8)`.
    pub fn words(&self, devices: f64) -> String {
        let racks = self.fit.racks(devices);
        let f = &self.fit;
        let servers = if f.devices_per_server > 1 {
            let s = if f.servers_per_rack == 1 { "" } else { "s" };
            format!(", {} server{s} of {}", f.servers_per_rack, f.devices_per_server)
        } else {
            String::new()
        };
        format!(
            "+ {racks} rack{} at {}/month ({} kW: {} device{} per rack{servers})",
            if racks == 1.0 { "" } else { "s" },
            whole_usd(self.budget.usd_per_rack_month),
            self.budget.kw_per_rack,
            f.devices_per_rack,
            if f.devices_per_rack == 1 { "" } else { "s" },
        )
    }
}

/// Whole dollars with thousands separators: `$1,500`.
pub fn whole_usd(usd: f64) -> String {
    let digits = format!("{:.0}", usd.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if usd.round() < 0.0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_of_815_w_in_40_kw_racks() {
        // 40,000 W / 815 W = 49.08: 49 to a rack; 100 of them need ⌈100 / 49⌉ = 3 racks.
        let fit = RackBudget::new(40.0, 1500.0).fit(815.0, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((fit.devices_per_rack, fit.servers_per_rack, fit.devices_per_server), (49, 49, 1));
        assert_eq!(fit.racks(100.0), 3.0);
        assert_eq!(fit.racks(98.0), 2.0);
        assert_eq!(fit.racks(99.0), 3.0);
        // 3 racks at $1,500 a month: 3 × 1,500 × 12 / 8,760 = $6.1644 an hour, $54,000 a year.
        let r = Racking { budget: RackBudget::new(40.0, 1500.0), fit };
        assert!((r.usd_per_hour(100.0) - 54_000.0 / 8760.0).abs() < 1e-9);
        assert_eq!(r.words(100.0), "+ 3 racks at $1,500/month (40 kW: 49 devices per rack)");
    }

    #[test]
    fn whole_servers_and_the_overhead() {
        // 700 W × 1.25 = 875 W a device, 7,000 W a server of 8: ⌊40,000 / 7,000⌋ = 5 servers,
        // 40 devices (not ⌊40,000 / 875⌋ = 45).
        let b = RackBudget { host_overhead: 1.25, ..RackBudget::new(40.0, 1000.0) };
        let fit = b.fit(700.0, Some(8)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((fit.servers_per_rack, fit.devices_per_rack), (5, 40));
        assert_eq!(fit.watts_per_device, 875.0);
        let r = Racking { budget: b, fit };
        assert_eq!(r.words(64.0), "+ 2 racks at $1,000/month (40 kW: 40 devices per rack, 5 servers of 8)");
        // Exactly 50 of 800 W in 40 kW.
        assert_eq!(RackBudget::new(40.0, 0.0).fit(800.0, None).map(|f| f.devices_per_rack), Ok(50));
    }

    #[test]
    fn too_big_and_out_of_domain_name_the_field() {
        // A server of 8 × 700 W = 5,600 W in a 5 kW rack.
        let e = RackBudget::new(5.0, 0.0).fit(700.0, Some(8)).err();
        assert_eq!(
            e.as_ref().map(ToString::to_string).as_deref(),
            Some("kw_per_rack: one server of 8 devices draws 5600 W (5.60 kW), more than a rack's 5 kW")
        );
        let e = RackBudget::new(0.5, 0.0).fit(700.0, None).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("kw_per_rack: one device draws 700 W (0.70 kW), more than a rack's 0.5 kW"));
        let field = |b: RackBudget| b.check().err().map(|e| e.field);
        assert_eq!(field(RackBudget::new(-1.0, 0.0)), Some(RackField::KwPerRack));
        assert_eq!(field(RackBudget::new(40.0, -1.0)), Some(RackField::UsdPerRackMonth));
        assert_eq!(
            field(RackBudget { host_overhead: 0.9, ..RackBudget::new(40.0, 0.0) }),
            Some(RackField::HostOverhead)
        );
        assert_eq!(field(RackBudget::new(f64::NAN, 0.0)), Some(RackField::KwPerRack));
    }

    #[test]
    fn dollars_are_grouped() {
        assert_eq!(whole_usd(1500.0), "$1,500");
        assert_eq!(whole_usd(54_000.0), "$54,000");
        assert_eq!(whole_usd(999.4), "$999");
        assert_eq!(whole_usd(1_234_567.0), "$1,234,567");
    }

    #[test]
    fn the_page_s_owned_terms_without_a_rack_still_parse() {
        let old = r#"{"mode":"owned","years":3,"usd_per_kwh":0.12,"pue":1.3,"utilization":0.7}"#;
        let mode: crate::matching::CostMode = serde_json::from_str(old).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(mode, crate::matching::CostMode::Owned { rack: None, .. }));
        // And they are written as before.
        assert_eq!(serde_json::to_string(&mode).ok().as_deref(), Some(old.replace(":3,", ":3.0,").as_str()));
        let with =
            r#"{"mode":"owned","years":3,"usd_per_kwh":0.12,"pue":1.3,"utilization":0.7,"rack":{"kw_per_rack":40}}"#;
        let mode: crate::matching::CostMode = serde_json::from_str(with).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(mode, crate::matching::CostMode::Owned { rack: Some(b), .. } if b == RackBudget::new(40.0, 0.0)),
            "{mode:?}"
        );
    }
}
