"""What scripts/aiconfigurator-compare.py and scripts/aic_fidelity.py share: AIConfigurator's
model and system names, its quiet logging and versions, model resolution offline, ridge's
quantization presets in its terms, and one aggregated estimate (`estimate_config`)."""

from __future__ import annotations

import logging
import math
import os
import shutil
from importlib import metadata

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
