//! What a scenario must satisfy to be estimated: the one home of the checks `estimate` and
//! `estimate_pipeline` share, and of their errors.

use crate::workload::{Scenario, Training};

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

/// A training step's scenario: a sequence length, and a global batch of whole micro-batches on
/// each of `replicas`. Returns the micro-batch's sequences.
pub(crate) fn training(s: &Scenario, training: &Training, replicas: u32) -> Result<u32, ScenarioError> {
    if s.prompt_tokens == 0 {
        return Err(ScenarioError::TrainingNeedsSequence);
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
