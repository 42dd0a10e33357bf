"""Write the API reference's pages, book/api/*.md: one per public module of gan_lessons.

    python scripts/api_pages.py           write the pages (and the toc entries to paste)
    python scripts/api_pages.py --check   exit 1 if a page is missing, stale or extra

Each page is an autodoc stub: Sphinx fills it from the module's docstrings at build time, so
the reference cannot drift from the code. The public modules are ``gan_lessons.SUBMODULES``
and the modules of ``gan_lessons.models`` (tests/test_api_reference.py runs ``--check``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "book" / "api"

PAGE = """# `{module}`

```{{eval-rst}}
.. automodule:: {module}
   :members:{ignore_all}
```
"""

# Packages whose __all__ re-exports their private submodules' names: documented through
# __all__. Every other module documents what it defines itself (not what it re-exports, which
# has its own page, e.g. gan_lessons.models' classes on gan_lessons.models.dcgan's page).
DOCUMENTED_BY_ALL = ("gan_lessons.check",)


def public_modules() -> list[str]:
    """Every public module's dotted name, in the order the reference lists them."""
    if str(ROOT) not in sys.path:  # this checkout's package, also when run as a script
        sys.path.insert(0, str(ROOT))
    import gan_lessons
    import gan_lessons.models

    names = [f"gan_lessons.{name}" for name in gan_lessons.SUBMODULES]
    submodules = [f"gan_lessons.models.{m.name}"
                  for m in pkgutil.iter_modules(gan_lessons.models.__path__)
                  if not m.name.startswith("_")]
    out = []
    for name in names:
        out.append(name)
        if name == "gan_lessons.models":
            out += submodules
    return out


def summary(module: str) -> str:
    """The first sentence of a module's docstring."""
    doc = (importlib.import_module(module).__doc__ or "").strip()
    first = " ".join(doc.split("\n\n")[0].split())
    return first.replace("|", "\\|")


def expected_pages() -> dict[str, str]:
    """``{file name: text}`` of every page the reference should have."""
    modules = public_modules()
    pages = {f"{m.removeprefix('gan_lessons.')}.md":
             PAGE.format(module=m, ignore_all="" if m in DOCUMENTED_BY_ALL
                         else "\n   :ignore-module-all:")
             for m in modules}
    rows = "\n".join(f"| [`{m}`]({m.removeprefix('gan_lessons.')}.md) | {summary(m)} |"
                     for m in modules)
    pages["index.md"] = INDEX.format(rows=rows)
    return pages


INDEX = """# API reference

The public modules of `gan_lessons`, generated from their docstrings when the book is built
(the same text that `help(module)` shows). Import what you need, e.g.
`from gan_lessons.data import load_dataset`; `import gan_lessons` alone is cheap and loads a
module on first use (`gan_lessons.data`). Every function checks its arguments: a bad one
raises `ValueError` or `TypeError` naming it.

| module | what it holds |
| --- | --- |
{rows}
"""


def main(argv: list[str]) -> int:
    pages = expected_pages()
    if "--check" in argv:
        have = {p.name: p.read_text() for p in PAGES.glob("*.md")} if PAGES.is_dir() else {}
        wrong = sorted(n for n in pages.keys() | have.keys() if pages.get(n) != have.get(n))
        if wrong:
            print(f"book/api is out of date ({', '.join(wrong)}): run python "
                  f"scripts/api_pages.py", file=sys.stderr)
            return 1
        return 0
    PAGES.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in PAGES.glob("*.md")) - pages.keys():
        (PAGES / stale).unlink()
    for name, text in pages.items():
        (PAGES / name).write_text(text)
    print("_toc.yml, under book/api/index:\n        sections:")
    print(toc_sections())
    return 0


def toc_sections() -> str:
    """The toc entries of the module pages (titles without the ``gan_lessons.`` prefix, so
    that they fit the sidebar)."""
    return "\n".join(f"          - file: book/api/{m.removeprefix('gan_lessons.')}\n"
                     f"            title: {m.removeprefix('gan_lessons.')}"
                     for m in public_modules())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
