//! The embedding-bag gathers.

use anyhow::Result;
use ridge_core::Precision;
use ridge_core::bench::kernels;
use ridge_core::bench::reference;
use ridge_core::bench::result::{KernelGroup, KernelResult, ThroughputUnit, Timing, Work};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::uniforms::GatherParams;

use super::exec::{Ctx, Launch, Spec, par_fill, params};
use crate::gpu::{Bindings, f32_bytes, u32_bytes};

impl Ctx<'_> {
    pub(super) fn gather(&self, row_bytes: usize) -> KernelResult {
        let name = format!("gather.rows{row_bytes}B");
        let dim = row_bytes / 4;
        let rows = (self.plan.gather_table_bytes / row_bytes as u64) as usize;
        let (bags, pooling) = (self.plan.gather_bags, self.plan.gather_pooling);
        let lookups = bags * pooling;
        let work = Work {
            bytes: (lookups * row_bytes + lookups * 4 + bags * row_bytes) as f64,
            flops: (lookups * dim) as f64,
        };
        let spec = Spec {
            name: &name,
            group: KernelGroup::Gather,
            precision: Precision::Fp32,
            params: params(&[
                ("row_bytes", row_bytes as f64),
                ("table_rows", rows as f64),
                ("bags", bags as f64),
                ("pooling", pooling as f64),
            ]),
            work,
            unit: ThroughputUnit::GbPerS,
        };
        let mut rng = SplitMix64::new(13);
        let table = par_fill(&mut rng, rows * dim, -1.0, 1.0);
        let idx: Vec<u32> = (0..lookups).map(|_| rng.below(rows as u32)).collect();
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("gather", kernels::GATHER, "gather")?;
            let (workgroups, stride) = g.grid((bags * dim / 4) as u64, 256)?;
            let pb = g.params(&GatherParams::new(bags as u32, pooling as u32, (dim / 4) as u32, stride));
            let (tb, ib) = (g.storage("table", f32_bytes(&table)), g.storage("idx", u32_bytes(&idx)));
            let out = g.output("out", (bags * row_bytes) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &tb, b: &ib, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, bags * dim)?))
        };
        self.conclude(spec, run(), |got| reference::compare(got, &reference::gather(&table, &idx, pooling, dim), 1e-5))
    }
}
