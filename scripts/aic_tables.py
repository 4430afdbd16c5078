"""What scripts/import-aic-gemm.py, scripts/import-aic-moe.py and scripts/import-aic-attention.py
share: where AIConfigurator's silicon database is, ridge's catalog, and writing a generated file (or checking it is current)."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import pathlib
import tomllib

# AIConfigurator's system directory -> ridge's catalog id: every system the importers read (a
# system without a table's operation at the imported engine version is skipped).
SYSTEMS = {
    "a100_sxm": "a100-sxm-80gb",
    "h100_sxm": "h100-sxm",
    "h200_sxm": "h200-sxm",
    "b200_sxm": "b200",
    "b300_sxm": "b300",
    "gb200": "gb200",
    "gb300": "gb300",
    "l40s": "l40s",
    "rtx_pro_6000_server": "rtx-pro-6000",
}


def figure(v):
    """A catalog figure's value: a number, or a table with `value`."""
    return float(v["value"] if isinstance(v, dict) else v)


def database() -> tuple[str, pathlib.Path]:
    """aiconfigurator-core's version and its `systems/data` directory."""
    version = importlib.metadata.version("aiconfigurator-core")
    data = pathlib.Path(str(importlib.resources.files("aiconfigurator_core"))) / "systems" / "data"
    return version, data


def catalog(path: str) -> dict:
    """ridge's hardware catalog by id."""
    with open(path, "rb") as f:
        return {h["id"]: h for h in tomllib.load(f)["hardware"]}


def emit(text: str, out: str, check: bool) -> int:
    """Writes `text` to `out`; with `check`, writes nothing and exits 1 if the file would change."""
    path = pathlib.Path(out)
    if check:
        same = path.exists() and path.read_text() == text
        print(f"{path}: {'up to date' if same else 'would change'}")
        return 0 if same else 1
    path.write_text(text)
    print(f"wrote {path} ({len(text)} bytes)")
    return 0
