#!/usr/bin/env python3
"""Prints issue 4's H200 targets beside what a `ridge run` result file measured.

Usage: scripts/gpu-targets.py [--clocks CLOCKS.csv] STANDARD.json [MORE.json ...]
The first file is the standard suite (its duration is the "under a minute" target); kernels are
looked up across all files, the first file that has a verified figure winning. CLOCKS.csv is
`nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu
--format=csv,noheader,nounits` sampled during the runs: the fp32 peak at the running clock is
132 SMs x 128 lanes x 2 FLOPs x the median SM clock of the samples drawing over 200 W.
"""
import json
import statistics
import sys

H200_SMS, LANES = 132, 128


def running_clock(path):
    """Median SM clock (MHz) and power of the busy samples, and the range of all clocks."""
    busy, clocks = [], []
    for line in open(path):
        parts = [p.strip() for p in line.split(",")]
        try:
            sm, watts = float(parts[1]), float(parts[3])
        except (IndexError, ValueError):
            continue
        clocks.append(sm)
        if watts > 200:
            busy.append(sm)
    if not clocks:
        return None
    return (statistics.median(busy) if busy else None, min(clocks), max(clocks), len(busy), len(clocks))


def main(paths, clocks_file=None):
    runs = [json.load(open(p)) for p in paths]
    kernels = {}
    for run in runs:
        for k in run["kernels"]:
            if k["status"] == "ok" and k["name"] not in kernels:
                kernels[k["name"]] = k

    def value(name):
        k = kernels.get(name)
        return k["throughput"]["value"] if k else None

    def best(prefix):
        found = [(k["throughput"]["value"], n) for n, k in kernels.items() if n.startswith(prefix)]
        return max(found) if found else (None, None)

    rows = []

    def row(what, got, target, ok, note=""):
        shown = "—" if got is None else f"{got:,.1f}"
        verdict = "—" if ok is None else ("met" if ok else "MISSED")
        rows.append((what, shown, target, verdict, note))

    copy, triad = value("stream.copy"), value("stream.triad")
    row("copy GB/s", copy, ">= 4,230", None if copy is None else copy >= 4230)
    row("triad GB/s", triad, ">= 4,300", None if triad is None else triad >= 4300)
    fp32, fp32_name = best("compute.fma.fp32")
    row("fp32 FMA TFLOP/s", fp32, ">= 63.5", None if fp32 is None else fp32 >= 63.5, fp32_name or "")
    clock = running_clock(clocks_file) if clocks_file else None
    if clock:
        median, low, high, busy, total = clock
        if median:
            peak = H200_SMS * LANES * 2 * median * 1e6 / 1e12
            share = f"{fp32 / peak:.1%} of {peak:.1f} at the running clock" if fp32 else ""
            row("SM clock under load, MHz", median, f"range {low:.0f}-{high:.0f}", None if fp32 is None else fp32 >= 0.95 * peak,
                f"{busy} of {total} samples over 200 W; fp32 FMA {share}")
        else:
            row("SM clock, MHz", None, f"range {low:.0f}-{high:.0f}", None, "no sample over 200 W")
    f16, f16_name = best("compute.fma.f16")
    ratio = f"{f16 / fp32:.2f}x fp32 ({'packed-half rate' if f16 >= 1.9 * fp32 else 'no packed-half gain'})" if f16 and fp32 else ""
    row("f16 FMA TFLOP/s", f16, ">= fp32 rate", None if f16 is None or fp32 is None else f16 >= fp32 * 0.98, ratio)
    square = [(k["throughput"]["value"], n) for n, k in kernels.items()
              if n.startswith("gemm.fp32.") and k["params"].get("m", 0) >= 1024]
    gemm, gemm_name = max(square) if square else (None, None)
    chosen = ""
    if gemm_name:
        chosen = next((v["name"] for v in kernels[gemm_name].get("variants", []) if v["chosen"]), "")
        chosen = f"{gemm_name} with {chosen}" if chosen else gemm_name
    row("fp32 GEMM TFLOP/s", gemm, ">= 40", None if gemm is None else gemm >= 40, chosen)
    gather = value("gather.rows512B")
    share = gather / copy if gather and copy else None
    row("gather 512 B rows GB/s", gather, ">= 85% of copy", None if share is None else share >= 0.85,
        f"{share:.0%} of copy" if share else "")
    d2h = value("transfer.d2h")
    row("device to host GB/s", d2h, ">= 49.6", None if d2h is None else d2h >= 49.6)
    for name in ("transfer.h2d.mapped", "transfer.h2d.write-buffer"):
        row(f"{name} GB/s", value(name), "beside CUDA 6.7 / 55", None)
    for name, k in sorted(kernels.items()):
        if name.startswith("gemm.fp32.") and k["params"].get("m", 1e9) <= 64:
            row(f"{name} GB/s", value(name), "(decode shape)", None)
    standard = runs[0]
    timed = [(k["timing"]["summary"]["cv"], k["name"]) for k in standard["kernels"]
             if k["status"] == "ok" and k.get("timing") and k["group"] != "transfer"]
    worst = max(timed) if timed else (None, None)
    row("worst CV, GPU kernels (%)", None if worst[0] is None else worst[0] * 100, "< 1", None if worst[0] is None else worst[0] < 0.01, worst[1] or "")
    over = [n for cv, n in timed if cv >= 0.01]
    if over:
        rows.append(("", "", "", "", f"{len(over)} of {len(timed)} at 1% or more: {', '.join(over[:6])}"))
    for run in runs:
        sus = run.get("sustained")
        if sus:
            windows = sus["windows"]
            row(f"sustained {sus['kernel']} ({sus['unit']})", statistics.median(windows),
                f"{sus['duration_s']:.0f} s, late/early {sus['late_over_early']:.3f}", not sus["throttling"],
                f"windows {min(windows):,.1f} to {max(windows):,.1f}; {'THROTTLING' if sus['throttling'] else 'no throttling'}")
    transfers = [(k["timing"]["summary"]["cv"], k["name"]) for k in standard["kernels"]
                 if k["status"] == "ok" and k.get("timing") and k["group"] == "transfer"]
    if transfers:
        cv, name = max(transfers)
        row("worst CV, transfers (%)", cv * 100, "< 1", cv < 0.01, f"{name} (host-timed)")
    dur = standard.get("duration_s")
    row(f"{standard['suite']} suite seconds", dur, "< 60", None if dur is None else dur < 60)
    failed = [k["name"] for run in runs for k in run["kernels"] if k["status"] == "failed"]

    width = [max(len(str(r[i])) for r in rows + [("target", "", "", "", "")]) for i in range(5)]
    print(f"{'what':<{width[0]}}  {'measured':>{width[1]}}  {'target':<{width[2]}}  verdict")
    for r in rows:
        print(f"{r[0]:<{width[0]}}  {r[1]:>{width[1]}}  {r[2]:<{width[2]}}  {r[3]:<6}  {r[4]}")
    print(f"device: {standard['device']['name']} ({standard['device']['backend']}, {standard['device']['driver']} {standard['device']['driver_info']})")
    if failed:
        print("FAILED kernels: " + ", ".join(failed))
    for run in runs:
        for k in run["kernels"]:
            for f in k.get("findings", []):
                print(f"finding: {k['name']}: {f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    clocks_file = None
    if args[:1] == ["--clocks"] and len(args) >= 2:
        clocks_file, args = args[1], args[2:]
    if not args:
        sys.exit(__doc__)
    main(args, clocks_file)
