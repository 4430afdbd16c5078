#!/usr/bin/env bash
# Prepare what a lent GPU machine needs, here, before the lease starts (it can neither build nor
# fetch): a release `ridge` without debug sections (the working tree that travels is capped at
# 64 MiB; the unstripped binary is larger) and the Vulkan/EGL loader packages, both in `.gl/`,
# which git ignores. Then, in one device call with carry [".gl"]:
#   scripts/gpu-check.sh .gl/ridge "$OUT"
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gl
cargo build --release -p ridge-bench
strip -o .gl/ridge target/release/ridge
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  lists=/tmp/amd64
  mkdir -p "$lists/partial"
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists")
  apt-get "${o[@]}" update
  (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
.gl/ridge --version
size=$(du -sm .gl | cut -f1)
echo "carry .gl: ${size} MiB (the working tree that travels, .gl included, must stay under 64 MiB)"
if [ "$size" -ge 60 ]; then
  echo "error: .gl is too large to carry" >&2
  exit 1
fi
