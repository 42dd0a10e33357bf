"""Reference solutions of homework/01_convolution.ipynb, one per solution cell (``grade_id``).

Each solution cell of the notebook gets the source of the objects listed under its grade_id in
``SOLUTIONS``.
"""

import inspect

import numpy as np


def conv2d_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one axis."""
    span = dilation * (kernel_size - 1) + 1  # pixels the kernel covers
    return (n + 2 * padding - span) // stride + 1


def conv_transpose2d_output_size(n, kernel_size, stride=1, padding=0,
                                 output_padding=0, dilation=1):
    """Output length of a transposed convolution along one axis."""
    return ((n - 1) * stride - 2 * padding + dilation * (kernel_size - 1)
            + output_padding + 1)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """Cross-correlation: x (B, C_in, H, W), w (C_out, C_in, kh, kw),
    b (C_out,) -> (B, C_out, H_out, W_out); x (H, W), w (kh, kw) -> 2-D."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim == 2:  # one single-channel image
        return conv2d(x[None, None], w[None, None], b, stride, padding,
                      dilation)[0, 0]
    c_out, _, kh, kw = w.shape
    p, s, d = padding, stride, dilation
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    h_out = conv2d_output_size(x.shape[2], kh, s, p, d)
    w_out = conv2d_output_size(x.shape[3], kw, s, p, d)
    y = np.zeros((x.shape[0], c_out, h_out, w_out))
    for u in range(kh):  # one kernel tap at a time, all pixels at once
        for v in range(kw):
            rows = slice(u * d, u * d + s * (h_out - 1) + 1, s)
            cols = slice(v * d, v * d + s * (w_out - 1) + 1, s)
            patch = x_pad[:, :, rows, cols]  # (B, C_in, H_out, W_out)
            y += np.einsum("bchw,oc->bohw", patch, w[:, :, u, v])
    if b is not None:
        y += np.asarray(b).reshape(1, -1, 1, 1)
    return y


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0,
                     dilation=1):
    """Transposed convolution: x (B, C_in, H, W), w (C_in, C_out, kh, kw),
    b (C_out,) -> (B, C_out, H_out, W_out); x (H, W), w (kh, kw) -> 2-D."""
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim == 2:  # one single-channel image
        return conv_transpose2d(x[None, None], w[None, None], b, stride,
                                padding, output_padding, dilation)[0, 0]
    batch, _, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    p, s, d = padding, stride, dilation
    h_out = conv_transpose2d_output_size(h, kh, s, p, output_padding, d)
    w_out = conv_transpose2d_output_size(wd, kw, s, p, output_padding, d)
    # the uncropped output; padding then cuts p rows and columns at each side
    y = np.zeros((batch, c_out, h_out + 2 * p, w_out + 2 * p))
    for u in range(kh):  # every input pixel stamps its scaled kernel
        for v in range(kw):
            rows = slice(u * d, u * d + s * (h - 1) + 1, s)
            cols = slice(v * d, v * d + s * (wd - 1) + 1, s)
            y[:, :, rows, cols] += np.einsum("bchw,co->bohw", x,
                                             w[:, :, u, v])
    y = y[:, :, p:p + h_out, p:p + w_out]
    if b is not None:
        y = y + np.asarray(b).reshape(1, -1, 1, 1)
    return y


SOLUTIONS = {
    "conv2d_output_size": [conv2d_output_size],
    "conv_transpose2d_output_size": [conv_transpose2d_output_size],
    "conv2d": [conv2d],
    "conv_transpose2d": [conv_transpose2d],
}

# Known-wrong fills, by grade_id: conv2d as a true convolution (the kernel flipped).
FLIPPED = "w[:, :, kh - 1 - u, kw - 1 - v]"
WRONG = {"conv2d": inspect.getsource(conv2d).replace("w[:, :, u, v]", FLIPPED)}
