#!/usr/bin/env bash
# Set up (idempotent), lint, build the book, then run every test: unit and property tests,
# nbval over every notebook, and the browser tests of the built HTML.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export GAN_LESSONS_DATA="${GAN_LESSONS_DATA:-$(pwd)/../shared/data}"
export MPLBACKEND=Agg
echo "[test] ruff"
.venv/bin/ruff check .
echo "[test] building the book (the browser tests read _build/html)"
bash scripts/book.sh
echo "[test] pytest"
.venv/bin/python -m pytest tests book --nbval-lax --nbval-current-env \
  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider "$@"
