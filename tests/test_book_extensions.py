"""The book's local Sphinx extensions (book/_ext), called as Sphinx calls them."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import prune_models


@pytest.fixture
def output(tmp_path) -> Path:
    """An HTML output whose pages load two of the three models in _static/models."""
    models = tmp_path / "_static" / "models"
    models.mkdir(parents=True)
    for name in ("gan-aaa.onnx", "decoder-bbb.onnx", "gan-old.onnx"):
        (models / name).write_bytes(b"onnx")
    (models / "README").write_text("not a model")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "gans.html").write_text('<script>{"model":"models/gan-aaa.onnx"}</script>')
    (tmp_path / "book" / "ae.html").write_text('{"kind":"decoder","model":"models/decoder-bbb.onnx"}')
    (tmp_path / "notes.txt").write_text("models/gan-old.onnx")  # not a page
    return tmp_path


def _finish(outdir: Path, *, fmt: str = "html", exception=None) -> None:
    app = SimpleNamespace(builder=SimpleNamespace(format=fmt), outdir=str(outdir))
    prune_models._build_finished(app, exception)


def _left(outdir: Path) -> list[str]:
    return sorted(p.name for p in (outdir / "_static" / "models").iterdir())


def test_an_html_build_keeps_only_the_models_its_pages_refer_to(output):
    _finish(output)
    assert _left(output) == ["README", "decoder-bbb.onnx", "gan-aaa.onnx"]


def test_a_failed_or_non_html_build_removes_nothing(output):
    _finish(output, exception=RuntimeError("build failed"))
    _finish(output, fmt="latex")
    assert _left(output) == ["README", "decoder-bbb.onnx", "gan-aaa.onnx", "gan-old.onnx"]


def test_an_output_without_models_is_fine(tmp_path):
    assert prune_models.prune_unreferenced_models(tmp_path) == []
