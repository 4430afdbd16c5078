//! The `ridge` binary: parses nothing itself; see [`ridge_bench::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    ExitCode::from(ridge_bench::cli::main_with(std::env::args_os(), &mut out, &mut err))
}
