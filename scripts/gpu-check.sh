#!/usr/bin/env bash
# Measure a real GPU with a ridge binary built elsewhere (the lent device machine cannot build).
# Usage, from the repository root on the GPU machine:
#   scripts/gpu-check.sh [RIDGE_BINARY] [OUT_DIR]
# RIDGE_BINARY defaults to .gl/ridge (what scripts/gpu-prepare.sh leaves), else target/release/ridge.
# It unpacks Vulkan/EGL loader packages from .gl/*.deb when present (see the device notes),
# lists the adapters, runs the standard suite with 30 s of sustained FMA, then the full suite's
# sweep, streams, GEMM shapes and gathers with 15 s of sustained triad (memory heat),
# writes the result files to OUT_DIR, and prints issue 4's targets beside the figures
# (scripts/gpu-targets.py, where python3 is there).
set -euo pipefail
ridge="${1:-.gl/ridge}"
[ -x "$ridge" ] || ridge=target/release/ridge
out="${2:-${OUT:-/tmp/ridge-gpu}}"
mkdir -p "$out"
if ls .gl/*.deb >/dev/null 2>&1 && ! ldconfig -p | grep -q libvulkan; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.sm,power.limit,driver_version --format=csv 2>/dev/null || true
"$ridge" devices
# The SM clock while the suite runs: the FMA target is a share of the peak at the running clock.
smi=""
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu \
    --format=csv,noheader,nounits -lms 250 >"$out/clocks.csv" 2>/dev/null &
  smi=$!
fi
"$ridge" run --suite standard --quiet --out "$out/standard.json" --sustain 30 || true
"$ridge" run --suite full --quiet --filter sweep,stream,gemm,gather --out "$out/full-subset.json" \
  --sustain 15 --sustain-kernel stream.triad || true
if [ -n "$smi" ]; then kill "$smi" 2>/dev/null || true; fi
ls -la "$out"
if command -v python3 >/dev/null && [ -f "$out/standard.json" ]; then
  clocks=()
  if [ -s "$out/clocks.csv" ]; then clocks=(--clocks "$out/clocks.csv"); fi
  python3 "$(dirname "$0")/gpu-targets.py" ${clocks[@]+"${clocks[@]}"} "$out/standard.json" \
    $( [ -f "$out/full-subset.json" ] && echo "$out/full-subset.json")
fi
