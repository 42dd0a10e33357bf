"""``jupyter-book build`` with Sphinx's parallel reading: the notebooks execute ``JOBS`` at a
time (default: the number of CPU cores), since executing them is most of the build's time;
each kernel's PyTorch gets ``cores // JOBS`` threads unless ``OMP_NUM_THREADS`` is set.

    python scripts/build_book.py [jupyter-book build arguments]   # e.g. . -W -n --keep-going

jupyter-book 1.x has no ``--jobs`` option, but its ``build_sphinx`` takes ``jobs``; this
passes it. Sphinx reads in parallel only when every extension declares that it may.
``sphinx_multitoc_numbering`` (loaded by sphinx-external-toc) does not declare it; it acts only
on a toc with ``numbered: true``, which this book does not use (tests/test_book_build.py checks
that), so it is declared safe here; sphinx_jupyterbook_latex (PDF only) is turned off in
_config.yml. Set ``JOBS=1`` for a serial build.
"""

from __future__ import annotations

import os
import sys


def _declare_multitoc_parallel_safe() -> None:
    import sphinx_multitoc_numbering

    setup = sphinx_multitoc_numbering.setup

    def parallel_safe_setup(app):
        metadata = setup(app) or {}
        return {**metadata, "parallel_read_safe": True, "parallel_write_safe": True}

    sphinx_multitoc_numbering.setup = parallel_safe_setup


def main() -> int:
    import jupyter_book.sphinx
    from jupyter_book.cli.main import main as jupyter_book_main

    cores = os.cpu_count() or 1
    jobs = int(os.environ.get("JOBS") or cores)
    # each notebook's kernel gets its share of the cores (oversubscribed OpenMP threads spin)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, cores // jobs)))
    build_sphinx = jupyter_book.sphinx.build_sphinx

    def build_sphinx_in_parallel(*args, **kwargs):
        kwargs["jobs"] = jobs
        return build_sphinx(*args, **kwargs)

    jupyter_book.sphinx.build_sphinx = build_sphinx_in_parallel
    _declare_multitoc_parallel_safe()
    return jupyter_book_main(["build", *sys.argv[1:]], standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(main())
