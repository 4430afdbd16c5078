//! Helpers the commands share: JSON documents, workload and measurement arguments, unknown ids.

use std::io::Write;

use anyhow::{Context, Result, bail};
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

pub(crate) fn unknown(kind: &str, id: &str, known: impl Iterator<Item = String>, list_cmd: &str) -> anyhow::Error {
    let known: Vec<String> = known.collect();
    let needle = id.to_ascii_lowercase();
    let close: Vec<&String> = known
        .iter()
        .filter(|k| {
            k.contains(&needle) || needle.contains(k.as_str()) || k.split('-').next() == needle.split('-').next()
        })
        .take(5)
        .collect();
    if close.is_empty() {
        anyhow::anyhow!("unknown {kind} `{id}`; `ridge {list_cmd}` lists them")
    } else {
        let close: Vec<&str> = close.iter().map(|s| s.as_str()).collect();
        anyhow::anyhow!("unknown {kind} `{id}`; did you mean {}? (`ridge {list_cmd}` lists them)", close.join(", "))
    }
}

/// The measured ceilings of a `ridge run` result file, as a measurement of the catalog device it
/// ran on (`hardware`, or the entry its adapter matched). Refuses a file that is not a result, a
/// device the catalog does not hold, a mismatch with `hardware`, and a run with no verified ceiling.
pub(crate) fn measured(
    catalog: &Catalog,
    path: &std::path::Path,
    hardware: Option<&str>,
) -> Result<ridge_core::Measurement> {
    let run = crate::compare::read_run(path)?;
    let name = &run.device.name;
    let id = match (run.catalog_id.as_deref(), hardware) {
        (Some(ran), Some(asked)) if ran != asked => {
            bail!("{}: measured {name} (catalog `{ran}`), not `{asked}`", path.display())
        }
        (Some(ran), _) => ran,
        (None, _) => bail!(
            "{}: the adapter it measured ({name}) matches no catalog device, so its ceilings describe none of them",
            path.display()
        ),
    };
    if catalog.hardware(id).is_none() {
        bail!("{}: catalog device `{id}` is not in these datasets", path.display());
    }
    let m = run.measurement(&format!("run:{}", path.display()), id);
    if m.ceilings.memory_gb_per_s.is_none() && m.ceilings.compute_tflops.is_empty() {
        bail!("{}: no kernel verified, so there is no measured ceiling to use", path.display());
    }
    Ok(m)
}

/// The documented default fractions with --calibrated, none without.
pub(crate) fn calibration(on: bool) -> ridge_core::roofline::CalibrationMode {
    use ridge_core::roofline::CalibrationMode;
    if on { CalibrationMode::Documented } else { CalibrationMode::Off }
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
