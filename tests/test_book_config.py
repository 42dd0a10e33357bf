"""The book's configuration: the API reference lists every public module, and the parallel
build's assumptions hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import api_pages  # noqa: E402


def test_api_pages_are_up_to_date():
    result = subprocess.run([sys.executable, ROOT / "scripts" / "api_pages.py", "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_api_reference_covers_every_public_module():
    import gan_lessons

    modules = api_pages.public_modules()
    assert {f"gan_lessons.{name}" for name in gan_lessons.SUBMODULES} <= set(modules)
    assert "gan_lessons.models.dcgan" in modules
    assert api_pages.toc_sections() in (ROOT / "_toc.yml").read_text(), (
        "_toc.yml does not list the API pages: paste the output of scripts/api_pages.py")


def test_the_toc_is_not_numbered():
    """scripts/build_book.py declares sphinx_multitoc_numbering safe for parallel reading
    because it does nothing without numbered sections."""
    assert "numbered" not in (ROOT / "_toc.yml").read_text()


def test_every_notebook_cell_has_a_unique_id():
    """nbformat 4.5 requires cell ids (a missing one is a warning now, an error later)."""
    import json

    for path in sorted([*ROOT.glob("book/*.ipynb"), *ROOT.glob("homework/*.ipynb")]):
        cells = json.loads(path.read_text())["cells"]
        ids = [cell.get("id") for cell in cells]
        assert None not in ids, f"{path.name}: cell {ids.index(None)} has no id"
        assert len(set(ids)) == len(ids), f"{path.name}: repeated cell ids"
