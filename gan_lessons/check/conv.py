"""Checkers for a student's conv2d, conv_transpose2d and their output-size formulas."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from gan_lessons import conv as _ref

from ._report import (
    Case,
    CheckResult,
    Shape,
    as_array,
    call,
    check_callable,
    compare_arrays,
    diagnose,
    run_cases,
)

__all__ = ["conv2d", "conv2d_output_size", "conv_transpose2d", "conv_transpose2d_output_size"]

_CONV_FORMULA = ("y[n, o, i, j] = b[o] + sum over c, u, v of w[o, c, u, v] * "
                 "x_pad[n, c, i*stride + u*dilation, j*stride + v*dilation]")
_CONV_SIZE = "H_out = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1"
_CONVT_SIZE = "H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1"
_CONVT_STAMP = ("every input pixel stamps its kernel: y[n, o, i*stride + u*dilation - padding, "
                "j*stride + v*dilation - padding] += x[n, c, i, j] * w[c, o, u, v]")
_TWO_D = ("a 2-D x (H, W) with a 2-D w (kH, kW) is one single-channel image: lift it to "
          "x[None, None], w[None, None], and return the (H_out, W_out) result.")

# the structured cases, simplest first; x and w are shapes, the rest keyword arguments
_CONV2D_CASES = [
    {"x": (1, 1, 4, 4), "w": (1, 1, 3, 3)},
    {"x": (1, 1, 5, 5), "w": (1, 1, 2, 2)},
    {"x": (5, 5), "w": (3, 3)},
    {"x": (2, 1, 5, 4), "w": (1, 1, 3, 3)},
    {"x": (1, 2, 4, 4), "w": (1, 2, 3, 3)},
    {"x": (1, 1, 4, 4), "w": (3, 1, 2, 2)},
    {"x": (1, 2, 4, 4), "w": (2, 2, 3, 3)},
    {"x": (2, 2, 5, 5), "w": (3, 2, 3, 3)},
    {"x": (1, 1, 5, 5), "w": (2, 1, 3, 3), "b": True},
    {"x": (2, 3, 4, 4), "w": (2, 3, 2, 2), "b": True},
    {"x": (1, 1, 4, 4), "w": (1, 1, 3, 3), "padding": 1},
    {"x": (1, 2, 5, 5), "w": (2, 2, 3, 3), "padding": 2},
    {"x": (1, 1, 5, 5), "w": (1, 1, 3, 3), "stride": 2},
    {"x": (1, 1, 7, 7), "w": (1, 1, 2, 2), "stride": 3},
    {"x": (1, 1, 5, 6), "w": (1, 1, 2, 3)},
    {"x": (1, 1, 6, 6), "w": (1, 1, 3, 3), "dilation": 2},
    {"x": (6, 6), "w": (3, 3), "stride": 2, "padding": 1},
    {"x": (1, 1, 6, 7), "w": (1, 1, 3, 3), "stride": 2, "padding": 1},
    {"x": (2, 2, 6, 5), "w": (3, 2, 3, 3), "b": True, "stride": 2, "padding": 1},
    {"x": (1, 2, 7, 7), "w": (2, 2, 3, 2), "b": True, "stride": 2, "padding": 2, "dilation": 2},
]
_CONVT_CASES = [
    {"x": (1, 1, 2, 2), "w": (1, 1, 2, 2)},
    {"x": (1, 1, 3, 3), "w": (1, 1, 3, 3)},
    {"x": (3, 3), "w": (2, 2)},
    {"x": (2, 1, 3, 2), "w": (1, 1, 2, 2)},
    {"x": (1, 2, 2, 2), "w": (2, 1, 3, 3)},
    {"x": (1, 1, 3, 3), "w": (1, 3, 2, 2)},
    {"x": (1, 2, 3, 3), "w": (2, 2, 2, 2)},
    {"x": (2, 2, 2, 3), "w": (2, 3, 3, 3), "b": True},
    {"x": (1, 1, 3, 3), "w": (1, 1, 3, 3), "stride": 2},
    {"x": (1, 1, 3, 3), "w": (1, 1, 3, 3), "padding": 1},
    {"x": (1, 2, 3, 3), "w": (2, 1, 4, 4), "stride": 2, "padding": 1},
    {"x": (1, 1, 3, 3), "w": (1, 1, 3, 3), "stride": 2, "padding": 1, "output_padding": 1},
    {"x": (1, 1, 3, 4), "w": (1, 1, 2, 3)},
    {"x": (1, 1, 3, 3), "w": (1, 1, 2, 2), "dilation": 2},
    {"x": (3, 3), "w": (3, 3), "stride": 2, "padding": 1},
    {"x": (2, 2, 3, 3), "w": (2, 3, 3, 2), "b": True, "stride": 2, "padding": 1,
     "output_padding": 1},
    {"x": (1, 2, 3, 3), "w": (2, 2, 2, 3), "b": True, "stride": 2, "padding": 1,
     "output_padding": 1, "dilation": 2},
]


_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0, "b": False}


def _random_settings(rng: np.random.Generator, transposed: bool, count: int) -> list[dict]:
    """``count`` random valid settings: H, W <= 7, C <= 3, kernels up to 3x3."""
    out: list[dict] = []
    while len(out) < count:
        n, c_in, c_out = (int(v) for v in rng.integers(1, 4, size=3))
        h, wd = (int(v) for v in rng.integers(2 if transposed else 3, 5 if transposed else 8, 2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        s = {"stride": int(rng.integers(1, 4)), "padding": int(rng.integers(0, 3)),
             "dilation": int(rng.integers(1, 3)), "b": bool(rng.integers(0, 2))}
        if transposed:
            s["output_padding"] = int(rng.integers(0, max(s["stride"], s["dilation"])))
            sizes = [_ref.conv_transpose2d_output_size(m, k, s["stride"], 0, s["output_padding"],
                                                       s["dilation"]) for m, k in ((h, kh),
                                                                                   (wd, kw))]
            if min(sizes) <= 2 * s["padding"]:
                continue
            shape_w = (c_in, c_out, kh, kw)
        else:
            if min(h - s["dilation"] * (kh - 1), wd - s["dilation"] * (kw - 1)) + 2 * s[
                    "padding"] < 1:
                continue
            shape_w = (c_out, c_in, kh, kw)
        out.append({"x": (n, c_in, h, wd), "w": shape_w,
                    **{k: v for k, v in s.items() if v != _DEFAULTS[k]}})
    return out


def _label(x: np.ndarray, w: np.ndarray, b, kwargs: dict) -> str:
    parts = [f"x {x.shape}", f"w {w.shape}"] + (["b"] if b is not None else [])
    return ", ".join(parts + [f"{k}={v}" for k, v in kwargs.items()])


def _arrays(rng: np.random.Generator, setting: dict, integers: bool, c_out_axis: int):
    def draw(shape):
        if integers:
            return rng.integers(-3, 4, size=shape).astype(float)
        return rng.normal(size=shape)

    x, w = draw(setting["x"]), draw(setting["w"])
    b = draw((setting["w"][c_out_axis],)) if setting.get("b") else None
    kwargs = {k: v for k, v in setting.items() if k not in ("x", "w", "b")}
    return x, w, b, kwargs


def _array_case(label: str, run: Callable, expected: np.ndarray, variants: Callable,
                fallback: Callable[[np.ndarray], str], error_hint: str | None = None) -> Case:
    def check(fn):
        got, problem = as_array(run(fn), expected)
        if problem:
            return problem, "return the output array."
        problem = compare_arrays(expected, got)
        if problem is None:
            return None
        return problem, diagnose(got, expected, variants()) or fallback(got)
    return Case(label, check, error_hint)


def _fallback(size: str, formula: str) -> Callable[[np.ndarray], Callable[[np.ndarray], str]]:
    """The hint when no known mistake matches: the size formula for a wrong H or W, else the
    definition."""
    def for_case(expected: np.ndarray) -> Callable[[np.ndarray], str]:
        def fallback(got: np.ndarray) -> str:
            if got.shape[:-2] == expected.shape[:-2] and got.shape != expected.shape:
                return f"the output size is off: {size} (and the same for W)."
            return f"compare expected and got: {formula}."
        return fallback
    return for_case


def _array_cases(settings: list[dict], fixed: int, rng: np.random.Generator,
                 reference: Callable, variants: Callable, fallback: Callable,
                 c_out_axis: int) -> list[Case]:
    """One case per setting (the first ``fixed`` with small integers, the rest normal floats):
    the student's function gets copies of x, w (and b), and the reference's answer is expected."""
    cases = []
    for k, setting in enumerate(settings):
        x, w, b, kwargs = _arrays(rng, setting, k < fixed, c_out_axis)
        expected = reference(x, w, b, **kwargs)
        extra = {"b": b} if b is not None else {}

        def run(fn, x=x, w=w, extra=extra, kwargs=kwargs):
            return call(fn, x.copy(), w.copy(), **{k: v.copy() for k, v in extra.items()},
                        **kwargs)
        cases.append(_array_case(
            _label(x, w, b, kwargs), run, expected,
            lambda x=x, w=w, b=b, kwargs=kwargs: variants(x, w, b, kwargs),
            fallback(expected), _TWO_D if x.ndim == 2 else None))
    return cases


def _conv_error_hint(signature: str, layout: str) -> Callable[[Exception], str | None]:
    def hint(exc: Exception) -> str | None:
        text = str(exc)
        if isinstance(exc, TypeError) and ("argument" in text or "positional" in text):
            return f"your function must accept the arguments {signature}."
        if isinstance(exc, IndexError | ValueError) and ("index" in text or "broadcast" in text
                                                          or "shape" in text):
            return (f"an index or shape does not fit: w is {layout}; check which axis of w you "
                    f"read the channel counts from, and the output size.")
        return None
    return hint


# --------------------------------------------------------------------------- conv2d


def _pad_one_side(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, 0), (p, 0)])


def _conv2d_variants(x, w, b, kw: dict):
    f = _ref.conv2d
    s, p, d = kw.get("stride", 1), kw.get("padding", 0), kw.get("dilation", 1)
    out = f(x, w, b, s, p, d)
    yield ("your output is a true convolution: the kernel is flipped. conv2d in deep learning is "
           "cross-correlation, with no flip: " + _CONV_FORMULA,
           lambda: f(x, w[..., ::-1, ::-1], b, s, p, d))
    yield "padding ignored: pad x with `padding` zeros on every side first.", \
        lambda: f(x, w, b, s, 0, d)
    for q in (p - 1, p + 1):
        yield (f"padding off by one: you padded {q} pixels; pad exactly `padding` zeros on each "
               f"side.", lambda q=q: f(x, w, b, s, q, d))
    yield ("x was padded on one side only (top/left): np.pad with (padding, padding) on both "
           "spatial axes.", lambda: f(_pad_one_side(x, p), w, b, s, 0, d))
    yield ("stride ignored: output pixel (i, j) reads the window starting at (i*stride, "
           "j*stride).", lambda: f(x, w, b, 1, p, d))
    yield ("dilation ignored: kernel tap (u, v) reads x_pad[.., i*stride + u*dilation, "
           "j*stride + v*dilation].", lambda: f(x, w, b, s, p, 1))
    if b is not None:
        yield "bias missing: add b[o] to every pixel of output channel o.", \
            lambda: f(x, w, None, s, p, d)
        taps = np.prod(w.shape[1:]) if w.ndim == 4 else w.size
        bias = b.reshape(-1, 1, 1)
        yield ("the bias is added inside the sum (once per input channel and kernel tap); add "
               "b[o] once per output pixel.", lambda: f(x, w, None, s, p, d) + taps * bias)
        if w.ndim == 4:
            yield ("the bias is added once per input channel; add b[o] once per output pixel.",
                   lambda: f(x, w, None, s, p, d) + w.shape[1] * bias)
    if w.ndim == 4:
        c_out, c_in = w.shape[:2]
        axes = ("the weight axes are swapped: w is (C_out, C_in, kH, kW), so output channel o "
                "uses w[o, c] for input channel c.")
        if c_in == c_out:
            yield axes, lambda: f(x, w.transpose(1, 0, 2, 3), b, s, p, d)
        else:
            yield axes, lambda: Shape((out.shape[0], c_in, *out.shape[2:]))
        if c_in > 1:
            yield ("only the first input channel is used: sum over all input channels c.",
                   lambda: f(x[:, :1], w[:, :1], b, s, p, d))
    if w.shape[-1] != w.shape[-2]:
        yield ("the kernel's height and width are swapped: w[..., u, v] has u along the rows "
               "(height) and v along the columns.", lambda: f(x, w.swapaxes(-1, -2), b, s, p, d))


def conv2d(fn: Callable) -> CheckResult:
    """Check ``fn(x, w, b=None, stride=1, padding=0, dilation=1)`` against the reference conv2d
    (cross-correlation; x ``(N, C_in, H, W)`` or ``(H, W)``, w ``(C_out, C_in, kH, kW)`` or
    ``(kH, kW)``, numpy arrays -> numpy array)."""
    check_callable(fn)
    rng = np.random.default_rng(2024)
    cases = _array_cases(_CONV2D_CASES + _random_settings(rng, False, 14), len(_CONV2D_CASES),
                         rng, _ref.conv2d, _conv2d_variants,
                         _fallback(_CONV_SIZE, _CONV_FORMULA), 0)
    return run_cases("conv2d", fn, cases, _conv_error_hint(
        "(x, w, b=None, stride=1, padding=0, dilation=1)", "(C_out, C_in, kH, kW)"))


# --------------------------------------------------------------------------- conv_transpose2d


def _convt_variants(x, w, b, kw: dict):
    f = _ref.conv_transpose2d
    s, p = kw.get("stride", 1), kw.get("padding", 0)
    op, d = kw.get("output_padding", 0), kw.get("dilation", 1)
    out = f(x, w, b, s, p, op, d)
    flip = ("the kernel is flipped. In the stamp view there is no flip: " + _CONVT_STAMP + ". "
            "(Only the zero-insertion view, written as a conv2d, flips the kernel and swaps its "
            "channel axes.)")
    yield flip, lambda: f(x, w[..., ::-1, ::-1], b, s, p, op, d)
    yield ("the kernel is flipped along one axis only; in the stamp view it is not flipped at "
           "all.", lambda: f(x, w[..., ::-1, :], b, s, p, op, d))
    yield ("the kernel is flipped along one axis only; in the stamp view it is not flipped at "
           "all.", lambda: f(x, w[..., :, ::-1], b, s, p, op, d))
    if w.ndim == 4:
        c_in, c_out = w.shape[:2]
        axes = ("the weight axes are treated as (C_out, C_in): for conv_transpose2d, w is "
                "(C_in, C_out, kH, kW) as in PyTorch, so input channel c stamps w[c, o] into "
                "output channel o.")
        if c_in == c_out:
            yield axes, lambda: f(x, w.transpose(1, 0, 2, 3), b, s, p, op, d)
            yield (axes + " (Your kernel is also flipped.)",
                   lambda: f(x, w.transpose(1, 0, 2, 3)[..., ::-1, ::-1], b, s, p, op, d))
        else:
            yield axes, lambda: Shape((out.shape[0], c_in, *out.shape[2:]))
    if p:
        yield ("padding not cropped: conv_transpose2d's padding removes `padding` rows and "
               "columns from each side of the full output.", lambda: f(x, w, b, s, 0, op, d))
        full = f(x, w, b, s, 0, op, d)
        h, wd = out.shape[-2:]
        yield ("the padding was cropped from one side only: remove `padding` rows and columns "
               "from each side.", lambda: full[..., 2 * p:, 2 * p:])
        yield ("the padding was cropped from one side only: remove `padding` rows and columns "
               "from each side.", lambda: full[..., :h, :wd])
    if op:
        yield ("output_padding ignored: it adds `output_padding` rows and columns at the bottom "
               "and right of the output.", lambda: f(x, w, b, s, p, 0, d))
    yield "stride ignored: input pixel (i, j) stamps its kernel at (i*stride, j*stride).", \
        lambda: f(x, w, b, 1, p, 0, d)
    yield "dilation ignored: kernel tap (u, v) lands u*dilation rows and v*dilation columns " \
          "from the stamp's corner.", lambda: f(x, w, b, s, p, 0, 1)
    if b is not None:
        yield "bias missing: add b[o] to every pixel of output channel o.", \
            lambda: f(x, w, None, s, p, op, d)


def conv_transpose2d(fn: Callable) -> CheckResult:
    """Check ``fn(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1)`` against the
    reference transposed convolution (w ``(C_in, C_out, kH, kW)`` as in PyTorch)."""
    check_callable(fn)
    rng = np.random.default_rng(2025)
    cases = _array_cases(_CONVT_CASES + _random_settings(rng, True, 13), len(_CONVT_CASES), rng,
                         _ref.conv_transpose2d, _convt_variants,
                         _fallback(_CONVT_SIZE, _CONVT_STAMP), 1)
    return run_cases("conv_transpose2d", fn, cases, _conv_error_hint(
        "(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1)",
        "(C_in, C_out, kH, kW)"))


# --------------------------------------------------------------------------- output sizes


def _int_case(label: str, run: Callable, expected: int, variants: list[tuple[str, int]],
              fallback: str) -> Case:
    def check(fn):
        got = run(fn)
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            return (f"expected the int {expected}, got {type(got).__name__} {got!r}",
                    "return the size as an int.")
        if not isinstance(got, numbers.Integral):
            if float(got) == expected:
                return (f"expected the int {expected}, got the float {got!r}",
                        "return an int: use floor division // (or int(...)), not /.")
            return (f"expected {expected}, got {got!r}", "the size is a whole number: use floor "
                    "division // rather than /.")
        if int(got) == expected:
            return None
        for hint, wrong in variants:
            if wrong == int(got) and wrong != expected:
                return f"expected {expected}, got {int(got)}", hint
        return f"expected {expected}, got {int(got)}", fallback
    return Case(label, check)


_SIZE_SETTINGS = [(5, 3, 1, 0, 1), (7, 1, 1, 0, 1), (5, 5, 1, 0, 1), (5, 3, 1, 1, 1),
                  (6, 3, 2, 0, 1), (7, 3, 2, 0, 1), (6, 2, 2, 1, 1), (8, 3, 1, 0, 2),
                  (1, 3, 1, 1, 1), (28, 4, 2, 1, 1), (10, 3, 3, 2, 2), (64, 5, 3, 2, 1)]


def _size_settings(fixed: list[tuple], draw: Callable[[], tuple],
                   valid: Callable[[tuple], bool]) -> list[tuple]:
    """The fixed settings, then 18 distinct valid random ones from ``draw()``."""
    out = list(fixed)
    while len(out) < len(fixed) + 18:
        setting = draw()
        if valid(setting) and setting not in out:
            out.append(setting)
    return out


def _size_label(names: tuple[str, ...], values: tuple[int, ...], defaults: tuple) -> str:
    shown = [f"{k}={v}" for k, v, dv in zip(names, values, defaults, strict=True)
             if dv is None or v != dv]
    return ", ".join(shown)


def _size_call(names, values, defaults):
    def run(fn):
        args = values[:2]
        kwargs = {k: v for k, v, dv in zip(names[2:], values[2:], defaults[2:], strict=True)
                  if v != dv}
        return call(fn, *args, **kwargs)
    return run


def _valid_conv(setting) -> bool:
    n, k, _, p, d = setting
    return d * (k - 1) + 1 <= n + 2 * p


def conv2d_output_size(fn: Callable) -> CheckResult:
    """Check ``fn(n, kernel_size, stride=1, padding=0, dilation=1) -> int`` against
    :func:`gan_lessons.conv.conv2d_output_size`."""
    check_callable(fn)
    names = ("n", "kernel_size", "stride", "padding", "dilation")
    defaults = (None, None, 1, 0, 1)
    cases = []
    rng = np.random.default_rng(7)

    def draw():
        return (int(rng.integers(1, 33)), int(rng.integers(1, 8)), int(rng.integers(1, 5)),
                int(rng.integers(0, 4)), int(rng.integers(1, 4)))
    for setting in _size_settings(_SIZE_SETTINGS, draw, _valid_conv):
        n, k, s, p, d = setting
        span, padded = d * (k - 1) + 1, n + 2 * p
        variants = [
            ("floor, not ceil: a window that does not fit entirely is dropped.",
             -(-(padded - span) // s) + 1),
            ("padding is added on both sides: use n + 2*padding.", (n + p - span) // s + 1),
            ("off by one: count the first window too (the + 1 after the division).",
             (padded - span) // s),
            ("off by one: the first window already covers the kernel's span, so subtract "
             "dilation*(kernel_size - 1) + 1 before dividing.", (padded - span + 1) // s + 1),
            ("dilation ignored: a dilated kernel spans dilation*(kernel_size - 1) + 1 pixels.",
             (padded - k) // s + 1),
            ("a dilated kernel spans dilation*(kernel_size - 1) + 1 pixels, not "
             "dilation*kernel_size.", (padded - d * k) // s + 1),
            ("stride ignored: divide by the stride (floor).", padded - span + 1),
        ]
        cases.append(_int_case(_size_label(names, setting, defaults),
                               _size_call(names, setting, defaults),
                               _ref.conv2d_output_size(*setting), variants,
                               f"the formula is {_CONV_SIZE}."))
    return run_cases("conv2d_output_size", fn, cases, _size_error_hint(
        "(n, kernel_size, stride=1, padding=0, dilation=1)"))


def _size_error_hint(signature: str) -> Callable[[Exception], str | None]:
    def hint(exc: Exception) -> str | None:
        if isinstance(exc, TypeError):
            return f"your function must accept the arguments {signature}."
        return None
    return hint


def _valid_transposed(setting) -> bool:
    n, k, s, p, op, d = setting
    return op < max(s, d) and (n - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1


def conv_transpose2d_output_size(fn: Callable) -> CheckResult:
    """Check ``fn(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1) -> int``
    against :func:`gan_lessons.conv.conv_transpose2d_output_size`."""
    check_callable(fn)
    names = ("n", "kernel_size", "stride", "padding", "output_padding", "dilation")
    defaults = (None, None, 1, 0, 0, 1)
    rng = np.random.default_rng(8)
    fixed = [(3, 3, 1, 0, 0, 1), (1, 4, 1, 0, 0, 1), (3, 3, 2, 0, 0, 1), (3, 3, 1, 1, 0, 1),
             (4, 4, 2, 1, 0, 1), (3, 3, 2, 1, 1, 1), (3, 2, 1, 0, 0, 2), (7, 4, 2, 1, 0, 1)]

    def draw():
        return (int(rng.integers(1, 17)), int(rng.integers(1, 6)), int(rng.integers(1, 4)),
                int(rng.integers(0, 3)), int(rng.integers(0, 3)), int(rng.integers(1, 3)))
    cases = []
    for setting in _size_settings(fixed, draw, _valid_transposed):
        n, k, s, p, op, d = setting
        right = _ref.conv_transpose2d_output_size(*setting)
        variants = [  # the ones specific to an argument first: earlier cases passed
            ("padding crops both sides: subtract 2*padding.", right + p),
            ("padding crops the output (subtract 2*padding), it does not grow it.",
             right + 4 * p),
            ("output_padding ignored: add it once.", right - op),
            ("n input pixels have n - 1 gaps between them: (n - 1)*stride, not n*stride.",
             right + s),
            ("off by one: + 1 at the end (a kernel of size 1 gives (n - 1)*stride + 1).",
             right - 1),
            ("output_padding is added once (on one side), not twice.", right + op),
            ("dilation ignored: the kernel spans dilation*(kernel_size - 1) + 1 pixels.",
             right - (d - 1) * (k - 1)),
            ("that is the conv2d formula; a transposed convolution inverts it: "
             + _CONVT_SIZE + ".", _conv_size_or_none(n, k, s, p, d)),
        ]
        cases.append(_int_case(_size_label(names, setting, defaults),
                               _size_call(names, setting, defaults), right, variants,
                               f"the formula is {_CONVT_SIZE}."))
    return run_cases("conv_transpose2d_output_size", fn, cases, _size_error_hint(
        "(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1)"))


def _conv_size_or_none(n, k, s, p, d) -> int | None:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1 if _valid_conv((n, k, s, p, d)) else None
