"""Fill the homework templates with the reference solutions.

Each ``<notebook stem>.py`` beside this file defines the solution objects and
``SOLUTIONS = {grade_id: [objects]}``: a solution cell (nbgrader ``solution: true``) of the
notebook becomes the source of its objects. Write solved copies of every notebook with

    python tests/homework_solutions/fill.py OUT_DIR
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

import nbformat

HERE = Path(__file__).resolve().parent
HOMEWORK = HERE.parents[1] / "homework"


def notebooks() -> list[Path]:
    """The homework templates, in order."""
    return sorted(HOMEWORK.glob("[0-9][0-9]_*.ipynb"))


def solution_module(stem: str) -> ModuleType:
    """The reference solutions of the notebook ``stem`` (their file name starts with a digit,
    so they are loaded by path)."""
    spec = importlib.util.spec_from_file_location(f"homework_solution_{stem}", HERE / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # inspect finds a class's source through it
    spec.loader.exec_module(module)
    return module


def sources(stem: str) -> dict[str, str]:
    """``{grade_id: cell source}`` of the reference solutions of the notebook ``stem``."""
    return {grade_id: "\n\n".join(inspect.getsource(obj).rstrip() for obj in objects)
            for grade_id, objects in solution_module(stem).SOLUTIONS.items()}


def solution_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The solution cells of ``nb`` by grade_id."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nb.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution")}


def fill(nb: nbformat.NotebookNode, fills: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` with the solution cell of each grade_id in ``fills`` replaced."""
    nb = copy.deepcopy(nb)
    cells = solution_cells(nb)
    unknown = set(fills) - set(cells)
    if unknown:
        raise KeyError(f"no solution cells {sorted(unknown)}")
    for grade_id, source in fills.items():
        cells[grade_id].source = source
    return nb


def solved(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` with every solution cell filled in."""
    return fill(nbformat.read(path, as_version=4), sources(path.stem))


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for path in notebooks():
        nbformat.write(solved(path), out / path.name)
        print(out / path.name)
