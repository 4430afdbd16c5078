//! `ridge-bench`: the native side of ridge. Everything here touches the outside world (files,
//! terminal); the model it reports lives in `ridge-core`.
//!
//! The binary is thin: [`cli::main_with`] takes the arguments and output streams and returns the
//! exit code, so tests drive the real command line in-process.

pub mod cli;
pub mod compare;
pub mod datasets;
pub mod format;
pub mod gpu;
pub mod prices;
pub mod run;
pub mod serve;
pub mod storage;
pub mod suite;
pub mod upload;
