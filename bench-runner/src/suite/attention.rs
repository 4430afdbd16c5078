//! Fused attention, prefill and decode shapes.

use anyhow::Result;
use ridge_core::Precision;
use ridge_core::bench::kernels;
use ridge_core::bench::reference::{self, AttentionShape};
use ridge_core::bench::result::{KernelGroup, KernelResult, ThroughputUnit, Timing, Work};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::uniforms::AttentionParams;

use super::exec::{Ctx, Launch, Spec, par_fill, params};
use crate::gpu::{Bindings, f32_bytes};

impl Ctx<'_> {
    pub(super) fn attention(&self, label: &str, s: AttentionShape) -> KernelResult {
        const D: usize = kernels::ATTENTION_HEAD_DIM;
        let name = format!("attention.{label}");
        let flops = ridge_core::ops::OpKind::Attention {
            batch: s.batch as f64,
            heads: s.heads as f64,
            kv_heads: s.kv_heads as f64,
            q_len: s.q_len as f64,
            kv_len: s.kv_len as f64,
            head_dim: D as f64,
            causal: s.causal,
            fused: true,
            backward: false,
            act: Precision::Fp32,
            kv: Precision::Fp32,
            latent: false,
        }
        .flops();
        let q_elems = s.batch * s.heads * s.q_len * D;
        let kv_elems = s.batch * s.kv_heads * s.kv_len * D;
        let work = Work { bytes: ((2 * q_elems + 2 * kv_elems) * 4) as f64, flops };
        let spec = Spec {
            name: &name,
            group: KernelGroup::Attention,
            precision: Precision::Fp32,
            params: params(&[
                ("batch", s.batch as f64),
                ("heads", s.heads as f64),
                ("kv_heads", s.kv_heads as f64),
                ("q_len", s.q_len as f64),
                ("kv_len", s.kv_len as f64),
                ("head_dim", D as f64),
            ]),
            work,
            // Decode streams the KV cache; prefill is arithmetic.
            unit: if s.q_len == 1 { ThroughputUnit::GbPerS } else { ThroughputUnit::TflopPerS },
        };
        let mut rng = SplitMix64::new(17);
        let q = par_fill(&mut rng, q_elems, -1.0, 1.0);
        let k = par_fill(&mut rng, kv_elems, -1.0, 1.0);
        let v = par_fill(&mut rng, kv_elems, -1.0, 1.0);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("attention", kernels::ATTENTION, "attention")?;
            let scale = 1.0 / (D as f32).sqrt();
            let pb = g.params(&AttentionParams::new(
                s.heads as u32,
                s.kv_heads as u32,
                s.q_len as u32,
                s.kv_len as u32,
                s.causal,
                scale,
            ));
            let kv: Vec<f32> = k.iter().chain(&v).copied().collect();
            let (qb, kvb) = (g.storage("q", f32_bytes(&q)), g.storage("kv", f32_bytes(&kv)));
            let out = g.output("o", (q_elems * 4) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &qb, b: &kvb, out: &out });
            let workgroups = [s.q_len as u32, (s.batch * s.heads) as u32, 1];
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, q_elems)?))
        };
        self.conclude(spec, run(), |got| {
            // Every output row of small problems; 512 random rows (and the first and last) of large.
            let rows = reference::sample_indices(s.batch * s.heads * s.q_len, 512, 19);
            let picked: Vec<f32> = rows.iter().flat_map(|&r| got[r * D..(r + 1) * D].iter().copied()).collect();
            reference::compare(&picked, &reference::attention_rows(&q, &k, &v, s, &rows), 1e-3)
        })
    }
}
