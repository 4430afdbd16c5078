//! The empirical roofline's sweep table of `ridge run`: each intensity step against the roofline
//! of the run's own best kernels, and, for a step past it, why it could pass.

use std::io::Write;

use anyhow::Result;
use ridge_core::bench::result::KernelResult;
use ridge_core::bench::sweep::{Passed, Roof, SweepRoofline, sweep_roofline};

use crate::format::{self, si, sig3};

/// The sweep table and what its last column is of; nothing without a roofline to draw.
pub(super) fn print_sweep(kernels: &[KernelResult], out: &mut dyn Write) -> Result<()> {
    let Some(r) = sweep_roofline(kernels) else { return Ok(()) };
    if r.steps.is_empty() {
        return Ok(());
    }
    let mut t = format::table(&["FLOP/byte", "measured GFLOP/s", "roofline GFLOP/s", "roof", "of roofline"]);
    for s in &r.steps {
        t.add_row(vec![
            sig3(s.flop_per_byte),
            sig3(s.flops_per_s / 1e9),
            sig3(s.roof_flops_per_s / 1e9),
            match s.roof {
                Roof::Memory => "memory".into(),
                Roof::Compute => "fp32".into(),
            },
            format!("{:.0}%", s.of_roof() * 100.0),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "of roofline: the step's FLOP/s over the roofline drawn from this run's own best kernels (memory: {} at {}B/s; fp32: {} at {}FLOP/s), which are what those kernels reached, not the device's limits",
        r.memory.name,
        si(r.memory.per_s),
        r.compute.name,
        si(r.compute.per_s),
    )?;
    for s in &r.steps {
        if let Some(why) = s.passed(&r) {
            writeln!(out, "  {} at {:.0}%: {}", s.name, s.of_roof() * 100.0, passed_words(why, s, &r))?;
        }
    }
    Ok(())
}

/// Why a step passed its roof, in words.
fn passed_words(why: Passed, s: &ridge_core::bench::sweep::SweepStep, r: &SweepRoofline) -> String {
    let (m, c) = (&r.memory, &r.compute);
    match why {
        Passed::SmallerWorkingSet => format!(
            "it moved {}B/s, more than {}'s {}B/s; it reads and writes {}B per launch to {}'s {}B, so caches can hold more of its data and not all of it came from memory",
            si(s.bytes_per_s),
            m.name,
            si(m.per_s),
            si(s.bytes),
            m.name,
            si(m.bytes)
        ),
        Passed::StreamShortOfPeak => format!(
            "it moved {}B/s, more than {}'s {}B/s with as many bytes per launch, so {} fell short of the memory's peak bandwidth (which is at least {}B/s)",
            si(s.bytes_per_s),
            m.name,
            si(m.per_s),
            m.name,
            si(s.bytes_per_s)
        ),
        Passed::FmaShortOfPeak => format!(
            "it reached {}FLOP/s, more than {}'s {}FLOP/s, so {} fell short of the device's fp32 peak (which is at least {}FLOP/s)",
            si(s.flops_per_s),
            c.name,
            si(c.per_s),
            c.name,
            si(s.flops_per_s)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/system/fixtures/llvmpipe-quick.json");

    fn printed(edit: impl Fn(&mut KernelResult)) -> String {
        let mut r: ridge_core::bench::result::RunResult =
            serde_json::from_str(FIXTURE).unwrap_or_else(|e| panic!("the fixture does not read: {e}"));
        r.kernels.iter_mut().for_each(edit);
        let mut out = Vec::new();
        print_sweep(&r.kernels, &mut out).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn a_step_past_the_roofline_is_explained() {
        // The fixture as measured: every step under its roof, nothing to explain.
        let plain = printed(|_| {});
        assert!(plain.contains("of roofline: the step's FLOP/s over the roofline drawn from this run's own best kernels (memory: stream.copy at 7.84 GB/s; fp32: compute.fma.fp32.x8 at 20.8 GFLOP/s)"), "{plain}");
        assert!(!plain.contains("  intensity."), "{plain}");
        // ai0.25 five times as fast: 2.94 GFLOP/s against 0.25 x 7.84 = 1.96 of the memory roof,
        // 150%, with 524 kB per launch to stream.copy's 8.39 MB.
        let out = printed(|k| {
            if k.name == "intensity.ai0.25"
                && let Some(t) = k.throughput.as_mut()
            {
                t.flops_per_s *= 5.0;
                t.bytes_per_s *= 5.0;
            }
        });
        assert!(out.contains("| 0.250     | 2.94             | 1.96             | memory | 150%"), "{out}");
        assert!(
            out.contains("  intensity.ai0.25 at 150%: it moved 11.8 GB/s, more than stream.copy's 7.84 GB/s; it reads and writes 524 kB per launch to stream.copy's 8.39 MB"),
            "{out}"
        );
    }
}
