"""The homework notebooks (homework/): the templates fail every check with the not-implemented
hint, the reference solutions (tests/homework_solutions/) pass every check and run without an
error, a known-wrong fill fails its check with the right hint, grade.py scores all of them, and
every checker of ``gan_lessons.check`` is used by some notebook.

Each notebook variant is executed once per module (the ``runs`` fixture): the templates by
grade.py's command line in a subprocess, while the solved notebooks run here in the meantime.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from homework_solutions import fill

from gan_lessons import check

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = ROOT / "homework"
NOTEBOOKS = fill.notebooks()
STEMS = [path.stem for path in NOTEBOOKS]
NOT_IMPLEMENTED = "not implemented yet"


def _load_grade():
    spec = importlib.util.spec_from_file_location("homework_grade", HOMEWORK / "grade.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grade = _load_grade()


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [f"cell {cell.id}: {out.ename}: {out.evalue}" for cell in nb.cells
            for out in cell.get("outputs", []) if out.output_type == "error"]


def _by_id(result: dict) -> dict[str, dict]:
    return {c["grade_id"]: c for c in result["checks"]}


@pytest.fixture(scope="module")
def runs():
    """Every variant, executed once: ``templates`` (grade.py --json, by stem), ``solved``
    (executed notebooks by stem) and ``wrong`` (notebook 1 with a flipped-kernel conv2d)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")  # the kernels inherit it
        cli = subprocess.Popen(
            [sys.executable, str(HOMEWORK / "grade.py"), "--json", *map(str, NOTEBOOKS)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env=dict(os.environ))
        try:
            solved = {path.stem: grade.execute(fill.solved(path)) for path in NOTEBOOKS}
            conv = NOTEBOOKS[0]
            wrong_fill = {**fill.sources(conv.stem), **fill.solution_module(conv.stem).WRONG}
            wrong = grade.execute(fill.fill(_read(conv), wrong_fill))
            out, err = cli.communicate(timeout=600)
        finally:
            if cli.poll() is None:
                cli.kill()
    assert cli.returncode == 0, err[-3000:]
    templates = {Path(r["path"]).stem: r for r in json.loads(out)}
    return {"templates": templates, "solved": solved, "wrong": wrong}


def test_templates_fail_every_check_with_the_not_implemented_hint(runs):
    assert sorted(runs["templates"]) == STEMS
    for stem, result in runs["templates"].items():
        assert result["score"] == 0, stem
        assert result["max_score"] > 0, stem
        for c in result["checks"]:
            assert c["status"] == "FAILED", (stem, c)
            source = _check_sources(_read(HOMEWORK / f"{stem}.ipynb"))[c["grade_id"]]
            if "check." in source:  # a checker's cell (not the ring's coverage bar)
                assert c["message"].startswith("FAILED "), (stem, c)
                assert NOT_IMPLEMENTED in c["message"], (stem, c)


@pytest.mark.parametrize("stem", STEMS)
def test_solutions_run_without_error_and_pass_every_check(runs, stem):
    nb = runs["solved"][stem]
    assert _errors(nb) == []
    result = grade.score(nb)
    failed = [c for c in result["checks"] if c["status"] != "PASSED"]
    assert failed == []
    assert result["score"] == result["max_score"] > 0
    for c in result["checks"]:
        assert c["message"].startswith("PASSED "), c


def test_a_flipped_kernel_fails_conv2d_with_the_flip_hint(runs):
    checks = _by_id(grade.score(runs["wrong"]))
    conv2d = checks.pop("check_conv2d")
    assert conv2d["status"] == "FAILED"
    assert conv2d["message"].startswith("FAILED conv2d")
    assert "true convolution: the kernel is flipped" in conv2d["message"]
    assert {c["status"] for c in checks.values()} == {"PASSED"}  # the others are still right


def test_grade_table_reports_points_and_the_reason(runs):
    table = grade._table(runs["templates"][STEMS[0]])
    assert table.splitlines()[0].endswith(": 0 / 8 points")
    assert "check_conv2d " in table
    assert f"Hint: {NOT_IMPLEMENTED}" in table


def test_grade_restores_edited_check_cells(tmp_path):
    """A submission that rewrote a check cell to print PASSED is graded on the original cell."""
    nb = _read(NOTEBOOKS[0])
    for cell in grade.check_cells(nb):
        cell.source = "print('PASSED conv2d: trust me')"
    restored = nbformat.from_dict(json.loads(json.dumps(nb)))
    grade._restore_checks(restored)
    originals = _check_sources(_read(NOTEBOOKS[0]))
    assert _check_sources(restored) == originals
    # a check cell deleted from a submission scores 0 and is listed
    nb.cells = [cell for cell in nb.cells if cell not in grade.check_cells(nb)[:1]]
    result = grade.score(nb)
    assert [c["status"] for c in result["checks"]].count("FAILED") == len(originals)
    assert "missing" in result["checks"][-1]["message"]


# --------------------------------------------------------------------------- static structure


def _check_sources(nb: nbformat.NotebookNode) -> dict[str, str]:
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in grade.check_cells(nb)}


def test_every_checker_is_used_by_some_notebook():
    called = set()
    for path in NOTEBOOKS:
        for source in _check_sources(_read(path)).values():
            called |= set(re.findall(r"\bcheck\.(\w+)\(", source))
    checkers = {name for name in check.__all__ if name != "CheckResult"}
    assert checkers <= called, f"unused checkers: {sorted(checkers - called)}"
    assert called <= checkers, f"unknown checkers: {sorted(called - checkers)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=STEMS)
def test_solution_cells_match_the_reference_solutions(path):
    nb = _read(path)
    cells = fill.solution_cells(nb)
    assert set(cells) == set(fill.sources(path.stem)), "a solution cell without a solution, " \
        "or a solution without a cell"
    for grade_id, cell in cells.items():
        assert "# TODO" in cell.source, grade_id
        assert "raise NotImplementedError" in cell.source, grade_id
    for grade_id, source in fill.sources(path.stem).items():
        too_long = [line for line in source.splitlines() if len(line) > 79]
        assert too_long == [], grade_id  # the notebooks' 79 columns


@pytest.mark.parametrize("path", NOTEBOOKS, ids=STEMS)
def test_cells_carry_ids_and_nbgrader_metadata(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["homework"]["id"] == path.stem  # grade.py finds the template by it
    ids = [cell.get("id") for cell in nb.cells]
    assert all(ids)
    assert len(set(ids)) == len(ids)
    grade_ids = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        grade_ids.append(meta["grade_id"])
        assert meta["schema_version"] == 3
        if meta["grade"]:
            assert meta["locked"]
            assert not meta["solution"]
            assert meta["points"] > 0
            assert "check" in cell.metadata.get("tags", [])
        else:
            assert meta["solution"]
            assert not meta["locked"]
    assert len(set(grade_ids)) == len(grade_ids)
    # every solution cell is followed by its check cell
    for k, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            following = nb.cells[k + 1].metadata.get("nbgrader", {})
            assert following.get("grade"), cell.id
