//! The `ridge` binary: parses nothing itself; see [`ridge_bench::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    // Unlocked handles: benchmark threads and GPU callbacks may write to stderr too.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    ExitCode::from(ridge_bench::cli::main_with(std::env::args_os(), &mut out, &mut err))
}
