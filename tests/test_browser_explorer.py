"""The live latent explorer (gan_lessons.browser_widget + book/_static/gan_explorer.js): the
Python side, then the page in Debian's Chromium driven by Playwright.

No book is built: a small site in a temporary folder mirrors the book's layout
(``book/<page>.html`` beside ``_static/`` holding gan_explorer.js, the vendored onnxruntime-web
and the widget manager), each page holding what ``browser_explorer`` displays. It is served on
127.0.0.1 with every other request blocked. The browser tests skip without Chromium or the
vendored runtime (``bash scripts/setup.sh``), unless ``GAN_LESSONS_REQUIRE_BOOK=1``.
"""

from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import math
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from test_book_browser import CHROMIUM, CHROMIUM_ARGS, LoadedPage, _QuietHandler

from gan_lessons.browser_widget import (
    FALLBACK_CLASS,
    PALETTE,
    BrowserExplorer,
    browser_explorer,
)
from gan_lessons.latent import slerp
from gan_lessons.models import (
    ConditionalGANConfig,
    ConditionalGenerator,
    ConvAutoencoder,
    ConvAutoencoderConfig,
    DCGANConfig,
    DCGANGenerator,
    StyleGANConfig,
    StyleGANGenerator,
)
from gan_lessons.widgets import images_to_png

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "book" / "_static"
ORT = STATIC / "vendor" / "ort"
WIDGET_JS = ["offline-widgets.js", "vendor/require.js", "vendor/embed-amd.js"]  # as the book


def _seeded(make, seed: int = 0, gain: float = 1.0):
    """``make()`` in eval mode, from a fixed seed, its weight matrices scaled by ``gain`` (a
    DCGAN's N(0, 0.02) init draws flat grey images; an image a slider visibly changes needs
    larger weights)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = make().eval()
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim > 1:
                param.mul_(gain)
    return model


def tiny_dcgan() -> DCGANGenerator:
    return _seeded(lambda: DCGANGenerator(DCGANConfig(image_size=16, channels=3, latent_dim=6,
                                                      width=4, max_width=8)), gain=8.0)


def tiny_conditional() -> ConditionalGenerator:
    return _seeded(lambda: ConditionalGenerator(ConditionalGANConfig(
        num_classes=3, image_size=16, channels=1, latent_dim=4, width=4, max_width=8)), gain=8.0)


def tiny_stylegan() -> StyleGANGenerator:
    return _seeded(lambda: StyleGANGenerator(StyleGANConfig(
        image_size=16, channels=1, z_dim=4, w_dim=4, width=2, max_width=4)))


def tiny_autoencoder() -> ConvAutoencoder:
    return _seeded(lambda: ConvAutoencoder(ConvAutoencoderConfig(image_size=8, width=2)))


Z4 = torch.randn(4, 6, generator=torch.Generator().manual_seed(1))  # the DCGAN page's 4 samples
# the 2-D autoencoder's plane backdrop: 40 points of class 3 at (-2, -2) (repeated, so their
# pixels take the class colour fully), 40 of class 1 at (2, -2), one each of classes 0 and 2
BACKDROP = torch.tensor([[-2.0, -2.0]] * 40 + [[2.0, -2.0]] * 40 + [[0.5, 2.5], [-0.5, 2.5]])
BACKDROP_LABELS = [3] * 40 + [1] * 40 + [0, 2]


@pytest.fixture(scope="module")
def model_dir(request, tmp_path_factory) -> Path:
    """A ``_static/models`` folder kept in pytest's cache: models are named by a hash of their
    weights, so a later run reuses the exports (seconds each)."""
    cache = getattr(request.config, "cache", None)
    base = cache.mkdir("gan_lessons_browser") if cache else tmp_path_factory.mktemp("cache")
    folder = base / "_static" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --------------------------------------------------------------------------- Python side


def test_browser_explorer_exports_once_and_emits_config(model_dir):
    g = tiny_dcgan()
    first = browser_explorer(g, Z4, torch.eye(6)[:2], ["a", "b"], model_dir=model_dir, nrow=2)
    again = browser_explorer(g, Z4, model_dir=model_dir, positions=3)
    assert isinstance(first, BrowserExplorer)
    assert first.model_path == again.model_path  # named by the weights: no second file
    assert first.model_path.parent == model_dir
    assert first.model_path.suffix == ".onnx"
    mtime = first.model_path.stat().st_mtime_ns
    browser_explorer(g, Z4, model_dir=model_dir, positions=3)
    assert first.model_path.stat().st_mtime_ns == mtime  # reused, not exported again
    config = first.config
    assert config["model"] == f"models/{first.model_path.name}"  # relative to _static
    assert config["kind"] == "gan"
    assert config["inputs"] == ["z"]
    assert config["image_shape"] == [3, 16, 16]
    assert config["batch"] == 4
    assert config["nrow"] == 2
    assert [d["name"] for d in config["directions"]] == ["a", "b"]
    assert config["directions"][1]["vector"] == [0, 1, 0, 0, 0, 0]
    assert np.allclose(config["z0"], Z4.flatten().numpy(), atol=1e-6)
    assert config["fallback_class"] in first.fallback._dom_classes
    assert config["fallback_class"].startswith(FALLBACK_CLASS)
    assert f'id="gan-explorer-{config["id"]}"' in first.html
    assert "hidden" in first.html
    assert config["id"] != again.config["id"]  # two explorers on a page do not collide
    other = browser_explorer(_seeded(lambda: DCGANGenerator(g.config), seed=1, gain=8.0),
                             model_dir=model_dir)
    assert other.model_path != first.model_path  # other weights, another file


def test_displaying_shows_the_html_then_the_fallback(model_dir, monkeypatch):
    import IPython.display

    shown = browser_explorer(tiny_dcgan(), Z4, model_dir=model_dir, positions=3)
    outputs = []
    monkeypatch.setattr(IPython.display, "display", outputs.append)
    shown._ipython_display_()
    assert [type(o).__name__ for o in outputs] == ["HTML", "VBox"]
    assert outputs[0].data == shown.html
    assert outputs[1] is shown.fallback


def test_browser_explorer_config_escapes_script_end(model_dir):
    g = tiny_conditional()
    shown = browser_explorer(g, classes=["</script><b>x", "1", "2"], model_dir=model_dir)
    assert shown.html.count("</script>") == 2  # the config's "</" is escaped
    config_json = shown.html.split('-config">', 1)[1].split("</script>", 1)[0]
    assert json.loads(config_json)["class_names"][0] == "</script><b>x"
    assert shown.config["inputs"] == ["z", "labels"]
    assert shown.config["num_classes"] == 3


def test_browser_explorer_without_static_shows_only_the_fallback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./_static here
    shown = browser_explorer(tiny_dcgan(), positions=3)
    assert shown.html == ""
    assert shown.model_path is None
    assert shown.fallback is not None
    assert not any(tmp_path.iterdir())  # nothing written


def test_browser_explorer_default_model_dir_is_static_models(tmp_path, monkeypatch, model_dir):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "models").symlink_to(model_dir)  # the cached exports
    monkeypatch.chdir(tmp_path)
    shown = browser_explorer(tiny_autoencoder(), positions=3)
    assert shown.model_path.parent == Path("_static", "models")
    assert shown.config["model"] == f"models/{shown.model_path.name}"
    assert shown.config["kind"] == "decoder"
    assert shown.config["plane"] == {"extent": [-3.0, 3.0, -3.0, 3.0]}  # a 2-D latent


def test_plane_backdrop_goes_into_the_config(model_dir):
    points = torch.tensor([[0.12345, -1.0], [2.0, 0.5], [-1.5, 1.25]])
    shown = browser_explorer(tiny_autoencoder(), model_dir=model_dir, positions=3,
                             plane_points=points, plane_labels=np.array([2, 0, 2]))
    assert shown.config["plane"] == {
        "extent": [-3.0, 3.0, -3.0, 3.0], "points": [0.123, -1.0, 2.0, 0.5, -1.5, 1.25],
        "labels": [2, 0, 2], "palette": list(PALETTE[:3])}
    plain = browser_explorer(tiny_autoencoder(), model_dir=model_dir, positions=3,
                             plane_points=points.numpy())
    assert "labels" not in plain.config["plane"]  # one colour, no legend
    assert len(plain.config["plane"]["points"]) == 6


def test_only_a_jupyter_kernel_tells_the_page_where_static_is(tmp_path, monkeypatch,
                                                              model_dir):
    """A kernel that a Jupyter server started (``JPY_SESSION_NAME`` set) puts ``_static``'s
    local path in the config, for the page's ``/files/`` route; a book build leaves it out."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "_static").mkdir()
    (tmp_path / "real" / "_static" / "models").symlink_to(model_dir)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path / "link")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    built = browser_explorer(tiny_dcgan(), Z4, positions=3)
    assert built.config["server_static"] is None
    assert str(tmp_path) not in built.html  # no local path in the built book
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "link" / "chapter.ipynb"))
    lab = browser_explorer(tiny_dcgan(), Z4, positions=3)
    # the path as the server sees it (through the link) and as it is on disk
    assert lab.config["server_static"]["paths"] == [(tmp_path / "link" / "_static").as_posix(),
                                                    (tmp_path / "real" / "_static").as_posix()]
    monkeypatch.setenv("JPY_SESSION_NAME", "chapter.ipynb")  # an older server's relative path
    paths = browser_explorer(tiny_dcgan(), Z4, positions=3).config["server_static"]["paths"]
    assert paths == [(tmp_path / "real" / "_static").as_posix()]
    assert lab.config["server_static"]["home"] == Path.home().as_posix()
    assert "jupyter-config-data" in lab.html
    assert "/files/" in lab.html


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"generator": torch.nn.Linear(2, 2)}, TypeError, "generator must have an int attribute"),
    ({"z0": torch.zeros(2, 5)}, ValueError, "z0 must have shape (6,) or (N, 6)"),
    ({"z0": torch.zeros(300, 6)}, ValueError, "1 <= N <= 256"),
    ({"model_dir": "/tmp/not-static"}, ValueError, "model_dir must be inside a folder named"),
    ({"plane_extent": (0, 1, 0, 1)}, ValueError, "plane_extent needs a 2-D latent"),
    ({"classes": ["a"]}, ValueError, "classes must be None"),
    ({"fallback": "x"}, TypeError, "fallback must be an ipywidgets widget"),
])
def test_browser_explorer_rejects_bad_arguments(kwargs, error, fragment):
    kwargs = {"generator": tiny_dcgan(), **kwargs}
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        browser_explorer(**kwargs)


# --------------------------------------------------------------------------- the test site


def _require_browser() -> None:
    if Path(CHROMIUM).exists() and (ORT / "ort.wasm.min.mjs").exists():
        return
    message = ("no /usr/bin/chromium or no vendored onnxruntime-web in book/_static/vendor/ort: "
               "run bash scripts/setup.sh --browser")
    if os.environ.get("GAN_LESSONS_REQUIRE_BOOK") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _page(explorers: list[BrowserExplorer], *, spacer_px: int = 0) -> str:
    """A page laid out as the book's: the widget manager in <head>, each explorer's HTML output
    followed by its fallback's widget view, below ``spacer_px`` of text."""
    from ipywidgets import embed

    data = embed.embed_data(views=[e.fallback for e in explorers])
    head = "".join(f'<script src="../_static/{js}"></script>' for js in WIDGET_JS)
    cells = "".join(
        f'<div class="cell_output"><div class="output text_html">{e.html}</div>'
        f'<script type="application/vnd.jupyter.widget-view+json">{json.dumps(view)}</script>'
        f"</div>" for e, view in zip(explorers, data["view_specs"], strict=True))
    state = json.dumps(data["manager_state"]).replace("</", "<\\/")
    return (f'<!DOCTYPE html><html lang="en" data-content_root="../"><head><meta charset="utf-8">'
            f'<script type="application/vnd.jupyter.widget-state+json">{state}</script>{head}'
            f'</head><body><main style="max-width: 700px">'
            f'<div id="spacer" style="height: {spacer_px}px">text</div>{cells}</main></body></html>')


@pytest.fixture(scope="module")
def site(tmp_path_factory, model_dir):
    """``book/main.html`` (a DCGAN explorer of 4 images, far below the fold),
    ``book/broken.html`` (the same, its model file missing) and ``book/kinds.html``
    (conditional, StyleGAN and 2-D decoder explorers)."""
    _require_browser()
    root = tmp_path_factory.mktemp("site")
    (root / "book").mkdir()
    static = root / "_static"
    static.mkdir()
    for name in ("vendor", "gan_explorer.js", "offline-widgets.js"):
        (static / name).symlink_to(STATIC / name)
    (static / "models").symlink_to(model_dir)
    main = browser_explorer(tiny_dcgan(), Z4, torch.eye(6)[:2], nrow=2, scale=4,
                            model_dir=model_dir, positions=3)
    (root / "book" / "main.html").write_text(_page([main], spacer_px=4000))
    main.html = main.html.replace(main.config["model"], "models/missing.onnx")
    (root / "book" / "broken.html").write_text(_page([main]))
    kinds = [browser_explorer(tiny_conditional(), model_dir=model_dir, positions=3),
             browser_explorer(tiny_stylegan(), model_dir=model_dir, positions=3),
             browser_explorer(tiny_autoencoder(), model_dir=model_dir, positions=3,
                              plane_points=BACKDROP, plane_labels=BACKDROP_LABELS)]
    (root / "book" / "kinds.html").write_text(_page(kinds))
    return root


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def launch(site):
    """``launch(extra_args)``: a Chromium (closed at the end of the module)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    browsers = []
    with sync_api.sync_playwright() as playwright:
        def _launch(extra_args: list[str]):
            browsers.append(playwright.chromium.launch(executable_path=CHROMIUM,
                                                       args=CHROMIUM_ARGS + extra_args))
            return browsers[-1]

        yield _launch
        for chromium in browsers:
            chromium.close()


@pytest.fixture(scope="module")
def browser(launch):
    return launch([])


class RecordedPage(LoadedPage):
    """A LoadedPage that also records the URL of every request the page makes."""

    def __init__(self, browser, url: str):
        self.requested: list[str] = []
        super().__init__(browser, url)

    def _route(self, route):
        self.requested.append(route.request.url)
        super()._route(route)


LIVE = ".gan-lessons-browser-explorer"


# waits for mount (gan_explorer.js loads after the page), then for the model: its first render,
# or null where it failed to load
SETTLED = """async (el) => {
    while (!el.ganExplorer) await new Promise((resolve) => setTimeout(resolve, 50));
    return el.ganExplorer.ready.then(() => el.ganExplorer.render(), () => null);
}"""


def _explorer(page, index: int = 0):
    """Scroll the index-th live explorer into view and wait until its model has loaded."""
    handle = page.locator(LIVE).nth(index)
    handle.scroll_into_view_if_needed()
    handle.evaluate(SETTLED)
    return handle


def _rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _canvas(handle) -> np.ndarray:
    """The explorer's image canvas as an (H, W, 3) uint8 array (read back as a PNG: lossless,
    and its pixels are opaque)."""
    url = handle.evaluate("(el) => el.querySelector('canvas.gan-explorer-images').toDataURL()")
    return _rgb(base64.b64decode(url.split(",", 1)[1]))


def _set_latent(handle, z: torch.Tensor) -> np.ndarray:
    handle.evaluate("(el, z) => { el.ganExplorer.setLatent(z); return el.ganExplorer.render(); }",
                    z.tolist())
    return _canvas(handle)


def _png(images: torch.Tensor, nrow: int, scale: int) -> np.ndarray:
    """What the static explorers show for ``images``, as an (H, W, 3) uint8 array."""
    return _rgb(images_to_png(images, nrow=nrow, scale=scale))


@pytest.fixture(scope="module")
def main_page(browser, server):
    loaded = RecordedPage(browser, f"{server}/book/main.html")
    onnx_before_scroll = [url for url in loaded.requested if url.endswith(".onnx")]
    handle = _explorer(loaded.page)
    loaded.onnx_before_scroll = onnx_before_scroll
    loaded.handle = handle
    yield loaded
    loaded.close()


# --------------------------------------------------------------------------- browser tests


@pytest.mark.browser
def test_model_loads_only_when_scrolled_into_view(main_page):
    assert main_page.onnx_before_scroll == []
    assert any(url.endswith(".onnx") for url in main_page.requested)  # after scrolling
    assert main_page.handle.evaluate("(el) => el.ganExplorer.state.status") == "ready"


@pytest.mark.browser
def test_model_and_runtime_load_from_static_with_nothing_external(main_page):
    main_page._wait_until_quiet()
    loaded = [url.split("?")[0].split("/", 3)[3] for url in main_page.requested]
    assert "_static/gan_explorer.js" in loaded
    assert "_static/vendor/ort/ort.wasm.min.mjs" in loaded
    assert "_static/vendor/ort/ort-wasm-simd-threaded.wasm" in loaded
    assert any(url.startswith("_static/models/gan-") and url.endswith(".onnx") for url in loaded)
    assert main_page.blocked == []
    assert main_page.failed == []
    assert main_page.errors == []
    # the live explorer replaced the static one, whose widget the manager had drawn
    assert main_page.page.locator(LIVE).is_visible()
    fallback = main_page.page.locator("[class*=gan-lessons-fallback-]").first
    fallback.wait_for(state="attached", timeout=30_000)  # drawn by the widget manager ...
    assert not fallback.is_visible()  # ... and hidden by the live explorer


@pytest.mark.browser
def test_canvas_equals_pytorch_for_a_fixed_z(main_page):
    z = torch.randn(4, 6, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = _png(tiny_dcgan()(z), nrow=2, scale=4)
    drawn = _set_latent(main_page.handle, z)
    assert drawn.shape == expected.shape
    assert np.abs(drawn.astype(int) - expected.astype(int)).max() <= 2
    assert main_page.handle.evaluate("(el) => el.ganExplorer.lastRenderMs") > 0


@pytest.mark.browser
def test_moving_a_slider_changes_the_canvas(main_page):
    handle, page = main_page.handle, main_page.page
    before = _set_latent(handle, Z4)
    slider = handle.get_by_label("dir 0", exact=True)
    slider.focus()
    page.keyboard.press("End")  # the keyboard moves it: offset +span
    handle.evaluate("(el) => el.ganExplorer.render()")
    assert handle.evaluate("(el) => el.ganExplorer.state.offsets") == [3, 0]
    after = _canvas(handle)
    assert np.abs(after.astype(int) - before.astype(int)).max() > 10
    z = Z4.clone()
    z[:, 0] += 3
    with torch.no_grad():
        expected = _png(tiny_dcgan()(z), nrow=2, scale=4)
    assert np.abs(after.astype(int) - expected.astype(int)).max() <= 2


@pytest.mark.browser
@pytest.mark.parametrize("path", ["slerp", "lerp"])
def test_interpolation_ends_are_samples_a_and_b(main_page, path):
    handle, page = main_page.handle, main_page.page
    a = _set_latent(handle, Z4)
    handle.get_by_label("path").select_option(path)
    t = handle.get_by_label("t (A → B)")
    t.focus()
    page.keyboard.press("End")
    handle.evaluate("(el) => el.ganExplorer.render()")
    at_1 = _canvas(handle)
    page.keyboard.press("Home")
    handle.evaluate("(el) => el.ganExplorer.render()")
    assert np.array_equal(_canvas(handle), a)
    b = torch.tensor(handle.evaluate("(el) => Array.from(el.ganExplorer.state.b)")).view(4, 6)
    assert np.array_equal(_set_latent(handle, b), at_1)
    assert np.abs(at_1.astype(int) - a.astype(int)).max() > 10  # A and B differ


@pytest.mark.browser
def test_js_slerp_matches_gan_lessons_latent_slerp(main_page):
    cases = [([1.0, 0.0, 2.0], [0.5, -1.0, 0.3]), ([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]),
             ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]), ([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0])]
    got = main_page.page.evaluate("""async (cases) => {
        const m = await import("../_static/gan_explorer.js");
        return cases.map(([a, b]) => [0, 0.25, 0.5, 1].map((t) => Array.from(m.slerp(a, b, t))));
    }""", cases)
    for (a, b), rows in zip(cases, got, strict=True):
        # in float64, as the browser computes (float32 misses the antiparallel case: its cos is
        # -0.99999988 for the last pair, an angle 5e-4 short of pi)
        expected = slerp(torch.tensor(a).double(), torch.tensor(b).double(), 5)[[0, 1, 2, 4]]
        assert torch.allclose(torch.tensor(rows).double(), expected, atol=1e-5), (a, b)


@pytest.mark.browser
def test_new_samples_are_standard_normal_and_seeded(main_page):
    draws = main_page.page.evaluate("""async () => {
        const m = await import("../_static/gan_explorer.js");
        const x = m.gaussian(m.mulberry32(7), 20001), y = m.gaussian(m.mulberry32(7), 5);
        return {x: Array.from(x), y: Array.from(y)};
    }""")
    x = np.array(draws["x"])
    assert abs(x.mean()) < 0.05
    assert abs(x.std() - 1) < 0.05
    assert draws["y"] == draws["x"][:5]  # the same seed, the same samples
    assert np.isfinite(x).all()


@pytest.fixture(scope="module")
def kinds_page(browser, server):
    loaded = RecordedPage(browser, f"{server}/book/kinds.html")
    yield loaded
    loaded.close()


@pytest.mark.browser
def test_class_picker_draws_the_chosen_class(kinds_page):
    handle = _explorer(kinds_page.page, 0)
    g = tiny_conditional()
    z = torch.randn(1, 4, generator=torch.Generator().manual_seed(2))
    _set_latent(handle, z)
    handle.get_by_label("class").select_option("2")
    handle.evaluate("(el) => el.ganExplorer.render()")
    with torch.no_grad():
        expected = _png(g(z, torch.tensor([2])), nrow=1, scale=4)
    assert np.abs(_canvas(handle).astype(int) - expected.astype(int)).max() <= 2


@pytest.mark.browser
def test_stylegan_truncation_and_mixing_sliders(kinds_page):
    handle = _explorer(kinds_page.page, 1)
    g = tiny_stylegan()
    z = torch.randn(1, 4, generator=torch.Generator().manual_seed(3))
    _set_latent(handle, z)
    psi, mix = handle.get_by_label("truncation ψ"), handle.get_by_label("mix styles from")
    psi.focus()
    for _ in range(10):  # 1.0 -> 0.5 in steps of 0.05
        kinds_page.page.keyboard.press("ArrowLeft")
    mix.focus()
    kinds_page.page.keyboard.press("Home")  # crossover 0: every style from z_mix
    handle.evaluate("(el) => el.ganExplorer.render()")
    state = handle.evaluate("(el) => ({psi: el.ganExplorer.state.psi, "
                            "cut: el.ganExplorer.state.crossover, "
                            "mix: Array.from(el.ganExplorer.state.zMix)})")
    assert math.isclose(state["psi"], 0.5)
    assert state["cut"] == 0
    with torch.no_grad():
        ws = g.w_plus(torch.tensor([state["mix"]]), None, 0.5)
        expected = _png(g.synthesis(ws, "const"), nrow=1, scale=4)
    assert np.abs(_canvas(handle).astype(int) - expected.astype(int)).max() <= 2


@pytest.mark.browser
def test_clicking_the_latent_plane_decodes_that_point(kinds_page):
    handle = _explorer(kinds_page.page, 2)
    plane = handle.locator("canvas.gan-explorer-plane")
    box = plane.bounding_box()
    plane.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.25})
    handle.evaluate("(el) => el.ganExplorer.render()")
    z = handle.evaluate("(el) => Array.from(el.ganExplorer.latent())")
    assert np.allclose(z, [1.5, 1.5], atol=0.1)  # extent [-3, 3]: y grows upwards
    with torch.no_grad():
        expected = _png(tiny_autoencoder().decode(torch.tensor([z])), nrow=1, scale=4)
    assert np.abs(_canvas(handle).astype(int) - expected.astype(int)).max() <= 2
    plane.focus()
    kinds_page.page.keyboard.press("ArrowLeft")
    handle.evaluate("(el) => el.ganExplorer.render()")
    moved = handle.evaluate("(el) => Array.from(el.ganExplorer.latent())")
    assert moved[0] < z[0]
    assert math.isclose(moved[1], z[1], abs_tol=1e-6)


@pytest.mark.browser
def test_the_plane_draws_its_backdrop_points_in_their_class_colours(kinds_page):
    handle = _explorer(kinds_page.page, 2)
    legend = handle.locator(".gan-explorer-legend [role=listitem]").all_inner_texts()
    assert [text.strip() for text in legend] == ["0", "1", "2", "3"]
    url = handle.evaluate("(el) => el.querySelector('canvas.gan-explorer-plane').toDataURL()")
    plane = _rgb(base64.b64decode(url.split(",", 1)[1]))  # (S, S, 3), extent [-3, 3]
    size = plane.shape[0]

    def at(x, y):  # the pixel of latent point (x, y)
        return plane[int((3 - y) / 6 * size), int((x + 3) / 6 * size)].astype(int)

    for (x, y), label in [((-2, -2), 3), ((2, -2), 1)]:
        expected = np.array([int(PALETTE[label][i:i + 2], 16) for i in (1, 3, 5)])
        assert np.abs(at(x, y) - expected).max() <= 8, (label, at(x, y))
    assert np.abs(at(-2, 2) - 0xF6).max() <= 2  # no point there: the plane's grey


@pytest.mark.browser
def test_controls_fit_the_text_column(kinds_page, main_page):
    for loaded in (kinds_page, main_page):
        wide = loaded.page.evaluate(f"""() => {{
            const column = document.querySelector("main").getBoundingClientRect().right;
            return Array.from(document.querySelectorAll("{LIVE} *"))
                .filter((e) => e.getBoundingClientRect().right > column + 0.5)
                .map((e) => e.tagName + "." + e.className); }}""")
        assert wide == []
        unlabelled = loaded.page.evaluate(f"""() => Array.from(
            document.querySelectorAll("{LIVE} input, {LIVE} select"))
            .filter((e) => e.labels.length === 0).map((e) => e.outerHTML)""")
        assert unlabelled == []
    assert kinds_page.errors == []
    assert kinds_page.failed == []
    assert kinds_page.blocked == []


@pytest.mark.browser
def test_without_webassembly_the_fallback_shows(launch, server):
    # V8's --noexpose_wasm is gone from Chromium 156; --jitless (Chrome's "JavaScript
    # optimiser off" setting) removes the WebAssembly object, as the assertion below checks
    loaded = RecordedPage(launch(["--js-flags=--jitless"]), f"{server}/book/main.html")
    try:
        page = loaded.page
        fallback = page.locator("[class*=gan-lessons-fallback-]").first
        fallback.wait_for(state="visible", timeout=30_000)  # (drawn by the widget manager)
        fallback.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # time for a (wrong) lazy load to start
        loaded._wait_until_quiet()
        assert page.evaluate("typeof WebAssembly") == "undefined"
        assert fallback.is_visible()
        assert not page.locator(LIVE).is_visible()
        assert page.locator(LIVE).evaluate("(el) => el.ganExplorer.state.status") == "unsupported"
        assert not any(url.endswith((".onnx", ".wasm")) for url in loaded.requested)
        assert loaded.errors == []
        assert loaded.failed == []
        assert loaded.blocked == []
    finally:
        loaded.close()


@pytest.mark.browser
def test_a_model_that_fails_to_load_leaves_the_fallback(browser, server):
    loaded = RecordedPage(browser, f"{server}/book/broken.html")
    try:
        live = loaded.page.locator(LIVE)
        live.evaluate(SETTLED)
        assert live.evaluate("(el) => el.ganExplorer.state.status") == "failed"
        assert not live.is_visible()
        fallback = loaded.page.locator("[class*=gan-lessons-fallback-]").first
        fallback.wait_for(state="visible", timeout=30_000)  # (drawn by the widget manager)
        assert fallback.is_visible()
        assert [url for url in loaded.failed if "missing.onnx" not in url] == []
    finally:
        loaded.close()
