#!/usr/bin/env python3
"""Distil AIConfigurator's measured GEMM timings into ridge's GEMM efficiency tables
(`datasets/gemm-efficiency.toml`).

Not part of CI: it needs the PyPI package `aiconfigurator-core` (Apache-2.0; tested with
0.12.0) with pandas and pyarrow, e.g.

  python3 -m venv /tmp/aic && /tmp/aic/bin/pip install aiconfigurator pandas pyarrow
  /tmp/aic/bin/python scripts/import-aic-gemm.py            # rewrites datasets/gemm-efficiency.toml
  /tmp/aic/bin/python scripts/import-aic-gemm.py --check    # exits 1 if the file would change

CI validates the result instead: the catalog loader checks every table (its device, precision,
grid, values, and that the datasheet figures it was made against are the catalog's).

What it computes, per device and precision, at every point of one grid of GEMM shapes
C[M,N] = A[M,K] . B[K,N] (M the tokens, N and K the weight's dimensions):

  efficiency = roofline / measured, in basis points (ten-thousandths), rounded, where
  roofline   = max(2 M N K / peak, ((M K + K N) s + 2 M N) / bandwidth)

with peak and bandwidth the catalog's datasheet figures (datasets/hardware.toml), s the bytes
of one element at the precision (bf16 2, fp8 1, fp4 4.25/8 as ridge stores it) and the output in
bf16. A measurement faster than the roofline (small operands the L2 cache holds between
repetitions, as a model's weights streamed layer after layer are not) is capped at the roofline
(10000), and the count of such points is written beside the table. `measured` is the fastest
of the engines' GEMM timings at that shape (the database holds the GEMM paths of TensorRT-LLM,
vLLM and SGLang, each at its newest version here): ridge models what the device delivers with
the best kernel a shipping engine uses. Every grid point is a measured shape; none is filled in.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import pandas as pd

import aic_tables

SYSTEMS = aic_tables.SYSTEMS
# AIConfigurator's GEMM dtype -> ridge's precision and the bytes of one element.
DTYPES = {"bfloat16": ("bf16", 2.0), "fp8": ("fp8", 1.0), "nvfp4": ("fp4", 4.25 / 8)}
# What ridge imports by default: bf16 only. The database's fp8 and nvfp4 timings have a floor of
# 4 to 12 µs per call where bf16's is 2 (they include the per-call quantization of activations,
# which engines fuse into the kernel before), and with them the fidelity suite got worse (static
# decoders 14.9% -> 22.4%, serving latency 17.3% -> 20.5% median error): fp8 and fp4 GEMMs keep
# the documented fractions until the quantization is timed on its own. `--precisions` imports them.
DEFAULT_PRECISIONS = "bf16"
# The grid: powers of two, every one measured on every system.
M = [2**i for i in range(16)]
NK = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 51200]




def newest(versions: list[pathlib.Path]) -> pathlib.Path:
    def key(p: pathlib.Path):
        parts = []
        for piece in p.name.replace("rc", ".").replace("post", ".").split("."):
            parts.append(int(piece) if piece.isdigit() else -1)
        return parts

    return max(versions, key=key)


def tables(data: pathlib.Path, catalog: dict, wanted: set[str]) -> list[dict]:
    out = []
    for system, ridge_id in SYSTEMS.items():
        hw = catalog[ridge_id]
        frames, engines = [], []
        for engine_dir in sorted((data / system / "gemm").iterdir()):
            version = newest([p for p in engine_dir.iterdir() if (p / "gemm_perf.parquet").exists()])
            frame = pd.read_parquet(version / "gemm_perf.parquet")
            frames.append(frame)
            engines.append(f"{engine_dir.name} {version.name}")
        d = pd.concat(frames)
        best = d.groupby(["gemm_dtype", "m", "n", "k"])["latency"].min()
        bandwidth = aic_tables.figure(hw["memory"]["bandwidth_gb_per_s"]) * 1e9
        for dtype, (precision, size) in DTYPES.items():
            if precision not in wanted or dtype not in best.index.get_level_values(0):
                continue
            peak = aic_tables.figure(hw["dense_tflops"][precision]) * 1e12
            t = best.loc[dtype]
            basis_points, capped = [], 0
            for m in M:
                for n in NK:
                    for k in NK:
                        if (m, n, k) not in t.index:
                            sys.exit(f"{system} {dtype}: no measurement at M={m} N={n} K={k}")
                        seconds = t.loc[(m, n, k)] * 1e-3  # the database's latencies are in ms
                        roofline = max(2 * m * n * k / peak, ((m * k + k * n) * size + 2 * m * n) / bandwidth)
                        value = round(10000 * roofline / seconds)
                        capped += value > 10000
                        basis_points.append(min(10000, max(1, value)))
            out.append(
                {
                    "hardware": ridge_id,
                    "precision": precision,
                    "system": system,
                    "engines": ", ".join(engines),
                    "peak_tflops": peak / 1e12,
                    "memory_gb_per_s": bandwidth / 1e9,
                    "basis_points": basis_points,
                    "capped": capped,
                }
            )
    return out


def render(rows: list[dict], version: str) -> str:
    def number(x: float) -> str:
        return f"{x:g}"

    lines = [
        "# GEMM efficiency per device and precision, from measured timings. Generated by",
        "# scripts/import-aic-gemm.py (do not edit by hand; run it again). Read by ridge-core's catalog",
        "# loader, which checks every table against hardware.toml.",
        "#",
        "# basis_points = 10000 roofline / measured at each grid point, where roofline = max(2MNK / peak,",
        "# ((MK + KN) s + 2MN) / bandwidth) at the datasheet peak and bandwidth stated with the table,",
        "# s the element's bytes (bf16 2, fp8 1, fp4 4.25/8) and the output in bf16. Values are in",
        "# M-major order, then N, then K. measured = the fastest engine's timing at that shape. A",
        "# measurement faster than the roofline (operands held in the L2 cache between repetitions,",
        "# as a model's weights streamed layer after layer are not) is capped at 10000.",
        "#",
        f"# Source: NVIDIA AIConfigurator's silicon database, aiconfigurator-core {version} on PyPI",
        "# (Apache-2.0, https://github.com/ai-dynamo/aiconfigurator): per-GEMM latencies measured on each",
        "# system with the GEMM paths of TensorRT-LLM, vLLM and SGLang.",
    ]
    for r in rows:
        lines += [
            "",
            "[[gemm]]",
            f'id = "{r["hardware"]}-{r["precision"]}"',
            f'hardware = "{r["hardware"]}"',
            f'precision = "{r["precision"]}"',
            f'source = "NVIDIA AIConfigurator silicon database (aiconfigurator-core {version}, Apache-2.0), '
            f'system {r["system"]}: {r["engines"]}"',
            f"peak_tflops = {number(r['peak_tflops'])}",
            f"memory_gb_per_s = {number(r['memory_gb_per_s'])}",
            f"m = [{', '.join(map(str, M))}]",
            f"n = [{', '.join(map(str, NK))}]",
            f"k = [{', '.join(map(str, NK))}]",
            f"# {r['capped']} grid points measured faster than the roofline, capped at 10000" if r["capped"] else None,
            "basis_points = [",
        ]
        lines = [x for x in lines if x is not None]
        per_m = len(NK) * len(NK)
        for i in range(0, len(r["basis_points"]), per_m):
            chunk = r["basis_points"][i : i + per_m]
            lines.append("  " + ", ".join(map(str, chunk)) + ",")
        lines.append("]")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if the file would change; write nothing")
    ap.add_argument("--out", default="datasets/gemm-efficiency.toml")
    ap.add_argument("--hardware", default="datasets/hardware.toml")
    ap.add_argument(
        "--precisions",
        default=DEFAULT_PRECISIONS,
        help=f"comma-separated ridge precisions to import (of bf16, fp8, fp4; default {DEFAULT_PRECISIONS})",
    )
    args = ap.parse_args()
    version, data = aic_tables.database()
    hardware = aic_tables.catalog(args.hardware)
    wanted = set(args.precisions.split(","))
    unknown = wanted - {p for p, _ in DTYPES.values()}
    if unknown:
        ap.error(f"unknown precision(s) {', '.join(sorted(unknown))}: choose from bf16, fp8, fp4")
    return aic_tables.emit(render(tables(data, hardware, wanted), version), args.out, args.check)

if __name__ == "__main__":
    sys.exit(main())
