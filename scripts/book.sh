#!/usr/bin/env bash
# Set up (idempotent) and build the book, executing every notebook. Fails if any cell fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# data: $GAN_LESSONS_DATA if set, else the project's offline copy beside the checkout, else the
# package's default cache folder (downloads when online)
if [ -z "${GAN_LESSONS_DATA:-}" ] && [ -d ../shared/data ]; then
  export GAN_LESSONS_DATA="$(cd ../shared/data && pwd)"
fi
# A clean build every time: otherwise Sphinx skips unchanged notebooks (so they are not
# re-executed against the current package) and keeps stale copies of changed _static files.
rm -rf _build
# jupyter-book build, executing the notebooks in parallel (one per core; JOBS=1: one at a time)
.venv/bin/python scripts/build_book.py . -W -n --keep-going
echo
echo "The book is at $(pwd)/_build/html/index.html"
