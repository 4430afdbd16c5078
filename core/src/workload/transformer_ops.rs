//! The operations of one forward pass of a transformer split over tensor- or expert-parallel
//! devices (`training_ops` builds a training step on it).

use super::transformer::{Architecture, FfnKind, Norm, Position, Transformer};
use super::{ExpertSplit, PassShape, PromptChunk, Scenario, SplitError, WideAttention};
use crate::ops::{CollectiveKind, Linear, Link, OpKind, Operation};
use crate::units::Precision;

impl Transformer {
    /// Checks that tensor parallelism over `tp` devices splits heads and widths evenly.
    pub fn check_split(&self, tp: u32) -> Result<(), SplitError> {
        let check = |what, value: u32| {
            if value.is_multiple_of(tp) { Ok(()) } else { Err(SplitError::Uneven { what, value, devices: tp }) }
        };
        check("query heads", self.heads)?;
        check("feed-forward width", self.ffn)?;
        let kv = self.kv_heads();
        if kv >= tp {
            check("key/value heads", kv)?;
        } else if !tp.is_multiple_of(kv) {
            return Err(SplitError::Uneven { what: "key/value heads", value: kv, devices: tp });
        }
        Ok(())
    }

    /// The operations of one forward pass on each of `tp` tensor-parallel devices (Megatron
    /// layout: attention heads and feed-forward width split, two all-reduces per block, norms and
    /// residuals replicated; key/value heads replicated when there are fewer than devices).
    pub fn forward_ops(&self, shape: PassShape, s: &Scenario, tp: u32) -> Vec<Operation> {
        self.split_forward_ops(shape, s, tp, 1).0
    }

    /// The forward pass's operations, and which of them are inside the transformer blocks (what
    /// full recomputation reruns): all but the embedding before them and the head after.
    pub(super) fn split_forward_ops(
        &self,
        shape: PassShape,
        s: &Scenario,
        tp: u32,
        ep: u32,
    ) -> (Vec<Operation>, std::ops::Range<usize>) {
        let mut ops = Vec::with_capacity(32);
        let blocks = self.step_ops_into(shape, s, tp, ep, &mut ops);
        (ops, blocks)
    }

    /// [`Transformer::forward_ops`] (tensor parallel over `tp`) or
    /// [`Transformer::expert_parallel_forward_ops`] (`ep` > 1) written into `ops`, cleared first: an
    /// engine that times thousands of steps keeps one buffer rather than allocating one a step.
    /// Returns which of them are inside the transformer blocks.
    pub fn step_ops_into(
        &self,
        shape: PassShape,
        s: &Scenario,
        tp: u32,
        ep: u32,
        ops: &mut Vec<Operation>,
    ) -> std::ops::Range<usize> {
        ops.clear();
        let t = f64::from(tp);
        let (w, a, kvp) = (s.weights, s.activations, s.kv_cache);
        let h = self.h();
        let hd = f64::from(self.head_dim());
        let heads = f64::from(self.heads) / t;
        let kv_heads = (f64::from(self.kv_heads()) / t).max(1.0);
        let chunk = shape.chunk.unwrap_or(PromptChunk { sequences: 0.0, tokens: 0.0, past_tokens: 0.0 });
        let tokens = shape.batch * shape.new_tokens + chunk.sequences * chunk.tokens;
        let layers = f64::from(self.layers);
        let ab = a.bytes();
        // A decoder's hidden states between the GEMMs stay in 16 bits where its GEMMs run
        // narrower: the LLM engines quantize a GEMM's input inside its own kernels and keep the
        // residual stream, norms, rotary embedding, the tensor-parallel all-reduce and the
        // experts' weighted sum (and its return all-to-all) in bf16 (TensorRT-LLM, vLLM, SGLang;
        // DeepEP's combine). Encoders keep their GEMMs' precision: TensorRT's BERT plugins
        // (MLPerf's) fuse the skip connection and layer norm with int8 and fp8 in and out.
        let sb = if ab < 2.0 && self.architecture == Architecture::Decoder { Precision::Bf16.bytes() } else { ab };
        let gemm = |m: f64, k: f64, n: f64| OpKind::Gemm { m, n, k, a, b: w, c: a, compute: a };
        // The attention projections a quantized checkpoint keeps in bf16: bf16 weights, inputs
        // and arithmetic (`wide_in` the query and key/value projections, `wide_out` the output).
        let narrow = w.bytes() < Precision::Bf16.bytes();
        let (wide_in, wide_out) = match s.wide_attention {
            WideAttention::None => (false, false),
            WideAttention::Inputs => (narrow, false),
            WideAttention::All => (narrow, narrow),
        };
        let p16 = if a.bytes() < Precision::Bf16.bytes() { Precision::Bf16 } else { a };
        let wide_gemm = |m: f64, k: f64, n: f64| OpKind::Gemm { m, n, k, a: p16, b: p16, c: p16, compute: p16 };
        let attn_in = |m: f64, k: f64, n: f64| if wide_in { wide_gemm(m, k, n) } else { gemm(m, k, n) };
        let pass = |bytes: f64| {
            move |elements: f64, reads: f64, writes: f64, flops: f64| OpKind::Elementwise {
                elements,
                read_bytes: reads * bytes,
                write_bytes: writes * bytes,
                flops_per_element: flops,
                compute: a,
            }
        };
        // Passes on GEMM inputs (an activation function, quantized for the next GEMM) and on the
        // 16-bit hidden states.
        let (elementwise, stream) = (pass(ab), pass(sb));
        let norm_flops = match self.norm {
            Norm::Rmsnorm => 4.0,
            Norm::Layernorm => 7.0,
        };

        let lookups_per_token = 1.0
            + if self.position == Position::Learned { 1.0 } else { 0.0 }
            + if self.token_types.is_some() { 1.0 } else { 0.0 };
        match self.patches {
            // Patches projected to the model width (the class token is one of the tokens).
            Some(p) => ops.push(Operation::new("embed.patches", 1.0, gemm(tokens, p.inputs(), h))),
            None => ops.push(Operation::new(
                "embed",
                1.0,
                OpKind::EmbeddingBag { lookups: tokens * lookups_per_token, outputs: tokens, dim: h, table: w, out: a },
            )),
        }
        if self.architecture == Architecture::Encoder {
            ops.push(Operation::new("embed.norm", 1.0, stream(tokens * h, 1.0, 1.0, norm_flops)));
        }

        let block_start = ops.len();
        let norms = self.norms_per_layer();
        ops.push(Operation::new("block.norm", layers * norms, stream(tokens * h, 1.0, 1.0, norm_flops)));
        match self.mla {
            None => {
                ops.push(
                    Operation::new("attn.qkv", layers, attn_in(tokens, h, (heads + 2.0 * kv_heads) * hd))
                        .as_linear(Linear::Qkv),
                );
                if self.position == Position::Rope {
                    ops.push(Operation::new(
                        "attn.rope",
                        layers,
                        stream(tokens * (heads + kv_heads) * hd, 1.0, 1.0, 3.0),
                    ));
                }
            }
            Some(m) => {
                // Queries through their low-rank compression, the key/value latent, and its
                // decompression to per-head keys and values (at decode, the same weights
                // absorbed into the query and the output: the same multiply-adds per token).
                let qk = f64::from(m.qk_nope_head_dim + m.qk_rope_head_dim);
                match m.q_lora_rank {
                    Some(r) => {
                        let r = f64::from(r);
                        ops.push(Operation::new("attn.q-down", layers, attn_in(tokens, h, r)));
                        ops.push(Operation::new("attn.q-up", layers, attn_in(tokens, r, heads * qk)));
                    }
                    None => ops.push(Operation::new("attn.q", layers, attn_in(tokens, h, heads * qk))),
                }
                ops.push(Operation::new("attn.kv-down", layers, attn_in(tokens, h, m.cached_per_token())));
                let kv_lora = f64::from(m.kv_lora_rank);
                let per_head = f64::from(m.qk_nope_head_dim + m.v_head_dim);
                ops.push(Operation::new("attn.kv-up", layers, attn_in(tokens, kv_lora, heads * per_head)));
                let rope = f64::from(m.qk_rope_head_dim);
                ops.push(Operation::new("attn.rope", layers, stream(tokens * (heads + 1.0) * rope, 1.0, 1.0, 3.0)));
            }
        }
        let causal = self.architecture == Architecture::Decoder;
        let local = self.local_attention.map(|l| (f64::from(l.layers.min(self.layers)), f64::from(l.window)));
        let attention = |batch: f64, q_len: f64, past: f64, window: Option<f64>| {
            // Grouped-query attention; MLA as the engines run it: one query token against the
            // cached latent (absorbed: a single key/value "head" of the latent, read once, with
            // 576 + 512 multiply-adds per scored pair), longer passes on decompressed heads.
            let (kv_heads, head_dim, latent) = match self.mla {
                None => (kv_heads, hd, false),
                Some(m) if q_len <= 1.0 => {
                    let dim = (m.cached_per_token() + f64::from(m.kv_lora_rank)) / 2.0;
                    (m.cached_per_token() / (2.0 * dim), dim, true)
                }
                Some(m) => (heads, f64::from(m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim) / 2.0, false),
            };
            // A window shorter than the context: each query sees at most `window` keys (passes
            // longer than the window in blocks of it).
            let (batch, q_len, kv_len, causal) = match window {
                Some(w) if past + q_len > w => (batch * (q_len / w).max(1.0), q_len.min(w), w, false),
                _ => (batch, q_len, past + q_len, causal),
            };
            OpKind::Attention {
                batch,
                heads,
                kv_heads,
                q_len,
                kv_len,
                head_dim,
                causal,
                fused: s.fused_attention,
                backward: false,
                act: a,
                kv: kvp,
                latent,
            }
        };
        let full_layers = layers - local.map_or(0.0, |l| l.0);
        let mut attend = |names: [&'static str; 2], batch: f64, q_len: f64, past: f64| {
            if full_layers > 0.0 {
                ops.push(Operation::new(names[0], full_layers, attention(batch, q_len, past, None)));
            }
            if let Some((n, w)) = local.filter(|l| l.0 > 0.0) {
                ops.push(Operation::new(names[1], n, attention(batch, q_len, past, Some(w))));
            }
        };
        if shape.batch > 0.0 {
            // Packed sequences of varying length: as many sequences of the token-weighted mean
            // length as keep both the tokens and the sum of squared lengths.
            let (batch, q_len) = if shape.spread > 0.0 && shape.new_tokens > 0.0 {
                let weighted = shape.new_tokens + shape.spread * shape.spread / shape.new_tokens;
                (shape.batch * shape.new_tokens / weighted, weighted)
            } else {
                (shape.batch, shape.new_tokens)
            };
            attend(["attn.sdpa", "attn.sdpa.local"], batch, q_len, shape.past_tokens);
        }
        if chunk.sequences > 0.0 && chunk.tokens > 0.0 {
            attend(["attn.sdpa.prefill", "attn.sdpa.prefill.local"], chunk.sequences, chunk.tokens, chunk.past_tokens);
        }
        let out_width = match self.mla {
            Some(m) => heads * f64::from(m.v_head_dim),
            None => heads * hd,
        };
        let out = if wide_out { wide_gemm(tokens, out_width, h) } else { gemm(tokens, out_width, h) };
        ops.push(Operation::new("attn.out", layers, out));

        let (act_reads, act_flops) = match self.ffn_kind {
            FfnKind::Gated => (2.0, 6.0),
            FfnKind::Standard => (1.0, 8.0),
        };
        let up_width = |width: f64| match self.ffn_kind {
            FfnKind::Gated => 2.0 * width,
            FfnKind::Standard => width,
        };
        let dense_layers = f64::from(self.dense_layers());
        let moe_layers = f64::from(self.moe_layers());
        // A dense feed-forward of `width` (split over the tensor-parallel devices) on `n` layers.
        let dense = |ops: &mut Vec<Operation>, names: [&'static str; 3], n: f64, width: f64| {
            if n > 0.0 && width > 0.0 {
                ops.push(Operation::new(names[0], n, gemm(tokens, h, up_width(width))));
                ops.push(Operation::new(names[1], n, elementwise(tokens * width, act_reads, 1.0, act_flops)));
                ops.push(Operation::new(names[2], n, gemm(tokens, width, h)));
            }
        };
        dense(ops, ["ffn.up", "ffn.act", "ffn.down"], dense_layers, f64::from(self.ffn) / t);
        if let Some(moe) = self.moe {
            let layers = moe_layers;
            let ffn = f64::from(self.expert_ffn()) / t;
            let experts = f64::from(moe.experts);
            let k = f64::from(moe.top_k);
            ops.push(Operation::new(
                "moe.router",
                layers,
                OpKind::Gemm { m: tokens, n: experts, k: h, a, b: a, c: a, compute: a },
            ));
            // Tensor parallel: every device sees this pass's tokens and a slice of every
            // expert. Expert parallel, whole experts: this device holds E/ep of them and computes
            // the assignments of every device's tokens routed to them; the tokens travel there
            // and back in two all-to-alls per layer. The step waits for the busiest device, so
            // these are its operations: `imbalance` times the mean share (1/ep). By width: every
            // device computes every device's tokens on its 1/ep of every expert, gathered before
            // and reduce-scattered after; no device is busier.
            let e = f64::from(ep);
            let width = ep > 1 && s.expert_split == ExpertSplit::Width;
            let routed = tokens * e;
            let (here, eff) = if width { (experts, ffn / e) } else { (experts / e, ffn) };
            let imbalance = match (ep, s.expert_imbalance) {
                (1, _) => 1.0,
                _ if width => 1.0,
                (_, Some(i)) => i.ratio().min(e),
                (_, None) => super::routed_imbalance(routed * k, experts, k, ep),
            };
            let assignments = if width { routed * k } else { routed * k / e * imbalance };
            // Expected distinct experts hit when each token picks k of E uniformly (the busiest
            // device as if it saw `imbalance` times the tokens).
            let active = here * (1.0 - (1.0 - k / experts).powf(routed * imbalance));
            let rows = assignments / active;
            // Out at the GEMMs' input precision (the engines quantize before dispatching), back
            // in 16 bits.
            let exchange = |kind, bytes: f64| OpKind::Collective {
                kind,
                bytes: if width { routed * h * bytes } else { tokens * k * h * bytes * imbalance },
                group: e,
                link: Link::ScaleUp,
            };
            let (out, back) = if width {
                (CollectiveKind::AllGather, CollectiveKind::ReduceScatter)
            } else {
                (CollectiveKind::AllToAll, CollectiveKind::AllToAll)
            };
            if ep > 1 {
                ops.push(Operation::new("ep.dispatch", layers, exchange(out, ab)));
            }
            // The experts of a layer run as one grouped GEMM: one launch per layer. Split by
            // width, every device holds every expert (a slice of each).
            let expert = Linear::Expert { devices: if width { 1 } else { ep } };
            ops.push(
                Operation::new("moe.up", layers * active, gemm(rows, h, up_width(eff)))
                    .grouped(layers)
                    .as_linear(expert),
            );
            ops.push(Operation::new("moe.act", layers, elementwise(assignments * eff, act_reads, 1.0, act_flops)));
            ops.push(Operation::new("moe.down", layers * active, gemm(rows, eff, h)).grouped(layers).as_linear(expert));
            if ep > 1 {
                ops.push(Operation::new("ep.combine", layers, exchange(back, sb)));
            }
            // The weighted sum of each token's k outputs: by width, of every device's tokens'
            // partial outputs, before they are reduce-scattered.
            let summed = if width { routed } else { tokens };
            ops.push(Operation::new("moe.combine", layers, stream(summed * k * h, 1.0, k.recip(), 1.0)));
            // Shared experts: every token, on every device that holds its tokens (one fused FFN).
            dense(
                ops,
                ["moe.shared.up", "moe.shared.act", "moe.shared.down"],
                layers,
                f64::from(moe.shared_experts) * ffn,
            );
        }
        ops.push(Operation::new("block.residual", layers * 2.0, stream(tokens * h, 2.0, 1.0, 1.0)));
        if tp > 1 {
            let all_reduces = if self.parallel_residual { 1.0 } else { 2.0 };
            ops.push(Operation::new(
                "tp.all-reduce",
                layers * all_reduces,
                OpKind::Collective {
                    kind: CollectiveKind::AllReduce,
                    bytes: tokens * h * sb,
                    group: t,
                    link: Link::ScaleUp,
                },
            ));
        }

        let blocks = block_start..ops.len();
        if shape.logits_rows > 0.0 && self.architecture == Architecture::Decoder {
            ops.push(Operation::new("head.norm", 1.0, stream(shape.logits_rows * h, 1.0, 1.0, norm_flops)));
            ops.push(Operation::new("head.logits", 1.0, gemm(shape.logits_rows, h, f64::from(self.vocab) / t)));
        }
        if self.pooler {
            ops.push(Operation::new("pooler", 1.0, gemm(shape.batch, h, h)));
        }
        if let Some(c) = self.classes {
            ops.push(Operation::new("head.classes", 1.0, gemm(shape.batch, h, f64::from(c))));
        }
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Role;
    use crate::workload::{Recompute, Training};

    fn llama_7b() -> Transformer {
        Transformer {
            architecture: Architecture::Decoder,
            layers: 32,
            hidden: 4096,
            heads: 32,
            kv_heads: None,
            head_dim: None,
            ffn: 11008,
            ffn_kind: FfnKind::Gated,
            vocab: 32000,
            max_context: 4096,
            tied_embeddings: false,
            bias: false,
            norm: Norm::Rmsnorm,
            position: Position::Rope,
            parallel_residual: false,
            token_types: None,
            pooler: false,
            moe: None,
            head_bias: None,
            mla: None,
            local_attention: None,
            qk_norm: false,
            attention_sinks: false,
            patches: None,
            classes: None,
        }
    }

    fn scenario() -> Scenario {
        Scenario {
            batch: 1,
            prompt_tokens: 128,
            output_tokens: 128,
            weights: Precision::Bf16,
            activations: Precision::Bf16,
            kv_cache: Precision::Bf16,
            fused_attention: true,
            offload: false,
            cache_hits: None,
            inputs: crate::workload::InputSource::Host,
            lengths: None,
            padded: false,
            expert_imbalance: None,
            expert_split: Default::default(),
            wide_attention: Default::default(),
        }
    }

    #[test]
    fn llama_2_7b_parameters_are_exact() {
        // 6,738,415,616 in the published checkpoint.
        assert_eq!(llama_7b().parameters(), 6_738_415_616.0);
    }

    #[test]
    fn decode_flops_are_about_two_per_parameter() {
        let t = llama_7b();
        let shape =
            PassShape { batch: 1.0, new_tokens: 1.0, past_tokens: 0.0, logits_rows: 1.0, spread: 0.0, chunk: None };
        let flops: f64 = t.forward_ops(shape, &scenario(), 1).iter().map(Operation::flops).sum();
        // 2 FLOPs per non-embedding parameter, plus a sliver of attention and element-wise work.
        let matmul_params = t.parameters() - f64::from(t.vocab * t.hidden);
        assert!(flops > 2.0 * matmul_params * 0.99 && flops < 2.0 * matmul_params * 1.01, "{flops}");
    }

    #[test]
    fn tensor_parallel_splits_the_work() {
        let t = llama_7b();
        let shape =
            PassShape { batch: 8.0, new_tokens: 1.0, past_tokens: 512.0, logits_rows: 8.0, spread: 0.0, chunk: None };
        let one: f64 = t.forward_ops(shape, &scenario(), 1).iter().map(Operation::flops).sum();
        let four: f64 = t.forward_ops(shape, &scenario(), 4).iter().map(Operation::flops).sum();
        assert!(four < one / 3.9 && four > one / 4.1, "{one} {four}");
        assert!(t.check_split(4).is_ok());
        assert_eq!(t.check_split(3), Err(SplitError::Uneven { what: "query heads", value: 32, devices: 3 }));
    }

    #[test]
    fn full_recomputation_reruns_the_blocks_and_nothing_else() {
        let training = Training {
            micro_batch_sequences: 1,
            recompute: Recompute::Full,
            total_tokens: None,
            sharding: crate::workload::Sharding::None,
            lora: None,
        };
        let ops = llama_7b().training_ops(&Scenario { batch: 2, ..scenario() }, &training, 2, 1);
        let rerun: Vec<&str> = ops.iter().filter(|o| o.role == Role::Recompute).map(|o| o.name.as_ref()).collect();
        let blocks = [
            "block.norm",
            "attn.qkv",
            "attn.rope",
            "attn.sdpa",
            "attn.out",
            "ffn.up",
            "ffn.act",
            "ffn.down",
            "block.residual",
            "tp.all-reduce",
        ];
        let want: Vec<String> = blocks.iter().map(|b| format!("recompute.{b}")).collect();
        assert_eq!(rerun, want);
        // One Adam step, after everything else.
        assert_eq!(ops.iter().filter(|o| o.role == Role::Optimizer).count(), 1);
        assert_eq!(ops.last().map(|o| o.role), Some(Role::Optimizer));
    }
}
