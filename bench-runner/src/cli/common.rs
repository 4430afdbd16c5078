//! Helpers the commands share: JSON documents, workload and measurement arguments, unknown ids.

use std::io::Write;

use anyhow::{Context, Result, bail};
use ridge_core::bench::sustained::SustainedMeasurement;
use ridge_core::{Catalog, Versioned};
use serde::Serialize;

use crate::upload::{Outcome, UploadOptions};

pub(crate) fn print_json<T: Serialize>(out: &mut dyn Write, body: T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Versioned::new(body))?;
    writeln!(out)?;
    Ok(())
}

/// A workload preset by id, or the one workload of a TOML or JSON file (validated like the
/// presets).
pub(crate) fn workload_arg(catalog: &Catalog, arg: &str) -> Result<ridge_core::Workload> {
    let path = std::path::Path::new(arg);
    // text: the user's --workload argument, a preset id or a file name.
    let looks_like_file = arg.ends_with(".toml") || arg.ends_with(".json") || arg.contains('/');
    if !(looks_like_file || path.is_file()) {
        return catalog
            .workload(arg)
            .cloned()
            .ok_or_else(|| unknown("workload", arg, catalog.workloads.iter().map(|w| w.id.clone()), "workloads"));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read workload file {arg}"))?;
    let mut list = ridge_core::data::parse_workloads(ridge_core::SourceFile { name: arg, text: &text })
        .map_err(|e| anyhow::anyhow!("invalid workload file:\n{e}"))?;
    match list.len() {
        1 => Ok(list.remove(0)),
        0 => bail!("{arg} holds no workload"),
        n => bail!(
            "{arg} holds {n} workloads ({}); give a file with one",
            list.iter().map(|w| w.id.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// "unknown KIND `ID`", with up to five ids of `known` the user may have meant: ids that hold
/// the one typed (or are held by it) with '-' removed and case folded, that share its first
/// '-'-separated part, or that are within a few edits of it (Damerau-Levenshtein on the same
/// folded forms: a third of its length, at least one), nearest first.
pub(crate) fn unknown(kind: &str, id: &str, known: impl Iterator<Item = String>, list_cmd: &str) -> anyhow::Error {
    let close = suggestions(id, known);
    if close.is_empty() {
        anyhow::anyhow!("unknown {kind} `{id}`; `ridge {list_cmd}` lists them")
    } else {
        anyhow::anyhow!("unknown {kind} `{id}`; did you mean {}? (`ridge {list_cmd}` lists them)", close.join(", "))
    }
}

/// The ids of `known` close to `id` ([`unknown`]), nearest first, at most five.
pub(crate) fn suggestions(id: &str, known: impl Iterator<Item = String>) -> Vec<String> {
    let fold = |s: &str| s.chars().filter(|c| *c != '-').flat_map(char::to_lowercase).collect::<String>();
    let first = |s: &str| s.split('-').next().map(str::to_lowercase).unwrap_or_default();
    let needle = fold(id);
    let budget = (needle.chars().count() / 3).max(1);
    let mut close: Vec<(usize, usize, String)> = known
        .enumerate()
        .filter_map(|(order, k)| {
            let folded = fold(&k);
            let edits = strsim::damerau_levenshtein(&needle, &folded);
            // text: the id the user typed, matched loosely against the catalog's ids.
            let holds = !needle.is_empty() && (folded.contains(&needle) || needle.contains(&folded));
            // text: the same, by the first part of the id.
            (holds || edits <= budget || first(&k) == first(id)).then_some((edits, order, k))
        })
        .collect();
    close.sort();
    close.into_iter().take(5).map(|(_, _, k)| k).collect()
}

/// The measured ceilings of a `ridge run` result file, as a measurement of the catalog device it
/// ran on (`hardware`, or the entry its adapter matched). Refuses a file that is not a result, a
/// device the catalog does not hold, a mismatch with `hardware`, and a run with no verified ceiling.
pub(crate) fn measured(
    catalog: &Catalog,
    path: &std::path::Path,
    hardware: Option<&str>,
) -> Result<ridge_core::Measurement> {
    let (run, id) = run_of_device(catalog, path, hardware)?;
    let m = run.measurement(&format!("run:{}", path.display()), &id);
    if m.ceilings.memory_gb_per_s.is_none() && m.ceilings.compute_tflops.is_empty() {
        bail!("{}: no kernel verified, so there is no measured ceiling to use", path.display());
    }
    Ok(m)
}

/// A `ridge run --sustain` result file as a sustained measurement of the catalog device it ran on:
/// [`measured`]'s checks, then the run's ceilings with the class its sustained kernel measures
/// scaled by the fraction of throughput it kept. Errors name `--sustained`.
pub(crate) fn sustained(
    catalog: &Catalog,
    path: &std::path::Path,
    hardware: Option<&str>,
) -> Result<SustainedMeasurement> {
    let (run, id) = run_of_device(catalog, path, hardware).map_err(|e| anyhow::anyhow!("--sustained {e}"))?;
    run.sustained_measurement(&format!("run:{}", path.display()), &id)
        .map_err(|e| anyhow::anyhow!("--sustained {}: {e}", path.display()))
}

/// A run result file and the catalog device it measured (`hardware`, when given, must be it).
fn run_of_device(
    catalog: &Catalog,
    path: &std::path::Path,
    hardware: Option<&str>,
) -> Result<(ridge_core::bench::result::RunResult, String)> {
    let run = crate::compare::read_run(path)?;
    let name = &run.device.name;
    let id = match (run.catalog_id.as_deref(), hardware) {
        (Some(ran), Some(asked)) if ran != asked => {
            bail!("{}: measured {name} (catalog `{ran}`), not `{asked}`", path.display())
        }
        (Some(ran), _) => ran.to_string(),
        (None, _) => bail!(
            "{}: the adapter it measured ({name}) matches no catalog device, so its ceilings describe none of them",
            path.display()
        ),
    };
    if catalog.hardware(&id).is_none() {
        bail!("{}: catalog device `{id}` is not in these datasets", path.display());
    }
    Ok((run, id))
}

/// A JSON document with the sustained runs it used and the derating it applied beside its own
/// keys; commands print it only when there are some, so documents without them are unchanged.
#[derive(Serialize)]
pub(crate) struct WithSustained<'a, T: Serialize, S: Serialize> {
    #[serde(flatten)]
    pub(crate) body: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sustained: Option<S>,
    /// Each derated device's published `sustained_fraction`, by id.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub(crate) derated: std::collections::BTreeMap<&'a str, &'a ridge_core::provenance::Figure>,
}

/// Today's date from the system clock (UTC).
pub(crate) fn today() -> Option<ridge_core::prices::Day> {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    now.get(..10)?.parse().ok()
}

/// The documented default fractions with --calibrated, none without.
pub(crate) fn calibration(on: bool, gemm_tables: bool) -> ridge_core::roofline::CalibrationMode {
    use ridge_core::roofline::CalibrationMode;
    match (on, gemm_tables) {
        (false, _) => CalibrationMode::Off,
        (true, false) => CalibrationMode::Documented,
        (true, true) => CalibrationMode::Tables,
    }
}

/// One line per uploaded file: stored, already stored, spooled or refused. `ridge upload` prints
/// a stored file's on stdout (a result) and the others' on stderr (a problem, which also makes
/// the exit code 1).
pub(crate) fn upload_line(file: &std::path::Path, o: &Outcome, opts: &UploadOptions) -> String {
    let f = file.display();
    match o {
        Outcome::Stored { id, url, duplicate: false } => format!("{f}: stored as run {id} ({url})"),
        Outcome::Stored { id, url, duplicate: true } => format!("{f}: already stored as run {id} ({url})"),
        Outcome::Spooled { path, reason } => format!(
            "{f}: not delivered ({reason}); a copy waits in {}; send it later with `ridge upload --spool --server {}`",
            path.display(),
            opts.server
        ),
        Outcome::Rejected { status, reason } => format!("{f}: refused by the server ({status}): {reason}"),
    }
}
