#!/usr/bin/env python3
"""Distil AIConfigurator's measured collective timings into ridge's collective tables
(`datasets/collectives.toml`).

Not part of CI: it needs the PyPI package `aiconfigurator-core` (Apache-2.0; tested with
0.12.0) with pandas and pyarrow, e.g.

  python3 -m venv /tmp/aic && /tmp/aic/bin/pip install aiconfigurator pandas pyarrow
  /tmp/aic/bin/python scripts/import-aic-collectives.py          # rewrites the file
  /tmp/aic/bin/python scripts/import-aic-collectives.py --check  # exits 1 if the file would change

CI validates the result instead: the catalog loader checks every table (its device, collective,
group, and that its message sizes rise and its times are positive).

The database times collectives inside one node, on 2, 4, 8 (and on some systems 16) devices,
for messages of 128 to 536,870,912 16-bit elements, in powers of 2:

  all-reduce: TensorRT-LLM's own all-reduce (`custom_allreduce`, bf16; release 1.3.0rc20, the
              A100's 1.0.0): what TensorRT-LLM's tensor parallel layers call (vLLM and SGLang
              run custom all-reduce kernels of their own of the same kind, and NCCL beyond them;
              its small messages take 4.5-6 us where NCCL's take 17-25).
  all-gather, reduce-scatter: NCCL (nccl-tests style, fp16; the newest NCCL release the system
              has), whose size is the whole gathered (or reduced) buffer.

A row here is one collective on `devices` devices: `bytes` the whole buffer each device holds
(2 bytes an element; the size ridge's collectives carry) and `us` its measured time, which
includes the kernel's launch. Between sizes ridge interpolates linearly in the logarithms;
below the smallest it holds the smallest's time; beyond the largest it grows in proportion to
the bytes (bandwidth-bound: 8 B200s all-reduced 1 GiB at 730 GB/s of bus bandwidth).

Only devices with a scale-up fabric (an `interconnect` in hardware.toml: NVLink here) are
imported. On PCIe devices (the L40S, the RTX PRO 6000) a collective's time is the server's PCIe
topology's (switches, sockets, peer-to-peer or staged through the host), which the catalog does
not describe: the database's L40S all-reduced 128 MB on 4 devices in 39 ms, 3.4 GB/s, where
the published TensorRT-LLM runs on L40S servers imply far more. Those keep the ring model over
the host link.

All-to-all is not imported: the engines exchange a mixture-of-experts layer's tokens with their
own kernels (TensorRT-LLM's `moe_a2a`, DeepEP), measured by tokens and experts rather than by a
message size; NCCL's all-to-all would time a call they do not make.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

import aic_tables

SYSTEMS = aic_tables.SYSTEMS
ALL_REDUCE_RELEASES = ["1.3.0rc20", "1.0.0"]
NCCL_OPS = {"all_gather": "all-gather", "reduce_scatter": "reduce-scatter"}


def release_key(v: str):
    """A release's sort key: numeric parts first (2.29.2 after 2.27.10)."""
    return [int(p) if p.isdigit() else p for p in v.replace("rc", ".").split(".")]


def rows(frame: pd.DataFrame) -> tuple[list[int], list[float]]:
    """Message bytes and median microseconds per size, smallest first."""
    by = frame.groupby("message_size")["latency"].median().sort_index()
    return [int(s) * 2 for s in by.index], [float(v) * 1000.0 for v in by.values]


def tables(version: str, catalog: dict) -> list[dict]:
    _, data = aic_tables.database()
    out = []
    for system, ridge_id in SYSTEMS.items():
        if "interconnect" not in catalog[ridge_id]:
            continue
        comm = data / system / "comm"
        for release in ALL_REDUCE_RELEASES:
            path = comm / "trtllm" / release / "custom_allreduce_perf.parquet"
            if path.exists():
                frame = pd.read_parquet(path)
                frame = frame[frame["allreduce_dtype"] == "bfloat16"]
                for devices, group in frame.groupby("num_gpus"):
                    size, us = rows(group)
                    out.append(
                        {
                            "hardware": ridge_id,
                            "collective": "all-reduce",
                            "devices": int(devices),
                            "source": f"NVIDIA AIConfigurator silicon database (aiconfigurator-core {version}, "
                            f"Apache-2.0), system {system}: TensorRT-LLM {release} custom all-reduce, bf16",
                            "bytes": size,
                            "us": us,
                        }
                    )
                break
        nccl = sorted((p for p in (comm / "nccl").glob("*/nccl_perf.parquet")), key=lambda p: release_key(p.parent.name))
        if nccl:
            path = nccl[-1]
            frame = pd.read_parquet(path)
            frame = frame[frame["nccl_dtype"] == "half"]
            for op, name in NCCL_OPS.items():
                for devices, group in frame[frame["op_name"] == op].groupby("num_gpus"):
                    size, us = rows(group)
                    out.append(
                        {
                            "hardware": ridge_id,
                            "collective": name,
                            "devices": int(devices),
                            "source": f"NVIDIA AIConfigurator silicon database (aiconfigurator-core {version}, "
                            f"Apache-2.0), system {system}: NCCL {path.parent.name} {op.replace('_', '-')}, fp16",
                            "bytes": size,
                            "us": us,
                        }
                    )
    return out


def render(ts: list[dict], version: str) -> str:
    head = f"""# Measured collectives inside one node: per device, collective and number of devices, the time
# one call takes by its message size. Generated by scripts/import-aic-collectives.py (do not
# edit by hand; run it again). Read by ridge-core's catalog loader, which checks every table
# against hardware.toml.
#
# bytes = the whole buffer each device holds (16-bit elements x 2); us = the measured time of
# one call, launch included (the median where a size was measured more than once). ridge
# interpolates in the logarithms, holds the smallest size's time below it and grows the
# largest's in proportion to the bytes above it.
#
# Source: NVIDIA AIConfigurator's silicon database, aiconfigurator-core {version} on PyPI
# (Apache-2.0, https://github.com/ai-dynamo/aiconfigurator): all-reduce from TensorRT-LLM's own
# all-reduce kernels, all-gather and reduce-scatter from NCCL, timed on each system. Devices
# with a scale-up fabric only (see the script's head).
"""
    parts = [head]
    for t in ts:
        parts.append(
            "\n[[collective]]\n"
            f'id = "{t["hardware"]}-{t["collective"]}-{t["devices"]}"\n'
            f'hardware = "{t["hardware"]}"\n'
            f'collective = "{t["collective"]}"\n'
            f"devices = {t['devices']}\n"
            f'source = "{t["source"]}"\n'
            f"bytes = [{', '.join(str(b) for b in t['bytes'])}]\n"
            f"us = [{', '.join(f'{u:.4g}' for u in t['us'])}]\n"
        )
    return "".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hardware", default="datasets/hardware.toml")
    ap.add_argument("--out", default="datasets/collectives.toml")
    ap.add_argument("--check", action="store_true", help="exit 1 if the file would change; write nothing")
    args = ap.parse_args()
    version, _ = aic_tables.database()
    return aic_tables.emit(render(tables(version, aic_tables.catalog(args.hardware)), version), args.out, args.check)


if __name__ == "__main__":
    sys.exit(main())
