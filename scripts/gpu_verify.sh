#!/usr/bin/env bash
# GPU verification in one command: every shipped spec on CUDA, figures in DIR/gpu_verify.{md,json}.
# Needs torch with CUDA, onnx and onnxruntime (and optionally torchvision for the cross-check).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-results}
PYTHONUNBUFFERED=1 python3 scripts/gpu_verify.py "$out" "${@:2}"
