"""Checker for a student's Fréchet distance (FID) of two feature arrays."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from gan_lessons import metrics as _ref

from ._report import Case, CheckResult, call, check_callable, diagnose, run_cases

__all__ = ["frechet_distance"]

_FORMULA = ("FID = ||mu_r - mu_f||^2 + tr(S_r + S_f - 2 (S_r S_f)^(1/2)), with the means and the "
            "unbiased (N - 1) covariances of the features (columns), and (S_r S_f)^(1/2) the "
            "matrix square root (scipy.linalg.sqrtm) of the product")
_COV_ROWS = ("np.cov treats every row as a variable: the features are the columns, so use "
             "np.cov(x, rowvar=False), a (D, D) covariance.")


def _trace_sqrt(a: np.ndarray, b: np.ndarray) -> float:
    """tr (a b)^(1/2) from the eigenvalues of a b (real and >= 0 for covariances)."""
    return float(np.sqrt(np.clip(np.linalg.eigvals(a @ b).real, 0, None)).sum())


def _variants(x: np.ndarray, y: np.ndarray):
    m1, m2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    d2, tr = float(((m1 - m2) ** 2).sum()), float(np.trace(s1) + np.trace(s2))

    def fid(s1=s1, s2=s2, mean=d2, factor=-2.0):
        return mean + float(np.trace(s1) + np.trace(s2)) + factor * _trace_sqrt(s1, s2)
    yield "the trace term tr(S_r + S_f - 2 (S_r S_f)^(1/2)) is missing.", lambda: d2
    yield ("(S_r S_f)^(1/2) is the matrix square root of the matrix product S_r @ S_f "
           "(scipy.linalg.sqrtm), not np.sqrt of the elementwise product S_r * S_f.",
           lambda: d2 + tr - 2 * float(np.trace(np.sqrt(s1 * s2))))
    yield ("np.sqrt is elementwise: take the matrix square root of S_r @ S_f "
           "(scipy.linalg.sqrtm).", lambda: d2 + tr - 2 * float(np.trace(np.sqrt(s1 @ s2))))
    yield ("the mean term is the squared norm ||mu_r - mu_f||^2, not the norm.",
           lambda: fid(mean=np.sqrt(d2)))
    if len(x) == len(y):
        yield _COV_ROWS, lambda: fid(np.cov(x), np.cov(y))
    yield ("use the unbiased covariance (divide by N - 1), as np.cov does.",
           lambda: fid(np.cov(x, rowvar=False, bias=True), np.cov(y, rowvar=False, bias=True)))
    yield "the sign: the trace term is tr(S_r) + tr(S_f) MINUS 2 tr((S_r S_f)^(1/2)).", \
        lambda: fid(factor=2.0)
    yield "the factor 2 of the cross term is missing: - 2 tr((S_r S_f)^(1/2)).", \
        lambda: fid(factor=-1.0)
    yield ("the trace of the matrix square root, not the square root of the trace: "
           "tr((S_r S_f)^(1/2)).", lambda: d2 + tr - 2 * np.sqrt(float(np.trace(s1 @ s2))))


def _number(got) -> tuple[float | None, tuple[str, str] | None]:
    if got is None:
        return None, ("returned None", "a missing `return`?")
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    if isinstance(got, np.ndarray):
        if got.size != 1:
            return None, (f"expected one number, got an array of shape {got.shape}",
                          "the distance is a single float.")
        got = got.reshape(()).item()
    if isinstance(got, numbers.Complex) and not isinstance(got, numbers.Real):
        return None, (f"expected a real number, got the complex {got!r}",
                      "sqrtm may return a complex matrix with a tiny imaginary part from "
                      "rounding: take its .real.")
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        return None, (f"expected a float, got {type(got).__name__}", "return a float.")
    return float(got), None


def _case(x: np.ndarray, y: np.ndarray, label: str) -> Case:
    expected = _ref.frechet_distance(x, y)
    scale = float(np.trace(np.cov(x, rowvar=False)) + np.trace(np.cov(y, rowvar=False))) + 1

    def agree(a, b):
        return bool(np.isclose(a, b, rtol=1e-4, atol=1e-6 * scale, equal_nan=True))

    def check(fn):
        value, problem = _number(call(fn, x.copy(), y.copy()))
        if problem:
            return problem
        if agree(value, expected):
            return None
        return (f"expected {expected:.7g}, got {value:.7g}",
                diagnose(value, expected, _variants(x, y), agree) or _FORMULA + ".")
    hint = _COV_ROWS if len(x) != len(y) else None
    return Case(label, check, hint)


def _error_hint(exc: Exception) -> str | None:
    if isinstance(exc, TypeError) and "argument" in str(exc):
        return "your function must take (real_features, fake_features), two (N, D) arrays."
    return None


def frechet_distance(fn: Callable) -> CheckResult:
    """Check ``fn(real_features, fake_features) -> float`` (``(N, D)`` and ``(M, D)`` numpy
    arrays) against :func:`gan_lessons.metrics.frechet_distance`, to a relative 1e-4."""
    check_callable(fn)
    rng = np.random.default_rng(99)

    def features(n, d, shift=0.0):
        mixing = rng.normal(size=(d, d)) + np.eye(d)  # correlated features
        return rng.normal(size=(n, d)) @ mixing + shift

    x = rng.normal(size=(30, 2))
    sets = [
        (x, x, "the same set twice"),
        (x, x + np.array([2.0, 1.0]), "the set shifted by (2, 1)"),
        (rng.normal(size=(40, 3)), 2 * rng.normal(size=(40, 3)), "scaled by 2"),
        (features(50, 3), features(50, 3, 1.0), "correlated features"),
        (features(60, 4), features(45, 4, -0.5), "N != M"),
        (features(80, 6), features(70, 6, 0.3), "correlated features, N != M"),
        (features(40, 8), features(40, 8, 0.2), "correlated features"),
        (features(100, 5), features(30, 5, 1.0), "N != M"),
    ]
    cases = [_case(a, b, f"real {a.shape}, fake {b.shape}: {what}") for a, b, what in sets]
    return run_cases("frechet_distance", fn, cases, _error_hint)
