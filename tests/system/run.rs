//! `ridge devices` and `ridge run` on Mesa's lavapipe (CPU Vulkan): every kernel verifies, the
//! result file validates against its schema, and a wrong result is caught. CI installs
//! `mesa-vulkan-drivers`; without it these tests fail with the message that says so.

use std::path::PathBuf;
use std::time::Instant;

use ridge_core::bench::result::{RunResult, Status, TimingMethod};
use serde_json::Value;

use crate::{catalog, ridge};

const ADAPTER: &str = "llvmpipe";

/// Lavapipe runs on the CPU: tests that time kernels take turns, so one does not slow another.
pub(crate) fn gpu_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ridge-run-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir.join(name)
}

pub(crate) fn schema_check(file: &PathBuf) -> Value {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let schema: Value = serde_json::from_str(include_str!("../../core/schema/run-result.schema.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema: {e}"));
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{} does not validate:\n{}", file.display(), errors.join("\n"));
    doc
}

#[test]
fn quick_suite_verifies_every_kernel_on_lavapipe() {
    let _gpu = gpu_lock();
    let file = scratch("quick.json");
    let path = file.display().to_string();
    let start = Instant::now();
    let (code, out, err) =
        ridge(&["run", "--suite", "quick", "--adapter", ADAPTER, "--quiet", "--out", &path, "--sustain", "0.5"]);
    let took = start.elapsed().as_secs_f64();
    assert_eq!(code, 0, "ridge run failed (is mesa-vulkan-drivers installed?):\n{err}\n{out}");
    assert!(took < 60.0, "the quick suite took {took:.0} s on lavapipe");
    assert!(out.contains("empirical roofline") && out.contains("stream.triad"), "{out}");

    let doc = schema_check(&file);
    let r: RunResult = serde_json::from_value(doc).unwrap_or_else(|e| panic!("the file does not read back: {e}"));
    assert!(r.device.name.contains("llvmpipe"), "{}", r.device.name);
    assert!(r.kernels.len() >= 20, "{} kernels", r.kernels.len());
    use ridge_core::bench::result::KernelGroup as G;
    for group in [G::Stream, G::Compute, G::Intensity, G::Gemm, G::Gather, G::Attention, G::Transfer] {
        assert!(r.kernels.iter().any(|k| k.group == group), "no {group} kernel");
    }
    for k in &r.kernels {
        assert_eq!(k.status, Status::Ok, "{}: {:?}", k.name, k.error);
        assert!(k.verification.as_ref().is_some_and(|v| v.ok && v.checked > 0), "{}", k.name);
        let t = k.timing.as_ref().unwrap_or_else(|| panic!("{} has no timing", k.name));
        assert_eq!(t.samples_s.len(), t.summary.n);
        assert!(t.summary.min_s <= t.summary.median_s && t.summary.median_s <= t.summary.p90_s);
        assert!(k.throughput.as_ref().is_some_and(|tp| tp.value > 0.0), "{}", k.name);
        assert!(k.work.bytes > 0.0, "{}", k.name);
    }
    // The square fp32 GEMM tried every tiling that fits, each verified, and measured the fastest.
    let gemm = r.kernels.iter().find(|k| k.name == "gemm.fp32.128x128x128").unwrap_or_else(|| panic!("gemm"));
    assert!(gemm.variants.len() >= 2 && gemm.variants.iter().all(|v| v.verified && v.seconds.is_some()));
    let chosen: Vec<_> = gemm.variants.iter().filter(|v| v.chosen).collect();
    assert_eq!(chosen.len(), 1);
    let fastest = gemm.variants.iter().filter_map(|v| v.seconds).fold(f64::INFINITY, f64::min);
    assert_eq!(chosen[0].seconds, Some(fastest));
    // The chosen configuration is not a parameter of the problem, so runs that chose differently compare.
    assert!(gemm.params.keys().all(|k| ["m", "n", "k"].contains(&k.as_str())), "{:?}", gemm.params);
    // Kernels are GPU-timed where the adapter has timestamps (lavapipe does), transfers on the host.
    let gpu_timed =
        r.kernels.iter().filter(|k| k.timing.as_ref().is_some_and(|t| t.method == TimingMethod::GpuTimestamp)).count();
    assert!(gpu_timed > 0, "no kernel used GPU timestamps");
    assert!(
        r.kernels
            .iter()
            .filter(|k| k.group == G::Transfer)
            .all(|k| k.timing.as_ref().is_some_and(|t| t.method == TimingMethod::Host))
    );

    // The misaligned GEMM (127³: only the bounds-checked 64×64×16 kernel runs it, computing
    // 128³) beside the aligned one, per precision, and the report's line for each.
    let pairs = &r.derived.gemm_alignment;
    assert!(!pairs.is_empty(), "no alignment pair");
    for a in pairs {
        assert_eq!(a.misaligned, a.aligned.replace("128x128x128", "127x127x127"), "{a:?}");
        let rate = |name: &str| {
            let k = r.kernels.iter().find(|k| k.name == name).unwrap_or_else(|| panic!("{name}"));
            k.throughput.as_ref().map_or(0.0, |t| t.flops_per_s / 1e12)
        };
        assert!((a.slowdown - (1.0 - rate(&a.misaligned) / rate(&a.aligned))).abs() < 1e-12, "{a:?}");
        let padding = a.padding_share.unwrap_or(f64::NAN);
        assert!((padding - (1.0 - 127f64.powi(3) / 128f64.powi(3))).abs() < 1e-12, "{a:?}");
        assert!(out.contains(&format!("alignment: {} runs", a.misaligned)), "{out}");
    }

    // Derived ceilings feed estimates as measured ceilings.
    let d = &r.derived.ceilings;
    assert!(d.memory_gb_per_s.is_some() && d.host_to_device_gb_per_s.is_some() && d.device_to_host_gb_per_s.is_some());
    assert!(d.compute_tflops.contains_key(&ridge_core::Precision::Fp32) && r.derived.ridge_point_fp32.is_some());
    let s = r.sustained.as_ref().unwrap_or_else(|| panic!("sustained"));
    assert!(s.windows.len() >= 4 && s.late_over_early > 0.0);
    let c = catalog();
    let (Some(w), Some(hw)) = (c.workload("llama-2-7b"), c.hardware("l4")) else { panic!("presets") };
    let m = r.measurement("lavapipe-test", "l4");
    let req = ridge_core::EstimateRequest {
        workload: w,
        hardware: hw,
        measurement: Some(&m),
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario: w.defaults,
        options: ridge_core::RooflineOptions::default(),
    };
    let e = ridge_core::estimate(&req).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.basis, ridge_core::Basis::Measured);
    assert_eq!(e.ceilings.memory_bytes_per_s.per_s, m.ceilings.memory_gb_per_s.as_ref().map_or(0.0, |f| f.value * 1e9));
}

#[test]
fn sustained_mode_repeats_any_gpu_kernel_and_a_failure_keeps_the_suite() {
    let _gpu = gpu_lock();
    let file = scratch("sustain.json");
    let path = file.display().to_string();
    let base = ["run", "--suite", "quick", "--adapter", ADAPTER, "--quiet", "--out", &path];
    let with = |extra: &[&str]| ridge(&[&base[..], extra].concat());

    // A memory kernel, in its own unit.
    let (code, out, err) = with(&["--filter", "stream.copy", "--sustain", "0.4", "--sustain-kernel", "stream.triad"]);
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(out.contains("sustained stream.triad for"), "{out}");
    let r: RunResult = serde_json::from_value(schema_check(&file)).unwrap_or_else(|e| panic!("{e}"));
    let s = r.sustained.unwrap_or_else(|| panic!("no sustained block"));
    assert_eq!((s.kernel.as_str(), s.unit.as_str()), ("stream.triad", "GB/s"));
    assert!(s.windows.len() >= 4 && s.windows.iter().all(|w| *w > 0.0) && s.duration_s >= 0.4, "{s:?}");

    // A sustained kernel whose output is wrong fails sustained mode, not the suite's results.
    let (code, _, err) = with(&[
        "--filter",
        "stream.copy",
        "--sustain",
        "0.2",
        "--sustain-kernel",
        "stream.triad",
        "--inject-fault",
        "stream.triad",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sustained mode failed: stream.triad: output does not match the CPU reference"), "{err}");
    let r: RunResult = serde_json::from_value(schema_check(&file)).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.sustained.is_none());
    assert!(r.kernels.iter().any(|k| k.name == "stream.copy" && k.status == Status::Ok));

    // Kernels it cannot repeat, or that the suite does not have, are refused before measuring.
    let (code, _, err) = with(&["--sustain", "1", "--sustain-kernel", "transfer.d2h"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("transfers are timed on the host"), "{err}");
    let (code, _, err) = with(&["--filter", "stream.copy", "--sustain", "1", "--sustain-kernel", "stream.nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("has no kernel named `stream.nope`") && err.contains("stream.triad"), "{err}");
}

#[test]
fn run_list_names_the_kernels_without_measuring() {
    let _gpu = gpu_lock();
    let file = scratch("never-written.json");
    let path = file.display().to_string();
    let (code, out, err) = ridge(&[
        "run",
        "--list",
        "--suite",
        "quick",
        "--adapter",
        ADAPTER,
        "--json",
        "--filter",
        "stream,gemm",
        "--out",
        &path,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let names: Vec<&str> = v["kernels"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    assert!(names.contains(&"stream.triad") && names.contains(&"gemm.fp32.128x128x128"), "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("stream.") || n.starts_with("gemm.")), "{names:?}");
    assert!(!file.exists(), "--list measured and wrote a result");
    let (code, out, _) =
        ridge(&["run", "--list", "--suite", "quick", "--adapter", ADAPTER, "--filter", "transfer.d2h"]);
    assert_eq!(code, 0);
    assert!(out.contains("transfer.d2h  (host-timed; not for --sustain-kernel)"), "{out}");
}

#[test]
fn an_injected_wrong_result_is_caught() {
    let _gpu = gpu_lock();
    let file = scratch("fault.json");
    let path = file.display().to_string();
    let args = [
        "run",
        "--suite",
        "quick",
        "--adapter",
        ADAPTER,
        "--quiet",
        "--out",
        &path,
        "--filter",
        "stream.triad,gemm",
        "--inject-fault",
        "stream.triad",
    ];
    let (code, out, err) = ridge(&args);
    assert_eq!(code, 1, "{err}\n{out}");
    assert!(err.contains("kernel stream.triad failed: output does not match the CPU reference"), "{err}");
    let doc = schema_check(&file);
    let r: RunResult = serde_json::from_value(doc).unwrap_or_else(|e| panic!("{e}"));
    let triad = r.kernels.iter().find(|k| k.name == "stream.triad").unwrap_or_else(|| panic!("triad"));
    assert_eq!(triad.status, Status::Failed);
    assert!(triad.throughput.is_none() && triad.timing.is_none(), "a failed kernel reports no throughput");
    assert!(triad.verification.as_ref().is_some_and(|v| !v.ok));
    // The other kernel still ran and verified, and the failed one feeds no ceiling.
    assert!(
        r.kernels.iter().any(|k| k.group == ridge_core::bench::result::KernelGroup::Gemm && k.status == Status::Ok)
    );
    assert!(r.derived.ceilings.memory_gb_per_s.is_none());
}

#[test]
fn devices_lists_the_adapter_with_its_limits() {
    let (code, out, err) = ridge(&["devices", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let adapters = v["adapters"].as_array().cloned().unwrap_or_default();
    let lvp = adapters
        .iter()
        .find(|a| a["name"].as_str().is_some_and(|n| n.contains(ADAPTER)))
        .unwrap_or_else(|| panic!("no lavapipe in {out}"));
    assert_eq!(lvp["backend"], "Vulkan");
    assert!(lvp["limits"]["max_storage_buffer_binding_size"].as_u64().is_some_and(|b| b > 0));
    assert!(lvp["features"].as_array().is_some());
}

/// Not a test of its own: the child process of
/// `a_session_without_a_display_hears_nothing_about_one` runs `ridge devices` here, so that the
/// test reads what C libraries write to the process's stderr.
#[test]
#[ignore = "run by a_session_without_a_display_hears_nothing_about_one"]
fn devices_child() {
    if std::env::var_os("RIDGE_TEST_DEVICES_CHILD").is_none() {
        return;
    }
    let code = ridge_bench::cli::main_with(["ridge", "devices"], &mut std::io::stdout(), &mut std::io::stderr());
    assert_eq!(code, 0);
}

#[test]
fn a_session_without_a_display_hears_nothing_about_one() {
    // Mesa's device-select layer probes for a Wayland compositor while Vulkan lists adapters;
    // without XDG_RUNTIME_DIR, libwayland used to print "error: XDG_RUNTIME_DIR is invalid or not
    // set in the environment." twice on stderr.
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let child = std::process::Command::new(exe)
        .args(["run::devices_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env("RIDGE_TEST_DEVICES_CHILD", "1")
        .env("WGPU_BACKEND", "vulkan")
        .env("WGPU_ADAPTER_NAME", ADAPTER)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the child: {e}"));
    let (out, err) = (String::from_utf8_lossy(&child.stdout), String::from_utf8_lossy(&child.stderr));
    assert!(child.status.success(), "{out}{err}");
    assert!(out.contains(ADAPTER), "{out}");
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
}

#[test]
fn run_errors_are_clear() {
    let (code, _, err) = ridge(&["run", "--adapter", "no-such-gpu", "--quiet"]);
    assert_eq!(code, 2);
    assert!(err.contains("no GPU adapter matches `no-such-gpu`") && err.contains("lavapipe"), "{err}");
    let (code, _, err) = ridge(&[
        "run",
        "--suite",
        "quick",
        "--adapter",
        ADAPTER,
        "--quiet",
        "--filter",
        "nothing-like-this",
        "--out",
        &scratch("none.json").display().to_string(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no kernel of the quick suite matches --filter nothing-like-this"), "{err}");
    let (code, _, err) = ridge(&["run", "--sustain=-3", "--quiet"]);
    assert_eq!(code, 2);
    assert!(err.contains("--sustain needs a positive number"), "{err}");
}

/// Every generated GEMM configuration matches the CPU on every element, not just the suite's
/// sample: the register tilings on several blocks in M and N and an odd number of K steps (both
/// workgroup-memory buffers, and the last step without a prefetch); the skinny ones with row
/// counts that do not fill their last reduction round, rows split across workgroups, and K
/// slices of unequal length; the portable kernel on a shape no block divides.
#[test]
fn every_gemm_configuration_matches_the_cpu_on_every_element() {
    use ridge_bench::gpu::{self, Bindings, Gpu, f16_bytes, f32_bytes};
    use ridge_core::bench::kernels::{GEMM_TILES, portable_gemm, skinny_gemms};
    use ridge_core::bench::reference;
    use ridge_core::bench::rng::SplitMix64;
    use ridge_core::bench::uniforms::GemmParams;

    let _gpu = gpu_lock();
    let instance = gpu::instance();
    let adapter = gpu::adapters(&instance, Some(ADAPTER))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no llvmpipe adapter (is mesa-vulkan-drivers installed? set WGPU_BACKEND=vulkan)"));
    let g = Gpu::open(&adapter).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(g.f16, "lavapipe has shader-f16; the f16 tilings need it");
    // (name, source, m×n×k, workgroups, f16 inputs)
    type Case = (String, String, (usize, usize, usize), [u32; 3], bool);
    let mut cases: Vec<Case> = Vec::new();
    for t in GEMM_TILES {
        let (m, n, k) = (2 * t.bm, 3 * t.bn, 5 * t.bk);
        cases.push((t.name(), t.wgsl(), (m, n, k), t.dispatch(m, n), false));
        cases.push((format!("f16 {}", t.name()), t.wgsl_f16(), (m, n, k), t.dispatch(m, n), true));
    }
    // The portable kernel on a shape no block divides (its bounds checks), in both precisions.
    for half in [false, true] {
        let (m, n, k) = (70usize, 90usize, 37usize);
        let dispatch = [n.div_ceil(64) as u32, m.div_ceil(64) as u32, 1];
        cases.push((format!("portable (half: {half})"), portable_gemm(half), (m, n, k), dispatch, half));
    }
    for m in [1, 5, 8, 16] {
        for t in skinny_gemms(m, 8192) {
            let (n, k) = (3 * t.bn, 4 * (2 * t.slices + 3));
            cases.push((t.name(), t.wgsl(), (m, n, k), t.dispatch(m, n), false));
        }
    }
    for (i, (name, source, (m, n, k), workgroups, half)) in cases.into_iter().enumerate() {
        // Inputs exact in f16 (multiples of 1/256 in [-1, 1)), so both precisions see the same
        // numbers; f16 sums of a K step's products round at about 1e-3 of their size.
        let mut rng = SplitMix64::new(100 + i as u64);
        let mut exact =
            |len: usize| -> Vec<f32> { (0..len).map(|_| (rng.f32_in(-1.0, 1.0) * 256.0).round() / 256.0).collect() };
        let (a, b) = (exact(m * k), exact(k * n));
        let encode = |v: &[f32]| if half { f16_bytes(v) } else { f32_bytes(v).to_vec() };
        let kernel = g.kernel("gemm", &source, "gemm").unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let pb = g.params(&GemmParams::new(m as u32, n as u32, k as u32));
        let (ab, bb) = (g.storage("A", &encode(&a)), g.storage("B", &encode(&b)));
        let out = g.output("C", (m * n * 4) as u64);
        let group = g.bind(&kernel, &Bindings { params: &pb, a: &ab, b: &bb, out: &out });
        g.time(&kernel, &group, workgroups, 1).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let got = g.read_f32(&out, m * n).unwrap_or_else(|e| panic!("{e:#}"));
        let every: Vec<(usize, usize)> = (0..m).flat_map(|r| (0..n).map(move |c| (r, c))).collect();
        let tolerance = if half { 2e-2 } else { 1e-4 };
        let check = reference::compare(&got, &reference::gemm_at(&a, &b, n, k, &every), tolerance);
        assert!(check.ok, "{name} on {m}x{n}x{k}: {:?}", check.detail);
        assert_eq!(check.checked, m * n);
    }
}
