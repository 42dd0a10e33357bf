"""Sphinx extension: ship only the ONNX models that the built pages load.

``gan_lessons.widgets.browser_explorer`` exports each generator into ``book/_static/models``,
named by a hash of its weights, so that a rebuild reuses the file. That folder is a cache: it
keeps the exports of older weights and of chapters left out of a partial build, and Sphinx
copies all of ``_static`` into the output. Once an HTML build has finished, this removes from
the output's ``_static/models`` every model that no page of the output refers to. The cache in
``book/_static/models`` itself is left alone (a notebook open in Jupyter may be using it).
"""

import re
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

MODEL_REFERENCE = re.compile(r"models/([\w.-]+\.onnx)")


def referenced_models(outdir: Path) -> set[str]:
    """The model file names that the output's HTML pages refer to."""
    names: set[str] = set()
    for page in outdir.rglob("*.html"):
        names.update(MODEL_REFERENCE.findall(page.read_text(encoding="utf-8", errors="replace")))
    return names


def prune_unreferenced_models(outdir: Path) -> list[str]:
    """Remove the output's unreferenced models; returns the names removed."""
    folder = outdir / "_static" / "models"
    if not folder.is_dir():
        return []
    keep = referenced_models(outdir)
    removed = sorted(p.name for p in folder.glob("*.onnx") if p.name not in keep)
    for name in removed:
        (folder / name).unlink()
    return removed


def _build_finished(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        removed = prune_unreferenced_models(Path(app.outdir))
        if removed:
            logger.info("prune_models: left %d unused model(s) out of the output", len(removed))


def setup(app):
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
