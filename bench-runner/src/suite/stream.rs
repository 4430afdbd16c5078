//! The streaming kernels: copy, scale, add, triad (and the size sweep's copy), and the
//! read-only reduction.

use std::rc::Rc;

use anyhow::Result;
use rayon::prelude::*;
use ridge_core::Precision;
use ridge_core::bench::reference::{self, Stream};
use ridge_core::bench::result::{KernelGroup, KernelResult, ThroughputUnit, Timing, Work};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::uniforms::StreamParams;
use ridge_core::bench::{checks, kernels};

use super::exec::{Ctx, Launch, Spec, StreamInputs, par_compare, par_fill, params};
use crate::gpu::{Bindings, f32_bytes};

impl Ctx<'_> {
    /// The streaming kernels' two input arrays of `bytes` each, generated and uploaded once for
    /// all the kernels that stream that size.
    fn stream_inputs(&self, bytes: u64) -> Rc<StreamInputs> {
        let mut cache = self.stream_inputs.borrow_mut();
        if let Some(inputs) = cache.as_ref().filter(|i| i.bytes == bytes) {
            return inputs.clone();
        }
        // Free the previous size before allocating the next.
        *cache = None;
        let n = (bytes / 16) as usize;
        let mut rng = SplitMix64::new(checks::stream_seed(n));
        let a = par_fill(&mut rng, n * 4, checks::INPUT_LOW, checks::INPUT_HIGH);
        let b = par_fill(&mut rng, n * 4, checks::INPUT_LOW, checks::INPUT_HIGH);
        let ab = self.gpu.storage("a", f32_bytes(&a));
        let bb = self.gpu.storage("b", f32_bytes(&b));
        let inputs = Rc::new(StreamInputs { bytes, a, b, ab, bb });
        *cache = Some(inputs.clone());
        inputs
    }

    pub(super) fn stream(&self, s: Stream, bytes: u64, group: KernelGroup) -> KernelResult {
        let n = (bytes / 16) as usize;
        let name = format!("{group}.{}", s.entry());
        let work = checks::stream_work(s, bytes);
        let spec = Spec {
            name: &name,
            group,
            precision: Precision::Fp32,
            params: params(&[("bytes_per_array", bytes as f64)]),
            work,
            unit: ThroughputUnit::GbPerS,
        };
        let inputs = self.stream_inputs(bytes);
        let scalar = checks::STREAM_SCALAR;
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("stream", kernels::STREAM, s.entry())?;
            let (workgroups, stride) = g.grid(n as u64, 256)?;
            let pb = g.params(&StreamParams::new(n as u32, stride, scalar));
            let out = g.output("c", bytes);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &inputs.ab, b: &inputs.bb, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, n * 4)?))
        };
        let (a, b) = (&inputs.a, &inputs.b);
        self.conclude(spec, run(), |got| par_compare(got, checks::STREAM_TOLERANCE, |i| s.value(a[i], b[i], scalar)))
    }

    pub(super) fn reduce(&self) -> KernelResult {
        let bytes = self.plan.stream_bytes;
        let n = (bytes / 16) as usize;
        let groups = (n as u64).div_ceil(256 * 16).clamp(1, 16_384);
        let name = "stream.reduce";
        let work = Work { bytes: (bytes + groups * 16) as f64, flops: (n * 4) as f64 };
        let spec = Spec {
            name,
            group: KernelGroup::Stream,
            precision: Precision::Fp32,
            params: params(&[("bytes", bytes as f64), ("workgroups", groups as f64)]),
            work,
            unit: ThroughputUnit::GbPerS,
        };
        let inputs = self.stream_inputs(bytes);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("reduce", kernels::STREAM, "reduce")?;
            let (workgroups, stride) = g.grid(groups * 256, 256)?;
            let pb = g.params(&StreamParams::new(n as u32, stride, 0.0));
            let out = g.output("partials", groups * 16);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &inputs.ab, b: &inputs.ab, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, groups as usize * 4)?))
        };
        self.conclude(spec, run(), |partials| {
            let got: f64 = partials.iter().map(|&x| f64::from(x)).sum();
            let want: f64 = inputs.a.par_iter().map(|&x| f64::from(x)).sum();
            reference::compare(&[got as f32], &[want as f32], 1e-4)
        })
    }
}
