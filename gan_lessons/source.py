"""Show the package's own code in the book: short excerpts, without the argument checks.

A chapter discusses a loss or a layer and shows the lines that matter. Whole functions with
their docstrings and ``raise TypeError`` blocks bury the idea, and lines wider than the text
column scroll sideways. :func:`source_excerpt` drops the docstring and the checks and refuses
lines wider than ``max_width``, so a too-wide excerpt fails the book build instead of scrolling.

>>> from gan_lessons.losses import discriminator_loss
>>> show_source(discriminator_loss)            # a highlighted code block in Jupyter and the book
>>> show_source(GANStep.__call__, start="x_fake =", stop="loss_g.backward")
"""

from __future__ import annotations

import ast
import inspect
import textwrap

__all__ = ["show_source", "source_excerpt"]


def _is_check(node: ast.stmt) -> bool:
    """An argument check: ``if ...: raise ...`` or a call to a ``check_*`` helper."""
    if isinstance(node, ast.If) and not node.orelse:
        return all(isinstance(child, ast.Raise) for child in node.body)
    value = getattr(node, "value", None)
    if isinstance(node, ast.Expr | ast.Assign) and isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name.lstrip("_").startswith("check_")
    return False


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _dropped_lines(tree: ast.AST) -> set[int]:
    """1-based line numbers of every docstring and argument check in ``tree``."""
    dropped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for index, child in enumerate(body):
            docstring = index == 0 and _is_docstring(child)
            if docstring or _is_check(child):
                dropped.update(range(child.lineno, child.end_lineno + 1))
    return dropped


def _find(lines: list[str], marker: str, name: str, after: int = 0) -> int:
    for index in range(after, len(lines)):
        if marker in lines[index]:
            return index
    raise ValueError(f"{name}={marker!r} does not occur in the excerpt")


def source_excerpt(obj, *, start: str | None = None, stop: str | None = None,
                   drop_checks: bool = True, max_width: int = 79) -> str:
    """The source of ``obj`` (a function, method or class) as a dedented string.

    Args:
        obj: what to show; anything :func:`inspect.getsource` accepts.
        start: keep lines from the first one containing this text (default: the first line).
        stop: ... up to and including the first later line containing this text.
        drop_checks: leave out docstrings, ``if ...: raise`` blocks and ``check_*(...)`` calls.
        max_width: the widest line allowed; a wider one raises ``ValueError``.
    """
    if not callable(obj) and not inspect.ismodule(obj):
        raise TypeError(f"obj must be a function, method, class or module, got {type(obj).__name__}")
    for value, name in ((start, "start"), (stop, "stop")):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str or None, got {type(value).__name__}")
    if isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 20:
        raise ValueError(f"max_width must be an int >= 20, got {max_width!r}")
    source = textwrap.dedent(inspect.getsource(obj))
    lines = source.splitlines()
    if drop_checks:
        dropped = _dropped_lines(ast.parse(source))
        lines = [line for number, line in enumerate(lines, 1) if number not in dropped]
    first = 0 if start is None else _find(lines, start, "start")
    last = len(lines) - 1 if stop is None else _find(lines, stop, "stop", after=first)
    lines = lines[first:last + 1]
    text = textwrap.dedent("\n".join(lines)).strip("\n")
    too_wide = [line for line in text.splitlines() if len(line) > max_width]
    if too_wide:
        raise ValueError(f"{len(too_wide)} line(s) of {getattr(obj, '__qualname__', obj)} are "
                         f"wider than max_width={max_width}, e.g. {too_wide[0]!r}; wrap them in "
                         "the package or show fewer lines")
    return text


def show_source(obj, **kwargs):
    """Display :func:`source_excerpt` as a highlighted Python block (an IPython ``Markdown``
    object, rendered in Jupyter and in the book). Takes the same keyword arguments."""
    from IPython.display import Markdown

    return Markdown(f"```python\n{source_excerpt(obj, **kwargs)}\n```")
