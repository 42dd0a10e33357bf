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
    "conv2d_naive",
    "conv2d_output_size",
    "conv_transpose2d",
    "conv_transpose2d_naive",
    "conv_transpose2d_output_size",
]


# --------------------------------------------------------------------------- validation


def _numeric_array(value, name: str) -> np.ndarray:
    if value is None:
        raise TypeError(f"{name} must be a numeric array, got None")
    arr = np.asarray(value)
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
    return x, w, b, squeeze


def _finish(out: np.ndarray, b, squeeze: bool) -> np.ndarray:
    if b is not None:
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
                    # the window the kernel sees for output pixel (i, j): (C_in, kH, kW)
                    window = x_pad[n, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                                         j * sw : j * sw + dw * (kw - 1) + 1 : dw]
                    y[n, o, i, j] = np.sum(window * w[o])
    return _finish(y, b, squeeze)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Cross-correlation, vectorized: the same numbers as ``torch.nn.functional.conv2d``.

    Sliding windows of the padded input (a view, no copy) are gathered into an im2col matrix
    ``(N*H_out*W_out, C_in*kH*kW)`` and multiplied by the flattened kernel in one matmul.

    x ``(N, C_in, H, W)``, w ``(C_out, C_in, kH, kW)``, b ``(C_out,)`` -> ``(N, C_out, H_out, W_out)``.
    """
    x, w, b, squeeze = _prepare(x, w, b, transposed=False)
    (sh, sw), p, (dh, dw), (h_out, w_out) = _conv_sizes(x, w, stride, padding, dilation)
    dtype = np.result_type(x, w)
    c_out, c_in, kh, kw = w.shape
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(_pad(x.astype(dtype, copy=False), p), span, axis=(2, 3))
    # (N, C_in, H_out, W_out, kH, kW): keep every stride-th window and every dilation-th tap
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :h_out, :w_out]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, c_in * kh * kw)  # im2col (copy)
    y = cols @ w.reshape(c_out, -1).astype(dtype, copy=False).T  # (N*H_out*W_out, C_out)
    y = y.reshape(x.shape[0], h_out, w_out, c_out).transpose(0, 3, 1, 2)
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

    It is the adjoint of :func:`conv2d`: one matmul gives every (input pixel, kernel tap)
    product, then for each of the kH*kW kernel offsets a strided slice-add places them on an
    uncropped canvas, from which the ``padding`` border is cut.

    x ``(N, C_in, H, W)``, w ``(C_in, C_out, kH, kW)``, b ``(C_out,)`` -> ``(N, C_out, H_out, W_out)``.
    """
    x, w, b, squeeze = _prepare(x, w, b, transposed=True)
    (sh, sw), (ph, pw), (dh, dw), (h_out, w_out) = _conv_transpose_sizes(
        x, w, stride, padding, output_padding, dilation)
    dtype = np.result_type(x, w)
    n_batch, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    # products[n, i, j, o, u, v] = sum_c x[n, c, i, j] * w[c, o, u, v]
    rows = x.astype(dtype, copy=False).transpose(0, 2, 3, 1).reshape(-1, c_in)
    products = (rows @ w.reshape(c_in, -1).astype(dtype, copy=False))
    products = products.reshape(n_batch, h, wd, c_out, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    canvas = np.zeros((n_batch, c_out, h_out + 2 * ph, w_out + 2 * pw), dtype=dtype)
    for u in range(kh):  # loop over kernel taps only, never over pixels
        for v in range(kw):
            canvas[:, :, u * dh : u * dh + (h - 1) * sh + 1 : sh,
                         v * dw : v * dw + (wd - 1) * sw + 1 : sw] += products[:, :, u, v]
    y = canvas[:, :, ph : ph + h_out, pw : pw + w_out]
    return _finish(np.ascontiguousarray(y), b, squeeze)
