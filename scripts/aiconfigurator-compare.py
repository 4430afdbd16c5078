#!/usr/bin/env python3
"""Ask NVIDIA AIConfigurator (PyPI `aiconfigurator`, tested with 0.12.0) three
LLM-serving questions and print one JSON object per (question, ISL/OSL scenario).

This is not part of CI: it needs `pip install aiconfigurator` (a venv will do) and a built
`ridge` (`cargo build --release -p ridge-bench`).

Usage (with a python that has aiconfigurator installed):

  python3 scripts/aiconfigurator-compare.py compare --ridge target/release/ridge
        # issue 15's three questions (a debug build, target/debug/ridge, gives the same figures): AIConfigurator's best aggregated configuration, ridge's
        # recommendation, and AIConfigurator's own estimate of ridge's recommendation

  python3 scripts/aiconfigurator-compare.py fidelity --aic .venv/bin/aiconfigurator
        # issue 16: every static-batch row of tests/fidelity/published*.toml AIConfigurator can
        # express (NVIDIA systems in its database; Llama-shaped and Mixtral presets, whose
        # config.json is written from datasets/workloads.toml; bf16/fp16, fp8, fp4), run with
        # `aiconfigurator cli estimate --estimate-mode static` at the row's batch, lengths, TP and
        # precision, beside `ridge estimate --calibrated --batching static --datasheet --json`,
        # with and without --gemm-tables

  python3 scripts/aiconfigurator-compare.py serving-fidelity --ridge target/release/ridge [--workload ID]
        # every serving row of tests/fidelity/serving*.toml at a stated concurrency, or at
        # trtllm-bench's own limits (`limits = "trtllm-bench"`: AIConfigurator at the concurrency
        # and token budget ridge's heuristic gives), beside `ridge estimate --calibrated --datasheet`

  python3 aiconfigurator_compare.py                      # Q1-Q3, trtllm, ISL/OSL 2048/256 and 4000/1000
  python3 aiconfigurator_compare.py questions --backends trtllm,vllm,sglang --quant auto
  python3 aiconfigurator_compare.py estimate --model meta-llama/Meta-Llama-3.1-70B \
        --system h200_sxm --tp 4 --batch 64 --isl 2048 --osl 256 --quant bf16

Everything is taken from AIConfigurator's own Python API:
  * sweeps:   aiconfigurator.cli.api.cli_exp  (same Task objects `aiconfigurator cli default` builds:
              one serving_mode=agg and one serving_mode=disagg experiment)
  * one point: aiconfigurator.cli.api.cli_estimate(mode="agg")  (-> InferenceSession.run_agg)
No numbers are computed here except unit-free bookkeeping (replicas = total_gpus // gpus_per_replica).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("AICONFIGURATOR_LOG_LEVEL", "ERROR")

# --------------------------------------------------------------------------- questions
QUESTIONS = [
    {"id": "Q1", "model": "meta-llama/Meta-Llama-3.1-70B", "system": "h200_sxm", "ttft": 2000.0, "tpot": 50.0},
    {"id": "Q2", "model": "meta-llama/Meta-Llama-3.1-8B", "system": "h100_sxm", "ttft": 500.0, "tpot": 50.0},
    {"id": "Q3", "model": "mistralai/Mixtral-8x7B-v0.1", "system": "h100_sxm", "ttft": 1000.0, "tpot": 50.0},
]
# 2048/256 = comparison scenario; 4000/1000 = `aiconfigurator cli default` own default ISL/OSL.
SCENARIOS = [(2048, 256), (4000, 1000)]
TOTAL_GPUS = 8

from aic_common import (  # noqa: E402 - after the environment is set
    _py,
    _quiet,
    estimate_config,
    quant_overrides,
    resolve_model,
    versions,
)
from aic_fidelity import fidelity, serving_fidelity  # noqa: E402


# --------------------------------------------------------------------------- row formatting
def agg_row(r: dict, total_gpus: int) -> dict:
    gpw = int(r["num_total_gpus"])
    replicas = total_gpus // gpw if gpw else 0
    return {
        "tokens_per_s_per_gpu": _py(r["tokens/s/gpu"]),
        "tokens_per_s_per_gpu_cluster": _py(r.get("tokens/s/gpu_cluster", r["tokens/s/gpu"])),
        "tokens_per_s_per_user": _py(r["tokens/s/user"]),
        "ttft_ms": _py(r["ttft"]),
        "tpot_ms": _py(r["tpot"]),
        "request_latency_ms": _py(r["request_latency"]),
        "concurrency_per_replica": _py(r["concurrency"]),
        "batch_size_per_worker": _py(r["bs"]),
        "replicas": replicas,
        "total_concurrency": _py(r["concurrency"]) * replicas,
        "gpus_per_worker": gpw,
        "total_gpus_used": gpw * replicas,
        "tp": _py(r["tp"]),
        "pp": _py(r["pp"]),
        "attention_dp": _py(r["dp"]),
        "moe_tp": _py(r["moe_tp"]),
        "moe_ep": _py(r["moe_ep"]),
        "parallel": r["parallel"],
        "ctx_tokens_per_step": _py(r.get("ctx_tokens")),
        "quant": {k: r[k] for k in ("gemm", "kvcache", "fmha", "moe", "comm")},
        "memory_gb_per_gpu": _py(r.get("memory")),
        "request_rate_per_replica": _py(r.get("request_rate")),
        "backend": r.get("backend"),
        "backend_version": r.get("version"),
    }


def disagg_row(r: dict, total_gpus: int) -> dict:
    gpr = int(r["num_total_gpus"])  # gpus per replica = p_workers*p_gpus + d_workers*d_gpus
    replicas = total_gpus // gpr if gpr else 0

    def side(p):
        gpus = int(_py(r[f"({p})tp"]) * _py(r[f"({p})pp"]) * _py(r[f"({p})dp"]))
        return {
            "workers": _py(r[f"({p})workers"]),
            "gpus_per_worker": gpus,
            "tp": _py(r[f"({p})tp"]),
            "pp": _py(r[f"({p})pp"]),
            "attention_dp": _py(r[f"({p})dp"]),
            "moe_tp": _py(r[f"({p})moe_tp"]),
            "moe_ep": _py(r[f"({p})moe_ep"]),
            "parallel": r[f"({p})parallel"],
            "batch_size_per_worker": _py(r[f"({p})bs"]),
            "quant": {k: r[f"({p}){k}"] for k in ("gemm", "kvcache", "fmha", "moe", "comm")},
            "memory_gb_per_gpu": _py(r.get(f"({p})memory")),
            "backend": r.get(f"({p})backend"),
            "backend_version": r.get(f"({p})version"),
        }

    return {
        "tokens_per_s_per_gpu": _py(r["tokens/s/gpu"]),
        "tokens_per_s_per_gpu_cluster": _py(r.get("tokens/s/gpu_cluster", r["tokens/s/gpu"])),
        "tokens_per_s_per_user": _py(r["tokens/s/user"]),
        "ttft_ms": _py(r["ttft"]),
        "tpot_ms": _py(r["tpot"]),
        "request_latency_ms": _py(r["request_latency"]),
        "concurrency_per_replica": _py(r["concurrency"]),
        "replicas": replicas,
        "total_concurrency": _py(r["concurrency"]) * replicas,
        "gpus_per_replica": gpr,
        "total_gpus_used": gpr * replicas,
        "request_rate_per_replica": _py(r.get("request_rate")),
        "prefill": side("p"),
        "decode": side("d"),
    }


# --------------------------------------------------------------------------- sweeps
def run_sweep(model, system, ttft, tpot, isl, osl, backend="trtllm", quant="auto", total_gpus=TOTAL_GPUS, top_n=5):
    """Best agg and disagg configs from AIConfigurator's SLA-constrained sweep (cli default equivalent)."""
    from aiconfigurator.cli.api import cli_exp

    _quiet()
    mp = resolve_model(model)
    common_kw = {"total_gpus": total_gpus, "isl": isl, "osl": osl, "ttft": float(ttft), "tpot": float(tpot)}
    qo = quant_overrides(quant, backend)
    # Same Task fields as aiconfigurator.cli.main.build_default_tasks (_make_agg / _make_disagg).
    agg = {"serving_mode": "agg", "model_path": mp, "system_name": system, "backend_name": backend, **common_kw, **qo}
    disagg = {"serving_mode": "disagg", **common_kw}
    for role in ("prefill", "decode"):
        disagg.update({f"{role}_model_path": mp, f"{role}_system_name": system, f"{role}_backend_name": backend})
        disagg.update({f"{role}_{k}": v for k, v in qo.items()})
    cfg = {"exps": ["agg", "disagg"], "agg": agg, "disagg": disagg}
    out = {"backend": backend, "quant_preset": quant, "model_path_used": mp}
    try:
        res = cli_exp(config=cfg, top_n=top_n)
    except BaseException as e:  # noqa: BLE001  (cli may SystemExit)
        out["error"] = f"{type(e).__name__}: {e}"
        return out
    for mode, fmt in (("agg", agg_row), ("disagg", disagg_row)):
        df = res.best_configs.get(mode)
        rows = [] if df is None else [fmt(r, total_gpus) for r in df.to_dict("records")]
        out[f"{mode}_best"] = rows[0] if rows else None
        out[f"{mode}_top"] = rows
        outcome = res.outcomes.get(mode) if getattr(res, "outcomes", None) else None
        if not rows and outcome is not None:
            out[f"{mode}_note"] = str(outcome)
    out["chosen"] = res.chosen_exp
    return out


def run_questions(backends, quant, scenarios, total_gpus, top_n):
    results = []
    for q in QUESTIONS:
        for isl, osl in scenarios:
            obj = {
                "question": q["id"],
                "model": q["model"],
                "system": q["system"],
                "total_gpus": total_gpus,
                "isl": isl,
                "osl": osl,
                "ttft_sla_ms": q["ttft"],
                "tpot_sla_ms": q["tpot"],
                "versions": versions(),
                "results": {},
            }
            for b in backends:
                obj["results"][b] = run_sweep(q["model"], q["system"], q["ttft"], q["tpot"], isl, osl, b, quant, total_gpus, top_n)
            # best over backends (by tokens/s/gpu_cluster, the tool's own ranking key)
            for mode in ("agg", "disagg"):
                cands = [(b, r[f"{mode}_best"]) for b, r in obj["results"].items() if r.get(f"{mode}_best")]
                if cands:
                    b, best = max(cands, key=lambda x: x[1]["tokens_per_s_per_gpu_cluster"])
                    obj[f"{mode}_best"] = {"backend": b, **best}
                else:
                    obj[f"{mode}_best"] = None
            print(json.dumps(obj), flush=True)
            results.append(obj)
    return results


# --------------------------------------------------------------------------- ridge side
RIDGE_WORKLOADS = {"Q1": ("llama-3.1-70b", "h200-sxm"), "Q2": ("llama-3.1-8b", "h100-sxm"), "Q3": ("mixtral-8x7b", "h100-sxm")}


def ridge_pick(ridge, workload, hardware, ttft_ms, tpot_ms, isl, osl, total_gpus):
    """ridge's recommendation: the first row of `ridge match --json` on one device type."""
    import subprocess

    cmd = [ridge, "match", "-w", workload, "-H", hardware, "--ttft", f"{ttft_ms:g}ms", "--tpot", f"{tpot_ms:g}ms",
           "--max-devices", str(total_gpus), "-p", str(isl), "-o", str(osl), "--calibrated", "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    row = json.loads(out)["rows"][0]
    lay = row["layout"]
    return {
        "command": " ".join(cmd),
        "layout": row["layout_text"], "tensor_parallel": lay["tensor_parallel"], "expert_parallel": lay["expert_parallel"],
        "expert_split": lay.get("expert_split", "whole"),
        "requests_in_flight": row["batch"], "tokens_per_s_per_gpu": row["throughput_per_device"],
        "ttft_ms": row["ttft_s"] * 1e3, "tpot_ms": row["tpot_s"] * 1e3,
    }


def compare(ridge, isl=2048, osl=256, total_gpus=TOTAL_GPUS, quant="bf16"):
    """Per question: AIConfigurator's best aggregated configuration (trtllm), ridge's pick,
    AIConfigurator's estimate of ridge's pick, and the two ratios the issue asks about."""
    out = []
    for q in QUESTIONS:
        workload, hardware = RIDGE_WORKLOADS[q["id"]]
        sweep = run_sweep(q["model"], q["system"], q["ttft"], q["tpot"], isl, osl, "trtllm", quant, total_gpus, 1)
        best = sweep.get("agg_best") or {}
        pick = ridge_pick(ridge, workload, hardware, q["ttft"], q["tpot"], isl, osl, total_gpus)
        ep = pick["expert_parallel"]
        if ep > 1:
            # ridge's EP layout: attention data parallel over the devices, experts split whole
            # (AIConfigurator's moe_ep) or each by width (its moe_tp); it counts the batch per
            # attention-DP rank.
            moe_tp, moe_ep = (ep, 1) if pick["expert_split"] == "width" else (1, ep)
            est = estimate_config(q["model"], q["system"], 1, max(1, pick["requests_in_flight"] // ep), isl, osl, quant,
                                  "trtllm", 1, None, ep, moe_tp, moe_ep)
        else:
            est = estimate_config(q["model"], q["system"], pick["tensor_parallel"], pick["requests_in_flight"], isl, osl,
                                  quant, "trtllm")
        row = {
            "question": q["id"], "isl": isl, "osl": osl, "aiconfigurator_best_agg": best, "ridge_pick": pick,
            "aiconfigurator_estimate_of_ridge_pick": est,
            "pick_vs_best": est["tokens_per_s_per_gpu"] / best["tokens_per_s_per_gpu"] if best else None,
            "ridge_vs_aiconfigurator_on_pick": pick["tokens_per_s_per_gpu"] / est["tokens_per_s_per_gpu"],
        }
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


# --------------------------------------------------------------------------- CLI
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        argv = ["questions", *argv]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    qp = sub.add_parser("questions", help="run Q1-Q3 (agg + disagg sweeps)")
    qp.add_argument("--backends", default="trtllm", help="comma list of trtllm,vllm,sglang (default trtllm = aiconfigurator default)")
    qp.add_argument("--quant", default="auto", choices=["auto", "bf16", "fp8"])
    qp.add_argument("--scenarios", default="2048/256,4000/1000", help="comma list of ISL/OSL")
    qp.add_argument("--total-gpus", type=int, default=TOTAL_GPUS)
    qp.add_argument("--top-n", type=int, default=5)
    qp.add_argument("--out", default=None, help="also write all objects (JSON list) to this file")

    ep = sub.add_parser("estimate", help="estimate one agg configuration")
    ep.add_argument("--model", required=True)
    ep.add_argument("--system", required=True)
    ep.add_argument("--tp", type=int, required=True)
    ep.add_argument("--pp", type=int, default=1)
    ep.add_argument("--batch", type=int, required=True)
    ep.add_argument("--isl", type=int, default=2048)
    ep.add_argument("--osl", type=int, default=256)
    ep.add_argument("--quant", default="auto", choices=["auto", "bf16", "fp8"])
    ep.add_argument("--backend", default="trtllm", choices=["trtllm", "vllm", "sglang"])
    ep.add_argument("--ctx-tokens", type=int, default=None)
    ep.add_argument("--attention-dp", type=int, default=1)
    ep.add_argument("--moe-tp", type=int, default=None)
    ep.add_argument("--moe-ep", type=int, default=None)

    cp = sub.add_parser("compare", help="the three questions, ridge against AIConfigurator")
    cp.add_argument("--ridge", default="target/release/ridge", help="the ridge binary")
    cp.add_argument("--isl", type=int, default=2048)
    cp.add_argument("--osl", type=int, default=256)

    fp = sub.add_parser("fidelity", help="the static-batch fidelity rows both can express, ridge's and AIConfigurator's errors")
    fp.add_argument("--aic", default="aiconfigurator", help="the aiconfigurator executable")
    fp.add_argument("--ridge", default="target/debug/ridge", help="the ridge binary")
    fp.add_argument("--json", action="store_true", help="print the rows as JSON")

    sp = sub.add_parser("serving-fidelity",
                        help="the serving fidelity rows at a stated concurrency or trtllm-bench's limits both can express, "
                             "ridge's and AIConfigurator's errors")
    sp.add_argument("--ridge", default="target/debug/ridge", help="the ridge binary")
    sp.add_argument("--json", action="store_true", help="print the rows as JSON")
    sp.add_argument("--workload", help="only the rows of this ridge workload (e.g. deepseek-r1)")

    a = ap.parse_args(argv)
    if a.cmd == "serving-fidelity":
        return serving_fidelity(a.ridge, a.json, a.workload)
    if a.cmd == "fidelity":
        return fidelity(a.aic, a.ridge, a.json)
    if a.cmd == "compare":
        compare(a.ridge, a.isl, a.osl)
        return 0
    if a.cmd == "estimate":
        print(json.dumps(estimate_config(a.model, a.system, a.tp, a.batch, a.isl, a.osl, a.quant, a.backend, a.pp,
                                         a.ctx_tokens, a.attention_dp, a.moe_tp, a.moe_ep)))
        return 0
    scen = [tuple(int(x) for x in s.split("/")) for s in a.scenarios.split(",") if s]
    res = run_questions([b.strip() for b in a.backends.split(",") if b.strip()], a.quant, scen, a.total_gpus, a.top_n)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
