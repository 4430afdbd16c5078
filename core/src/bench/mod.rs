//! The benchmark suite's pure half: WGSL kernels (one source for the native runner and the
//! browser), the CPU references that verify their output, the statistics of timing samples and
//! the result-file types. Running the kernels on a GPU is the runner's job (`ridge-bench`).

pub mod checks;
pub mod derived;
pub mod device;
pub mod history;
pub mod kernel;
pub mod kernels;
pub mod plausible;
pub mod reference;
pub mod result;
pub mod rng;
pub mod stats;
pub mod storage;
pub mod sustained;
pub mod sweep;
pub mod uniforms;

#[cfg(test)]
mod schema;
