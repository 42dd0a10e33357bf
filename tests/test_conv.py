"""Unit tests for gan_lessons.conv: worked examples, sizes, the matrix view, argument checks.

torch is the oracle; the random property tests against it are in test_conv_properties.py.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from gan_lessons import conv, diagrams
from gan_lessons.conv import (
    conv2d,
    conv2d_matrix,
    conv2d_naive,
    conv2d_output_size,
    conv_transpose2d,
    conv_transpose2d_naive,
    conv_transpose2d_output_size,
    overlap_counts,
)

CONVS = [conv2d, conv2d_naive]
TRANSPOSED = [conv_transpose2d, conv_transpose2d_naive]
ALL = CONVS + TRANSPOSED

X_3x3 = np.arange(1, 10).reshape(3, 3)


pytestmark = pytest.mark.usefixtures("one_torch_thread")
W_SWAP = np.array([[0, 1], [1, 0]])


def _torch(fn, x, w, b=None, **kw):
    def t(a):
        return None if a is None else torch.from_numpy(np.asarray(a, dtype=np.float64))

    return fn(t(x), t(w), t(b), **kw).numpy()


# --------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize("fn", CONVS)
def test_conv_worked_example(fn):
    y = fn(X_3x3, W_SWAP)
    np.testing.assert_array_equal(y, [[6, 8], [12, 14]])
    np.testing.assert_array_equal(y, _torch(F.conv2d, X_3x3[None, None], W_SWAP[None, None])[0, 0])


@pytest.mark.parametrize("fn", TRANSPOSED)
def test_transposed_worked_example(fn):
    x = np.array([[1, 2], [3, 4]])
    y = fn(x, W_SWAP)
    np.testing.assert_array_equal(y, [[0, 1, 2], [1, 5, 4], [3, 4, 0]])
    ref = _torch(F.conv_transpose2d, x[None, None], W_SWAP[None, None])[0, 0]
    np.testing.assert_array_equal(y, ref)


def test_asymmetric_kernel_shows_the_source_articles_index_swap():
    """y_11 = w11 x11 + w12 x12 + w21 x21 + w22 x22; pairing w12 with x21 (as the source
    article's "1x4 + 1x2" does) only agrees when the kernel is symmetric."""
    w = np.array([[0, 1], [2, 0]])
    right = conv2d(X_3x3, w)[0, 0]
    swapped = w[0, 0] * X_3x3[0, 0] + w[0, 1] * X_3x3[1, 0] + w[1, 0] * X_3x3[0, 1] + w[1, 1] * X_3x3[1, 1]
    assert right == 1 * 2 + 2 * 4 == 10
    assert swapped == 8


@pytest.mark.parametrize("fn", ALL)
def test_two_dimensional_call_returns_two_dimensions(fn):
    y = fn(np.ones((4, 5)), np.ones((2, 3)))
    assert y.ndim == 2
    y4 = fn(np.ones((1, 1, 4, 5)), np.ones((1, 1, 2, 3)))
    np.testing.assert_array_equal(y, y4[0, 0])


@pytest.mark.parametrize("fn", ALL)
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32, np.uint64])
def test_small_integer_types_do_not_wrap_around(fn, dtype):
    # issue 10, item 10: a uint8 image with a uint8 kernel gave 8 (1800 mod 256), not 1800
    x = np.full((3, 3), 100, dtype=dtype)
    w = np.full((3, 3), 2, dtype=dtype)
    x4, w4 = x[None, None], w[None, None]
    y = fn(x4, w4)
    assert y.max() == 1800
    assert y.dtype == (np.float64 if dtype == np.uint64 else np.int64)
    np.testing.assert_array_equal(fn(x4, w4), fn(x4.astype(np.int64), w4.astype(np.int64)))
    assert fn(x4, w4, b=np.array([7], dtype=dtype)).max() == 1807


@pytest.mark.parametrize("fn", ALL)
def test_int_input_works_and_stays_int(fn):
    x = np.arange(12).reshape(1, 1, 3, 4)
    w = np.arange(4).reshape(1, 1, 2, 2)
    y = fn(x, w, b=np.array([1]))
    assert np.issubdtype(y.dtype, np.integer)
    ref = _torch(F.conv2d if fn in CONVS else F.conv_transpose2d, x, w, np.array([1]))
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("fn", ALL)
def test_float32_stays_float32(fn):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 5), dtype=np.float32)
    w = rng.standard_normal((3, 3, 2, 2), dtype=np.float32)
    assert fn(x, w, b=np.zeros(3, np.float32), stride=2).dtype == np.float32


@pytest.mark.parametrize("fn", ALL)
def test_lists_are_accepted(fn):
    y = fn(X_3x3.tolist(), W_SWAP.tolist())
    assert isinstance(y, np.ndarray)


@pytest.mark.parametrize("fn", ALL)
def test_empty_batch(fn):
    y = fn(np.zeros((0, 2, 5, 5)), np.zeros((2, 2, 3, 3)), stride=2)
    assert y.shape[0] == 0
    assert y.shape[1] == 2


# --------------------------------------------------------------------------- output sizes


@pytest.mark.parametrize(("k", "s", "p", "d"), list(itertools.product([1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2])))
def test_conv_output_size_matches_torch(k, s, p, d):
    w = torch.zeros(1, 1, k, k)
    for n in range(1, 8):
        x = torch.zeros(1, 1, n, n)
        try:
            expected = F.conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1]
        except RuntimeError:
            with pytest.raises(ValueError, match="kernel_size"):
                conv2d_output_size(n, k, s, p, d)
            with pytest.raises(ValueError, match="w is too large"):
                conv2d(x.numpy(), w.numpy(), stride=s, padding=p, dilation=d)
            continue
        assert conv2d_output_size(n, k, s, p, d) == expected
        assert conv2d(x.numpy(), w.numpy(), stride=s, padding=p, dilation=d).shape[-1] == expected


@pytest.mark.parametrize(("k", "s", "p", "d"), list(itertools.product([1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2])))
def test_conv_transpose_output_size_matches_torch(k, s, p, d):
    w = torch.zeros(1, 1, k, k)
    for n, op in itertools.product(range(1, 6), range(max(s, d))):
        x = torch.zeros(1, 1, n, n)
        try:
            expected = F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op,
                                          dilation=d).shape[-1]
        except RuntimeError:
            expected = 0
        if expected == 0:  # torch raises on some backends and returns an empty tensor on others
            with pytest.raises(ValueError, match="padding"):
                conv_transpose2d_output_size(n, k, s, p, op, d)
            continue
        assert conv_transpose2d_output_size(n, k, s, p, op, d) == expected
        assert conv_transpose2d(x.numpy(), w.numpy(), stride=s, padding=p, output_padding=op,
                                dilation=d).shape[-1] == expected


def test_dcgan_sizes_double_and_halve():
    sizes = [4]
    for _ in range(3):
        sizes.append(conv_transpose2d_output_size(sizes[-1], 4, 2, 1))
    assert sizes == [4, 8, 16, 32]
    assert [conv2d_output_size(n, 4, 2, 1) for n in (32, 16, 8)] == [16, 8, 4]


# --------------------------------------------------------------------------- matrix view

MATRIX_CASES = [
    # input_shape, kernel shape, stride, padding, dilation
    ((3, 3), (2, 2), 1, 0, 1),
    ((4, 4), (3, 3), 1, 0, 1),
    ((4, 4), (3, 3), 2, 1, 1),
    ((5, 4), (2, 3), (2, 1), (0, 1), 1),
    ((6, 6), (2, 2), 1, 1, 2),
    ((2, 4, 5), (3, 2, 3, 3), 2, 1, 1),
    ((3, 5, 5), (2, 3, 2, 2), 1, 0, (1, 2)),
]


def _conv_transpose_args(input_shape, w_shape, stride, padding, dilation):
    """output_padding that makes conv_transpose2d restore input_shape exactly."""
    s, p, d = (conv._pair(v, "v", 0) for v in (stride, padding, dilation))
    out = []
    for a in (0, 1):
        n, k = input_shape[-2 + a], w_shape[-2 + a]
        out.append((n + 2 * p[a] - d[a] * (k - 1) - 1) % s[a])
    return tuple(out)


@pytest.mark.parametrize(("input_shape", "w_shape", "stride", "padding", "dilation"), MATRIX_CASES)
def test_conv2d_matrix_reproduces_conv2d(input_shape, w_shape, stride, padding, dilation):
    rng = np.random.default_rng(1)
    w = rng.standard_normal(w_shape)
    x = rng.standard_normal(input_shape)
    c = conv2d_matrix(input_shape, w, stride, padding, dilation)
    x4 = x[None] if x.ndim == 3 else x
    y = conv2d(x4, w, stride=stride, padding=padding, dilation=dilation)
    assert c.shape == (y.size, x.size)
    np.testing.assert_allclose(c @ x.ravel(), y.ravel(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("input_shape", "w_shape", "stride", "padding", "dilation"), MATRIX_CASES)
def test_conv2d_matrix_transpose_is_conv_transpose2d(input_shape, w_shape, stride, padding, dilation):
    rng = np.random.default_rng(2)
    w = rng.standard_normal(w_shape)
    c = conv2d_matrix(input_shape, w, stride, padding, dilation)
    op = _conv_transpose_args(input_shape, w_shape, stride, padding, dilation)
    y_shape = conv2d(np.zeros(input_shape if len(input_shape) == 2 else (1, *input_shape)), w,
                     stride=stride, padding=padding, dilation=dilation).shape
    y = rng.standard_normal(y_shape)
    back = conv_transpose2d(y, w, stride=stride, padding=padding, output_padding=op,
                            dilation=dilation)
    assert back.size == int(np.prod(input_shape))
    np.testing.assert_allclose(c.T @ y.ravel(), back.ravel(), rtol=1e-12, atol=1e-12)


def test_conv2d_matrix_of_the_worked_example():
    c = conv2d_matrix((3, 3), W_SWAP)
    np.testing.assert_array_equal(c @ X_3x3.ravel(), [6, 8, 12, 14])
    # row 0 picks x[0, 1] and x[1, 0], the positions where the kernel holds a 1
    np.testing.assert_array_equal(c[0], [0, 1, 0, 1, 0, 0, 0, 0, 0])


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), (2, 0, 2), ((3, 1), (1, 2), 1)])
def test_adjoint_identity(stride, padding, dilation):
    """<conv(x), y> == <x, conv_transpose(y)> for every x and y."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    y = rng.standard_normal(conv2d(x, w, stride=stride, padding=padding, dilation=dilation).shape)
    op = _conv_transpose_args(x.shape, w.shape, stride, padding, dilation)
    for fwd, back in zip(CONVS, TRANSPOSED, strict=True):
        lhs = np.vdot(fwd(x, w, stride=stride, padding=padding, dilation=dilation), y)
        adj = back(y, w, stride=stride, padding=padding, output_padding=op, dilation=dilation)
        assert adj.shape == x.shape
        assert np.isclose(lhs, np.vdot(x, adj), rtol=1e-12, atol=1e-12)


def test_transposed_is_not_the_inverse():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 4))
    w = rng.standard_normal((3, 3))
    back = conv_transpose2d(conv2d(x, w, padding=1), w, padding=1)
    assert back.shape == x.shape
    assert not np.allclose(back, x)


# --------------------------------------------------------------------------- overlap counts


def _overlap_direct(n, k, s, p):
    size = (n - 1) * s - 2 * p + k
    counts = np.zeros((size, size), dtype=int)
    for i, j, u, v in itertools.product(range(n), range(n), range(k), range(k)):
        row, col = i * s + u - p, j * s + v - p
        if 0 <= row < size and 0 <= col < size:
            counts[row, col] += 1
    return counts


@pytest.mark.parametrize(("n", "k", "s", "p"), [(4, 3, 2, 0), (4, 4, 2, 1), (3, 3, 1, 1), (5, 5, 3, 0), (2, 1, 2, 0)])
def test_overlap_counts_matches_direct_count(n, k, s, p):
    counts = overlap_counts(n, k, s, p)
    np.testing.assert_array_equal(counts, _overlap_direct(n, k, s, p))
    assert np.issubdtype(counts.dtype, np.integer)


def test_overlap_counts_checkerboard():
    uneven = overlap_counts(4, 3, 2)  # kernel 3 is not a multiple of stride 2
    assert set(np.unique(uneven[1:-1, 1:-1])) == {1, 2, 4}
    even = overlap_counts(4, 4, 2, padding=1)  # kernel 4 is: every interior pixel gets 4 taps
    assert set(np.unique(even[1:-1, 1:-1])) == {4}


def test_overlap_counts_pairs():
    assert overlap_counts((2, 3), (3, 2), (2, 1)).shape == (5, 4)


# --------------------------------------------------------------------------- bad input

X4 = np.ones((1, 2, 5, 5))
W_CONV = np.ones((3, 2, 3, 3))  # (C_out, C_in, kH, kW)
W_T = np.ones((2, 3, 3, 3))  # (C_in, C_out, kH, kW)

BAD_COMMON = [
    # (kwargs overriding the good call, exception, match)
    ({"x": np.ones((2, 5, 5))}, ValueError, "x must have 4 dimensions"),
    ({"x": np.ones((1, 1, 2, 5, 5))}, ValueError, "x must have 4 dimensions"),
    ({"w": np.ones((3, 3))}, ValueError, "w must have 4 dimensions"),
    ({"x": np.ones((1, 4, 5, 5))}, ValueError, "channel mismatch"),
    ({"b": np.ones(2)}, ValueError, "b must have shape"),
    ({"b": np.ones((1, 3))}, ValueError, "b must have shape"),
    ({"b": "bias"}, TypeError, "b must be a numeric array"),
    ({"stride": 0}, ValueError, "stride must be >= 1"),
    ({"stride": (1, 0)}, ValueError, "stride must be >= 1"),
    ({"stride": (1, 2, 3)}, ValueError, "stride must be an int or a pair"),
    ({"stride": 1.5}, TypeError, "stride must be an int"),
    ({"stride": "2"}, TypeError, "stride must be an int"),
    ({"stride": True}, TypeError, "stride must be an int"),
    ({"dilation": 0}, ValueError, "dilation must be >= 1"),
    ({"dilation": (2,)}, ValueError, "dilation must be an int or a pair"),
    ({"padding": -1}, ValueError, "padding must be >= 0"),
    ({"padding": (0, -2)}, ValueError, "padding must be >= 0"),
    ({"padding": [1, 1, 1]}, ValueError, "padding must be an int or a pair"),
    ({"x": np.full((1, 2, 5, 5), "a")}, TypeError, "x must be a numeric array"),
    ({"x": np.ones((1, 2, 5, 5), dtype=bool)}, TypeError, "x must be a numeric array"),
    ({"x": None}, TypeError, "x must be a numeric array"),
    ({"w": np.ones((3, 2, 3, 3), dtype=object)}, TypeError, "w must be a numeric array"),
    ({"x": [[1, 2], [3]]}, ValueError, "x must be a rectangular numeric array"),
    ({"x": np.ones((1, 2, 0, 5))}, ValueError, "must not be empty"),
]
BAD_CONV = [
    ({"w": np.ones((3, 2, 6, 3))}, ValueError, "w is too large"),
    ({"w": np.ones((3, 2, 3, 3)), "dilation": 3}, ValueError, "w is too large"),
]
BAD_TRANSPOSED = [
    ({"output_padding": 1}, ValueError, "output_padding"),  # stride 1, dilation 1
    ({"output_padding": 2, "stride": 2}, ValueError, "output_padding"),
    ({"output_padding": (0, 2), "stride": 2, "dilation": 2}, ValueError, "output_padding"),
    ({"output_padding": -1}, ValueError, "output_padding must be >= 0"),
    ({"output_padding": (1, 1, 1)}, ValueError, "output_padding must be an int or a pair"),
    ({"padding": 4}, ValueError, "padding 4 is too large"),
]


def _call(fn, overrides):
    transposed = fn in TRANSPOSED
    kwargs = {"x": X4, "w": W_T if transposed else W_CONV, "b": None}
    kwargs.update(overrides)
    return fn(**kwargs)


@pytest.mark.parametrize("fn", ALL)
@pytest.mark.parametrize(("overrides", "exc", "match"), BAD_COMMON)
def test_bad_input_raises(fn, overrides, exc, match):
    with pytest.raises(exc, match=match):
        _call(fn, overrides)


@pytest.mark.parametrize("fn", CONVS)
@pytest.mark.parametrize(("overrides", "exc", "match"), BAD_CONV)
def test_bad_conv_input_raises(fn, overrides, exc, match):
    with pytest.raises(exc, match=match):
        _call(fn, overrides)


@pytest.mark.parametrize("fn", TRANSPOSED)
@pytest.mark.parametrize(("overrides", "exc", "match"), BAD_TRANSPOSED)
def test_bad_transposed_input_raises(fn, overrides, exc, match):
    with pytest.raises(exc, match=match):
        _call(fn, overrides)


@pytest.mark.parametrize("fn", TRANSPOSED)
def test_output_padding_follows_torch_rule(fn):
    """PyTorch allows output_padding < max(stride, dilation): with stride 1, dilation 2 -> 1 ok."""
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    y = fn(x, w, output_padding=1, dilation=2)
    ref = _torch(F.conv_transpose2d, x, w, output_padding=1, dilation=2)
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: conv2d_output_size(0, 3), ValueError, "n must be >= 1"),
        (lambda: conv2d_output_size(5, 0), ValueError, "kernel_size must be >= 1"),
        (lambda: conv2d_output_size(5, 3, stride=0), ValueError, "stride must be >= 1"),
        (lambda: conv2d_output_size(5, 3, padding=-1), ValueError, "padding must be >= 0"),
        (lambda: conv2d_output_size(5, 3, dilation=0), ValueError, "dilation must be >= 1"),
        (lambda: conv2d_output_size(2, 5), ValueError, "kernel_size 5"),
        (lambda: conv2d_output_size(5.0, 3), TypeError, "n must be an int"),
        (lambda: conv_transpose2d_output_size(4, 4, 2, 1, output_padding=2), ValueError, "output_padding"),
        (lambda: conv_transpose2d_output_size(1, 1, 1, padding=1), ValueError, "padding 1 is too large"),
        (lambda: conv_transpose2d_output_size(4, "4"), TypeError, "kernel_size must be an int"),
        (lambda: conv2d_matrix((3, 3, 3), W_SWAP), ValueError, "input_shape must have 2 entries"),
        (lambda: conv2d_matrix((3, 3), np.ones((1, 1, 2, 2))), ValueError, "input_shape must have 3 entries"),
        (lambda: conv2d_matrix((0, 3), W_SWAP), ValueError, "input_shape must be positive"),
        (lambda: conv2d_matrix("3x3", W_SWAP), TypeError, "input_shape must be a tuple of ints"),
        (lambda: conv2d_matrix((3.0, 3), W_SWAP), TypeError, "input_shape must be a tuple of ints"),
        (lambda: conv2d_matrix((3, 3), np.ones(3)), ValueError, "w must have 4 dimensions"),
        (lambda: conv2d_matrix((3, 3), W_SWAP, stride=0), ValueError, "stride must be >= 1"),
        (lambda: conv2d_matrix((2, 3, 3), np.ones((1, 3, 2, 2))), ValueError, "channel mismatch"),
        (lambda: overlap_counts(0, 3, 2), ValueError, "n must be >= 1"),
        (lambda: overlap_counts(4, 0, 2), ValueError, "kernel_size must be >= 1"),
        (lambda: overlap_counts(4, 3, 0), ValueError, "stride must be >= 1"),
        (lambda: overlap_counts(4, 3, 2, padding=-1), ValueError, "padding must be >= 0"),
    ],
)
def test_bad_helper_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------- numpy only


def test_conv_module_does_not_import_torch():
    code = "import sys, gan_lessons.conv; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- teaching figures
# (gan_lessons.diagrams draws the figures of the convolution chapter from these functions)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_show_matrix_annotates_every_cell():
    fig = diagrams.show_matrix(X_3x3, title="x")
    assert isinstance(fig, Figure)
    assert not plt.fignum_exists(fig.number)  # closed in pyplot: shown once in Jupyter
    assert sorted(_texts(fig), key=int) == [str(v) for v in range(1, 10)]
    assert fig.axes[0].get_title() == "x"


def test_show_matrix_into_axes_and_rounding_noise():
    fig, ax = plt.subplots()
    out = diagrams.show_matrix(np.array([[1e-17, 2.0000000001], [-3.0, 0.5]]), ax=ax)
    assert out is fig
    assert _texts(fig) == ["0", "2", "-3", "0.50"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"a": np.ones(3)}, ValueError, "a must be a non-empty 2-D array"),
        ({"a": np.array([["a"]])}, TypeError, "a must be a real numeric array"),
        ({"a": np.ones((2, 2)), "highlight": np.ones((3, 3))}, ValueError, "highlight must have"),
        ({"a": np.ones((2, 2)), "ax": "left"}, TypeError, "ax must be a matplotlib Axes"),
    ],
)
def test_show_matrix_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        diagrams.show_matrix(**kwargs)


def test_sliding_window_figure_panels_and_sums():
    fig = diagrams.sliding_window_figure(X_3x3, W_SWAP)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["input x", "kernel w", "output y"]
    assert titles[3] == "y[0,0] = 0·1 + 1·2 + 1·4 + 0·5\n= 6"
    assert len(fig.axes) == 3 + 4
    assert not plt.fignum_exists(fig.number)


def test_sliding_window_figure_limits_panels_and_validates():
    fig = diagrams.sliding_window_figure(np.ones((6, 6)), np.ones((2, 2)), max_panels=3)
    assert sum(ax.get_visible() and ax.axison for ax in fig.axes) == 3 + 3
    with pytest.raises(ValueError, match="w is too large"):
        diagrams.sliding_window_figure(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="max_panels must be >= 1"):
        diagrams.sliding_window_figure(X_3x3, W_SWAP, max_panels=0)
    with pytest.raises(TypeError, match="names must be a pair"):
        diagrams.sliding_window_figure(X_3x3, W_SWAP, names="xy")


def test_transposed_stamp_figure_sums_to_conv_transpose2d():
    fig = diagrams.transposed_stamp_figure(np.array([[1, 2], [3, 4]]), W_SWAP, names=("y", "x"))
    titles = [ax.get_title() for ax in fig.axes]
    assert "y[1,1] = 4: 4·w" in titles
    assert titles[-1] == "sum of the stamps = x"
    sum_texts = [t.get_text() for t in fig.axes[-1].texts]
    assert sum_texts == ["0", "1", "2", "1", "5", "4", "3", "4", "0"]
    padded = diagrams.transposed_stamp_figure(np.ones((2, 2)), np.ones((3, 3)), stride=2, padding=1)
    assert padded.axes[-1].get_title() == "output y: crop padding 1"
    assert padded.axes[-1].images[0].get_array().shape == (3, 3)


def test_overlap_figure_titles():
    fig = diagrams.overlap_figure(n=4)
    titles = [ax.get_title() for ax in fig.axes[:2]]
    assert titles[0].startswith("kernel 3, stride 2: uneven")
    assert titles[1].startswith("kernel 4, stride 2: even")
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), overlap_counts(4, 3, 2))
    with pytest.raises(ValueError, match="kernel_sizes must be >= 1"):
        diagrams.overlap_figure(kernel_sizes=(0, 3))
