"""The package as a whole: cheap to import, submodules on attribute access, one version,
type hints shipped (issue 15)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import gan_lessons

PACKAGE = Path(gan_lessons.__file__).parent


def test_every_public_submodule_is_listed():
    on_disk = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    on_disk |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert set(gan_lessons.SUBMODULES) == on_disk


def test_a_submodule_loads_on_attribute_access_in_a_fresh_interpreter():
    code = ("import sys, gan_lessons; assert 'torch' not in sys.modules; "
            "data = gan_lessons.data; assert 'torch' in sys.modules; "
            "assert data is sys.modules['gan_lessons.data']; "
            "assert 'data' in dir(gan_lessons) and 'plotting' in dir(gan_lessons)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_an_unknown_attribute_names_the_submodules():
    with pytest.raises(AttributeError, match=r"no attribute 'dat'; its submodules are .*data"):
        _ = gan_lessons.dat


def test_the_version_is_written_once_and_type_hints_ship():
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = {attr = "gan_lessons.__version__"}' in pyproject
    assert importlib.metadata.version("gan_lessons") == gan_lessons.__version__
    assert (PACKAGE / "py.typed").is_file()
    assert '"py.typed"' in pyproject
