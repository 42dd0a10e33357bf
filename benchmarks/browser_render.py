"""Render time of the live latent explorer (gan_lessons.browser_widget) in headless Chromium.

One render is what a slider move costs the reader: onnxruntime-web (single-threaded WASM) runs
the exported generator, and the images are drawn to the canvas (``lastRenderMs`` of
book/_static/gan_explorer.js). Measured for the bundled MNIST DCGAN, one batch of 64 images at
28 x 28, and the bundled CIFAR-10 DCGAN, one 32 x 32 image; the median over ``--renders``
renders after ``--warmup`` renders. Target (issue 18): < 50 ms each on a 2-core CPU.

The page is served from a temporary folder laid out as the book (``book/bench.html`` beside
``_static/`` with gan_explorer.js and the vendored runtime; ``bash scripts/setup.sh`` vendors
it) on 127.0.0.1; every other request is refused. Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/browser_render.py
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

import torch

from gan_lessons.browser_widget import browser_explorer
from gan_lessons.pretrained import load_pretrained

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "book" / "_static"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CASES = [("dcgan_mnist", 64), ("dcgan_cifar10", 1)]  # (bundled generator, images per render)

MEASURE = """async ([index, warmup, renders]) => {
    const el = document.querySelectorAll(".gan-lessons-browser-explorer")[index];
    el.scrollIntoView();
    await el.ganExplorer.ready;
    const hook = el.ganExplorer, times = [], walls = [], runs = [];
    for (let i = 0; i < warmup + renders; i++) {
        hook.state.offsets[0] = (i % 7) - 3;  // a new latent every time, as a slider move
        const start = performance.now();
        await hook.render();
        if (i < warmup) continue;
        times.push(hook.lastRenderMs);
        walls.push(performance.now() - start);
        runs.push(hook.state.runMs);
    }
    const canvas = el.querySelector("canvas");
    return {times, walls, runs, canvas: [canvas.width, canvas.height]};
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _site(folder: Path) -> list[str]:
    """Write the page and its models into ``folder``; returns the case labels."""
    import ipywidgets

    (folder / "book").mkdir()
    static = folder / "_static"
    static.mkdir()
    for name in ("vendor", "gan_explorer.js"):
        (static / name).symlink_to(STATIC / name)
    cells, labels = [], []
    for name, batch in CASES:
        g = load_pretrained(name)["generator"].eval()
        z0 = torch.randn(batch, g.latent_dim, generator=torch.Generator().manual_seed(0))
        shown = browser_explorer(g, z0, model_dir=static / "models",
                                 fallback=ipywidgets.HTML("(fallback)"))
        c, h, w = shown.config["image_shape"]
        labels.append(f"{name}: {batch} x {c}x{h}x{w}")
        cells.append(shown.html)
    page = (f'<!DOCTYPE html><html data-content_root="../"><head><meta charset="utf-8"></head>'
            f'<body><main style="max-width: 700px">{"".join(cells)}</main></body></html>')
    (folder / "book" / "bench.html").write_text(page)
    return labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=25, help="timed renders per model")
    parser.add_argument("--warmup", type=int, default=5, help="untimed renders first")
    args = parser.parse_args(argv)
    if not (STATIC / "vendor" / "ort" / "ort.wasm.min.mjs").exists():
        print("no vendored onnxruntime-web: run bash scripts/setup.sh", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        labels = _site(Path(tmp))
        handler = functools.partial(_Quiet, directory=tmp)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/book/bench.html"
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = chromium.new_page()
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith("http://127.0.0.1") else route.abort())
            page.goto(url, wait_until="load")
            page.wait_for_function("""() => Array.from(document.querySelectorAll(
                ".gan-lessons-browser-explorer")).every((el) => el.ganExplorer)""")
            results = [page.evaluate(MEASURE, [i, args.warmup, args.renders])
                       for i in range(len(CASES))]
            chromium.close()
        httpd.shutdown()
        httpd.server_close()

    print(f"render time (model run + canvas draw) over {args.renders} renders after "
          f"{args.warmup}, ms; 'model': the median model run alone, 'wall': the median render "
          f"with the Promise round trip")
    print(f"{'model':<32} {'canvas':>9} {'median':>7} {'min':>6} {'max':>6} {'model':>6} "
          f"{'wall':>6}")
    for label, result in zip(labels, results, strict=True):
        times = result["times"]
        canvas = "x".join(map(str, result["canvas"]))
        print(f"{label:<32} {canvas:>9} {statistics.median(times):7.1f} {min(times):6.1f} "
              f"{max(times):6.1f} {statistics.median(result['runs']):6.1f} "
              f"{statistics.median(result['walls']):6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
