//! What a scenario must satisfy to be estimated: the one home of the checks `estimate` and
//! `estimate_pipeline` share, and of their errors.

use crate::workload::{ExpertSplit, Family, InputSource, Scenario, Training};

/// A scenario (or layout) that is not valid for the workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioError {
    /// No devices.
    #[error("devices must be at least 1")]
    NoDevices,
    /// No replicas.
    #[error("replicas must be at least 1")]
    NoReplicas,
    /// An empty batch.
    #[error("batch must be at least 1")]
    NoBatch,
    /// A calibration fraction outside (0, 1].
    #[error("calibration.{field} must be a fraction in (0, 1], got {value}")]
    Calibration {
        /// The fraction's name.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// Expert parallelism asked of a workload that is not mixture-of-experts inference.
    #[error("expert parallelism is modelled for mixture-of-experts inference only")]
    ExpertParallelNeedsMoe,
    /// A routing imbalance asked of a workload without experts.
    #[error(
        "--expert-imbalance applies to mixture-of-experts models (how unevenly routed tokens land on expert-parallel devices); this workload's family is {family}"
    )]
    ExpertImbalanceNeedsMoe {
        /// The workload's family.
        family: Family,
    },
    /// A routing imbalance beyond every routed token on one device.
    #[error(
        "an expert imbalance of {ratio} is more than {devices} expert-parallel devices can have: with every routed token on one device it is {devices}"
    )]
    ExpertImbalanceAboveDevices {
        /// The busiest device's routed tokens over the mean, as given.
        ratio: f64,
        /// Expert-parallel devices.
        devices: u32,
    },
    /// Experts split by width without expert parallelism.
    #[error(
        "--expert-split width splits every expert over expert-parallel devices: it needs --expert-parallel (tensor parallel already splits every expert)"
    )]
    ExpertSplitNeedsExpertParallel,
    /// A routing imbalance with experts split by width, where every device computes every token.
    #[error(
        "--expert-imbalance is how unevenly routed tokens land on devices holding whole experts; with --expert-split width every device computes every token on its share of every expert"
    )]
    ExpertImbalanceWithWidth,
    /// Expert parallelism splits the sequences; the batch does not split.
    #[error(
        "expert parallel over {devices} devices splits the sequences: the batch ({batch}) must be a multiple of {devices}"
    )]
    ExpertParallelBatch {
        /// Devices.
        devices: u32,
        /// Sequences.
        batch: u32,
    },
    /// Training without a sequence length.
    #[error("training needs a sequence length (prompt tokens)")]
    TrainingNeedsSequence,
    /// An encoder without a sequence length.
    #[error("an encoder needs a sequence length (prompt tokens)")]
    EncoderNeedsSequence,
    /// Attention projections kept wide asked of a workload that is not a transformer at inference.
    #[error(
        "--wide-attention keeps a quantized transformer's attention projections in bf16 at inference; this workload's family is {family}"
    )]
    WideAttentionNeedsTransformer {
        /// The workload's family.
        family: Family,
    },
    /// Varying sequence lengths asked of a workload that is not an encoder.
    #[error(
        "varying sequence lengths (--lengths, --padded) are modelled for encoders only; this workload's family is {family}"
    )]
    LengthsNeedEncoder {
        /// The workload's family.
        family: Family,
    },
    /// Device-resident inputs asked of a workload that is not a recommender.
    #[error(
        "--inputs applies to recommenders only (where each batch's inputs start); this workload's family is {family}"
    )]
    InputsNeedRecommender {
        /// The workload's family.
        family: Family,
    },
    /// A cache hit share asked of a workload that is not a recommender.
    #[error(
        "--cache-hits applies to recommenders only (the lookups the device-resident rows serve); this workload's family is {family}"
    )]
    CacheHitsNeedRecommender {
        /// The workload's family.
        family: Family,
    },
    /// A cache hit share without offloaded tables: every lookup is on the device anyway.
    #[error("--cache-hits needs --offload: without it every table is in device memory and every lookup hits")]
    CacheHitsNeedOffload,
    /// A mean length beyond the longest sequence.
    #[error(
        "a mean length of {mean:.1} tokens is longer than the longest sequence, {longest} tokens (--prompt-tokens): the mean must be at most {longest}"
    )]
    LengthsMean {
        /// Mean tokens.
        mean: f64,
        /// The longest sequence (`prompt_tokens`).
        longest: u32,
    },
    /// A spread no batch of sequences between 1 token and the longest can have.
    #[error(
        "lengths of mean {mean:.1} ± {sd:.1} tokens cannot all lie between 1 and {longest} tokens (--prompt-tokens, the longest): with that mean the spread is at most {bound:.1}"
    )]
    Lengths {
        /// Mean tokens.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// The longest sequence (`prompt_tokens`).
        longest: u32,
        /// The largest spread sequences of that mean between 1 and `longest` tokens can have.
        bound: f64,
    },
    /// LoRA with a rank of zero.
    #[error("training.lora.rank must be at least 1")]
    LoraRank,
    /// LoRA on a mixture-of-experts model (adapters per expert are not modelled).
    #[error("LoRA fine-tuning is modelled for dense transformers; this one has experts")]
    LoraNeedsDense,
    /// A decoder without prompt or output tokens.
    #[error("a decoder needs prompt tokens and output tokens of at least 1")]
    DecoderNeedsTokens,
    /// A global batch that does not split into whole micro-batches per replica.
    #[error(
        "the global batch ({batch}) must be a multiple of the micro-batch ({micro} sequences) times the replicas ({replicas})"
    )]
    MicroBatches {
        /// Global batch.
        batch: u32,
        /// Sequences per micro-batch.
        micro: u32,
        /// Data-parallel replicas.
        replicas: u32,
    },
    /// Pipeline stages each keep a micro-batch in flight; the batch does not split.
    #[error(
        "{stages} stages keep {stages} micro-batches in flight: the batch ({batch}) must be a multiple of {stages}"
    )]
    StageBatch {
        /// Stages.
        stages: u32,
        /// Sequences.
        batch: u32,
    },
}

/// Options that belong to one family: varying lengths to encoders, device-resident inputs and
/// cache hits (with offloaded tables) to recommenders.
pub(crate) fn family_options(s: &Scenario, family: Family) -> Result<(), ScenarioError> {
    if (s.lengths.is_some() || s.padded) && family != Family::Encoder {
        return Err(ScenarioError::LengthsNeedEncoder { family });
    }
    if s.inputs != InputSource::Host && family != Family::Recommender {
        return Err(ScenarioError::InputsNeedRecommender { family });
    }
    if s.expert_imbalance.is_some() && family != Family::Moe {
        return Err(ScenarioError::ExpertImbalanceNeedsMoe { family });
    }
    if !s.wide_attention.is_none() && !matches!(family, Family::Decoder | Family::Moe | Family::Encoder) {
        return Err(ScenarioError::WideAttentionNeedsTransformer { family });
    }
    if s.cache_hits.is_some() {
        if family != Family::Recommender {
            return Err(ScenarioError::CacheHitsNeedRecommender { family });
        }
        if !s.offload {
            return Err(ScenarioError::CacheHitsNeedOffload);
        }
    }
    Ok(())
}

/// How the experts are split, for a layout that is (`expert_parallel`) or is not expert
/// parallel: by width only over expert-parallel devices.
pub(crate) fn expert_split(s: &Scenario, expert_parallel: bool) -> Result<(), ScenarioError> {
    if s.expert_split == ExpertSplit::Width && !expert_parallel {
        return Err(ScenarioError::ExpertSplitNeedsExpertParallel);
    }
    Ok(())
}

/// A routing imbalance `devices` expert-parallel devices can have: at most all on one, and
/// none where the experts are split by width.
pub(crate) fn expert_imbalance(s: &Scenario, devices: u32) -> Result<(), ScenarioError> {
    if s.expert_imbalance.is_some() && s.expert_split == ExpertSplit::Width {
        return Err(ScenarioError::ExpertImbalanceWithWidth);
    }
    match s.expert_imbalance {
        Some(i) if i.ratio() > f64::from(devices) => {
            Err(ScenarioError::ExpertImbalanceAboveDevices { ratio: i.ratio(), devices })
        }
        _ => Ok(()),
    }
}

/// An encoder's varying lengths: a mean no longer than the longest sequence, and a spread that
/// lengths between 1 and the longest can have (Bhatia and Davis 2000: variance at most
/// (longest - mean)(mean - 1)).
pub(crate) fn lengths(s: &Scenario) -> Result<(), ScenarioError> {
    let Some(l) = s.lengths else { return Ok(()) };
    let longest = f64::from(s.prompt_tokens);
    let bound = ((longest - l.mean) * (l.mean - 1.0)).max(0.0).sqrt();
    if l.mean > longest {
        return Err(ScenarioError::LengthsMean { mean: l.mean, longest: s.prompt_tokens });
    }
    if l.sd > bound * (1.0 + 1e-9) {
        return Err(ScenarioError::Lengths { mean: l.mean, sd: l.sd, longest: s.prompt_tokens, bound });
    }
    Ok(())
}

/// A training step's scenario: a sequence length, and a global batch of whole micro-batches on
/// each of `replicas`. Returns the micro-batch's sequences.
pub(crate) fn training(s: &Scenario, training: &Training, replicas: u32) -> Result<u32, ScenarioError> {
    if s.prompt_tokens == 0 {
        return Err(ScenarioError::TrainingNeedsSequence);
    }
    if training.lora.is_some_and(|l| l.rank == 0) {
        return Err(ScenarioError::LoraRank);
    }
    let micro = training.micro_batch_sequences.max(1);
    if !s.batch.is_multiple_of(micro.saturating_mul(replicas)) {
        return Err(ScenarioError::MicroBatches { batch: s.batch, micro, replicas });
    }
    Ok(micro)
}

/// A decoder's scenario: a prompt and at least one generated token.
pub(crate) fn decoder(s: &Scenario) -> Result<(), ScenarioError> {
    if s.prompt_tokens == 0 || s.output_tokens == 0 { Err(ScenarioError::DecoderNeedsTokens) } else { Ok(()) }
}
