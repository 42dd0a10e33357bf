#!/usr/bin/env bash
# Set up (idempotent), lint, build the book, then run every test: unit and property tests,
# nbval over every notebook, and the browser tests of the built HTML.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export GAN_LESSONS_REQUIRE_BOOK=1  # a missing built book or browser fails the browser tests
# data: $GAN_LESSONS_DATA if set, else the project's offline copy beside the checkout, else the
# package's default cache folder (downloads when online)
if [ -z "${GAN_LESSONS_DATA:-}" ] && [ -d ../shared/data ]; then
  export GAN_LESSONS_DATA="$(cd ../shared/data && pwd)"
fi
echo "[test] ruff"
.venv/bin/ruff check .
echo "[test] building the book (the browser tests read _build/html)"
bash scripts/book.sh
echo "[test] pytest"
# One worker per core (JOBS=1: one), each test file and notebook whole on one worker, each
# worker's PyTorch on its share of the cores.
JOBS=${JOBS:-$(nproc)}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(( $(nproc) / JOBS > 0 ? $(nproc) / JOBS : 1 ))}
.venv/bin/python -m pytest tests book --nbval-lax --nbval-current-env \
  --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider \
  -n "$JOBS" --dist loadfile --durations=15 "$@"
