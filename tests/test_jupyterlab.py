"""A learner's session in JupyterLab, driven by Chromium: open a chapter, Run All, check that
MyST markup renders (jupyterlab-myst) and that the chapter's latent explorers respond. Runs on
a copy of the notebook in a temporary folder, so nothing is saved into book/. That folder gets
a ``_static`` with the explorer's script and the vendored onnxruntime-web, as ``book/`` has:
the browser explorers (gan_lessons.browser_widget) then load their models through the
server's ``/files/`` route and draw live. One model request is refused, so one explorer shows
its precomputed fallback instead, which must work there too.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "autoencoders.ipynb"  # quick to run, with two latent explorers
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
JUPYTER = Path(sys.executable).with_name("jupyter")
RUN_ALL_LIMIT_MS = 600_000  # the chapter runs in under a minute alone; CI's machine is busy
RAW_MYST = ("{cite}", "{doc}", "{admonition}", "{exercise}", "{solution", "```")

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of the chapter; yields its base URL."""
    if not Path(CHROMIUM).exists() or not JUPYTER.exists():
        message = "needs /usr/bin/chromium and jupyter in the environment"
        if os.environ.get("GAN_LESSONS_REQUIRE_BOOK") == "1":
            pytest.fail(message)
        pytest.skip(message)
    runtime = ROOT / "book" / "_static" / "vendor" / "ort"
    if not runtime.is_dir():
        pytest.fail("onnxruntime-web is missing from book/_static/vendor: bash scripts/setup.sh")
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "book" / CHAPTER, work / CHAPTER)
    shutil.copytree(runtime, work / "_static" / "vendor" / "ort")
    shutil.copy(ROOT / "book" / "_static" / "gan_explorer.js", work / "_static")
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell, not only those scrolled into view, so the whole notebook can be read
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTER_CONFIG_DIR=str(work / "config"))
    port = _free_port()
    log = (work / "lab.log").open("w")
    server = subprocess.Popen(
        [str(JUPYTER), "lab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={work}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (work / "lab.log").read_text()[-2000:]
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not start in 120 s"
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _accept_kernel_dialog(page) -> bool:
    """Accept a "Select Kernel" dialog (the default kernel) if one is open."""
    if page.locator(".jp-Dialog button.jp-mod-accept").count():
        page.click(".jp-Dialog button.jp-mod-accept")
        return True
    return False


def _wait_for_idle_kernel(page, limit_s: float = 180.0) -> None:
    """Wait until the notebook's kernel is idle, accepting the kernel dialog whenever it
    shows: on a busy machine it can open well after the notebook has rendered, and while it
    is open no kernel runs anything (a CI run once timed out on "Run All" that way)."""
    deadline = time.monotonic() + limit_s
    idle = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
    while time.monotonic() < deadline:
        _accept_kernel_dialog(page)
        if page.locator(idle).count() and not page.locator(".jp-Dialog").count():
            page.wait_for_timeout(1000)  # settled: no dialog came up in the meantime
            if not page.locator(".jp-Dialog").count():
                return
        page.wait_for_timeout(500)
    raise AssertionError(f"the kernel was not idle within {limit_s:.0f} s")


def _start_run_all(page, attempts: int = 3, start_s: float = 60.0) -> None:
    """Choose Run > Run All Cells, and make sure the run started: a cell is queued or has run
    (prompt ``[*]`` or ``[n]``). A CI run once ended with an idle kernel, no dialog and every
    prompt still ``[ ]`` after 600 s: the menu command had not reached the notebook. Then the
    notebook is focused (a click on its first cell) and the command is chosen again."""
    started = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
    for attempt in range(attempts):
        if attempt:
            page.click(".jp-Notebook .jp-Cell >> nth=0")
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        deadline = time.monotonic() + start_s
        while time.monotonic() < deadline:
            _accept_kernel_dialog(page)  # a late "Select Kernel" would block the run
            if page.evaluate(started):
                return
            page.wait_for_timeout(500)
    raise AssertionError(f"Run All Cells did not start a run in {attempts} tries of "
                         f"{start_s:.0f} s")


def test_chapter_runs_renders_myst_and_its_explorers_respond(lab):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        refused: list[str] = []  # the first model request is refused: a fallback must show
        responses, foreign = [], []

        def route_model(route):
            if refused:
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        page.route("**/*.onnx", route_model)
        page.on("request", lambda r: r.url.startswith(lab) or r.url.startswith("data:")
                or foreign.append(r.url))
        page.on("response", lambda r: "/files/" in r.url and responses.append(r))
        try:
            page.goto(f"{lab}/lab/tree/{CHAPTER}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            _wait_for_idle_kernel(page)

            # MyST, as the learner sees it before running anything
            rendered = page.locator(".jp-MarkdownCell").all_inner_texts()
            source = (ROOT / "book" / CHAPTER).read_text()
            assert "{cite}" in source  # so the check below means something
            raw = [mark for mark in RAW_MYST if any(mark in text for text in rendered)]
            assert raw == [], f"MyST shown raw in JupyterLab: {raw}"

            _start_run_all(page)
            try:
                page.wait_for_function(
                    """() => {
                        const prompts = [...document.querySelectorAll(
                            '.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
                        return prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t));
                    }""", timeout=RUN_ALL_LIMIT_MS)
            except sync_api.TimeoutError as exc:  # say where it stood, for the next reader
                prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
                status = page.locator(".jp-Notebook-ExecutionIndicator").get_attribute(
                    "data-status")
                raise AssertionError(
                    f"Run All did not finish in {RUN_ALL_LIMIT_MS / 1000:.0f} s: kernel status "
                    f"{status!r}, dialogs open {page.locator('.jp-Dialog').count()}, prompts "
                    f"{[p.strip() for p in prompts]}") from exc
            errors = page.locator(".jp-OutputArea-output[data-mime-type*='error']").count()
            assert errors == 0, f"{errors} cells raised in JupyterLab"

            # one explorer draws live, the other (its model request refused) shows its fallback
            explorers = page.locator(".gan-lessons-browser-explorer")
            assert explorers.count() == 2, f"expected two explorers, found {explorers.count()}"
            outcomes = []
            for index in range(2):
                explorer = explorers.nth(index)
                explorer.scroll_into_view_if_needed()  # the model loads once in view
                outcomes.append(explorer.evaluate(
                    "el => el.ganExplorer.ready.then(() => el.ganExplorer.render())"
                    ".then(() => 'live', () => 'fallback')"))
            assert sorted(outcomes) == ["fallback", "live"], outcomes
            assert len(refused) == 1, refused
            assert "/files/_static/models/" in refused[0], refused
            served = [(r.status, r.url) for r in responses if r.url not in refused]
            assert served, "nothing was served through /files/"
            assert all(status == 200 for status, _ in served), served
            assert all("/files/_static/" in url for _, url in served), served
            assert foreign == [], f"requests left 127.0.0.1: {foreign}"

            live = explorers.nth(outcomes.index("live"))
            ident = live.get_attribute("id").removeprefix("gan-explorer-")
            assert not page.locator(f".gan-lessons-fallback-{ident}").is_visible()
            canvas = "el => el.querySelector('canvas.gan-explorer-images').toDataURL()"
            before = live.evaluate(canvas)
            live.locator("input[type=range]").first.focus()
            page.keyboard.press("End")  # the slider's end: the model runs again
            live.evaluate("el => el.ganExplorer.render()")
            assert live.evaluate(canvas) != before, "the live canvas did not change"

            failed = explorers.nth(outcomes.index("fallback"))
            assert not failed.is_visible()
            ident = failed.get_attribute("id").removeprefix("gan-explorer-")
            fallback = page.locator(f".gan-lessons-fallback-{ident}")
            fallback.scroll_into_view_if_needed()
            assert fallback.is_visible()
            frame = fallback.locator(".widget-box").last
            before = frame.inner_html()
            fallback.locator(".noUi-handle").first.focus()
            page.keyboard.press("End")  # the slider's end: another precomputed frame
            page.wait_for_function("([el, before]) => el.innerHTML !== before",
                                   arg=[frame.element_handle(), before], timeout=30_000)
        finally:
            browser.close()
