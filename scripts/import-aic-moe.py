#!/usr/bin/env python3
"""Distil AIConfigurator's measured mixture-of-experts timings into ridge's expert-GEMM efficiency
tables (`datasets/moe-efficiency.toml`).

Not part of CI: it needs the PyPI package `aiconfigurator-core` (Apache-2.0; tested with
0.12.0) with pandas and pyarrow, e.g.

  python3 -m venv /tmp/aic && /tmp/aic/bin/pip install aiconfigurator pandas pyarrow
  /tmp/aic/bin/python scripts/import-aic-moe.py            # rewrites datasets/moe-efficiency.toml
  /tmp/aic/bin/python scripts/import-aic-moe.py --check    # exits 1 if the file would change
  /tmp/aic/bin/python scripts/import-aic-moe.py --report   # ridge / measured on the catalog's MoE
                                                           # models' layer shapes; writes nothing

CI validates the result instead: the catalog loader checks every table (its device, precision,
grid, values, and that the datasheet figures it was made against are the catalog's).

The database times TensorRT-LLM's whole fused MoE module on one device (routing, permutation,
the experts' grouped GEMMs, the activation, the weighted un-permutation) for many shapes: tokens
T, hidden size h, expert width I, top-k, experts E and expert-parallel size ep, with gated experts
(an up projection 2I wide) and routing spread evenly over the experts ("balanced"). ridge times
the same layer as two grouped GEMMs (up, down) over the experts a device holds, plus its
activation and combine passes on the memory roofline. For every measured shape this computes, as
ridge does,

  assignments = T k / ep                      (token-expert pairs this device computes)
  active      = E/ep (1 - (1 - k/E)^T)        (its experts that receive any token)
  rows        = assignments / active          (rows of each expert's GEMMs)
  roofline    = active (R(rows, h, 2I) + R(rows, I, h)),  R(m, n, k) = max(2mnk / peak,
                ((mk + kn) s + 2mn) / bandwidth)   (the GEMM tables' roofline)
  others      = (assignments I 3 + (T/ep) k h (1 + 1/k)) s / (0.89 bandwidth)
                (ridge's activation and combine passes at its documented streaming share)

and takes, per device and precision, the median efficiency of the shapes whose rows and expert
size fall in each cell of a grid: rows per expert in powers of two, the expert GEMMs' weight
elements N K (a layer counted at 1.5 h I, the mean of its up and down GEMMs) in powers of four,
each cell from the geometric midpoint below to the one above. A layer's fixed time (half of it
each GEMM launch: `fixed_us`) is what the 5% of shapes with the least work took; the efficiency
comes from the shapes whose work is at least that, with the fixed time taken off:
efficiency = roofline / (measured - others - fixed).
`measured` is the faster of the gated kernels TensorRT-LLM runs by default for the shape
(CUTLASS; DeepGEMM where the database has only it, fp8 per-block on Blackwell; fp8 per-tensor
or per-block). Not its min-latency path (TRTLLM-Gen kernels, `moe_torch_flow_min_latency`): an
engine runs those only when configured to (`moe_config.backend: TRTLLM`), and on the B200 they
time a layer at 0.78 of CUTLASS's (median; 0.42 to 1.53), so a table that took the faster of
the two timed every default engine's experts too fast. Every grid value is the median of
measured shapes; a row of cells one of which has fewer than MIN_SHAPES shapes ends the grid.

Each table also holds `expert_parallel_scale`: per expert-parallel group (EP_GROUPS) and rows
band, the median share of the table's efficiency that group's measured layers reached (every
expert size pooled). ridge multiplies the efficiency by it, interpolated in log ep and log rows.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tomllib

import numpy as np
import pandas as pd

import aic_tables

SYSTEMS = aic_tables.SYSTEMS
# AIConfigurator's MoE dtype -> ridge's precision of the arithmetic (and the inputs) and the bytes
# of one input element, and where the weights are narrower, their precision and bytes (gpt-oss's
# MXFP4 experts: with bf16 inputs on Hopper and Blackwell, with MXFP8 ones on Blackwell).
DTYPES = {
    "bfloat16": ("bf16", 2.0, None, 2.0),
    "fp8": ("fp8", 1.0, None, 1.0),
    "fp8_block": ("fp8", 1.0, None, 1.0),
    "nvfp4": ("fp4", 4.25 / 8, None, 4.25 / 8),
    "w4a16_mxfp4": ("bf16", 2.0, "fp4", 4.25 / 8),
    "w4a8_mxfp4_mxfp8": ("fp8", 1.0, "fp4", 4.25 / 8),
}
# The tables: (arithmetic, weights), weights None where they are the arithmetic's.
KINDS = [("bf16", None), ("fp8", None), ("fp4", None), ("bf16", "fp4"), ("fp8", "fp4")]
GATED = {"moe_torch_flow_cutlass", "deepgemm", "moe_torch_flow"}
VERSION_DIR = "1.3.0rc20"
ROWS = [2**i for i in range(13)]
# Weight elements of one expert GEMM (N K): a layer of hidden h and expert width I counts at
# 1.5 h I, the mean of its up (2 h I) and down (h I) GEMMs.
SIZES = [2**21, 2**23, 2**25, 2**27]
MIN_SHAPES = 3
# Expert-parallel groups of the scale: the measured layers of one device among `ep` that split
# the experts whole (the last group: 16 and more). The same rows per expert and expert size run at
# a different share of the roofline depending on how many devices split the experts (on the B200
# in NVFP4, DeepSeek-V3's layer at 32 rows an expert takes 1.18 ms on one device and 0.52 ms on
# one of four, with a quarter of the weights), which one grid over every size mixes.
EP_GROUPS = [(1, 1), (2, 2), (4, 4), (8, 8), (16, 1 << 20)]
STREAMING = 0.89
# ridge's documented GEMM fractions (core/src/calibration.rs) and a GEMM launch's fixed time, for
# the comparison each table's comment states.
FRACTIONS = {"bf16": 0.77, "fp8": 0.5, "fp4": 0.39}
GEMM_LATENCY_S = 4e-6


def ep_group(ep):
    """The index in EP_GROUPS of each expert-parallel size."""
    return np.searchsorted([lo for lo, _ in EP_GROUPS], ep, side="right") - 1


def interpolate(table: list[int], rows: list[float], sizes: list[float], r, z):
    """The table's efficiency at rows r and size z: bilinear in log r and log z, edges held."""

    def bracket(axis, x):
        x = np.clip(x, axis[0], axis[-1])
        i = np.clip(np.searchsorted(axis, x, side="right") - 1, 0, len(axis) - 2)
        lo, hi = np.asarray(axis)[i], np.asarray(axis)[i + 1]
        return i, np.log(x / lo) / np.log(hi / lo)

    if len(sizes) == 1:
        # One size measured: held for every size (as ridge holds a grid's edges).
        sizes, table = [sizes[0], 2 * sizes[0]], [v for v in table for _ in range(2)]
    grid = np.asarray(table, dtype=float).reshape(len(rows), len(sizes)) / 10000
    i, wi = bracket(rows, r)
    j, wj = bracket(sizes, z)
    return (
        (1 - wi) * (1 - wj) * grid[i, j]
        + (1 - wi) * wj * grid[i, j + 1]
        + wi * (1 - wj) * grid[i + 1, j]
        + wi * wj * grid[i + 1, j + 1]
    )




def roofline(m, n, k, s, peak, bw, sw=None):
    """The GEMM tables' roofline: inputs of `s` bytes an element, weights of `sw` (`s` unless
    narrower), a 16-bit output."""
    sw = s if sw is None else sw
    return np.maximum(2 * m * n * k / peak, (m * k * s + k * n * sw + 2 * m * n) / bw)


def tables(data: pathlib.Path, catalog: dict) -> list[dict]:
    out = []
    for system, ridge_id in SYSTEMS.items():
        path = data / system / "moe" / "trtllm" / VERSION_DIR / "moe_perf.parquet"
        if not path.exists():
            continue
        hw = catalog[ridge_id]
        bw = aic_tables.figure(hw["memory"]["bandwidth_gb_per_s"]) * 1e9
        d = pd.read_parquet(path)
        # Experts whole over ep devices. Not the layers split by width (moe_tp_size > 1): pooled
        # with them (at the width one device holds), the tables timed Mixtral's eight large
        # experts 38% slow on the H100.
        d = d[(d.distribution == "balanced") & (d.moe_tp_size == 1) & d.kernel_source.isin(GATED)]
        for precision, weights in KINDS:
            kind = d.moe_dtype.map(lambda t: DTYPES.get(t, ("", 0, None, 0))[::2])
            x = d[kind == (precision, weights)].copy()
            if x.empty or precision not in hw["dense_tflops"]:
                continue
            _, s, _, sw = DTYPES[x.moe_dtype.iloc[0]]
            peak = aic_tables.figure(hw["dense_tflops"][precision]) * 1e12
            t = x.num_tokens.astype(float)
            k = x.topk.astype(float)
            e = x.num_experts.astype(float)
            ep = x.moe_ep_size.astype(float)
            h = x.hidden_size.astype(float)
            i = x.inter_size.astype(float)
            assignments = t * k / ep
            active = e / ep * (1 - (1 - k / e) ** t)
            rows = assignments / active
            roof = active * (roofline(rows, h, 2 * i, s, peak, bw, sw) + roofline(rows, i, h, s, peak, bw, sw))
            others = (assignments * i * 3 + t / ep * k * h * (1 + 1 / k)) * s / (STREAMING * bw)
            x["rows"] = rows
            x["roofline"] = roof
            x["left"] = x.latency * 1e-3 - others
            table = one_table(x, s, peak, bw, precision, sw)
            if table:
                out.append(dict(table, hardware=ridge_id, system=system, weights=weights))
    return out


def one_table(x: pd.DataFrame, s: float, peak: float, bw: float, precision: str, sw: float) -> dict | None:
    """The table of the measured layers `x` (one device and precision) with its expert-parallel
    scale, and how well it gives them back; None where too few shapes fill two rows of the grid.
    Its sizes are those of SIZES the layers measured fall near (gpt-oss's MXFP4 kernels were
    measured at its one expert shape only: a table of one size)."""
    if x.empty:
        return None
    shape = ["num_tokens", "hidden_size", "inter_size", "topk", "num_experts", "moe_ep_size"]
    # The faster default kernel at each shape.
    best = x.sort_values("left").groupby(shape).head(1)
    # The layer's fixed time: what its least work took (the 5% of shapes with the smallest
    # roofline), routing and launches with next to nothing to compute.
    small = best[best.roofline <= best.roofline.quantile(0.05)]
    fixed = float(small.left.median())
    # The efficiency of the rest, where the work is at least that fixed time.
    work = best[(best.roofline >= fixed) & (best.left > fixed)].copy()
    work["efficiency"] = np.minimum(1.0, work.roofline / (work.left - fixed))
    work["size"] = 1.5 * work.hidden_size * work.inter_size
    sizes = [z for z in SIZES if ((work["size"] >= z / 2) & (work["size"] < z * 2)).any()]
    grid, basis_points, shapes = [], [], []
    for r in ROWS:
        lo, hi = r / 2**0.5, r * 2**0.5
        row = work[(work.rows >= lo) & (work.rows < hi)]
        cells = [row[(row["size"] >= z / 2) & (row["size"] < z * 2)] for z in sizes]
        if min(len(c) for c in cells) < MIN_SHAPES:
            if grid:
                break
            continue
        grid.append(r)
        basis_points += [max(1, min(10000, round(10000 * c.efficiency.median()))) for c in cells]
        shapes += [len(c) for c in cells]
    if len(grid) < 2:
        return None
    # The share of the table's efficiency the layers of each expert-parallel group reached, per
    # rows band (every size pooled): measured efficiency over the table's at the layer's rows and
    # size, the median per cell; a cell with too few layers takes its group's nearest band's.
    work["group"] = ep_group(work.moe_ep_size)
    work["share"] = work.efficiency / interpolate(basis_points, grid, sizes, work.rows, work["size"])
    scale = []
    for gi in range(len(EP_GROUPS)):
        mine = work[work.group == gi]
        cells = []
        for r in grid:
            c = mine[(mine.rows >= r / 2**0.5) & (mine.rows < r * 2**0.5)]
            cells.append(float(c.share.median()) if len(c) >= MIN_SHAPES else None)
        known = [i for i, v in enumerate(cells) if v is not None]
        if not known:
            cells = [1.0] * len(grid)
        else:
            cells = [cells[min(known, key=lambda k: abs(k - i))] for i in range(len(grid))]
        scale += [max(1, min(65535, round(10000 * v))) for v in cells]
    # How well the table gives back every measured layer it came from: ridge's layer time (two
    # expert GEMMs by the table, their fixed time, the other passes) over the measured, against
    # the dense GEMM fractions' time over the measured.
    g = best
    up = 2 * g.hidden_size * g.inter_size
    down = g.hidden_size * g.inter_size
    m = g.rows
    a_ = g.num_tokens * g.topk / g.moe_ep_size
    act = g.num_experts / g.moe_ep_size * (1 - (1 - g.topk / g.num_experts) ** g.num_tokens)
    rest = g.latency * 1e-3 - g.left  # the activation and combine passes
    share = interpolate(scale, [lo for lo, _ in EP_GROUPS], grid, g.moe_ep_size, m)

    def eff(size):
        return np.minimum(1.0, interpolate(basis_points, grid, sizes, m, size) * share)

    table = (
        act
        * (
            roofline(m, g.hidden_size, 2 * g.inter_size, s, peak, bw, sw) / eff(up)
            + roofline(m, g.inter_size, g.hidden_size, s, peak, bw, sw) / eff(down)
        )
        + fixed  # two launches of half of it
        + rest
    )
    flops = a_ * 6 * g.hidden_size * g.inter_size
    weights = act * 3 * g.hidden_size * g.inter_size * sw
    fractions = np.maximum(flops / (peak * FRACTIONS[precision]), weights / (bw * STREAMING)) + 2 * GEMM_LATENCY_S + rest
    measured = g.latency * 1e-3
    return {
        "precision": precision,
        "dtypes": ", ".join(sorted(x.moe_dtype.unique())),
        "kernels": ", ".join(sorted(x.kernel_source.unique())),
        "peak_tflops": peak / 1e12,
        "memory_gb_per_s": bw / 1e9,
        "fixed_us": round(fixed * 1e6 / 2, 1),
        "rows": grid,
        "sizes": sizes,
        "basis_points": basis_points,
        "scale": scale,
        "shapes": shapes,
        "spread": {
            name: [round(float(q), 2) for q in np.quantile(v / measured, [0.1, 0.5, 0.9])]
            for name, v in (("table", table), ("fractions", fractions))
        },
        "layers": len(best),
        "ratios": g.assign(ratio=table / measured)[
            ["hidden_size", "inter_size", "num_experts", "topk", "moe_ep_size", "num_tokens", "ratio"]
        ],
    }


def render(rows: list[dict], version: str) -> str:
    lines = [
        "# Expert-GEMM efficiency of mixture-of-experts layers per device and precision, from measured",
        "# timings. Generated by scripts/import-aic-moe.py (do not edit by hand; run it again). Read by",
        "# ridge-core's catalog loader, which checks every table against hardware.toml.",
        "#",
        "# basis_points = 10000 x the median, over the measured layers whose rows per expert and expert",
        "# GEMM size (weight elements N K) fall near each grid point, of roofline / (measured - fixed -",
        "# activation and combine passes): the share of the datasheet roofline (the GEMM tables'",
        "# definition, at the peak and bandwidth stated with the table) the experts' grouped GEMMs of a",
        "# whole fused MoE layer reached (see the script's head). Values in rows-major order, then",
        "# sizes. fixed_us: each of the layer's two expert GEMM launches takes this long on top (half",
        "# what the layers with the least work took). Routing spread evenly over the experts; gated",
        "# experts; TensorRT-LLM's default kernels (CUTLASS; DeepGEMM where only it was measured), not its",
        "# opt-in min-latency path. expert_parallel_scale: the efficiency's multiplier on one device of",
        "# each expert_parallel size (devices splitting the experts whole), per rows grid point.",
        "#",
        f"# Source: NVIDIA AIConfigurator's silicon database, aiconfigurator-core {version} on PyPI",
        "# (Apache-2.0, https://github.com/ai-dynamo/aiconfigurator): MoE module latencies measured on",
        f"# each system with TensorRT-LLM {VERSION_DIR}.",
    ]
    for r in rows:
        narrow = r["weights"]
        lines += [
            "",
            "[[moe]]",
            f'id = "{r["hardware"]}-{"mxfp4-" if narrow else ""}{r["precision"]}"',
            f'hardware = "{r["hardware"]}"',
            f'precision = "{r["precision"]}"',
        ]
        lines += [f'weights = "{narrow}"'] if narrow else []
        lines += [
            f'source = "NVIDIA AIConfigurator silicon database (aiconfigurator-core {version}, Apache-2.0), '
            f'system {r["system"]}: TensorRT-LLM {VERSION_DIR} MoE module ({r["dtypes"]}; {r["kernels"]}), '
            'balanced routing"',
            f"peak_tflops = {r['peak_tflops']:g}",
            f"memory_gb_per_s = {r['memory_gb_per_s']:g}",
            f"fixed_us = {r['fixed_us']:g}",
            f"# ridge / measured over the {r['layers']} measured layers (p10, median, p90): with this table "
            f"{', '.join(map(str, r['spread']['table']))}; on the dense GEMM fractions "
            f"{', '.join(map(str, r['spread']['fractions']))}",
            f"rows = [{', '.join(map(str, r['rows']))}]",
            f"sizes = [{', '.join(map(str, r['sizes']))}]",
            "basis_points = [",
        ]
        n = len(r["sizes"])
        for j in range(0, len(r["basis_points"]), n):
            lines.append("  " + ", ".join(map(str, r["basis_points"][j : j + n])) + ",")
        lines += ["]", f"# measured layer shapes behind each value: {', '.join(map(str, r['shapes']))}"]
        lines += [
            f"# share of the efficiency above that one device of each expert-parallel size reached, per rows "
            f"(the last: {EP_GROUPS[-1][0]} or more)",
            f"expert_parallel = [{', '.join(str(lo) for lo, _ in EP_GROUPS)}]",
            "expert_parallel_scale = [",
        ]
        n = len(r["rows"])
        for j in range(0, len(r["scale"]), n):
            lines.append("  " + ", ".join(map(str, r["scale"][j : j + n])) + ",")
        lines.append("]")
    return "\n".join(lines) + "\n"


def report(rows: list[dict], workloads: str) -> str:
    """How well each table gives back the measured layers of the catalog's mixture-of-experts
    models (their hidden size, expert width, experts and top-k, where the database measured that
    shape): ridge / measured (p10, median, p90) per expert-parallel size, and by tokens."""
    with open(workloads, "rb") as f:
        presets = tomllib.load(f)["workload"]
    models = {}
    for w in presets:
        t = w.get("transformer") or {}
        if t.get("moe"):
            m = t["moe"]
            models.setdefault((t["hidden"], m.get("expert_ffn", t["ffn"]), m["experts"], m["top_k"]), w["id"])
    out = ["| table | model | ep | layers | ridge/measured p10 | median | p90 | median, tokens < 256 | median, tokens >= 256 |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        x = r["ratios"]
        for (h, i, e, k), name in models.items():
            m = x[(x.hidden_size == h) & (x.inter_size == i) & (x.num_experts == e) & (x.topk == k)]
            for ep, y in m.groupby("moe_ep_size"):
                q = np.quantile(y.ratio, [0.1, 0.5, 0.9])
                lo, hi = y[y.num_tokens < 256].ratio, y[y.num_tokens >= 256].ratio
                med = [f"{v.median():.2f}" if len(v) else "-" for v in (lo, hi)]
                table = f"{r['hardware']}-{'mxfp4-' if r['weights'] else ''}{r['precision']}"
                out.append(f"| {table} | {name} | {ep} | {len(y)} | {q[0]:.2f} | {q[1]:.2f} "
                           f"| {q[2]:.2f} | {med[0]} | {med[1]} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if the file would change; write nothing")
    ap.add_argument("--out", default="datasets/moe-efficiency.toml")
    ap.add_argument("--hardware", default="datasets/hardware.toml")
    ap.add_argument("--report", action="store_true",
                    help="print how well the tables give back the catalog's MoE models' measured layers; write nothing")
    ap.add_argument("--workloads", default="datasets/workloads.toml")
    args = ap.parse_args()
    version, data = aic_tables.database()
    if args.report:
        print(report(tables(data, aic_tables.catalog(args.hardware)), args.workloads))
        return 0
    return aic_tables.emit(render(tables(data, aic_tables.catalog(args.hardware)), version), args.out, args.check)

if __name__ == "__main__":
    sys.exit(main())
