"""Run a chapter notebook in a fresh kernel and print the cells that take longer than a second.

    GAN_LESSONS_DATA=../shared/data .venv/bin/python scripts/time_notebook.py book/dcgan.ipynb

Each chapter should run in about 90 s on a 2-core CPU (it runs twice in CI). Time it on an
otherwise idle machine: training cells slow down many times over when other processes compete
for the cores. Nothing is written; the notebook file is only read.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--min-seconds", type=float, default=1.0, help="report cells above this")
    args = parser.parse_args()
    nb = nbformat.read(args.notebook, as_version=4)
    client = NotebookClient(nb, timeout=1200, kernel_name="python3",
                            resources={"metadata": {"path": str(args.notebook.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t = time.perf_counter()
            client.execute_cell(cell, index)
            seconds = time.perf_counter() - t
            if seconds >= args.min_seconds:
                print(f"{seconds:7.1f} s  cell {index}: {cell.source.splitlines()[0][:60]}")
    print(f"{time.perf_counter() - start:7.1f} s  in all ({args.notebook})")


if __name__ == "__main__":
    main()
