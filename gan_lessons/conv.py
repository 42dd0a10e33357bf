"""Reference 2-D convolution and transposed convolution in numpy.

Two implementations of each operation compute exactly what ``torch.nn.functional.conv2d`` and
``torch.nn.functional.conv_transpose2d`` compute:

* ``conv2d_naive`` / ``conv_transpose2d_naive`` loop over pixels and read like the formulas;
* ``conv2d`` / ``conv_transpose2d`` are vectorized (no Python loop over output pixels).

Shapes follow PyTorch: ``x`` is ``(N, C_in, H, W)``; a convolution kernel is
``(C_out, C_in, kH, kW)``; a transposed-convolution kernel is ``(C_in, C_out, kH, kW)``.
A 2-D ``x`` with a 2-D kernel is one single-channel image and gives a 2-D result.

This module imports numpy only (no torch), so the worked examples run anywhere.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gan_lessons._validate import check_int as _int
from gan_lessons._validate import check_pair as _pair

__all__ = [
    "conv2d",
    "conv2d_matrix",
    "conv2d_naive",
    "conv2d_output_size",
    "conv_transpose2d",
    "conv_transpose2d_naive",
    "conv_transpose2d_output_size",
    "overlap_counts",
]


# --------------------------------------------------------------------------- validation


def _numeric_array(value, name: str) -> np.ndarray:
    if value is None:
        raise TypeError(f"{name} must be a numeric array, got None")
    try:
        arr = np.asarray(value)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular numeric array: {err}") from None
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    return arr


def _prepare(x, w, b, transposed: bool):
    """Validate x, w, b and lift the 2-D single-image case to 4-D.

    Returns ``(x4, w4, b, squeeze)`` where ``squeeze`` says the result must be returned 2-D.
    """
    x = _numeric_array(x, "x")
    w = _numeric_array(w, "w")
    squeeze = x.ndim == 2 and w.ndim == 2
    if squeeze:
        x, w = x[None, None], w[None, None]
    if x.ndim != 4:
        raise ValueError(f"x must have 4 dimensions (N, C_in, H, W) or 2 (H, W), got {x.ndim}")
    kernel_layout = "(C_in, C_out, kH, kW)" if transposed else "(C_out, C_in, kH, kW)"
    if w.ndim != 4:
        raise ValueError(f"w must have 4 dimensions {kernel_layout} (or 2 with a 2-D x), got {w.ndim}")
    if min(x.shape[1:]) < 1 or min(w.shape) < 1:
        raise ValueError(f"x and w must not be empty, got shapes {x.shape} and {w.shape}")
    c_in_w = w.shape[0] if transposed else w.shape[1]
    if x.shape[1] != c_in_w:
        raise ValueError(
            f"channel mismatch: x has C_in={x.shape[1]} but w {kernel_layout} expects {c_in_w}"
        )
    c_out = w.shape[1] if transposed else w.shape[0]
    if b is not None:
        b = _numeric_array(b, "b")
        if b.shape != (c_out,):
            raise ValueError(f"b must have shape ({c_out},) (one value per output channel), got {b.shape}")
    dtype = _compute_dtype(x, w)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, squeeze


def _compute_dtype(x: np.ndarray, w: np.ndarray) -> np.dtype:
    """The dtype to compute in: numpy's common type of ``x`` and ``w``, widened to int64 for
    integers (a uint8 image times a uint8 kernel would otherwise wrap around at 256: 8 instead
    of 1800). uint64 goes to float64, the only numpy type that holds both its range and int64's.
    """
    dtype = np.result_type(x, w)
    if np.issubdtype(dtype, np.integer):
        dtype = np.result_type(dtype, np.int64)
    return dtype


def _finish(out: np.ndarray, b, squeeze: bool) -> np.ndarray:
    """Add the bias (in place when the dtype allows) and drop the lifted axes of a 2-D call."""
    if b is not None:
        if np.result_type(out, b) == out.dtype:
            out += b.reshape(1, -1, 1, 1)
        else:
            out = out + b.reshape(1, -1, 1, 1)
    return out[0, 0] if squeeze else out


# --------------------------------------------------------------------------- output sizes


def conv2d_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                       dilation: int = 1) -> int:
    """Output length of a convolution along one axis.

    ``floor((n + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``
    """
    n = _int(n, "n", 1)
    k = _int(kernel_size, "kernel_size", 1)
    s = _int(stride, "stride", 1)
    p = _int(padding, "padding", 0)
    d = _int(dilation, "dilation", 1)
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        raise ValueError(
            f"kernel_size {k} with dilation {d} spans {span} pixels, more than the padded input "
            f"n + 2*padding = {n + 2 * p}"
        )
    return (n + 2 * p - span) // s + 1


def conv_transpose2d_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                                 output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution along one axis.

    ``(n - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``

    A padding that crops the output to nothing is refused (PyTorch raises on some backends and
    returns an empty tensor on others).
    """
    n = _int(n, "n", 1)
    k = _int(kernel_size, "kernel_size", 1)
    s = _int(stride, "stride", 1)
    p = _int(padding, "padding", 0)
    op = _int(output_padding, "output_padding", 0)
    d = _int(dilation, "dilation", 1)
    if op >= max(s, d):
        raise ValueError(
            f"output_padding ({op}) must be smaller than either stride ({s}) or dilation ({d})"
        )
    size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if size < 1:
        raise ValueError(f"padding {p} is too large: the output would have size {size}")
    return size


def _conv_sizes(x, w, stride, padding, dilation):
    s, p, d = _pair(stride, "stride", 1), _pair(padding, "padding", 0), _pair(dilation, "dilation", 1)
    for a, axis in ((0, "height"), (1, "width")):
        span, padded = d[a] * (w.shape[2 + a] - 1) + 1, x.shape[2 + a] + 2 * p[a]
        if span > padded:
            raise ValueError(
                f"w is too large: its {axis} {w.shape[2 + a]} with dilation {d[a]} spans {span} "
                f"pixels, more than the padded input x ({x.shape[2 + a]} + 2*padding = {padded})"
            )
    out = tuple(conv2d_output_size(x.shape[2 + a], w.shape[2 + a], s[a], p[a], d[a]) for a in (0, 1))
    return s, p, d, out


def _conv_transpose_sizes(x, w, stride, padding, output_padding, dilation):
    s, p, d = _pair(stride, "stride", 1), _pair(padding, "padding", 0), _pair(dilation, "dilation", 1)
    op = _pair(output_padding, "output_padding", 0)
    out = tuple(
        conv_transpose2d_output_size(x.shape[2 + a], w.shape[2 + a], s[a], p[a], op[a], d[a])
        for a in (0, 1)
    )
    return s, p, d, out


def _pad(x: np.ndarray, p: tuple[int, int]) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))


# --------------------------------------------------------------------------- convolution


def conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Cross-correlation with explicit loops (the teaching version of :func:`conv2d`).

    ``y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x_pad[n, c, i*s + u*d, j*s + v*d]``

    x ``(N, C_in, H, W)``, w ``(C_out, C_in, kH, kW)``, b ``(C_out,)`` -> ``(N, C_out, H_out, W_out)``.
    """
    x, w, b, squeeze = _prepare(x, w, b, transposed=False)
    (sh, sw), p, (dh, dw), (h_out, w_out) = _conv_sizes(x, w, stride, padding, dilation)
    x_pad = _pad(x, p)
    c_out, _, kh, kw = w.shape
    y = np.zeros((x.shape[0], c_out, h_out, w_out), dtype=np.result_type(x, w))
    for n in range(x.shape[0]):
        for o in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    # the window the kernel sees for output pixel (i, j):
                    # (C_in, kH, kW)
                    window = x_pad[n, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                                         j * sw : j * sw + dw * (kw - 1) + 1 : dw]
                    y[n, o, i, j] = np.sum(window * w[o])
    return _finish(y, b, squeeze)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Cross-correlation, vectorized: the same numbers as ``torch.nn.functional.conv2d``.

    im2col: the sliding windows of the padded input (a strided view, no copy) are copied into
    one matrix with a column per output pixel, ``cols`` of shape
    ``(C_in*kH*kW, N*H_out*W_out)``, and the flattened kernel ``(C_out, C_in*kH*kW)`` multiplies
    it in a single matmul (one big BLAS call is faster, and far steadier on a busy machine, than
    one call per image). Floats keep their dtype (float32 in, float32 out); integers are
    computed in int64, so 8-bit images cannot wrap around.

    x ``(N, C_in, H, W)``, w ``(C_out, C_in, kH, kW)``, b ``(C_out,)`` -> ``(N, C_out, H_out, W_out)``.
    """
    x, w, b, squeeze = _prepare(x, w, b, transposed=False)
    (sh, sw), p, (dh, dw), (h_out, w_out) = _conv_sizes(x, w, stride, padding, dilation)
    dtype = np.result_type(x, w)
    n_batch = x.shape[0]
    c_out, c_in, kh, kw = w.shape
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    x_pad = _pad(x.astype(dtype, copy=False), p)
    windows = sliding_window_view(x_pad, span, axis=(2, 3))
    # (N, C_in, H_out, W_out, kH, kW):
    # keep every stride-th window and every dilation-th tap
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :h_out, :w_out]
    # im2col (the one copy):
    # cols[(c, u, v), (n, i, j)] = x_pad[n, c, i*s + u*d, j*s + v*d]
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c_in * kh * kw, -1)
    kernel = w.reshape(c_out, -1).astype(dtype, copy=False)
    y = kernel @ cols  # (C_out, N*H_out*W_out)
    y = y.reshape(c_out, n_batch, h_out, w_out).transpose(1, 0, 2, 3)
    return _finish(np.ascontiguousarray(y), b, squeeze)


# --------------------------------------------------------------------------- transposed


def conv_transpose2d_naive(x, w, b=None, stride=1, padding=0, output_padding=0,
                           dilation=1) -> np.ndarray:
    """Transposed convolution with explicit loops (the teaching version).

    Every input pixel stamps a copy of the kernel, scaled by its value, onto the output:
    ``y[n, :, i*s + u*d - p, j*s + v*d - p] += x[n, c, i, j] * w[c, :, u, v]``
    (contributions that land in the cropped ``padding`` border are dropped).

    x ``(N, C_in, H, W)``, w ``(C_in, C_out, kH, kW)``, b ``(C_out,)`` -> ``(N, C_out, H_out, W_out)``.
    """
    x, w, b, squeeze = _prepare(x, w, b, transposed=True)
    (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = _conv_transpose_sizes(
        x, w, stride, padding, output_padding, dilation)
    n_batch, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    y = np.zeros((n_batch, c_out, h_out, w_out), dtype=np.result_type(x, w))
    for n in range(n_batch):
        for c in range(c_in):
            for i in range(h):
                for j in range(wd):
                    for u in range(kh):
                        for v in range(kw):
                            row, col = i * sh + u * dh - ph, j * sw + v * dw - pw
                            if 0 <= row < h_out and 0 <= col < w_out:
                                y[n, :, row, col] += x[n, c, i, j] * w[c, :, u, v]
    return _finish(y, b, squeeze)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0,
                     dilation=1) -> np.ndarray:
    """Transposed convolution, vectorized: the same numbers as ``conv_transpose2d`` in torch.

    It is the adjoint of :func:`conv2d` and works like :func:`conv_transpose2d_naive` (every
    input pixel stamps its scaled kernel), with the loop over pixels replaced by array ops:

    1. One matmul gives every product ``sum_c w[c, o, u, v] * x[n, c, i, j]``.
    2. Kernel tap ``(u, v)`` sends input row ``i`` to row ``i*s + u*d`` of the uncropped output,
       which is row ``i + (u*d) // s`` of the *phase* ``(u*d) % s`` (the sub-grid of rows with
       that remainder mod ``s``). The output is held phase by phase, each phase a plane of
       ``Hq x Wq`` pixels, and the input is zero-padded to the same ``Hq x Wq``; then each tap
       is one shifted slice-add of a long contiguous run (kH*kW adds in all, no loop over
       pixels), and what spills past the end of a row is the padding's zeros.
    3. The phases are interleaved into the output and the ``padding`` border is cut.

    x ``(N, C_in, H, W)``, w ``(C_in, C_out, kH, kW)``, b ``(C_out,)`` -> ``(N, C_out, H_out, W_out)``.
    """
    x, w, b, squeeze = _prepare(x, w, b, transposed=True)
    (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = _conv_transpose_sizes(
        x, w, stride, padding, output_padding, dilation)
    dtype = np.result_type(x, w)
    n_batch, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    # rows (cols) per phase of the uncropped output, which has h_out + 2*padding rows
    hq, wq = -(-(h_out + 2 * ph) // sh), -(-(w_out + 2 * pw) // sw)
    plane = c_out * n_batch * hq * wq  # one phase, all channels and images
    x_plane = np.zeros((c_in, n_batch, hq, wq), dtype=dtype)  # hq >= h and wq >= wd
    x_plane[:, :, :h, :wd] = x.transpose(1, 0, 2, 3)
    # products[u, v, (o, n, i, j)] = sum_c w[c, o, u, v] * x_plane[c, n, i, j]
    w_rows = w.transpose(2, 3, 1, 0).reshape(kh * kw * c_out, c_in).astype(dtype, copy=False)
    products = (w_rows @ x_plane.reshape(c_in, -1)).reshape(kh, kw, plane)
    # phases[r, c] holds the output pixels whose uncropped (row, col) = (r, c) mod stride;
    # the `slack` at the end takes the zeros shifted past the last image
    slack = (dh * (kh - 1) // sh) * wq + dw * (kw - 1) // sw
    phases = np.zeros((sh, sw, plane + slack), dtype=dtype)
    for u in range(kh):  # loop over kernel taps only, never over pixels
        row_shift, r = divmod(u * dh, sh)
        for v in range(kw):
            col_shift, c = divmod(v * dw, sw)
            start = row_shift * wq + col_shift
            phases[r, c, start : start + plane] += products[u, v]
    phases = phases[..., :plane].reshape(sh, sw, c_out, n_batch, hq, wq)
    y = np.empty((n_batch, c_out, h_out, w_out), dtype=dtype)
    for r in range(sh):  # output row i is uncropped row i + ph = q*sh + r
        i0 = (r - ph) % sh
        q0, rows = (i0 + ph) // sh, len(range(i0, h_out, sh))
        for c in range(sw):
            j0 = (c - pw) % sw
            p0, cols = (j0 + pw) // sw, len(range(j0, w_out, sw))
            y[:, :, i0::sh, j0::sw] = phases[r, c, :, :, q0 : q0 + rows,
                                             p0 : p0 + cols].transpose(1, 0, 2, 3)
    return _finish(y, b, squeeze)


# --------------------------------------------------------------------------- teaching helpers


def conv2d_matrix(input_shape, w, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The dense matrix ``C`` of a convolution: ``conv2d(x, w).ravel() == C @ x.ravel()``.

    A convolution is linear in its input, so for a fixed kernel it is a matrix. Column ``k`` of
    ``C`` is the (flattened) convolution of the ``k``-th basis image, which is how it is built.
    ``C.T`` is the matrix of :func:`conv_transpose2d` with the same kernel and settings (up to
    ``output_padding``). Meant for small teaching examples: ``C`` has one row per output value
    and one column per input value.

    input_shape ``(C_in, H, W)`` with w ``(C_out, C_in, kH, kW)``, or ``(H, W)`` with a 2-D w
    ``(kH, kW)`` -> C ``(C_out*H_out*W_out, C_in*H*W)`` (rows and columns in C order).
    """
    w = _numeric_array(w, "w")
    if not isinstance(input_shape, tuple | list) or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in input_shape
    ):
        raise TypeError(f"input_shape must be a tuple of ints, got {input_shape!r}")
    want = {2: 2, 4: 3}.get(w.ndim)
    if want is None:
        raise ValueError(f"w must have 4 dimensions (C_out, C_in, kH, kW) or 2 (kH, kW), got {w.ndim}")
    if len(input_shape) != want:
        raise ValueError(
            f"input_shape must have {want} entries ({'H, W' if want == 2 else 'C_in, H, W'}) "
            f"for a {w.ndim}-D w, got {tuple(input_shape)}"
        )
    if min(input_shape) < 1:
        raise ValueError(f"input_shape must be positive, got {tuple(input_shape)}")
    size = int(np.prod(input_shape))
    # a batch of basis images: basis[k] is 1 at flat position k and 0 elsewhere
    basis = np.eye(size, dtype=np.result_type(w, np.int8))
    basis = basis.reshape(size, *input_shape)
    if w.ndim == 2:
        basis, w = basis[:, None], w[None, None]
    columns = conv2d(basis, w, stride=stride, padding=padding, dilation=dilation)
    return np.ascontiguousarray(columns.reshape(size, -1).T)


def overlap_counts(n, kernel_size, stride, padding=0) -> np.ndarray:
    """How many kernel taps land on each output pixel of a transposed convolution.

    The transposed convolution of an all-ones ``n x n`` input with an all-ones kernel: where
    ``kernel_size`` is not a multiple of ``stride`` the counts alternate (e.g. 1, 2, 1, 2 for
    kernel 3, stride 2), which is the checkerboard of Odena et al. (2016).

    Each argument is an int or an (height, width) pair -> int array ``(H_out, W_out)``.
    """
    size = _pair(n, "n", 1)
    k = _pair(kernel_size, "kernel_size", 1)
    ones_x = np.ones(size, dtype=np.int64)
    ones_w = np.ones(k, dtype=np.int64)
    return conv_transpose2d(ones_x, ones_w, stride=stride, padding=padding)
