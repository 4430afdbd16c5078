//! Rack power in a match: owned rows pay for the racks their devices fill, counted by hand here.

use ridge_core::cost::{CostError, OwnedCostError, TcoField};
use ridge_core::matching::{Constraints, CostMode, MatchField, MatchRequest, Reject, rank};
use ridge_core::rack::{RackBudget, RackField, RackProblem};
use ridge_core::{Family, RooflineOptions};

use crate::catalog;
use crate::matching::ranked;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{what}: {a} vs {b}");
}

/// The owned terms of `matching`'s owned test: H100 SXM at $25,000 over 4 years + 700 W x 60% x
/// PUE 1.2 = 504 W at $0.15/kWh: $0.789070319634703 per device-hour.
fn owned(rack: Option<RackBudget>) -> CostMode {
    CostMode::Owned { years: 4.0, usd_per_kwh: 0.15, pue: 1.2, utilization: 0.6, tariff: None, rack }
}

const H100_OWNED_USD_PER_HOUR: f64 = 0.789_070_319_634_703;

#[test]
fn an_owned_row_pays_for_the_racks_its_devices_fill() {
    // 20 kW racks at $1,500 a month, 1.25 x TDP a device for its server: 700 x 1.25 = 875 W,
    // a server of 8 (the HGX H100 preset) 7,000 W; ⌊20,000 / 7,000⌋ = 2 servers, 16 devices a
    // rack (⌊20,000 / 875⌋ = 22 loose devices would be 2.75 servers). A rack costs
    // 1,500 x 12 / 8,760 = $2.054794520547945 an hour.
    let rack = RackBudget { kw_per_rack: 20.0, usd_per_rack_month: 1500.0, host_overhead: 1.25 };
    let constraints = Constraints {
        hardware: vec!["h100-sxm".into()],
        max_devices: 32,
        required_throughput: Some(6000.0),
        ..Constraints::default()
    };
    let r = ranked("llama-3.1-70b", &constraints, owned(Some(rack)));
    let row = r.rows.first().unwrap_or_else(|| panic!("{:?}", r.rejected));
    // The row needs more than one rack, so the rounding up shows: 24 devices (TP4 x DP6) fill
    // ⌈24 / 16⌉ = 2 racks, where flooring would give 1.
    assert_eq!(row.devices, 24, "{}", row.layout_text);
    assert_eq!(row.racks, Some(2));
    let rack_hour = 1500.0 * 12.0 / 8760.0;
    close(row.usd_per_hour.unwrap_or(f64::NAN), 24.0 * H100_OWNED_USD_PER_HOUR + 2.0 * rack_hour, "owned $/h");
    close(
        row.usd_per_million.unwrap_or(f64::NAN),
        (24.0 * H100_OWNED_USD_PER_HOUR + 2.0 * rack_hour) / 3600.0 / row.throughput_per_s * 1e6,
        "$/M",
    );
    assert!(
        row.cost_basis.ends_with(" + 2 racks at $1,500/month (20 kW: 16 devices per rack, 2 servers of 8)"),
        "{}",
        row.cost_basis
    );
    // Without a budget the same terms cost the devices only, and the row says no racks.
    let bare = ranked("llama-3.1-70b", &constraints, owned(None));
    let b = bare.rows.first().unwrap_or_else(|| panic!("{:?}", bare.rejected));
    assert_eq!((b.devices, b.racks), (24, None));
    close(b.usd_per_hour.unwrap_or(f64::NAN), 24.0 * H100_OWNED_USD_PER_HOUR, "owned $/h without racks");
}

#[test]
fn a_server_over_the_rack_is_passed_over_naming_the_budget() {
    // 8 x 700 W = 5,600 W a server, over a 5 kW rack; an L4 server (4 x 72 W) fits.
    let constraints = Constraints { hardware: vec!["h100-sxm".into(), "l4".into()], ..Constraints::default() };
    let r = ranked("bert-large", &constraints, owned(Some(RackBudget::new(5.0, 1000.0))));
    assert!(r.rows.iter().any(|row| row.hardware == "l4"), "{:?}", r.rejected);
    let h100 = r.rejected.iter().find(|x| x.hardware == "h100-sxm").unwrap_or_else(|| panic!("{:?}", r.rejected));
    assert_eq!(
        *h100.reason,
        Reject::Ownership {
            error: OwnedCostError::Terms(CostError {
                field: TcoField::Rack(RackField::KwPerRack),
                problem: ridge_core::cost::CostProblem::Rack(RackProblem::TooBig {
                    devices: 8,
                    watts: 5600.0,
                    kw_per_rack: 5.0
                }),
            })
        }
    );
    assert_eq!(
        h100.reason.to_string(),
        "rack.kw_per_rack: one server of 8 devices draws 5600 W (5.60 kW), more than a rack's 5 kW"
    );
}

#[test]
fn a_rack_budget_out_of_its_domain_is_refused_by_field() {
    let c = catalog();
    let w = c.workload("bert-large").unwrap_or_else(|| panic!("preset"));
    assert_eq!(w.family(), Family::Encoder);
    let field = |rack: RackBudget| {
        rank(&MatchRequest {
            workload: w,
            scenario: w.defaults,
            catalog: &c,
            constraints: &Constraints::default(),
            cost: owned(Some(rack)),
            datasheet_only: false,
            options: RooflineOptions::default(),
            measurements: &[],
        })
        .err()
        .map(|e| e.field)
    };
    assert_eq!(field(RackBudget::new(-40.0, 0.0)), Some(MatchField::RackKw));
    assert_eq!(field(RackBudget::new(40.0, -1.0)), Some(MatchField::UsdPerRackMonth));
    assert_eq!(field(RackBudget { host_overhead: 0.8, ..RackBudget::new(40.0, 0.0) }), Some(MatchField::HostOverhead));
}
