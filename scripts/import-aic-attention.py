#!/usr/bin/env python3
"""Distil AIConfigurator's measured decode-attention timings into ridge's decode-attention tables
(`datasets/attention-efficiency.toml`).

Not part of CI: it needs the PyPI package `aiconfigurator-core` (Apache-2.0; tested with
0.12.0) with pandas and pyarrow, e.g.

  python3 -m venv /tmp/aic && /tmp/aic/bin/pip install aiconfigurator pandas pyarrow
  /tmp/aic/bin/python scripts/import-aic-attention.py          # rewrites the file
  /tmp/aic/bin/python scripts/import-aic-attention.py --check  # exits 1 if the file would change

CI validates the result instead: the catalog loader checks every table (its device, precisions,
grid, values, and that the datasheet figures it was made against are the catalog's).

The database times TensorRT-LLM 1.3.0rc20's generation (decode) attention on one device: one new
query token per sequence against its cached keys and values, for many shapes (sequences B,
query heads H, key/value heads G, head dimension D, cached tokens, KV cache in bf16 or fp8), and
its multi-head latent attention (MLA, DeepSeek-V2/V3: one 576-element latent per token, 128
query heads split over tensor-parallel devices). ridge times the same call on its roofline, as
`OpKind::Attention` does (q = one query, L = cached tokens + 1 keys, a = the table's precision's
bytes for queries and outputs, s = the KV cache's):

  grouped:  flops = 4 B H D L,    bytes = 2 B H D a + 2 B G L D s + 2 B G D s
  latent:   flops = 4 B H 544 L,  bytes = 2 B H 544 a + 576 B (L + 1) s
            (absorbed MLA: 576 + 512 multiply-adds per scored pair, the latent read once)
  roofline  = max(flops / peak, bytes / bandwidth)

at the catalog's datasheet peak (bf16 for a bf16 cache, fp8 for an fp8 one: TensorRT-LLM's fp8
generation kernels, MLA's included, compute in fp8) and bandwidth. A call's fixed time
(`fixed_us`) is the median of the 5% of calls with the least work; the efficiency of every call
is roofline / (measured - fixed), capped at 1. The tables are the median efficiency of the calls
near each grid point (within half a grid step on each axis, in the logarithm):

  grouped: work items  = B G (a sequence's key/value head: the kernels' unit of work) and keys
           per sequence L, both in powers of 2; every group size H/G from 1 to 16 pooled (the
           times collapse onto B G and L: 64/8 heads at 64 sequences, 16/2 at 256 and 8/1 at
           512 take 0.093 ms each at 1,024 keys on the H200), one table per head dimension D of
           HEAD_DIMS (128, every catalog decoder's but gpt-oss's and GPT-J's; 64, gpt-oss's).
           Group sizes over 16 run another, slower path and are left out (no catalog model has
           them).
  latent:  query heads on the device H (16, 32, 64, 128), sequences B and keys L (powers of 2).

A grid cell without calls (long contexts at many sequences do not fit in memory) takes the
nearest measured cell's value at the same keys per sequence (fewer work items), else along the
keys axis.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

import aic_tables

SYSTEMS = aic_tables.SYSTEMS
VERSION_DIR = "1.3.0rc20"
# AIConfigurator's KV-cache dtype -> ridge's precision and bytes per element.
KV = {"bfloat16": ("bf16", 2.0), "fp8": ("fp8", 1.0)}
ITEMS = [2.0**i for i in range(17)]  # 1 .. 65,536 work items
KEYS = [2.0**i for i in range(1, 18)]  # 2 .. 131,072 keys per sequence
LATENT_HEADS = [16.0, 32.0, 64.0, 128.0]
SEQUENCES = [2.0**i for i in range(11)]  # 1 .. 1,024
MAX_GROUP = 16
# Grouped tables per head dimension: 128 (every catalog decoder's but gpt-oss's and GPT-J's) and
# 64 (gpt-oss's). The times do not collapse across head dimensions: on the B200 at 2,048
# sequences of 8 key/value heads and 64 keys a call takes 0.154 ms at 64 and 0.173 ms at 128, not
# half, so a 64-wide head read from the 128 table was timed up to twice too fast.
HEAD_DIMS = [128, 64]
# MLA as ridge times it (DeepSeek-V3's shape): 512 latent + 64 rotary elements cached per token,
# a scored pair's 576 + 512 multiply-adds as a head dimension of 544 (K and V).
LATENT_CACHED = 576.0
LATENT_DIM = (576.0 + 512.0) / 2
# ridge's documented attention fractions (core/src/calibration.rs) and its serving engine's fixed
# time per kernel, for the comparison each table's comment states.
ATTENTION_COMPUTE = 0.44
ATTENTION_MEMORY = 0.77
KERNEL_S = 5e-6


def grouped_roofline(x: pd.DataFrame, a: float, s: float, peak: float, bw: float):
    b, h, g, d = (x[c].astype(float) for c in ("batch_size", "num_heads", "num_key_value_heads", "head_dim"))
    keys = x.step.astype(float) + 1
    flops = 4 * b * h * d * keys
    bytes_ = 2 * b * h * d * a + 2 * b * g * keys * d * s + 2 * b * g * d * s
    return flops, bytes_


def latent_roofline(x: pd.DataFrame, a: float, s: float, peak: float, bw: float):
    b, h = x.batch_size.astype(float), x.num_heads.astype(float)
    keys = x.step.astype(float) + 1
    flops = 4 * b * h * LATENT_DIM * keys
    bytes_ = 2 * b * h * LATENT_DIM * a + LATENT_CACHED * b * (keys + 1) * s
    return flops, bytes_


def grid_of(x: pd.DataFrame, axes: list[tuple[str, list[float]]]) -> list[int]:
    """Median efficiency (basis points) of the calls within a factor of 2 of each grid point,
    the first axis slowest; a cell without calls takes the nearest measured cell's along the
    work items axis (same keys), else along the keys axis."""
    shape = [len(v) for _, v in axes]
    out = np.full(shape, np.nan)
    for idx in np.ndindex(*shape):
        sel = np.ones(len(x), dtype=bool)
        for (col, values), i in zip(axes, idx):
            # The calls within half a grid step of the point (a factor of the step's square root).
            cell = (values[1] / values[0]) ** 0.5
            sel &= (x[col] >= values[i] / cell) & (x[col] < values[i] * cell)
        if sel.sum() > 0:
            out[idx] = float(x.efficiency[sel].median())
    # Along the work items first (at many items and keys the bandwidth has long saturated, so
    # fewer items at the same keys say more than the same items at fewer keys), then keys.
    filled = out.copy()
    for idx in np.ndindex(*shape):
        if not np.isnan(out[idx]):
            continue
        lead, item = idx[:-2], idx[-2]
        column = [i for i in range(shape[-2]) if not np.isnan(out[lead + (i, idx[-1])])]
        if column:
            filled[idx] = out[lead + (min(column, key=lambda i: abs(i - item)), idx[-1])]
            continue
        row = [k for k in range(shape[-1]) if not np.isnan(out[lead + (item, k)])]
        if not row:
            raise SystemExit(f"no measured call near grid point {idx} of {axes}")
        filled[idx] = out[lead + (item, min(row, key=lambda k: abs(k - idx[-1])))]
    flat = filled
    return [max(1, min(10000, round(10000 * v))) for v in flat.reshape(-1)]


def interpolate(values: list[int], axes: list[list[float]], points: list[np.ndarray]) -> np.ndarray:
    """The grid's efficiency at `points`: multilinear in the logs, edges held."""
    grid = np.asarray(values, dtype=float).reshape([len(a) for a in axes]) / 10000
    brackets = []
    for axis, p in zip(axes, points):
        axis = np.asarray(axis)
        if len(axis) == 1:
            brackets.append((np.zeros(len(p), dtype=int), np.zeros(len(p))))
            continue
        p = np.clip(p, axis[0], axis[-1])
        i = np.clip(np.searchsorted(axis, p, side="right") - 1, 0, len(axis) - 2)
        brackets.append((i, np.log(p / axis[i]) / np.log(axis[i + 1] / axis[i])))
    total = np.zeros(len(points[0]))
    for corner in np.ndindex(*([2] * len(axes))):
        w = np.ones(len(points[0]))
        idx = []
        for (i, t), c, axis in zip(brackets, corner, axes):
            w = w * (t if c else 1 - t)
            idx.append(np.minimum(i + c, len(axis) - 1))
        total += w * grid[tuple(idx)]
    return total


def table(x: pd.DataFrame, kind: str, roof, flops, bytes_, peak, bw, axes) -> dict:
    measured = x.latency.to_numpy() * 1e-3
    small = roof <= np.quantile(roof, 0.05)
    fixed = float(np.median(measured[small]))
    x = x.assign(efficiency=np.minimum(1.0, roof / np.maximum(measured - fixed, 1e-12)))
    values = grid_of(x, axes)
    e = interpolate(values, [a for _, a in axes], [x[c].to_numpy(dtype=float) for c, _ in axes])
    ridge = roof / e + max(fixed, KERNEL_S)
    if kind == "latent":
        before = np.maximum(flops / (peak * ATTENTION_COMPUTE), bytes_ / (bw * ATTENTION_MEMORY)) + KERNEL_S
    else:
        before = bytes_ / (bw * ATTENTION_MEMORY) + KERNEL_S
    q = lambda r: ", ".join(f"{v:.2f}" for v in np.percentile(r, [10, 50, 90]))  # noqa: E731
    return {
        "fixed_us": round(fixed * 1e6, 1),
        "values": values,
        "calls": len(x),
        "fit": q(ridge / measured),
        "before": q(before / measured),
    }


def tables(catalog: dict) -> list[dict]:
    _, data = aic_tables.database()
    out = []
    for system, ridge_id in SYSTEMS.items():
        hw = catalog[ridge_id]
        bw = aic_tables.figure(hw["memory"]["bandwidth_gb_per_s"]) * 1e9
        base = data / system
        gqa = base / "attention" / "trtllm" / VERSION_DIR / "generation_attention_perf.parquet"
        mla = base / "mla" / "trtllm" / VERSION_DIR / "generation_mla_perf.parquet"
        for kind, path, dims in (("grouped", gqa, HEAD_DIMS), ("latent", mla, [None])):
            if not path.exists():
                continue
            d = pd.read_parquet(path)
            for (dtype, (kv, s)), head_dim in ((k, hd) for k in KV.items() for hd in dims):
                if kv not in hw["dense_tflops"]:
                    continue
                x = d[d.kv_cache_dtype == dtype].copy()
                peak = aic_tables.figure(hw["dense_tflops"][kv]) * 1e12
                if kind == "grouped":
                    x = x[(x.window_size == 0) & (x.head_dim == head_dim) & (x.num_heads <= MAX_GROUP * x.num_key_value_heads)]
                    x = x.copy()
                    x["items"] = x.batch_size * x.num_key_value_heads
                    flops, bytes_ = grouped_roofline(x, s, s, peak, bw)
                    axes = [("items", ITEMS), ("keys", KEYS)]
                else:
                    x = x[x.num_heads.isin(LATENT_HEADS)].copy()
                    flops, bytes_ = latent_roofline(x, s, s, peak, bw)
                    axes = [("num_heads", LATENT_HEADS), ("batch_size", SEQUENCES), ("keys", KEYS)]
                if x.empty:
                    continue
                x["keys"] = x.step + 1
                roof = np.maximum(flops / peak, bytes_ / bw).to_numpy()
                t = table(x, kind, roof, flops.to_numpy(), bytes_.to_numpy(), peak, bw, axes)
                dtypes = f"generation attention, KV cache {dtype}" if kind == "grouped" else f"MLA generation, KV cache {dtype}"
                suffix = f"-d{head_dim}" if head_dim not in (None, 128) else ""
                out.append(
                    dict(
                        t,
                        id=f"{ridge_id}-{kind}-{kv}{suffix}",
                        head_dim=head_dim,
                        hardware=ridge_id,
                        system=system,
                        kind=kind,
                        kv=kv,
                        peak=aic_tables.figure(hw["dense_tflops"][kv]),
                        bandwidth=aic_tables.figure(hw["memory"]["bandwidth_gb_per_s"]),
                        what=dtypes,
                        axes=axes,
                    )
                )
    return out


def fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def render(rows: list[dict], version: str) -> str:
    lines = [
        "# Decode-attention efficiency per device, KV-cache precision and kind (grouped-query or",
        "# multi-head latent), from measured timings. Generated by scripts/import-aic-attention.py (do",
        "# not edit by hand; run it again). Read by ridge-core's catalog loader, which checks every",
        "# table against hardware.toml.",
        "#",
        "# basis_points = 10000 x the median, over the measured calls near each grid point, of roofline /",
        "# (measured - fixed_us): the share of the datasheet roofline (at the peak and bandwidth stated",
        "# with the table; the peak at the KV cache's precision) one decode attention call reached (see",
        "# the script's head). grouped: axes `items` (sequences x key/value heads on the device) and",
        "# `keys` (per sequence), items slowest. latent: axes `heads` (query heads on the device),",
        "# `items` (sequences) and `keys`, heads slowest. fixed_us: each call takes this long on top.",
        "#",
        f"# Source: NVIDIA AIConfigurator's silicon database, aiconfigurator-core {version} on PyPI",
        "# (Apache-2.0, https://github.com/ai-dynamo/aiconfigurator): generation attention and MLA",
        "# generation timed on each system with TensorRT-LLM 1.3.0rc20.",
    ]
    for r in rows:
        axes = dict(r["axes"])
        lines += [
            "",
            "[[attention]]",
            f'id = "{r["id"]}"',
            f'hardware = "{r["hardware"]}"',
            f'kind = "{r["kind"]}"',
            f'kv = "{r["kv"]}"',
            f'source = "NVIDIA AIConfigurator silicon database (aiconfigurator-core {version}, Apache-2.0), '
            f'system {r["system"]}: TensorRT-LLM {VERSION_DIR} {r["what"]}"',
            f"peak_tflops = {fmt(r['peak'])}",
            f"memory_gb_per_s = {fmt(r['bandwidth'])}",
        ]
        if r["head_dim"] is not None:
            lines.append(f"head_dim = {r['head_dim']}")
        lines += [
            f"fixed_us = {r['fixed_us']}",
            f"# ridge / measured over the {r['calls']} measured calls (p10, median, p90): with this table "
            f"{r['fit']}; on the attention fractions {r['before']}",
        ]
        if r["kind"] == "latent":
            lines.append("heads = [" + ", ".join(fmt(v) for v in axes["num_heads"]) + "]")
            lines.append("items = [" + ", ".join(fmt(v) for v in axes["batch_size"]) + "]")
        else:
            lines.append("items = [" + ", ".join(fmt(v) for v in axes["items"]) + "]")
        lines.append("keys = [" + ", ".join(fmt(v) for v in axes["keys"]) + "]")
        width = len(axes["keys"])
        vals = r["values"]
        lines.append("basis_points = [")
        for i in range(0, len(vals), width):
            lines.append("  " + ", ".join(str(v) for v in vals[i : i + width]) + ",")
        lines.append("]")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hardware", default="datasets/hardware.toml")
    ap.add_argument("--out", default="datasets/attention-efficiency.toml")
    ap.add_argument("--check", action="store_true", help="exit 1 if the file would change; write nothing")
    args = ap.parse_args()
    version, _ = aic_tables.database()
    return aic_tables.emit(render(tables(aic_tables.catalog(args.hardware)), version), args.out, args.check)


if __name__ == "__main__":
    sys.exit(main())
