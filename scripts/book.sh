#!/usr/bin/env bash
# Set up (idempotent) and build the book, executing every notebook. Fails if any cell fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export GAN_LESSONS_DATA="${GAN_LESSONS_DATA:-$(pwd)/../shared/data}"
export MPLBACKEND=Agg
rm -rf _build/html  # a clean build: Sphinx keeps stale copies of changed _static files
.venv/bin/jupyter-book build . -W -n --keep-going
echo
echo "The book is at $(pwd)/_build/html/index.html"
