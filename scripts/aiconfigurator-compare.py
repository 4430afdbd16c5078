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
import logging
import math
import os
import shutil
import subprocess
import sys
import warnings
from importlib import metadata

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

MODEL_ALIASES = {
    "llama-3.1-70b": "meta-llama/Meta-Llama-3.1-70B",
    "llama-3.1-8b": "meta-llama/Meta-Llama-3.1-8B",
    "mixtral-8x7b": "mistralai/Mixtral-8x7B-v0.1",
}
SYSTEM_ALIASES = {"h100": "h100_sxm", "h200": "h200_sxm", "b200": "b200_sxm", "a100": "a100_sxm"}


def _quiet():
    for name in ("aiconfigurator", "aiconfigurator_core", ""):
        logging.getLogger(name).setLevel(logging.ERROR)


def versions() -> dict:
    out = {}
    for pkg in ("aiconfigurator", "aiconfigurator-core"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


# --------------------------------------------------------------------------- model resolution
def resolve_model(model: str) -> str:
    """Return something AIConfigurator accepts offline.

    HF ids in AIConfigurator's default/support list load from its bundled
    model_configs.  Some bundled configs (e.g. mistralai/Mixtral-8x7B-v0.1) are
    not in that list, and the CLI would then try to download config.json from
    HuggingFace; for those we materialise the bundled config.json in a local
    directory (<tmp>/ridge-aic-model-configs/<name>/config.json) and pass that path.
    """
    model = MODEL_ALIASES.get(model.lower(), model)
    if os.path.isdir(model):
        return model
    from aiconfigurator.sdk import common
    from aiconfigurator.sdk.utils import _get_model_config_path

    if model in common.get_default_models():
        return model
    cfg_dir = _get_model_config_path()
    cfg = cfg_dir / f"{model.replace('/', '--')}_config.json"
    if not cfg.exists():
        return model  # let aiconfigurator try HF (needs internet)
    import tempfile

    local = os.path.join(tempfile.gettempdir(), "ridge-aic-model-configs", model.split("/")[-1])
    os.makedirs(local, exist_ok=True)
    shutil.copyfile(str(cfg), os.path.join(local, "config.json"))
    qcfg = cfg_dir / f"{model.replace('/', '--')}_hf_quant_config.json"
    if qcfg.exists():
        shutil.copyfile(str(qcfg), os.path.join(local, "hf_quant_config.json"))
    return local


def quant_overrides(quant: str, backend: str) -> dict:
    """auto = what AIConfigurator infers from the checkpoint config (bf16 for the meta-llama / mistralai ids)."""
    if quant in (None, "", "auto"):
        return {}
    if quant in ("bf16", "bfloat16"):
        return {
            "gemm_quant_mode": "bfloat16",
            "moe_quant_mode": "bfloat16",
            "kvcache_quant_mode": "bfloat16",
            "fmha_quant_mode": "bfloat16",
        }
    if quant == "fp8":
        # fp8 weights+activations (per-tensor, dynamic), fp8 KV cache; fp8 FMHA where the perf DB has it.
        return {
            "gemm_quant_mode": "fp8",
            "moe_quant_mode": "fp8",
            "kvcache_quant_mode": "fp8",
            "fmha_quant_mode": "bfloat16" if backend == "vllm" else "fp8",
        }
    raise ValueError(f"unknown quant preset {quant!r} (auto|bf16|fp8)")


def _py(v):
    """numpy scalar -> python, NaN -> None."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return round(v, 3)
    return v


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


# --------------------------------------------------------------------------- single point
def estimate_config(model, system, tp, batch, isl, osl, quant="auto", backend="trtllm", pp=1,
                    ctx_tokens=None, attention_dp=1, moe_tp=None, moe_ep=None):
    """AIConfigurator's estimate for ONE aggregated (IFB) configuration.

    batch = max concurrent requests per worker (= concurrency of that worker).
    ctx_tokens = per-step context-token budget; None -> isl (cli_estimate default).
    The sweep in `cli default` also tries ctx_tokens = 2*isl, 3*isl... (chunked prefill off).
    """
    from aiconfigurator.cli.api import cli_estimate

    _quiet()
    model = MODEL_ALIASES.get(model.lower(), model)
    system = SYSTEM_ALIASES.get(system.lower(), system)
    q = quant if isinstance(quant, dict) else quant_overrides(quant, backend)
    if moe_tp is None and moe_ep is None:
        moe_tp, moe_ep = tp * attention_dp, 1  # MoE default: experts tensor-parallel over the worker (ignored for dense)
    res = cli_estimate(
        resolve_model(model), system, mode="agg", backend_name=backend, isl=isl, osl=osl,
        batch_size=batch, ctx_tokens=ctx_tokens, tp_size=tp, pp_size=pp, attention_dp_size=attention_dp,
        moe_tp_size=moe_tp, moe_ep_size=moe_ep, **q,
    )
    r = res.get()
    sched = (res.per_ops_data or {}).get("scheduling", {})
    out = {
        "model": model, "system": system, "backend": backend, "backend_version": res.backend_version,
        "isl": isl, "osl": osl, "tp": tp, "pp": pp, "attention_dp": attention_dp,
        "moe_tp": _py(r.get("moe_tp")), "moe_ep": _py(r.get("moe_ep")),
        "batch": batch, "ctx_tokens": _py(r.get("ctx_tokens")),
        "quant": {k: r[k] for k in ("gemm", "kvcache", "fmha", "moe", "comm")},
        "ttft_ms": _py(r["ttft"]), "tpot_ms": _py(r["tpot"]),
        "request_latency_ms": _py(r["request_latency"]),
        "tokens_per_s_per_gpu": _py(r["tokens/s/gpu"]), "tokens_per_s_per_user": _py(r["tokens/s/user"]),
        "tokens_per_s": _py(r["tokens/s"]), "concurrency": _py(r["concurrency"]),
        "memory_gb_per_gpu": _py(r.get("memory")),
        "scheduling": {k: _py(v) for k, v in sched.items()},
        "kv_cache_warning": res.kv_cache_warning,
        "versions": versions(),
    }
    return out


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
            # ridge's EP layout: attention data parallel over the devices, experts split whole;
            # AIConfigurator counts the batch per attention-DP rank.
            est = estimate_config(q["model"], q["system"], 1, max(1, pick["requests_in_flight"] // ep), isl, osl, quant,
                                  "trtllm", 1, None, ep, 1, ep)
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


# --------------------------------------------------------------------------- fidelity rows
# ridge hardware id -> AIConfigurator system name.
FIDELITY_SYSTEMS = {
    "h100-sxm": "h100_sxm",
    "h200-sxm": "h200_sxm",
    "a100-sxm-80gb": "a100_sxm",
    "b200": "b200_sxm",
    "b300": "b300_sxm",
    "gb200": "gb200",
    "gb300": "gb300",
    "l40s": "l40s",
    "l4": "l4",
    "h100-pcie": "h100_pcie",
    "rtx-pro-6000": "rtx_pro_6000_server",
}

# ridge precision -> AIConfigurator's (gemm, kv cache, fmha) modes. AIConfigurator has no fp16
# mode: fp16 rows run as bfloat16 (the same width and peak on these parts).
FIDELITY_QUANT = {
    "fp16": ("bfloat16", "bfloat16", "bfloat16"),
    "bf16": ("bfloat16", "bfloat16", "bfloat16"),
    "fp8": ("fp8", "fp8", "fp8"),
    "fp4": ("nvfp4", "fp8", "fp8"),
}


def fidelity_hf_config(t: dict) -> dict:
    """A Hugging Face config.json for a ridge transformer preset (Llama and Mixtral shapes)."""
    heads = t["heads"]
    cfg = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": t["hidden"],
        "intermediate_size": t["ffn"],
        "num_attention_heads": heads,
        "num_key_value_heads": t.get("kv_heads", heads),
        "num_hidden_layers": t["layers"],
        "vocab_size": t["vocab"],
        "max_position_embeddings": t["max_context"],
        "head_dim": t.get("head_dim", t["hidden"] // heads),
        "hidden_act": "silu",
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "tie_word_embeddings": bool(t.get("tied_embeddings", False)),
        "torch_dtype": "bfloat16",
    }
    moe = t.get("moe")
    if moe:
        cfg.update(
            model_type="mixtral",
            architectures=["MixtralForCausalLM"],
            num_local_experts=moe["experts"],
            num_experts_per_tok=moe["top_k"],
        )
    return cfg


def fidelity_expressible(row: dict, presets: dict) -> str | None:
    """Why AIConfigurator cannot run a row, or None."""
    if row.get("metric") not in ("output_tokens_per_s_per_device", "first_token_ms"):
        return "metric"
    if row["hardware"] not in FIDELITY_SYSTEMS:
        return "hardware"
    t = presets.get(row["workload"], {}).get("transformer")
    if not t or t.get("architecture") != "decoder" or t.get("ffn_kind") != "gated" or t.get("norm") != "rmsnorm":
        return "model"
    if t.get("moe") and set(t["moe"]) - {"experts", "top_k"}:
        return "model"
    if (row.get("precision") or row.get("activations")) not in FIDELITY_QUANT:
        return "precision"
    return None


def fidelity_aic(aic: str, model_dir: str, row: dict) -> float:
    precision = row.get("precision") or row.get("activations")
    gemm, kv, fmha = FIDELITY_QUANT[precision]
    first = row["metric"] == "first_token_ms"
    osl = 2 if first else row["output_tokens"]
    cmd = [
        aic, "cli", "estimate", "--model-path", model_dir, "--system", FIDELITY_SYSTEMS[row["hardware"]],
        "--backend", "trtllm", "--estimate-mode", "static", "--batch-size", str(row["batch"]),
        "--isl", str(row["prompt_tokens"]), "--osl", str(osl), "--tp-size", str(row.get("devices", 1)),
        "--gemm-quant-mode", gemm, "--kvcache-quant-mode", kv, "--fmha-quant-mode", fmha,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    values = {}
    for line in out.stdout.splitlines():
        if ":" in line:
            key, _, value = line.strip().partition(":")
            values[key.strip()] = value.strip()
    if "TTFT" not in values:
        raise RuntimeError(f"aiconfigurator gave no estimate: {out.stderr.strip().splitlines()[-1:]}")
    if first:
        return float(values["TTFT"].split()[0])
    return float(values["tokens/s/gpu"].replace(",", ""))


def fidelity_ridge(ridge: str, row: dict, tables: bool = False) -> float:
    precision = row.get("precision") or row.get("activations")
    cmd = [
        ridge, "estimate", "--workload", row["workload"], "--hardware", row["hardware"],
        "--devices", str(row.get("devices", 1)), "--batch", str(row["batch"]),
        "--prompt-tokens", str(row["prompt_tokens"]), "--output-tokens", str(row["output_tokens"]),
        "--precision", precision, "--calibrated", "--batching", "static", "--datasheet", "--json",
    ] + (["--gemm-tables"] if tables else [])
    e = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    phases = {p["phase"]: p for p in e["phases"]}
    if row["metric"] == "first_token_ms":
        return phases["prefill"]["seconds"] * 1e3
    seconds = phases["prefill"]["seconds"] + phases["decode"]["seconds"]
    return row["batch"] * row["output_tokens"] / seconds / row.get("devices", 1)


def error(o: dict, key: str) -> str:
    """A compared row's signed error of `key` against its published figure."""
    return f"{(o[key] / o['published'] - 1) * 100:+.1f}%"


def median_error(out: list, key: str) -> float:
    """The median absolute error of `key` over compared rows, percent."""
    import statistics

    return statistics.median(abs(o[key] / o["published"] - 1) for o in out) * 100


def fidelity(aic: str, ridge: str, as_json: bool) -> int:
    """Every static-batch fidelity row AIConfigurator can express: ridge's and AIConfigurator's
    errors against the published figure, and their medians."""
    import tempfile
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    presets = {w["id"]: w for w in tomllib.loads((root / "datasets/workloads.toml").read_text())["workload"]}
    rows = []
    for path in sorted((root / "tests/fidelity").glob("published*.toml")):
        for r in tomllib.loads(path.read_text()).get("result", []):
            if r.get("role") != "calibration":
                rows.append((path.name, r))
    skipped = {}
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for file, r in rows:
            why = fidelity_expressible(r, presets)
            if why:
                skipped[why] = skipped.get(why, 0) + 1
                continue
            model_dir = os.path.join(tmp, r["workload"])
            if not os.path.exists(model_dir):
                os.makedirs(model_dir)
                Path(model_dir, "config.json").write_text(json.dumps(fidelity_hf_config(presets[r["workload"]]["transformer"])))
            try:
                aic_value = fidelity_aic(aic, model_dir, r)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                skipped["aiconfigurator failed"] = skipped.get("aiconfigurator failed", 0) + 1
                print(f"{r['hardware']} {r['workload']} b{r['batch']}: {e}", file=sys.stderr)
                continue
            out.append({
                "file": file, "row": r, "published": r["published"], "ridge": fidelity_ridge(ridge, r),
                "ridge_tables": fidelity_ridge(ridge, r, tables=True), "aic": aic_value,
            })
    if as_json:
        print(json.dumps({"rows": out, "left_out": skipped, "versions": versions()}, indent=1, default=str))
        return 0
    print("| hardware | workload | devices | batch | in/out | precision | metric | published | ridge | error "
          "| ridge --gemm-tables | error | AIConfigurator | error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for o in out:
        r = o["row"]

        print(
            f"| {r['hardware']} | {r['workload']} | {r.get('devices', 1)} | {r['batch']} | "
            f"{r['prompt_tokens']}/{r['output_tokens']} | {r.get('precision') or r.get('activations')} | "
            f"{r['metric']} | {o['published']} | {o['ridge']:.1f} | {error(o, 'ridge')} | "
            f"{o['ridge_tables']:.1f} | {error(o, 'ridge_tables')} | {o['aic']:.1f} | {error(o, 'aic')} |"
        )
    if out:
        print(
            f"\n{len(out)} rows both express: median absolute error ridge {median_error(out, 'ridge'):.1f}% "
            f"(with --gemm-tables {median_error(out, 'ridge_tables'):.1f}%), AIConfigurator {median_error(out, 'aic'):.1f}%"
        )
    print(f"rows left out: {skipped}; {versions()}")
    return 0


# --------------------------------------------------------------------------- serving rows
# ridge precision (and KV cache) of a serving row -> AIConfigurator's quantization modes. DeepSeek
# checkpoints are block-scaled: fp8 rows run fp8_block GEMMs; the fp4 rows NVFP4 experts beside
# fp8_block attention GEMMs, as NVIDIA's DeepSeek-R1-0528-FP4 checkpoint holds them; their
# attention runs in bf16.
def serving_quant(row: dict) -> dict:
    kv = row.get("kv_cache") or ("fp8" if row["precision"] == "fp8" else row["precision"])
    kv_mode = {"fp8": "fp8", "fp16": "bfloat16", "bf16": "bfloat16"}[kv]
    if row["workload"].startswith("deepseek"):
        moe = {"fp8": "fp8_block", "fp4": "nvfp4"}[row["precision"]]
        # Its MLA attention has no fp8 context kernels in the database for the H200: bf16 there.
        return {"gemm_quant_mode": "fp8_block", "moe_quant_mode": moe, "kvcache_quant_mode": kv_mode,
                "fmha_quant_mode": "bfloat16"}
    mode = {"bf16": "bfloat16", "fp16": "bfloat16", "fp8": "fp8", "fp4": "nvfp4"}[row["precision"]]
    return {"gemm_quant_mode": mode, "moe_quant_mode": mode, "kvcache_quant_mode": kv_mode,
            "fmha_quant_mode": "fp8" if kv_mode == "fp8" else "bfloat16"}


SERVING_MODELS = dict(MODEL_ALIASES, **{"deepseek-r1": "deepseek-ai/DeepSeek-R1"})
SERVING_METRICS = {  # the row's metric -> (AIConfigurator's field, ridge's serving point field, scale to the row's unit)
    "ttft_ms": ("ttft_ms", "ttft_s", 1e3),
    "tpot_ms": ("tpot_ms", "tpot_s", 1e3),
    "e2e_ms": ("request_latency_ms", "e2e_s", 1e3),
    "output_tokens_per_s": ("tokens_per_s", "output_tokens_per_s", 1.0),
    "output_tokens_per_s_per_device": ("tokens_per_s_per_gpu", "output_tokens_per_s_per_device", 1.0),
}


def serving_ridge(ridge: str, row: dict) -> float:
    """ridge's figure for a serving row as the fidelity suite estimates it: calibrated datasheet
    ceilings (`--datasheet`: not the bundled H200 measurement)."""
    kv = row.get("kv_cache") or ("fp8" if row["precision"] == "fp8" else row["precision"])
    cmd = [
        ridge, "estimate", "--workload", row["workload"], "--hardware", row["hardware"],
        "--devices", str(row["devices"]), "--prompt-tokens", str(row["prompt_tokens"]),
        "--output-tokens", str(row["output_tokens"]), "--precision", row["precision"], "--kv-cache", kv,
        "--calibrated", "--datasheet", "--concurrency", str(row["concurrency"]), "--json",
    ]
    cmd += ["--expert-parallel"] if row.get("expert_parallel") else []
    cmd += ["--max-sequences", str(row["max_sequences"])] if row.get("max_sequences") else []
    cmd += ["--token-budget", str(row["token_budget"])] if row.get("token_budget") else []
    e = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    _, field, scale = SERVING_METRICS[row["metric"]]
    return e["serving"]["point"][field] * scale


def serving_aic(row: dict) -> float:
    n = row["devices"]
    model = resolve_model(SERVING_MODELS[row["workload"]])
    system = FIDELITY_SYSTEMS[row["hardware"]]
    if row.get("expert_parallel"):
        # Attention data parallel over the devices, experts whole: AIConfigurator's batch is a rank's.
        r = estimate_config(model, system, 1, row["concurrency"] // n, row["prompt_tokens"], row["output_tokens"],
                            serving_quant(row), attention_dp=n, moe_tp=1, moe_ep=n)
    else:
        r = estimate_config(model, system, n, row["concurrency"], row["prompt_tokens"], row["output_tokens"],
                            serving_quant(row))
    field, _, _ = SERVING_METRICS[row["metric"]]
    return float(r[field])


def serving_fidelity(ridge: str, as_json: bool) -> int:
    """Every serving fidelity row at a stated concurrency that AIConfigurator can express (NVIDIA
    systems, models it has): ridge's and AIConfigurator's errors against the published figure."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out, skipped = [], {}
    for path in sorted((root / "tests/fidelity").glob("serving*.toml")):
        for r in tomllib.loads(path.read_text()).get("serving", []):
            why = None
            if not r.get("concurrency") or r.get("request_rate") or r.get("batch"):
                why = "not a stated concurrency"
            elif r.get("role") == "calibration":
                why = "calibration row"
            elif r["hardware"] not in FIDELITY_SYSTEMS:
                why = "hardware"
            elif r["workload"] not in SERVING_MODELS:
                why = "model"
            if why:
                skipped[why] = skipped.get(why, 0) + 1
                continue
            try:
                aic_value = serving_aic(r)
            except Exception as e:  # noqa: BLE001 - AIConfigurator raises many kinds; the row is left out, said
                skipped["aiconfigurator failed"] = skipped.get("aiconfigurator failed", 0) + 1
                print(f"{r['hardware']} {r['workload']} C{r['concurrency']} {r['metric']}: {e}", file=sys.stderr)
                continue
            out.append({"file": path.name, "row": r, "published": r["published"], "ridge": serving_ridge(ridge, r),
                        "aic": aic_value})
    if as_json:
        print(json.dumps({"rows": out, "left_out": skipped, "versions": versions()}, indent=1, default=str))
        return 0
    print("| hardware | workload | devices | in/out | precision | concurrency | metric | published | ridge | error "
          "| AIConfigurator | error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for o in out:
        r = o["row"]

        print(
            f"| {r['hardware']} | {r['workload']} | {r['devices']} | {r['prompt_tokens']}/{r['output_tokens']} | "
            f"{r['precision']} | {r['concurrency']} | {r['metric']} | {o['published']} | {o['ridge']:.1f} | "
            f"{error(o, 'ridge')} | {o['aic']:.1f} | {error(o, 'aic')} |"
        )
    if out:
        print(f"\n{len(out)} rows both express: median absolute error ridge {median_error(out, 'ridge'):.1f}%, "
              f"AIConfigurator {median_error(out, 'aic'):.1f}%")
    print(f"rows left out: {skipped}; {versions()}")
    return 0


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
                        help="the serving fidelity rows at a stated concurrency both can express, ridge's and AIConfigurator's errors")
    sp.add_argument("--ridge", default="target/debug/ridge", help="the ridge binary")
    sp.add_argument("--json", action="store_true", help="print the rows as JSON")

    a = ap.parse_args(argv)
    if a.cmd == "serving-fidelity":
        return serving_fidelity(a.ridge, a.json)
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
