"""The result of a check, and the loop that runs a checker's cases against a student's function.

A case is a label (what it feeds the function) and a ``check(fn)`` that returns ``None`` when
the function's answer is right, or a ``(message, hint)`` pair. Code of the student's is called
through :func:`call`, so that its exceptions become failed cases while a bug in a checker still
raises.
"""

from __future__ import annotations

import html
import math
import os
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CheckResult"]

NOT_IMPLEMENTED_HINT = ("not implemented yet: replace the `raise NotImplementedError` with your "
                        "code.")
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(repr=False)
class CheckResult:
    """What a checker returns: truthy when every case passed; prints as readable feedback.

    Attributes: ``name`` (the checker), ``passed``, ``cases_run``, ``failures`` (one report per
    failed case, the simplest first), ``hint`` (aimed at the first failure, or None).
    The first line of ``str(result)`` starts with ``"PASSED <name>"`` or ``"FAILED <name>"``.
    """

    name: str
    passed: bool
    cases_run: int
    failures: list[str] = field(default_factory=list)
    hint: str | None = None
    total: int = 0
    noun: str = "cases match the reference"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"PASSED {self.name}: {self.cases_run} of {self.total} {self.noun}."
        lines = [f"FAILED {self.name}, {self.failures[0]}"]
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        if len(self.failures) > 1:
            lines.append(f"({len(self.failures)} of {self.cases_run} cases failed; the simplest "
                         f"is shown.)")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        head, _, rest = str(self).partition("\n")
        colour = "#1a7f37" if self.passed else "#cf222e"
        body = f"<pre style='margin: 0.3em 0 0 0'>{html.escape(rest)}</pre>" if rest else ""
        return (f"<div class='gan-lessons-check'><b style='color: {colour}'>"
                f"{html.escape(head)}</b>{body}</div>")

    def raise_if_failed(self) -> CheckResult:
        """Raise ``AssertionError(str(self))`` when the check failed; return self otherwise."""
        if not self.passed:
            raise AssertionError(str(self))
        return self


@dataclass
class Case:
    """One case: ``label`` says what it feeds the function; ``check(fn)`` returns None or
    ``(message, hint)``; ``error_hint`` is the hint when the function raises on this case."""

    label: str
    check: Callable[[Callable], tuple[str, str | None] | None]
    error_hint: str | None = None


class StudentError(Exception):
    """An exception raised inside the student's code (``exc``)."""

    def __init__(self, exc: Exception) -> None:
        super().__init__(str(exc))
        self.exc = exc


def call(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` with numpy and Python warnings silenced; its exceptions are wrapped
    in :class:`StudentError`."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except Exception as exc:
        raise StudentError(exc) from exc


def check_callable(fn, name: str = "fn", what: str = "your function") -> Callable:
    """``fn`` if it is callable, else TypeError naming ``name``."""
    if not callable(fn):
        raise TypeError(f"{name} must be callable ({what}), got {type(fn).__name__}")
    return fn


def _student_frame(exc: BaseException) -> str:
    """`` (in f, line 12: y[i] = ...)`` for the deepest frame outside libraries, or ''."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_PACKAGE_DIR) and "-packages" not in f.filename
              and not f.filename.startswith(os.path.dirname(os.__file__))
              and not f.filename.startswith("<frozen")]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f" (in {frame.name}, line {frame.lineno}{code})"


def _exception_report(exc: Exception) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(message) > 200:
        message = message[:197] + "..."
    return f"raised {type(exc).__name__}{': ' + message if message else ''}{_student_frame(exc)}"


def run_cases(name: str, fn: Callable, cases: Sequence[Case],
              error_hint: Callable[[Exception], str | None] | None = None,
              noun: str = "cases match the reference") -> CheckResult:
    """Run every case (stopping at a NotImplementedError) and collect the failures."""
    failures: list[str] = []
    hint = None
    run = 0
    for k, case in enumerate(cases, 1):
        run = k
        stop = False
        try:
            problem = case.check(fn)
        except StudentError as err:
            exc = err.exc
            stop = isinstance(exc, NotImplementedError)
            why = NOT_IMPLEMENTED_HINT if stop else (
                case.error_hint or (error_hint(exc) if error_hint else None)
                or "your function raised an error on this case: call it on these inputs to see "
                   "where.")
            problem = (_exception_report(exc), why)
        if problem is not None:
            message, case_hint = problem
            failures.append(f"case {k} of {len(cases)} ({case.label}): {message}")
            if hint is None and len(failures) == 1:
                hint = case_hint
        if stop:
            break
    return CheckResult(name, not failures, run, failures, hint, len(cases), noun)


# --------------------------------------------------------------------------- comparisons


def short(a, precision: int = 4) -> str:
    """A short, one-screen print of an array or number."""
    if isinstance(a, float | np.floating):
        return f"{float(a):.{precision + 2}g}"
    return np.array2string(np.asarray(a), precision=precision, suppress_small=True,
                           threshold=50, edgeitems=3, max_line_width=79)


def same(a, b, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Whether two answers agree: arrays of one shape (or a :class:`Shape` and an array of that
    shape), or numbers, within the tolerances; NaN and infinities agree with themselves."""
    if isinstance(a, Shape) or isinstance(b, Shape):
        return _shape_of(a) == _shape_of(b)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


@dataclass(frozen=True)
class Shape:
    """A wrong answer known only by its shape (a diagnosis that compares shapes)."""

    shape: tuple[int, ...]


def _shape_of(a) -> tuple[int, ...]:
    return a.shape if isinstance(a, Shape) else tuple(np.shape(a))


def diagnose(got, expected, variants: Iterable[tuple[str, Callable]],
             agree: Callable = same) -> str | None:
    """The hint of the first known-wrong variant that ``got`` matches (and ``expected`` does
    not). ``variants`` yields ``(hint, make)``; ``make()`` computes the wrong answer."""
    for hint, make in variants:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                wrong = make()
        except (ValueError, TypeError, IndexError, RuntimeError, ZeroDivisionError):
            continue
        if not agree(wrong, expected) and agree(wrong, got):
            return hint
    return None


def as_array(got, expected: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """The student's answer as a float array, or a message saying why it is not one."""
    if got is None:
        return None, (f"expected an array of shape {expected.shape}, got None (a missing "
                      f"`return`?)")
    if hasattr(got, "detach"):  # a torch tensor
        got = got.detach().cpu().numpy()
    try:
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None, f"expected a numeric array of shape {expected.shape}, got {type(got).__name__}"
    return arr, None


def compare_arrays(expected: np.ndarray, got: np.ndarray, rtol: float = 1e-5,
                   atol: float = 1e-6) -> str | None:
    """None when ``got`` matches; otherwise the shape difference, or the largest error, where,
    and the 2-D slice that holds it."""
    if got.shape != expected.shape:
        return f"expected shape {expected.shape}, got {got.shape}."
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    if not bad.any():
        return None
    error = np.abs(got - expected)
    error[np.isnan(error)] = math.inf
    where = np.unravel_index(int(np.argmax(error)), error.shape)
    lines = [f"max abs error {error[where]:.3g} at index {tuple(int(i) for i in where)}: expected "
             f"{expected[where]:.6g}, got {got[where]:.6g} ({int(bad.sum())} of {bad.size} values "
             f"differ)."]
    if expected.ndim >= 2:
        lead = tuple(int(i) for i in where[:-2])
        index = f"[{', '.join(map(str, lead))}]" if lead else ""
        lines += [f"expected{index} =", short(expected[lead], 3), f"got{index} =",
                  short(got[lead], 3)]
    return "\n".join(lines)
