#!/usr/bin/env bash
# Streams sustained in real time at 5 fps on a GPU: the streams bench with the CUDA provider.
#
# Run on the GPU host from the repository root, after `npm ci` and the CUDA provider install
# (README, "Installation": node node_modules/onnxruntime-node/script/install
# --onnxruntime-node-install=cuda12; CUDA 12 and cuDNN 9). The table says which provider each
# model really ran on: "cpu" there means CUDA did not load and paddock fell back.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null; then
  echo "bench/gpu.sh: nvidia-smi not found: this is no GPU host" >&2
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
nproc | xargs printf 'CPU cores: %s\n'

# The per-frame cost of each model on the GPU first, then the concurrent streams.
PADDOCK_EP=cuda,cpu npm run --silent bench -- inference
PADDOCK_BENCH_EP=cuda,cpu PADDOCK_BENCH_STREAMS="${PADDOCK_BENCH_STREAMS:-1,4,8,12,16,24,32}" npm run --silent bench -- streams
