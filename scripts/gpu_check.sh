#!/usr/bin/env bash
# GPU readiness in one command (issue 16): set up, then run benchmarks/gpu_check.py, which runs
# the CUDA-only tests, trains every model family (float32, AMP, channels-last, torch.compile)
# and, with 2+ GPUs, the DCGAN and StyleGAN data-parallel under torchrun,
# runs the DCGAN step benchmark and the metrics timing, and prints one table.
#   bash scripts/gpu_check.sh                 on a CUDA machine (under 8 minutes on one GPU)
#   bash scripts/gpu_check.sh --dry-run       the same steps, tiny, on the CPU (under a minute)
#   bash scripts/gpu_check.sh --out DIR       also write DIR/gpu_check.json and gpu_check.md
# Exit status: 0 ok; 1 a test or run failed; 2 no CUDA (without --dry-run); 3 a target missed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# data as in scripts/test.sh: $GAN_LESSONS_DATA, else the offline copy beside the checkout
if [ -z "${GAN_LESSONS_DATA:-}" ] && [ -d ../shared/data ]; then
  export GAN_LESSONS_DATA="$(cd ../shared/data && pwd)"
fi
export PYTHONDONTWRITEBYTECODE=1  # nothing written into the repository
exec .venv/bin/python benchmarks/gpu_check.py "$@"
