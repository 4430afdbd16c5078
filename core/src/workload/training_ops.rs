//! One training step of a transformer: forward, loss, backward, recomputation, LoRA adapters
//! and the Adam update, on each tensor-parallel device of a data-parallel replica.

use super::transformer::Transformer;
use super::{Lora, LoraTargets, PassShape, Recompute, Scenario, Training};
use crate::ops::{Gradient, Linear, OpKind, Operation, Role};
use crate::units::Precision;

impl Transformer {
    /// The operations of one training step on each of `tp` tensor-parallel devices of one of
    /// `replicas` data-parallel replicas: per micro-batch the forward, the loss, the backward
    /// (and the recomputation it needs), accumulated over the global batch, then one Adam
    /// update of the replica's share of the optimizer (all of it unless sharded).
    pub fn training_ops(&self, s: &Scenario, training: &Training, tp: u32, replicas: u32) -> Vec<Operation> {
        let micro = f64::from(training.micro_batch_sequences.max(1));
        let seq = f64::from(s.prompt_tokens);
        let steps = f64::from(s.batch) / micro;
        let shape = PassShape {
            batch: micro,
            new_tokens: seq,
            past_tokens: 0.0,
            logits_rows: micro * seq,
            spread: 0.0,
            chunk: None,
        };
        let (forward, blocks) = self.split_forward_ops(shape, s, tp, 1);
        let vocab = f64::from(self.vocab) / f64::from(tp);
        let logits = micro * seq * vocab;

        let mut ops = Vec::new();
        for op in &forward {
            ops.push(Operation::new(format!("fwd.{}", op.name), op.count * steps, op.kind.clone()));
        }
        // Softmax cross-entropy over the logits, read in fp32 and its gradient written.
        ops.push(
            Operation::new(
                "loss",
                steps,
                OpKind::Elementwise {
                    elements: logits,
                    read_bytes: s.activations.bytes(),
                    write_bytes: s.activations.bytes(),
                    flops_per_element: 5.0,
                    compute: s.activations,
                },
            )
            .with_role(Role::Loss),
        );
        // LoRA: the base weights are frozen (no weight gradients, nothing to scatter into the
        // embedding); each linear layer of the blocks trains a rank-r pair beside it.
        let adapters = training.lora.map(|l| self.adapters(&forward, &blocks, l));
        for (i, op) in forward.iter().enumerate() {
            let recompute = match training.recompute {
                Recompute::None => false,
                Recompute::Selective => matches!(op.kind, OpKind::Attention { .. }),
                Recompute::Full => blocks.contains(&i),
            };
            if recompute {
                ops.push(
                    Operation::new(format!("recompute.{}", op.name), op.count * steps, op.kind.clone())
                        .with_role(Role::Recompute),
                );
            }
            for (gradient, kind) in op.kind.backward() {
                let frozen = adapters.is_some()
                    && (gradient == Gradient::Weight || matches!(op.kind, OpKind::EmbeddingBag { .. }));
                if !frozen {
                    ops.push(
                        Operation::new(format!("bwd.{}.{}", op.name, gradient.suffix()), op.count * steps, kind)
                            .with_role(Role::Backward),
                    );
                }
            }
        }
        let trainable = match &adapters {
            Some((adapter_ops, params)) => {
                for op in adapter_ops {
                    ops.push(Operation::new(format!("fwd.{}", op.name), op.count * steps, op.kind.clone()));
                    for (gradient, kind) in op.kind.backward() {
                        ops.push(
                            Operation::new(format!("bwd.{}.{}", op.name, gradient.suffix()), op.count * steps, kind)
                                .with_role(Role::Backward),
                        );
                    }
                }
                *params
            }
            None => self.parameters() / f64::from(tp),
        };
        ops.push(
            Operation::new(
                "optimizer.adam",
                1.0,
                adam_update(trainable * training.sharding.shares(replicas).2, s.activations),
            )
            .with_role(Role::Optimizer),
        );
        ops
    }

    /// LoRA's adapters beside the linear layers (`blocks`) of a forward pass: for each, `x A`
    /// (its input width to `rank`) and `(x A) B` (`rank` to its output width), and the
    /// parameters they train on one device.
    fn adapters(&self, forward: &[Operation], blocks: &std::ops::Range<usize>, lora: Lora) -> (Vec<Operation>, f64) {
        let rank = f64::from(lora.rank);
        let mut ops = Vec::new();
        let mut params = 0.0;
        for op in &forward[blocks.clone()] {
            let targeted = match lora.targets {
                LoraTargets::All => true,
                LoraTargets::Qkv => op.linear == Some(Linear::Qkv),
            };
            if let (true, OpKind::Gemm { m, n, k, a, .. }) = (targeted, &op.kind) {
                let (m, n, k, a) = (*m, *n, *k, *a);
                let layers = op.count;
                ops.push(Operation::new(
                    format!("lora.{}.a", op.name),
                    layers,
                    OpKind::Gemm { m, n: rank, k, a, b: a, c: a, compute: a },
                ));
                ops.push(Operation::new(
                    format!("lora.{}.b", op.name),
                    layers,
                    OpKind::Gemm { m, n, k: rank, a, b: a, c: a, compute: a },
                ));
                params += layers * rank * (k + n);
            }
        }
        (ops, params)
    }

    /// Parameters one of `tp` tensor-parallel devices trains: LoRA's adapters, or all.
    pub fn trainable_parameters(&self, s: &Scenario, training: &Training, tp: u32) -> f64 {
        match training.lora {
            Some(l) => {
                let shape = PassShape {
                    batch: 1.0,
                    new_tokens: 1.0,
                    past_tokens: 0.0,
                    logits_rows: 1.0,
                    spread: 0.0,
                    chunk: None,
                };
                let (forward, blocks) = self.split_forward_ops(shape, s, tp, 1);
                self.adapters(&forward, &blocks, l).1
            }
            None => self.parameters() / f64::from(tp),
        }
    }
}

/// One Adam step over `params` parameters trained at `act` precision: read fp32 master weights
/// (when `act` is narrower than fp32), both moments and the gradient; write them back and refresh
/// the `act` copy of the weights.
pub fn adam_update(params: f64, act: Precision) -> OpKind {
    let master = if act.bytes() < 4.0 { 4.0 } else { 0.0 };
    let state = master + 8.0;
    OpKind::Elementwise {
        elements: params,
        read_bytes: state + act.bytes(),
        write_bytes: state + act.bytes(),
        flops_per_element: 12.0,
        compute: Precision::Fp32,
    }
}
