#!/usr/bin/env bash
# Measure a real GPU with a ridge binary built elsewhere (the lent device machine cannot build).
# Usage, from the repository root on the GPU machine:
#   scripts/gpu-check.sh [RIDGE_BINARY] [OUT_DIR]
# It unpacks Vulkan/EGL loader packages from .gl/*.deb when present (see the device notes),
# lists the adapters, runs the standard suite (and the full suite's sweep and GEMM shapes),
# writes the result files to OUT_DIR, and prints issue 4's targets beside the figures
# (scripts/gpu-targets.py, where python3 is there).
set -euo pipefail
ridge="${1:-target/release/ridge}"
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
"$ridge" run --suite standard --quiet --out "$out/standard.json" --sustain 30 || true
"$ridge" run --suite full --quiet --filter sweep,stream,gemm,gather --out "$out/full-subset.json" || true
ls -la "$out"
if command -v python3 >/dev/null && [ -f "$out/standard.json" ]; then
  python3 "$(dirname "$0")/gpu-targets.py" "$out/standard.json" $( [ -f "$out/full-subset.json" ] && echo "$out/full-subset.json")
fi
