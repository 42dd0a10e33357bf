"""Grade homework notebooks with the same checkers the students ran.

    python homework/grade.py SUBMISSION.ipynb [SUBMISSION.ipynb ...] [--timeout S] [--json]

Each submission is executed from top to bottom in a fresh kernel (errors do not stop it). The
check cells (nbgrader metadata ``grade: true``, tag ``check``) are first restored from the
assignment's template in this folder, found by the notebook's ``homework`` metadata, so an
edited check cell grades the same as the original. A check cell earns its points when its output
starts with ``PASSED <name>``. Prints one score table per notebook and exits 0; ``--json``
prints the results as JSON instead. Importable: ``grade(path) -> dict``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HOMEWORK = Path(__file__).resolve().parent
__all__ = ["check_cells", "execute", "grade", "score"]


def _read(notebook) -> nbformat.NotebookNode:
    if isinstance(notebook, nbformat.NotebookNode):
        return copy.deepcopy(notebook)
    if not isinstance(notebook, str | os.PathLike):
        raise TypeError(f"notebook must be a path or a NotebookNode, got {type(notebook).__name__}")
    return nbformat.read(os.fspath(notebook), as_version=4)


def _grade_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def check_cells(nb: nbformat.NotebookNode) -> list:
    """The graded cells of ``nb`` (nbgrader ``grade: true``), in order."""
    return [cell for cell in nb.cells if _grade_meta(cell).get("grade")]


def _template(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The assignment's template in this folder, named by ``nb``'s ``homework`` metadata."""
    name = nb.metadata.get("homework", {}).get("id")
    path = HOMEWORK / f"{name}.ipynb"
    if not isinstance(name, str) or not path.is_file():
        return None
    return nbformat.read(path, as_version=4)


def _restore_checks(nb: nbformat.NotebookNode) -> None:
    """Put the template's source back into every check cell of ``nb`` (by ``grade_id``)."""
    template = _template(nb)
    if template is None:
        return
    originals = {_grade_meta(cell)["grade_id"]: cell.source for cell in check_cells(template)}
    for cell in check_cells(nb):
        grade_id = _grade_meta(cell).get("grade_id")
        if grade_id in originals:
            cell.source = originals[grade_id]


def execute(notebook, timeout: int = 300) -> nbformat.NotebookNode:
    """Run a copy of ``notebook`` (a path or a NotebookNode) top to bottom in a fresh python3
    kernel, in the notebook's folder (this folder for a NotebookNode), and return it with its
    outputs. Errors do not stop the run; ``timeout`` is the limit per cell in seconds."""
    nb = _read(notebook)
    _restore_checks(nb)
    folder = Path(notebook).parent if isinstance(notebook, str | os.PathLike) else HOMEWORK
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def _output_text(cell) -> str:
    """What a cell showed: its streams, plain-text results and error, in order."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "\n".join(parts)


def _verdict(cell) -> str:
    """``"PASSED"`` when the cell raised no error, showed at least one ``PASSED <name>`` line
    and no ``FAILED <name>`` line (a checker's result starts with one of them); else
    ``"FAILED"``."""
    outputs = cell.get("outputs", [])
    if any(out.output_type == "error" for out in outputs):
        return "FAILED"
    lines = _output_text(cell).splitlines()
    verdicts = {line.split(" ", 1)[0] for line in lines
                if line.startswith(("PASSED ", "FAILED "))}
    return "PASSED" if verdicts == {"PASSED"} else "FAILED"


def score(nb: nbformat.NotebookNode) -> dict:
    """Score an executed notebook.

    Returns ``{"score", "max_score", "checks"}`` where ``checks`` is a list of dicts
    ``{"grade_id", "points", "earned", "status" ("PASSED"/"FAILED"), "message"}`` (``message``:
    the cell's output). A check cell of the template that the notebook lacks scores 0.
    """
    checks = []
    for cell in check_cells(nb):
        meta = _grade_meta(cell)
        status = _verdict(cell)
        points = float(meta.get("points", 0))
        checks.append({"grade_id": meta.get("grade_id"), "points": points,
                       "earned": points if status == "PASSED" else 0.0, "status": status,
                       "message": _output_text(cell).strip() or "no output"})
    template = _template(nb)
    present = {c["grade_id"] for c in checks}
    for cell in check_cells(template) if template is not None else []:
        meta = _grade_meta(cell)
        if meta["grade_id"] not in present:
            checks.append({"grade_id": meta["grade_id"], "points": float(meta["points"]),
                           "earned": 0.0, "status": "FAILED",
                           "message": "the check cell is missing from the submission"})
    return {"score": sum(c["earned"] for c in checks),
            "max_score": sum(c["points"] for c in checks), "checks": checks}


def grade(path, timeout: int = 300) -> dict:
    """Execute the notebook at ``path`` and score it: :func:`score`'s dict plus ``"path"``."""
    return {"path": os.fspath(path), **score(execute(path, timeout))}


def _reason(message: str, width: int = 90) -> str:
    """One short line saying why a check failed: its hint, else its first line."""
    lines = message.splitlines()
    line = next((x for x in lines if x.startswith("Hint: ")), lines[0] if lines else "")
    return line if len(line) <= width else line[:width - 3] + "..."


def _table(result: dict) -> str:
    width = max((len(c["grade_id"]) for c in result["checks"]), default=0)
    rows = [f"{result['path']}: {result['score']:g} / {result['max_score']:g} points"]
    for c in result["checks"]:
        rows.append(f"  {c['grade_id']:<{width}}  {c['earned']:>3g} / {c['points']:<3g} "
                    f"{c['status']}")
        if c["status"] == "FAILED":
            rows.append(f"      {_reason(c['message'])}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="submitted .ipynb files")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell (300)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = [grade(path, args.timeout) for path in args.notebooks]
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print("\n\n".join(_table(result) for result in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
