"""The fidelity comparisons of scripts/aiconfigurator-compare.py (`fidelity`, `serving-fidelity`):
ridge and AIConfigurator on the published rows of tests/fidelity/ both can express."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from aic_common import MODEL_ALIASES, estimate_config, resolve_model, versions

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


def json_or_head(out: list, skipped: dict, as_json: bool, columns: list[str]) -> bool:
    """Prints the rows as JSON (True), or the head of their Markdown table (False)."""
    if as_json:
        print(json.dumps({"rows": out, "left_out": skipped, "versions": versions()}, indent=1, default=str))
        return True
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    return False


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
    if json_or_head(out, skipped, as_json, ["hardware", "workload", "devices", "batch", "in/out", "precision", "metric",
                                            "published", "ridge", "error", "ridge --gemm-tables", "error",
                                            "AIConfigurator", "error"]):
        return 0
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
    kv = row.get("kv_cache") or ("fp8" if row["precision"] in ("fp8", "fp4") else row["precision"])
    kv_mode = {"fp8": "fp8", "fp16": "bfloat16", "bf16": "bfloat16"}[kv]
    if row["workload"].startswith("deepseek"):
        moe = {"fp8": "fp8_block", "fp4": "nvfp4"}[row["precision"]]
        # Its MLA attention has no fp8 context kernels in the database for the H200: bf16 there.
        return {"gemm_quant_mode": "fp8_block", "moe_quant_mode": moe, "kvcache_quant_mode": kv_mode,
                "fmha_quant_mode": "bfloat16"}
    if row["workload"].startswith("gpt-oss"):
        # The MXFP4 checkpoint: bf16 GEMMs beside MXFP4 experts, which AIConfigurator times with
        # fp8 (MXFP8) inputs on Blackwell (its TensorRT-LLM default there) and bf16 inputs on
        # Hopper (the only MXFP4 MoE kernel its Hopper data holds).
        blackwell = row["hardware"] in ("b200", "b300", "gb200", "gb300", "rtx-pro-6000")
        return {"gemm_quant_mode": "bfloat16", "moe_quant_mode": "w4a8_mxfp4_mxfp8" if blackwell else "w4a16_mxfp4",
                "kvcache_quant_mode": kv_mode, "fmha_quant_mode": "fp8" if kv_mode == "fp8" else "bfloat16"}
    mode = {"bf16": "bfloat16", "fp16": "bfloat16", "fp8": "fp8", "fp4": "nvfp4"}[row["precision"]]
    return {"gemm_quant_mode": mode, "moe_quant_mode": mode, "kvcache_quant_mode": kv_mode,
            "fmha_quant_mode": "fp8" if kv_mode == "fp8" else "bfloat16"}


SERVING_MODELS = dict(MODEL_ALIASES, **{
    "deepseek-r1": "deepseek-ai/DeepSeek-R1",
    "qwen3-235b-a22b": "Qwen/Qwen3-235B-A22B",
    "gpt-oss-20b": "openai/gpt-oss-20b",
    "gpt-oss-120b": "openai/gpt-oss-120b",
    "llama-4-maverick": "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
})
SERVING_METRICS = {  # the row's metric -> (AIConfigurator's field, ridge's serving point field, scale to the row's unit)
    "ttft_ms": ("ttft_ms", "ttft_s", 1e3),
    "tpot_ms": ("tpot_ms", "tpot_s", 1e3),
    "e2e_ms": ("request_latency_ms", "e2e_s", 1e3),
    "output_tokens_per_s": ("tokens_per_s", "output_tokens_per_s", 1.0),
    "output_tokens_per_s_per_device": ("tokens_per_s_per_gpu", "output_tokens_per_s_per_device", 1.0),
}


def load_label(row: dict) -> str:
    """A serving row's load as the tables print it: a concurrency, an offline run of its
    requests, or the engine full."""
    if row.get("concurrency"):
        return f"C{row['concurrency']}"
    return f"run of {row['requests']}" if row.get("requests") else "full"


def serving_ridge(ridge: str, row: dict) -> tuple[float, dict]:
    """ridge's figure for a serving row as the fidelity suite estimates it: calibrated datasheet
    ceilings (`--datasheet`: not the bundled H200 measurement); with it, ridge's serving JSON (the
    engine limits and the concurrency a `limits = "trtllm-bench"` row runs at)."""
    full = row.get("limits") == "trtllm-bench"
    kv = row.get("kv_cache") or (None if full else "fp8" if row["precision"] == "fp8" else row["precision"])
    cmd = [
        ridge, "estimate", "--workload", row["workload"], "--hardware", row["hardware"],
        "--devices", str(row["devices"]), "--prompt-tokens", str(row["prompt_tokens"]),
        "--output-tokens", str(row["output_tokens"]), "--precision", row["precision"],
        "--calibrated", "--datasheet", "--json",
    ]
    # An offline row with its run's requests runs to its end, as the suite runs it; else the
    # engine full (or the stated concurrency).
    if row.get("requests") and not row.get("concurrency"):
        cmd += ["--requests", str(row["requests"])]
    else:
        cmd += ["--concurrency", "full" if full else str(row["concurrency"])]
    cmd += ["--kv-cache", kv] if kv else []
    cmd += ["--activations", row["activations"]] if row.get("activations") else []
    cmd += ["--wide-attention", row["wide_attention"]] if row.get("wide_attention") else []
    cmd += ["--engine", "trtllm-bench"] if full else []
    cmd += ["--expert-parallel"] if row.get("expert_parallel") else []
    cmd += ["--max-sequences", str(row["max_sequences"])] if row.get("max_sequences") else []
    cmd += ["--token-budget", str(row["token_budget"])] if row.get("token_budget") else []
    e = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    _, field, scale = SERVING_METRICS[row["metric"]]
    return e["serving"]["point"][field] * scale, e["serving"]


def serving_aic(row: dict, ridge_serving: dict) -> float:
    """AIConfigurator's figure for a serving row. A `limits = "trtllm-bench"` row states no
    concurrency: it runs at the concurrency and token budget ridge's trtllm-bench heuristic gives
    (the same engine for both, so the two differ only in their step times), no more than the
    run's requests. AIConfigurator has no finite run: its figure is that engine's steady state,
    where ridge's steps the row's run to its end."""
    n = row["devices"]
    model = resolve_model(SERVING_MODELS[row["workload"]])
    system = FIDELITY_SYSTEMS[row["hardware"]]
    concurrency, ctx_tokens = row.get("concurrency"), None
    if row.get("limits") == "trtllm-bench":
        concurrency = min(ridge_serving["max_concurrency"], row.get("requests") or ridge_serving["max_concurrency"])
        ctx_tokens = ridge_serving["engine"]["token_budget"]
    if row.get("expert_parallel"):
        # Attention data parallel over the devices, experts whole: AIConfigurator's batch is a rank's.
        r = estimate_config(model, system, 1, max(concurrency // n, 1), row["prompt_tokens"], row["output_tokens"],
                            serving_quant(row), attention_dp=n, moe_tp=1, moe_ep=n,
                            ctx_tokens=ctx_tokens and max(ctx_tokens // n, 1))
    else:
        r = estimate_config(model, system, n, concurrency, row["prompt_tokens"], row["output_tokens"],
                            serving_quant(row), ctx_tokens=ctx_tokens)
    field, _, _ = SERVING_METRICS[row["metric"]]
    return float(r[field])


def serving_fidelity(ridge: str, as_json: bool, workload: str | None = None) -> int:
    """Every serving fidelity row at a stated concurrency or at trtllm-bench's own limits that
    AIConfigurator can express (NVIDIA systems, models it has): ridge's and AIConfigurator's errors
    against the published figure."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out, skipped = [], {}
    for path in sorted((root / "tests/fidelity").glob("serving*.toml")):
        for r in tomllib.loads(path.read_text()).get("serving", []):
            why = None
            full = r.get("limits") == "trtllm-bench"
            if workload and r["workload"] != workload:
                continue
            if not (r.get("concurrency") or full) or r.get("request_rate") or r.get("batch"):
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
                ridge_value, ridge_serving = serving_ridge(ridge, r)
            except subprocess.CalledProcessError as e:  # e.g. more in flight than the KV cache holds
                skipped["ridge refused"] = skipped.get("ridge refused", 0) + 1
                print(f"{r['hardware']} {r['workload']} {load_label(r)}: {e.stderr.strip()}",
                      file=sys.stderr)
                continue
            try:
                aic_value = serving_aic(r, ridge_serving)
            except Exception as e:  # noqa: BLE001 - AIConfigurator raises many kinds; the row is left out, said
                skipped["aiconfigurator failed"] = skipped.get("aiconfigurator failed", 0) + 1
                print(f"{r['hardware']} {r['workload']} {load_label(r)} {r['metric']}: {e}", file=sys.stderr)
                continue
            out.append({"file": path.name, "row": r, "published": r["published"], "ridge": ridge_value,
                        "aic": aic_value})
    if json_or_head(out, skipped, as_json, ["hardware", "workload", "devices", "in/out", "precision", "load",
                                            "metric", "published", "ridge", "error", "AIConfigurator", "error"]):
        return 0
    for o in out:
        r = o["row"]

        print(
            f"| {r['hardware']} | {r['workload']} | {r['devices']} | {r['prompt_tokens']}/{r['output_tokens']} | "
            f"{r['precision']} | {load_label(r)} | {r['metric']} | {o['published']} | {o['ridge']:.1f} | "
            f"{error(o, 'ridge')} | {o['aic']:.1f} | {error(o, 'aic')} |"
        )
    if out:
        print(f"\n{len(out)} rows both express: median absolute error ridge {median_error(out, 'ridge'):.1f}%, "
              f"AIConfigurator {median_error(out, 'aic'):.1f}%")
    print(f"rows left out: {skipped}; {versions()}")
    return 0
