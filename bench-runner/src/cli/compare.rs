//! `ridge compare`: a verdict per kernel between two sets of runs.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;

use super::args::CompareArgs;

pub(crate) const COMPARE_HELP: &str = "\
Each side is a result file, a comma-separated list of files or a directory of them; several runs
on a side are pooled. criterion:DIR:BASELINE on both sides compares two saved criterion baselines
instead (e.g. criterion:target/criterion:base criterion:target/criterion:new). Runs of a different adapter, backend, driver, suite or schema are not
comparable (exit 3) unless --allow-different-device (suite and schema must still match).

Per kernel, on the raw samples: the change of median throughput with a bootstrap interval, and a
Mann-Whitney U test, Holm-corrected across kernels. regressed = significant and the whole interval
beyond the noise floor (the larger of --threshold and the samples' robust coefficient of
variation, 1.4826 x MAD / median);
unchanged = the interval within the floor; inconclusive = neither (take more samples). A kernel
that stopped verifying is regressed.

For inconclusive kernels it says what their samples can detect: whether any change can be
significant at all with so few samples over so many kernels (a rank test's p-value cannot go
below 2 / C(n1 + n2, n1); Holm asks alpha / kernels of one change), and if not the fewest samples
a side that can; else the smallest slowdown they would call; and about how many samples a side
call a 5% change (twice the floor where the floor is 5% or more).

Outputs: the table on stdout (or --json); --summary FILE.md writes Markdown, which is also
appended to $GITHUB_STEP_SUMMARY when that is set; --bmf FILE.json writes the current side in
Bencher Metric Format.

Exit codes: 0 no regression; 1 a regression (or an inconclusive kernel with --fail-on
inconclusive); 2 usage or input error (the message names the file); 3 not comparable.";

#[derive(Debug, Args)]
pub(crate) struct CompareCmd {
    /// Baseline: a result file, files separated by commas, or a directory.
    #[arg(value_name = "BASELINE")]
    baseline: String,
    /// Current: a result file, files separated by commas, or a directory.
    #[arg(value_name = "CURRENT")]
    current: String,
    #[command(flatten)]
    opts: CompareArgs,
    /// Print the verdict as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: &CompareCmd, out: &mut dyn Write) -> Result<u8> {
    let opts = a.opts.options()?;
    if let Some(base) = crate::compare::read_criterion(&a.baseline)? {
        let Some(cur) = crate::compare::read_criterion(&a.current)? else {
            bail!("compare a criterion baseline with another (criterion:DIR:BASELINE on both sides)");
        };
        let c = crate::compare::compare_criterion(&base, &cur, &opts);
        return crate::compare::report(&c, "criterion benchmarks", &[], a.opts.fail_on, &a.opts.outputs(a.json), out);
    }
    let base = crate::compare::read_side(&a.baseline)?;
    let cur = crate::compare::read_side(&a.current)?;
    crate::compare::run(&base, &cur, &opts, a.opts.fail_on, &a.opts.outputs(a.json), out)
}
