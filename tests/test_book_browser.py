"""Browser checks of the built HTML book: Debian's Chromium, driven by Playwright, reads
``_build/html`` served on 127.0.0.1 with every other request blocked.

Run ``bash scripts/book.sh`` first. Without a built book these tests skip, unless
``GAN_LESSONS_REQUIRE_BOOK=1`` (set by ``scripts/test.sh``) makes a missing book a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# the chapters and appendix pages; the API reference's pages (api/*.html) are checked apart,
# each loaded once, by test_api_page_is_self_contained_filled_and_fits_the_column
CHAPTERS = sorted(p.name for p in (HTML / "book").glob("*.html")) if HTML.exists() else []
API_PAGES = (sorted(f"api/{p.name}" for p in (HTML / "book" / "api").glob("*.html"))
             if HTML.exists() else [])

pytestmark = pytest.mark.browser


def _require_book() -> None:
    if (HTML / "book").is_dir() and Path(CHROMIUM).exists():
        return
    message = "no built book in _build/html or no /usr/bin/chromium: run bash scripts/test.sh"
    if os.environ.get("GAN_LESSONS_REQUIRE_BOOK") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server():
    _require_book()
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="module")
def browser():
    _require_book()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class LoadedPage:
    """A page opened with every request outside 127.0.0.1 blocked and recorded."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.context.route("**/*", self._route)
        self.pending: set = set()  # requests sent and not yet finished or failed
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", lambda request: self.pending.add(request))
        self.page.on("requestfinished", lambda request: self.pending.discard(request))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._check_response)
        self.page.goto(url, wait_until="load", timeout=60_000)
        self._wait_until_quiet()

    def _request_failed(self, request):
        self.pending.discard(request)
        self.failed.append(request.url)

    def _wait_until_quiet(self, quiet_s: float = 0.5, timeout_s: float = 60.0) -> None:
        """Wait until no request of the page has been in flight for ``quiet_s`` (what
        Playwright's "networkidle" means, but with a longer limit for a busy 2-core machine and
        an error that names the requests still pending)."""
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        while time.monotonic() < deadline:
            if self.pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return
            self.page.wait_for_timeout(100)  # lets Playwright deliver the request events
        pending = sorted(request.url for request in self.pending)
        raise AssertionError(f"requests still pending after {timeout_s:.0f} s: {pending}")

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith("data:") or host == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _check_response(self, response):
        # Chromium asks every site for /favicon.ico on its own; the book has none.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.failed.append(f"{response.status} {response.url}")

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def open_page(browser, server):
    """Open each chapter once per module; the interactive test runs last, in file order."""
    pages: dict[str, LoadedPage] = {}

    def _open(name: str) -> LoadedPage:
        if name not in pages:
            pages[name] = LoadedPage(browser, f"{server}/book/{name}")
        return pages[name]

    yield _open
    for loaded in pages.values():
        loaded.close()


def test_book_has_chapters():
    _require_book()
    assert "intro.html" in CHAPTERS
    assert len(CHAPTERS) >= 3, CHAPTERS


def test_the_book_ships_only_the_models_its_pages_load():
    """book/_ext/prune_models.py leaves the cache's older exports out of the output."""
    _require_book()
    shipped = {p.name for p in (HTML / "_static" / "models").glob("*.onnx")}
    loaded = set()
    for page in HTML.rglob("*.html"):
        loaded.update(re.findall(r"models/([\w.-]+\.onnx)", page.read_text(errors="replace")))
    assert shipped, "the book ships no model for its live explorers"
    assert shipped == loaded


@pytest.mark.parametrize("name", CHAPTERS)
def test_page_is_self_contained(open_page, name):
    """No request leaves 127.0.0.1, nothing fails to load, no script throws."""
    loaded = open_page(name)
    assert loaded.blocked == [], f"requests leaving 127.0.0.1: {loaded.blocked}"
    assert loaded.failed == [], f"requests that failed: {loaded.failed}"
    assert loaded.errors == [], f"page errors: {loaded.errors}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_figures_load(open_page, name):
    loaded = open_page(name)
    if loaded.page.locator("div.cell").count():  # a notebook chapter: it must show figures
        figures = loaded.page.locator("div.cell_output img").count()
        assert figures > 0, f"{name} shows no figure"
        unrendered = loaded.page.locator("div.cell_output", has_text="<Figure size").count()
        assert unrendered == 0, f"{name} prints Figure reprs instead of images"
    broken = loaded.page.evaluate(
        "() => Array.from(document.images)"
        ".filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)"
    )
    assert broken == []


@pytest.mark.parametrize("name", CHAPTERS)
def test_math_is_typeset(open_page, name):
    loaded = open_page(name)
    source_math = loaded.page.locator("div.math, span.math").count()
    if source_math == 0:
        pytest.skip(f"{name} has no math")
    loaded.page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
    typeset = loaded.page.locator("mjx-container").count()
    assert typeset >= source_math
    # a formula that MathJax could not parse is shown as red merror text
    assert loaded.page.locator("mjx-merror").count() == 0


@pytest.mark.parametrize("name", CHAPTERS)
def test_display_math_fits_the_text_column(open_page, name):
    """MathJax does not break displayed formulas: one wider than the column (1280 px window)
    is cut off or needs sideways scrolling. Long ones belong in an aligned environment."""
    loaded = open_page(name)
    if loaded.page.locator("div.math").count() == 0:
        pytest.skip(f"{name} has no displayed math")
    loaded.page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
    too_wide = loaded.page.evaluate(
        """() => Array.from(document.querySelectorAll('mjx-container[display="true"]'))
            .filter(m => {
                const formula = m.querySelector('mjx-math');
                return formula && formula.getBoundingClientRect().width
                    > m.getBoundingClientRect().width + 1;
            })
            .map(m => m.textContent.slice(0, 60))"""
    )
    assert too_wide == [], f"displayed formulas wider than the column on {name}: {too_wide}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_widgets_render_once_from_saved_state(open_page, name):
    loaded = open_page(name)
    views = loaded.page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if views == 0:
        pytest.skip(f"{name} has no widgets")
    loaded.page.wait_for_selector(".jupyter-widgets", timeout=20_000)
    roots = loaded.page.evaluate(
        "() => Array.from(document.querySelectorAll('.jupyter-widgets'))"
        ".filter(el => !el.parentElement.closest('.jupyter-widgets')).length"
    )
    assert roots == views, f"{views} saved widget views rendered as {roots} widget roots"


@pytest.mark.parametrize("name", CHAPTERS)
def test_scrubbers_switch_frames_without_a_kernel(open_page, name):
    """A precomputed-frame widget (slider jslinked to a Stack) works in the static page."""
    loaded = open_page(name)
    # (a live explorer's fallback is hidden once the explorer draws: tested below)
    scrubbers = loaded.page.locator(
        '.gan-lessons-scrubber:not([class*="gan-lessons-fallback-"])')
    if scrubbers.count() == 0:
        pytest.skip(f"{name} has no frame scrubber")
    loaded.page.wait_for_selector(".gan-lessons-scrubber .noUi-handle", timeout=20_000)
    for index in range(scrubbers.count()):
        scrubber = scrubbers.nth(index)
        frame = scrubber.locator(".widget-box").last
        before = frame.inner_html()
        scrubber.locator(".noUi-handle").first.focus()
        loaded.page.keyboard.press("End")  # jump to the last frame
        loaded.page.wait_for_timeout(200)
        assert frame.inner_html() != before, f"scrubber {index} on {name} did not switch frames"


MAX_MODEL_BYTES = 10 * 2**20  # the ONNX models one page may load (issue 18)


@pytest.mark.parametrize("name", CHAPTERS)
def test_live_explorers_run_the_model_in_the_page_and_hide_their_fallback(browser, server,
                                                                        name):
    """Each browser explorer loads its model from _static only when scrolled into view, draws
    its canvas with onnxruntime-web, and hides the precomputed explorer below it."""
    loaded = LoadedPage(browser, f"{server}/book/{name}")
    try:
        page = loaded.page
        explorers = page.locator(".gan-lessons-browser-explorer")
        if explorers.count() == 0:
            pytest.skip(f"{name} has no live explorer")
        early = page.evaluate("() => performance.getEntriesByType('resource')"
                              ".filter(e => e.name.endsWith('.onnx')).length")
        assert early == 0  # lazy: no model loads before the reader scrolls to it
        models = []
        page.on("response", lambda r: r.url.endswith(".onnx") and models.append(r))
        for index in range(explorers.count()):
            explorer = explorers.nth(index)
            ident = explorer.get_attribute("id").removeprefix("gan-explorer-")
            explorer.scroll_into_view_if_needed()
            drawn = explorer.evaluate(
                "el => el.ganExplorer.ready.then(() => el.ganExplorer.render())"
                ".then(() => el.ganExplorer.lastRenderMs)")
            assert drawn is not None, f"explorer {index} on {name} drew nothing"
            assert drawn >= 0
            fallback = page.locator(f".gan-lessons-fallback-{ident}")
            assert fallback.count() == 1, f"explorer {index} on {name} has no fallback"
            assert not fallback.is_visible(), f"explorer {index} on {name} left its fallback"
        assert len(models) == explorers.count()
        assert all(r.status == 200 and "/_static/models/" in r.url for r in models), [
            (r.status, r.url) for r in models]
        total = sum(len(r.body()) for r in models)
        assert total <= MAX_MODEL_BYTES, f"{name} loads {total / 2**20:.1f} MB of models"
        assert loaded.blocked == []
        assert loaded.failed == []
    finally:
        loaded.close()


# --------------------------------------------------------------- how a chapter reads on the page

NOTEBOOK_CHAPTERS = [
    name for name in CHAPTERS
    if (ROOT / "book" / name.replace(".html", ".ipynb")).exists()
]

# Opens every fold a reader can open: hidden cells (<details>) and dropdown admonitions.
EXPAND_ALL = """() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
    document.querySelectorAll('.toggle-details__summary, button.toggle-button')
        .forEach(b => b.setAttribute('aria-expanded', 'true'));
}"""


@pytest.fixture(scope="module")
def expanded_page(browser, server):
    """Each chapter opened once more, at 1280 px, with every fold open (so that code hidden
    behind a toggle is measured too)."""
    pages: dict[str, LoadedPage] = {}

    def _open(name: str) -> LoadedPage:
        if name not in pages:
            loaded = LoadedPage(browser, f"{server}/book/{name}")
            loaded.page.set_viewport_size({"width": 1280, "height": 900})
            loaded.page.evaluate(EXPAND_ALL)
            loaded.page.wait_for_timeout(300)
            pages[name] = loaded
        return pages[name]

    yield _open
    for loaded in pages.values():
        loaded.close()


@pytest.mark.parametrize("name", NOTEBOOK_CHAPTERS)
def test_no_code_scrolls_sideways(expanded_page, name):
    """Every code block, input or output, fits the text column (79 characters)."""
    loaded = expanded_page(name)
    wide = loaded.page.evaluate(
        """() => Array.from(document.querySelectorAll('article pre, article div.cell_output'))
            .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
            .map(el => el.scrollWidth + '>' + el.clientWidth + ': '
                 + el.textContent.trim().split('\\n')[0].slice(0, 70))"""
    )
    assert wide == [], f"{len(wide)} code blocks scroll sideways on {name}: {wide[:5]}"
    assert loaded.page.locator("article pre").count() > 0


@pytest.mark.parametrize("name", NOTEBOOK_CHAPTERS)
def test_markdown_outputs_are_rendered(expanded_page, name):
    """A table a cell displays as Markdown is an HTML table, not rows of pipes."""
    loaded = expanded_page(name)
    raw = loaded.page.evaluate(
        """() => Array.from(document.querySelectorAll('article div.cell_output'))
            .map(el => el.textContent)
            .filter(text => /\\|\\s*:?[-\u2013\u2014]+:?\\s*\\|\\s*:?[-\u2013\u2014]+:?\\s*\\|/
                .test(text))
            .map(text => text.trim().slice(0, 70))"""
    )
    assert raw == [], f"Markdown tables shown as raw text on {name}: {raw}"


@pytest.mark.parametrize("name", NOTEBOOK_CHAPTERS)
def test_figures_are_shown_at_60_percent_of_their_width(expanded_page, name):
    """A figure shrunk below 60 % of its natural width has unreadable text."""
    loaded = expanded_page(name)
    sizes = loaded.page.evaluate(
        """() => Array.from(document.querySelectorAll('article div.cell_output img'))
            .filter(img => img.offsetParent !== null && img.naturalWidth > 0)
            .map(img => [img.clientWidth, img.naturalWidth, img.alt || img.src.slice(-40)])"""
    )
    assert sizes, f"{name} shows no figure"
    small = [s for s in sizes if s[0] < 0.6 * s[1]]
    assert small == [], f"figures on {name} shown at < 60 % (shown, natural, img): {small}"


@pytest.mark.parametrize("name", NOTEBOOK_CHAPTERS)
def test_exercises_hide_their_answers_until_opened(browser, server, name):
    """3-5 exercises per chapter; each solution's prose, code and output stay hidden until the
    reader opens it, and show once opened."""
    loaded = LoadedPage(browser, f"{server}/book/{name}")
    try:
        page = loaded.page
        exercises = page.locator("div.exercise").count()
        assert 3 <= exercises <= 5, f"{name} has {exercises} exercises"
        solutions = page.locator("div.solution")
        assert solutions.count() == exercises, f"{name}: every exercise needs one solution"
        for index in range(solutions.count()):
            solution = solutions.nth(index)
            assert "dropdown" in (solution.get_attribute("class") or "")
            content = solution.locator("section").first
            code = solution.locator("div.cell_input, div.cell_output")
            assert code.count() > 0, f"solution {index} on {name} runs no code"
            assert not content.is_visible(), f"solution {index} on {name} is visible unopened"
            for part in range(code.count()):
                assert not code.nth(part).is_visible()
            solution.locator(".admonition-title").first.click()
            page.wait_for_timeout(300)
            assert content.is_visible(), f"solution {index} on {name} did not open"
            assert code.first.is_visible()
    finally:
        loaded.close()


WIDGET_STATE = 'script[type="application/vnd.jupyter.widget-state+json"]'
CONTROL_MODELS = {"IntSliderModel", "FloatSliderModel", "SelectionSliderModel",
                  "FloatLogSliderModel", "IntRangeSliderModel", "FloatRangeSliderModel",
                  "DropdownModel", "ToggleButtonsModel", "RadioButtonsModel", "PlayModel",
                  "CheckboxModel", "ToggleButtonModel", "ButtonModel", "TextModel"}


@pytest.mark.parametrize("name", NOTEBOOK_CHAPTERS)
def test_no_widget_needs_a_kernel(open_page, name):
    """Every control in the static page is linked client-side (jslink) to what it changes.
    The only exception is a live explorer, which must say it needs a kernel and be disabled."""
    import json

    loaded = open_page(name)
    states = loaded.page.locator(WIDGET_STATE)
    if states.count() == 0:
        pytest.skip(f"{name} has no widgets")
    models = {}
    for index in range(states.count()):
        models.update(json.loads(states.nth(index).text_content())["state"])
    linked = set()
    for model in models.values():
        if model["model_name"] in ("LinkModel", "DirectionalLinkModel"):
            for end in ("source", "target"):
                linked.add(model["state"][end][0].removeprefix("IPY_MODEL_"))
    controls = {key for key, model in models.items() if model["model_name"] in CONTROL_MODELS}
    unlinked = controls - linked
    live = loaded.page.locator(".gan-lessons-live")
    live_controls = loaded.page.locator(
        ".gan-lessons-live .widget-slider, .gan-lessons-live .jupyter-widget-slider").count()
    assert len(unlinked) == live_controls, (
        f"{name}: {len(unlinked)} controls without a client-side link, "
        f"{live_controls} of them in labelled live explorers")
    for index in range(live.count()):
        box = live.nth(index)
        assert "needs a running Jupyter kernel" in box.inner_text()
        events = box.evaluate(
            "el => getComputedStyle(el.querySelector('.gan-lessons-live-controls'))"
            ".pointerEvents")
        assert events == "none", f"live explorer {index} on {name} is not disabled"


# ----------------------------------------------------------- executed notebooks (no browser)

EXECUTED = ROOT / "_build" / "jupyter_execute" / "book"


def _figure_makers() -> tuple[str, ...]:
    """``plt.subplots(`` and the like, and every public function of the book's plotting
    modules that returns a new Figure (``image_grid(`` ...)."""
    import inspect

    from gan_lessons import diagrams, plotting

    makers = ["plt.subplots(", "plt.figure(", "plt.subplot_mosaic("]
    for module in (plotting, diagrams):
        for fname, func in inspect.getmembers(module, inspect.isfunction):
            returns = inspect.signature(func).return_annotation
            if not fname.startswith("_") and returns in ("Figure", "plt.Figure"):
                makers.append(f"{fname}(")
    return tuple(makers)


FIGURE_MAKERS = _figure_makers()


@pytest.mark.parametrize("name", [n.replace(".html", ".ipynb") for n in NOTEBOOK_CHAPTERS])
def test_every_figure_a_cell_builds_is_displayed(name):
    """A cell that builds a matplotlib figure shows it (an image, or a widget holding it). A
    figure closed with ``plt.close`` and left as a bare name mid-cell is never displayed."""
    import json

    _require_book()
    path = EXECUTED / name
    assert path.exists(), f"no executed copy of {name} in {EXECUTED}"
    missing = []
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not any(m in source for m in FIGURE_MAKERS):
            continue
        kinds = {kind for output in cell.get("outputs", []) for kind in output.get("data", {})}
        if not kinds & {"image/png", "image/svg+xml", "application/vnd.jupyter.widget-view+json"}:
            missing.append(f"cell {index}: {source.splitlines()[0][:60]}")
    assert missing == [], f"{name}: cells that build a figure but show none: {missing}"


@pytest.mark.parametrize("name", NOTEBOOK_CHAPTERS)
def test_sliders_are_wide_enough_to_drag_one_step_at_a_time(open_page, name):
    """A 60-position slider on a 115-px track jumped to its end on an 80-px drag."""
    loaded = open_page(name)
    if loaded.page.locator(".gan-lessons-scrubber").count() == 0:
        pytest.skip(f"{name} has no slider")
    loaded.page.wait_for_selector(".noUi-target", state="attached", timeout=20_000)
    widths = loaded.page.evaluate(
        """() => Array.from(document.querySelectorAll('.noUi-target'))
            .filter(track => track.offsetParent !== null)
            .map(track => Math.round(track.getBoundingClientRect().width))"""
    )
    assert widths, f"no visible slider track on {name}"
    assert min(widths) >= 300, f"slider tracks on {name} are {widths} px wide"


# --------------------------------------------------------------------------- the API reference


def test_api_reference_has_a_page_per_public_module():
    _require_book()
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from api_pages import public_modules

    expected = {f"api/{m.removeprefix('gan_lessons.')}.html" for m in public_modules()}
    assert expected | {"api/index.html"} == set(API_PAGES)


@pytest.mark.parametrize("name", API_PAGES)
def test_api_page_is_self_contained_filled_and_fits_the_column(browser, server, name):
    """Loaded once, at 1280 px: no request leaves 127.0.0.1 or fails; autodoc filled the page
    (members with signatures); no signature, docstring example or displayed formula is wider
    than the text column; MathJax typeset every formula."""
    loaded = LoadedPage(browser, f"{server}/book/{name}")
    try:
        page = loaded.page
        page.set_viewport_size({"width": 1280, "height": 900})
        assert loaded.blocked == [], f"requests leaving 127.0.0.1: {loaded.blocked}"
        assert loaded.failed == [], f"requests that failed: {loaded.failed}"
        assert loaded.errors == [], f"page errors: {loaded.errors}"
        if name != "api/index.html":
            members = page.locator("article dl.py > dt.sig").count()
            assert members > 0, f"{name} documents nothing: could autodoc import the module?"
        if page.locator("div.math, span.math").count():
            page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
            assert page.locator("mjx-merror").count() == 0
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                    'article pre, article dt.sig, article table, mjx-container[display="true"]'))
                .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
                .map(el => el.textContent.trim().slice(0, 70))"""
        )
        assert wide == [], f"{len(wide)} blocks are wider than the column on {name}: {wide[:5]}"
        page_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert page_width <= 1280, f"{name} scrolls sideways ({page_width} px)"
    finally:
        loaded.close()
