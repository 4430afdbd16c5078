//! The ceilings a run derives from its verified kernels (the result file's `derived` block), and
//! their median over several runs (how the results service aggregates a device's runs).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kernel::{KernelGroup, KernelResult, Status, Throughput, TransferDirection};
use crate::provenance::Figure;
use crate::roofline::MeasuredCeilings;
use crate::units::{GB, Precision, TERA};

/// Ceilings derived from verified kernels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// The best streaming bandwidth, the best compute rate per precision and the host transfers,
    /// each with the kernel it comes from.
    #[serde(flatten)]
    pub ceilings: MeasuredCeilings,
    /// fp32 ridge point, FLOP/byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ridge_point_fp32: Option<f64>,
    /// Each misaligned GEMM beside its aligned neighbour ([`AlignmentPenalty`]); one run's
    /// measurement, not aggregated over runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gemm_alignment: Vec<AlignmentPenalty>,
}

/// What a misaligned GEMM shape costs on the device: a verified GEMM of `m`×`n`×`k` beside the
/// verified one of `(m+1)`×`(n+1)`×`(k+1)` at the same precision, each rate counting only the
/// product's own FLOPs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignmentPenalty {
    /// Precision of both.
    pub precision: Precision,
    /// The aligned kernel's name.
    pub aligned: String,
    /// The misaligned kernel's name.
    pub misaligned: String,
    /// The aligned kernel's TFLOP/s.
    pub aligned_tflops: f64,
    /// The misaligned kernel's TFLOP/s of useful work.
    pub misaligned_tflops: f64,
    /// The share of the aligned rate the misaligned shape loses: `1 − misaligned / aligned`.
    pub slowdown: f64,
    /// The share of the misaligned kernel's arithmetic spent on padding to its tile: what
    /// padding alone explains of the slowdown (the rest is the faster kernels the shape cannot
    /// use, and narrower loads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding_share: Option<f64>,
}

impl AlignmentPenalty {
    /// Pairs each verified GEMM with the verified GEMM one larger in every dimension at the
    /// same precision.
    pub fn pairs(kernels: &[KernelResult]) -> Vec<AlignmentPenalty> {
        /// A GEMM's `m`, `n`, `k` and FLOP/s.
        type Shape = (f64, f64, f64, f64);
        let shape = |k: &KernelResult| -> Option<Shape> {
            let rate = k.throughput.as_ref()?.flops_per_s;
            let p = |name: &str| k.params.get(name).copied();
            Some((p("m")?, p("n")?, p("k")?, rate))
        };
        let gemms: Vec<(&KernelResult, Shape)> = kernels
            .iter()
            .filter(|k| k.group == KernelGroup::Gemm && k.status == Status::Ok)
            .filter_map(|k| shape(k).map(|s| (k, s)))
            .collect();
        let mut out = Vec::new();
        for &(small, (m, n, k, misaligned)) in &gemms {
            let partner = gemms.iter().find(|(big, (bm, bn, bk, _))| {
                big.precision == small.precision && *bm == m + 1.0 && *bn == n + 1.0 && *bk == k + 1.0
            });
            if let Some(&(big, (_, _, _, aligned))) = partner
                && aligned > 0.0
            {
                out.push(AlignmentPenalty {
                    precision: small.precision,
                    aligned: big.name.clone(),
                    misaligned: small.name.clone(),
                    aligned_tflops: aligned / TERA,
                    misaligned_tflops: misaligned / TERA,
                    slowdown: 1.0 - misaligned / aligned,
                    padding_share: small.padding_share,
                });
            }
        }
        out
    }
}

impl Derived {
    /// The compute ceilings a measurement may take from a run: fp32 and fp64 only. Shader
    /// kernels run on the vector units, so their f16 rate is not the rate of the matrix engines
    /// (tensor or matrix cores) that the datasheet's 16- and 8-bit peaks describe and GEMMs use;
    /// those stay with the datasheet (scaled with `--calibrated`). The run file keeps every rate.
    pub fn measured_compute(&self) -> BTreeMap<Precision, Figure> {
        self.ceilings
            .compute_tflops
            .iter()
            .filter(|(p, _)| matches!(p, Precision::Fp32 | Precision::Fp64))
            .map(|(p, f)| (*p, f.clone()))
            .collect()
    }

    /// The ceilings an estimate may take from a run: all but the compute rates other than fp32
    /// and fp64 ([`Derived::measured_compute`]).
    pub fn measurable(&self) -> MeasuredCeilings {
        MeasuredCeilings { compute_tflops: self.measured_compute(), ..self.ceilings.clone() }
    }

    /// Derives ceilings from verified kernels: the best bandwidth of the streaming kernels, the
    /// best rate per precision of the compute kernels, and the host transfers.
    pub fn from_kernels(kernels: &[KernelResult]) -> Derived {
        let ok = || kernels.iter().filter(|k| k.status == Status::Ok);
        let best = |group: KernelGroup, by: &dyn Fn(&Throughput) -> f64| {
            ok().filter(|k| k.group == group)
                .filter_map(|k| k.throughput.as_ref().map(|t| (k, by(t))))
                .max_by(|a, b| a.1.total_cmp(&b.1))
        };
        let figure = |value: f64, k: &KernelResult| Figure {
            value,
            confidence: None,
            source: Some(format!("kernel {}", k.name)),
            note: None,
        };
        let mut d = MeasuredCeilings::default();
        if let Some((k, bw)) = best(KernelGroup::Stream, &|t| t.bytes_per_s) {
            d.memory_gb_per_s = Some(figure(bw / GB, k));
        }
        for k in ok().filter(|k| k.group == KernelGroup::Compute) {
            if let Some(t) = &k.throughput {
                let tf = t.flops_per_s / TERA;
                let better = d.compute_tflops.get(&k.precision).is_none_or(|f| tf > f.value);
                if better {
                    d.compute_tflops.insert(k.precision, figure(tf, k));
                }
            }
        }
        for k in ok() {
            let (Some(method), Some(t)) = (k.transfer_method(), &k.throughput) else { continue };
            let slot = match method.direction() {
                TransferDirection::HostToDevice => &mut d.host_to_device_gb_per_s,
                TransferDirection::DeviceToHost => &mut d.device_to_host_gb_per_s,
            };
            if slot.as_ref().is_none_or(|f| t.bytes_per_s / GB > f.value) {
                *slot = Some(figure(t.bytes_per_s / GB, k));
            }
        }
        Derived { ridge_point_fp32: ridge_point(&d), ceilings: d, gemm_alignment: AlignmentPenalty::pairs(kernels) }
    }
}

impl Derived {
    /// The median of each ceiling over several runs' derived ceilings (each over the runs that
    /// have it), the way the results service aggregates a device's runs. The ridge point is
    /// recomputed from the medians; each figure's note says how many runs it is the median of.
    pub fn median_of(runs: &[&Derived]) -> Derived {
        let median = |values: Vec<f64>, what: &str| -> Option<Figure> {
            let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite() && *x > 0.0).collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some(Figure {
                value: super::stats::quantile(&v, 0.5),
                confidence: None,
                source: Some(format!("median of {} ridge run(s)", v.len())),
                note: Some(format!("{what}; range {} to {}", sig(v[0]), sig(v[v.len() - 1]))),
            })
        };
        let pick = |f: &dyn Fn(&MeasuredCeilings) -> Option<f64>| {
            runs.iter().filter_map(|d| f(&d.ceilings)).collect::<Vec<f64>>()
        };
        let mut out = MeasuredCeilings {
            memory_gb_per_s: median(pick(&|d| d.memory_gb_per_s.as_ref().map(|f| f.value)), "GB/s"),
            host_to_device_gb_per_s: median(pick(&|d| d.host_to_device_gb_per_s.as_ref().map(|f| f.value)), "GB/s"),
            device_to_host_gb_per_s: median(pick(&|d| d.device_to_host_gb_per_s.as_ref().map(|f| f.value)), "GB/s"),
            ..MeasuredCeilings::default()
        };
        let precisions: std::collections::BTreeSet<Precision> =
            runs.iter().flat_map(|d| d.ceilings.compute_tflops.keys().copied()).collect();
        for p in precisions {
            if let Some(f) = median(pick(&|d| d.compute_tflops.get(&p).map(|f| f.value)), "TFLOP/s") {
                out.compute_tflops.insert(p, f);
            }
        }
        Derived { ridge_point_fp32: ridge_point(&out), ceilings: out, gemm_alignment: Vec::new() }
    }
}

/// The fp32 ridge point of ceilings, FLOP/byte: where fp32 compute and memory bandwidth meet.
fn ridge_point(c: &MeasuredCeilings) -> Option<f64> {
    let (bw, f) = (c.memory_gb_per_s.as_ref()?, c.compute_tflops.get(&Precision::Fp32)?);
    Some(f.value * TERA / (bw.value * GB))
}

/// Three significant digits, for notes.
fn sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(v: f64) -> Figure {
        Figure { value: v, confidence: None, source: None, note: None }
    }

    #[test]
    fn median_of_runs_takes_each_ceiling_over_the_runs_that_have_it() {
        let mk = |bw: f64, fp32: Option<f64>| {
            let mut d = Derived::default();
            d.ceilings.memory_gb_per_s = Some(fig(bw));
            if let Some(f) = fp32 {
                d.ceilings.compute_tflops.insert(Precision::Fp32, fig(f));
            }
            d
        };
        let runs = [mk(100.0, Some(10.0)), mk(300.0, None), mk(200.0, Some(30.0))];
        let refs: Vec<&Derived> = runs.iter().collect();
        let m = Derived::median_of(&refs);
        assert_eq!(m.ceilings.memory_gb_per_s.as_ref().map(|f| f.value), Some(200.0));
        assert_eq!(m.ceilings.compute_tflops.get(&Precision::Fp32).map(|f| f.value), Some(20.0));
        assert_eq!(m.ceilings.host_to_device_gb_per_s, None);
        let ridge = m.ridge_point_fp32.unwrap_or_default();
        assert!((ridge - 20.0e12 / 200.0e9).abs() < 1e-9, "{ridge}");
        assert_eq!(Derived::median_of(&[]), Derived::default());
    }

    /// A verified kernel of `group` at `gb_per_s` and `tflops`, with parameters.
    fn kernel(
        name: &str,
        group: KernelGroup,
        p: Precision,
        gb_per_s: f64,
        tflops: f64,
        params: &[(&str, f64)],
    ) -> KernelResult {
        use super::super::kernel::{ThroughputUnit, Work};
        KernelResult {
            name: name.into(),
            group,
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            precision: p,
            status: Status::Ok,
            error: None,
            verification: None,
            timing: None,
            work: Work { bytes: 1.0, flops: 1.0 },
            throughput: Some(Throughput {
                bytes_per_s: gb_per_s * GB,
                flops_per_s: tflops * TERA,
                value: gb_per_s,
                unit: ThroughputUnit::GbPerS,
            }),
            findings: Vec::new(),
            variants: Vec::new(),
            padding_share: None,
        }
    }

    #[test]
    fn a_misaligned_gemm_pairs_with_its_aligned_neighbour() {
        use KernelGroup as G;
        use Precision::{Fp16, Fp32};
        let gemm = |p, side: f64, tflops, padding| {
            let mut k =
                kernel(&format!("gemm.{p}.{side}"), G::Gemm, p, 1.0, tflops, &[("m", side), ("n", side), ("k", side)]);
            k.padding_share = padding;
            k
        };
        let mut failed = gemm(Fp16, 127.0, 1.0, Some(0.02));
        failed.status = Status::Failed;
        // One more row and column but the same depth is not the neighbour.
        let mut shallow = gemm(Fp32, 128.0, 3.0, Some(0.0));
        shallow.name = "gemm.fp32.128x128x127".into();
        shallow.params.insert("k".into(), 127.0);
        let kernels = [
            shallow,
            gemm(Fp32, 128.0, 2.0, Some(0.0)),
            gemm(Fp32, 127.0, 1.5, Some(0.023)),
            // Another precision, a failed partner, and a shape two apart pair with nothing.
            gemm(Fp16, 128.0, 4.0, Some(0.0)),
            failed,
            gemm(Fp32, 125.0, 1.0, None),
        ];
        let pairs = AlignmentPenalty::pairs(&kernels);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        let a = &pairs[0];
        assert_eq!((a.aligned.as_str(), a.misaligned.as_str(), a.precision), ("gemm.fp32.128", "gemm.fp32.127", Fp32));
        // 1.5 against 2.0 TFLOP/s: a quarter of the aligned rate lost, 2.3% of it padding.
        assert!((a.slowdown - 0.25).abs() < 1e-12 && a.padding_share == Some(0.023), "{a:?}");
        assert!((a.aligned_tflops - 2.0).abs() < 1e-12 && (a.misaligned_tflops - 1.5).abs() < 1e-12);
        assert_eq!(Derived::from_kernels(&kernels).gemm_alignment, pairs);
    }

    #[test]
    fn ceilings_come_from_the_best_verified_kernel_of_each_kind() {
        use KernelGroup as G;
        use Precision::{Fp16, Fp32};
        let mut failed = kernel("stream.add", G::Stream, Fp32, 900.0, 0.0, &[]);
        failed.status = Status::Failed;
        let kernels = [
            kernel("stream.copy", G::Stream, Fp32, 100.0, 0.0, &[]),
            kernel("stream.triad", G::Stream, Fp32, 120.0, 0.0, &[]),
            // A failed kernel feeds nothing; a sweep or a gather is not the memory ceiling.
            failed,
            kernel("sweep.copy.64KiB", G::Sweep, Fp32, 5000.0, 0.0, &[]),
            kernel("gather.rows64B", G::Gather, Fp32, 700.0, 0.0, &[]),
            kernel("compute.fma.fp32.x8", G::Compute, Fp32, 1.0, 3.0, &[]),
            kernel("compute.fma.fp32.x16", G::Compute, Fp32, 1.0, 4.0, &[]),
            kernel("compute.fma.f16.x8", G::Compute, Fp16, 1.0, 7.0, &[]),
            // GEMMs and the intensity sweep are not the compute ceiling.
            kernel("gemm.fp32.128x128x128", G::Gemm, Fp32, 1.0, 50.0, &[]),
            // Directions come from the method, whatever the name says.
            kernel("transfer.a", G::Transfer, Fp32, 9.0, 0.0, &[("method", 0.0)]),
            kernel("transfer.b", G::Transfer, Fp32, 11.0, 0.0, &[("method", 1.0)]),
            kernel("transfer.h2d.c", G::Transfer, Fp32, 6.0, 0.0, &[("method", 2.0)]),
        ];
        let d = Derived::from_kernels(&kernels);
        let c = &d.ceilings;
        let value = |f: &Option<Figure>| f.as_ref().map(|f| (f.value, f.source.clone().unwrap_or_default()));
        assert_eq!(value(&c.memory_gb_per_s), Some((120.0, "kernel stream.triad".into())));
        assert_eq!(value(&c.host_to_device_gb_per_s), Some((11.0, "kernel transfer.b".into())));
        assert_eq!(value(&c.device_to_host_gb_per_s), Some((6.0, "kernel transfer.h2d.c".into())));
        let tf: Vec<(Precision, f64)> = c.compute_tflops.iter().map(|(p, f)| (*p, f.value)).collect();
        assert_eq!(
            tf,
            [(Fp32, 4.0), (Fp16, 7.0)].into_iter().collect::<BTreeMap<_, _>>().into_iter().collect::<Vec<_>>()
        );
        // 4 TFLOP/s over 120 GB/s.
        assert!((d.ridge_point_fp32.unwrap_or_default() - 4e12 / 120e9).abs() < 1e-9);
        // A measurement takes fp32 and fp64 only.
        assert_eq!(d.measurable().compute_tflops.keys().copied().collect::<Vec<_>>(), [Fp32]);
        assert_eq!(d.measurable().memory_gb_per_s, c.memory_gb_per_s);
    }

    #[test]
    fn the_derived_block_keeps_its_flat_shape() {
        let mut d = Derived { ridge_point_fp32: Some(2.5), ..Derived::default() };
        d.ceilings.memory_gb_per_s = Some(fig(100.0));
        d.ceilings.compute_tflops.insert(Precision::Fp32, fig(0.25));
        let json = serde_json::to_value(&d).unwrap_or_default();
        let want = serde_json::json!({
            "memory_gb_per_s": { "value": 100.0 },
            "compute_tflops": { "fp32": { "value": 0.25 } },
            "ridge_point_fp32": 2.5
        });
        assert_eq!(json, want);
        assert_eq!(serde_json::from_value::<Derived>(want).ok(), Some(d));
    }

    #[test]
    fn a_measurement_keeps_its_flat_shape_and_refuses_unknown_fields() {
        use crate::roofline::Measurement;
        let flat = serde_json::json!({
            "id": "m", "hardware": "l4", "date": "2026-01-01", "source": "s", "method": "x",
            "memory_gb_per_s": { "value": 250.0 },
            "compute_tflops": { "fp32": { "value": 20.0 } },
            "device_to_host_gb_per_s": { "value": 12.0 }
        });
        let m: Measurement = serde_json::from_value(flat.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.ceilings.memory_gb_per_s, Some(fig(250.0)));
        assert_eq!(m.ceilings.device_to_host_gb_per_s, Some(fig(12.0)));
        assert_eq!(serde_json::to_value(&m).ok(), Some(flat.clone()));
        let mut bad = flat;
        bad["memory_gbs"] = serde_json::json!(1.0);
        let e = serde_json::from_value::<Measurement>(bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("unknown field `memory_gbs`"), "{e}");
    }
}
