#!/usr/bin/env bash
# Set up everything the book and the tests need; idempotent (a second run takes seconds).
#   bash scripts/setup.sh            Python venv, pinned packages, offline JS/MathJax assets
#   bash scripts/setup.sh --browser  ... plus Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}

# 1. virtual environment with the pinned packages (re-installed only when requirements change)
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment .venv"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing pinned packages (first run: a few minutes, about 5 GB for torch)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r requirements.txt
  "$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
else
  echo "[setup] Python packages up to date"
fi

# 2. JavaScript the rendered book serves itself instead of loading from a CDN
VENDOR="$ROOT/book/_static/vendor"
HTML_MANAGER=@jupyter-widgets/html-manager@1.0.15
REQUIREJS=requirejs@2.3.8
if [ ! -f "$VENDOR/embed-amd.js" ] || [ ! -f "$VENDOR/require.js" ] || [ ! -f "$VENDOR/mathjax/tex-chtml.js" ]; then
  echo "[setup] fetching offline JS assets ($HTML_MANAGER, $REQUIREJS) and MathJax 3"
  command -v npm >/dev/null || { echo "[setup] npm is needed for the widget assets: apt-get install -y npm" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$HTML_MANAGER" "$REQUIREJS" >/dev/null)
  mkdir -p "$tmp/hm" "$tmp/rq" "$VENDOR.tmp"
  tar -xzf "$tmp"/jupyter-widgets-html-manager-*.tgz -C "$tmp/hm"
  tar -xzf "$tmp"/requirejs-*.tgz -C "$tmp/rq"
  cp "$tmp/hm/package/dist/embed-amd.js" "$VENDOR.tmp/"
  cp "$tmp/hm/package/dist/"*.{woff,woff2,ttf,eot,svg} "$VENDOR.tmp/"  # font-awesome, next to embed-amd.js
  cp "$tmp/rq/package/require.js" "$VENDOR.tmp/"
  mathjax_src=$("$VENV/bin/python" -c "import mathjax, os; print(os.path.join(os.path.dirname(mathjax.__file__), 'static', 'mathjax', 'es5'))")
  cp -r "$mathjax_src" "$VENDOR.tmp/mathjax"
  rm -rf "$VENDOR" && mv "$VENDOR.tmp" "$VENDOR"  # appears whole or not at all
else
  echo "[setup] offline JS assets present"
fi

# 2b. onnxruntime-web for the live latent explorers (book/_static/gan_explorer.js): only the
# plain single-threaded WASM backend (no WebGPU/JSEP/WebGL builds), about 15 MB
ORT_WEB=onnxruntime-web@1.31.1
ORT_DIR="$VENDOR/ort"
ORT_FILES="ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm"
ort_ok=1  # every file there, and from the pinned version (a new pin fetches again)
for f in $ORT_FILES; do [ -f "$ORT_DIR/$f" ] || ort_ok=0; done
[ "$(cat "$ORT_DIR/VERSION" 2>/dev/null)" = "$ORT_WEB" ] || ort_ok=0
if [ "$ort_ok" = 0 ]; then
  echo "[setup] fetching $ORT_WEB (WASM backend)"
  command -v npm >/dev/null || { echo "[setup] npm is needed for onnxruntime-web: apt-get install -y npm" >&2; exit 1; }
  ort_tmp=$(mktemp -d)
  trap 'rm -rf "$ort_tmp" "${tmp:-}"' EXIT  # (also the folder of the block above, if any)
  (cd "$ort_tmp" && npm pack --silent "$ORT_WEB" >/dev/null)
  rm -rf "$ORT_DIR.tmp" && mkdir -p "$ort_tmp/pkg" "$ORT_DIR.tmp"
  tar -xzf "$ort_tmp"/onnxruntime-web-*.tgz -C "$ort_tmp/pkg"
  for f in $ORT_FILES; do cp "$ort_tmp/pkg/package/dist/$f" "$ORT_DIR.tmp/"; done
  echo "$ORT_WEB" > "$ORT_DIR.tmp/VERSION"
  rm -rf "$ORT_DIR" && mv "$ORT_DIR.tmp" "$ORT_DIR"  # appears whole or not at all
else
  echo "[setup] onnxruntime-web present"
fi

# 3. the browser for the browser tests (Debian's chromium; Playwright's own download fails offline)
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null; then
  echo "[setup] installing chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "[setup] done"
