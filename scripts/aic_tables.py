"""What scripts/import-aic-gemm.py and scripts/import-aic-moe.py share: where AIConfigurator's
silicon database is, ridge's catalog, and writing a generated file (or checking it is current)."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import pathlib
import tomllib


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
