"""Property tests: the four numpy conv functions agree with torch.nn.functional on random
configurations (float64, tight tolerance), and refuse what torch refuses.

Shapes are kept small so that 500 examples per function (the naive loops included) run in
seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gan_lessons.conv import conv2d, conv2d_naive, conv_transpose2d, conv_transpose2d_naive

EXAMPLES = settings(max_examples=500, deadline=None)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _int_or_pair(draw, pair: tuple[int, int]):
    """The pair as the call would spell it: an int when both axes agree (sometimes), else a pair."""
    if pair[0] == pair[1] and draw(st.booleans()):
        return pair[0]
    return draw(st.sampled_from([pair, list(pair)]))


def _axis_pair(draw, low: int, high: int) -> tuple[int, int]:
    a = draw(st.integers(low, high))
    b = a if draw(st.booleans()) else draw(st.integers(low, high))
    return a, b


@st.composite
def conv_cases(draw, valid: bool = True):
    """(x, w, b, kwargs) for conv2d. valid=False also draws kernels larger than the input."""
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = _axis_pair(draw, 1, 4)
    s = _axis_pair(draw, 1, 3)
    p = _axis_pair(draw, 0, 2)
    d = _axis_pair(draw, 1, 3)
    if valid:  # the padded input holds at least one window
        size = tuple(max(1, d[a] * (k[a] - 1) + 1 - 2 * p[a]) + draw(st.integers(0, 4))
                     for a in (0, 1))
    else:
        size = _axis_pair(draw, 1, 5)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, c_in, *size))
    w = rng.standard_normal((c_out, c_in, *k))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    kwargs = {"stride": _int_or_pair(draw, s), "padding": _int_or_pair(draw, p),
              "dilation": _int_or_pair(draw, d)}
    return x, w, b, kwargs


@st.composite
def conv_transpose_cases(draw, valid: bool = True):
    """(x, w, b, kwargs) for conv_transpose2d. valid=False also draws output paddings that
    break PyTorch's rule (output_padding < max(stride, dilation)) and paddings that crop all."""
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    size = _axis_pair(draw, 1, 5)
    k = _axis_pair(draw, 1, 4)
    s = _axis_pair(draw, 1, 3)
    d = _axis_pair(draw, 1, 3)
    if valid:
        op = tuple(draw(st.integers(0, max(s[a], d[a]) - 1)) for a in (0, 1))
        # the largest padding that leaves at least one output pixel
        p_max = [min(3, ((size[a] - 1) * s[a] + d[a] * (k[a] - 1) + op[a]) // 2) for a in (0, 1)]
        p = tuple(draw(st.integers(0, p_max[a])) for a in (0, 1))
        out = [(size[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1 for a in (0, 1)]
        assume(min(out) >= 1)
    else:
        p = _axis_pair(draw, 0, 4)
        op = _axis_pair(draw, 0, 3)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, c_in, *size))
    w = rng.standard_normal((c_in, c_out, *k))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    kwargs = {"stride": _int_or_pair(draw, s), "padding": _int_or_pair(draw, p),
              "output_padding": _int_or_pair(draw, op), "dilation": _int_or_pair(draw, d)}
    return x, w, b, kwargs


def _torch(fn, x, w, b, kwargs):
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    def t(a):
        return None if a is None else torch.from_numpy(a)

    return fn(t(x), t(w), t(b), **kwargs).numpy()


def _assert_matches(got, ref):
    assert got.shape == ref.shape
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10 * (1 + np.abs(ref).max()))


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
@EXAMPLES
@given(case=conv_cases())
def test_conv2d_matches_torch(fn, case):
    x, w, b, kwargs = case
    _assert_matches(fn(x, w, b, **kwargs), _torch(F.conv2d, x, w, b, kwargs))


@pytest.mark.parametrize("fn", [conv_transpose2d, conv_transpose2d_naive])
@EXAMPLES
@given(case=conv_transpose_cases())
def test_conv_transpose2d_matches_torch(fn, case):
    x, w, b, kwargs = case
    _assert_matches(fn(x, w, b, **kwargs), _torch(F.conv_transpose2d, x, w, b, kwargs))


@settings(max_examples=300, deadline=None)
@given(case=conv_cases(valid=False))
def test_conv2d_refuses_what_torch_refuses(case):
    x, w, b, kwargs = case
    try:
        ref = _torch(F.conv2d, x, w, b, kwargs)
    except RuntimeError:
        for fn in (conv2d, conv2d_naive):
            with pytest.raises(ValueError, match="w is too large"):
                fn(x, w, b, **kwargs)
        return
    for fn in (conv2d, conv2d_naive):
        _assert_matches(fn(x, w, b, **kwargs), ref)


@settings(max_examples=300, deadline=None)
@given(case=conv_transpose_cases(valid=False))
def test_conv_transpose2d_refuses_what_torch_refuses(case):
    x, w, b, kwargs = case
    try:
        ref = _torch(F.conv_transpose2d, x, w, b, kwargs)
    except RuntimeError:
        ref = None
    if ref is None or ref.size == 0:  # an empty output is refused (torch is not consistent)
        for fn in (conv_transpose2d, conv_transpose2d_naive):
            with pytest.raises(ValueError, match="padding"):
                fn(x, w, b, **kwargs)
        return
    for fn in (conv_transpose2d, conv_transpose2d_naive):
        _assert_matches(fn(x, w, b, **kwargs), ref)


@settings(max_examples=200, deadline=None)
@given(case=conv_cases())
def test_vectorized_equals_naive_in_float32(case):
    """float32 in, float32 out, and the two implementations agree to float32 precision."""
    x, w, b, kwargs = case
    x, w = x.astype(np.float32), w.astype(np.float32)
    b = None if b is None else b.astype(np.float32)
    fast, slow = conv2d(x, w, b, **kwargs), conv2d_naive(x, w, b, **kwargs)
    assert fast.dtype == slow.dtype == np.float32
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-5 * (1 + np.abs(slow).max()))
