r"""The Wasserstein-1 (earth mover's) distance, computed exactly for the book's small examples.

.. math::
    W_1(p, q) = \inf_{\gamma \in \Pi(p, q)} \mathbb{E}_{(x, y) \sim \gamma} \lVert x - y \rVert

A WGAN critic *estimates* this distance on minibatches (:mod:`gan_lessons.losses`); the two
functions here compute it exactly, so that a chapter can check the estimate:

* :func:`wasserstein_1d`: two probability vectors on one grid of equal cells on the line, where
  :math:`W_1 = \int |F_p - F_q|\,dx` (the area between the two CDFs);
* :func:`wasserstein_matching`: two equally large clouds of points in :math:`\mathbb{R}^D`,
  where an optimal transport plan is a one-to-one matching (Birkhoff-von Neumann), found with
  SciPy's Hungarian-type solver in :math:`O(N^3)` (a few seconds at :math:`N = 1000`).

>>> import numpy as np
>>> p, q = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
>>> wasserstein_1d(p, q, cell_width=0.5)  # all the mass moves two cells of 0.5
1.0
>>> a = np.array([[0.0, 0.0], [1.0, 0.0]])
>>> wasserstein_matching(a, a + [0.0, 2.0])  # a shift by a vector of length 2
2.0
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float
from .divergences import _as_distribution, _same_shape
from .metrics import _as_matrix

__all__ = ["wasserstein_1d", "wasserstein_matching"]


def wasserstein_1d(p, q, *, cell_width: float = 1.0) -> float:
    """W1 between two distributions on the same 1-D grid of equal cells.

    Args:
        p, q: probability vectors ``(K,)`` (non-negative, summing to 1): the mass of each cell,
            cells in order along the line.
        cell_width: the distance between neighbouring cells, in the data's units.

    Returns:
        ``cell_width * sum_k |P_k - Q_k|`` with ``P``, ``Q`` the cumulative sums, the exact
        distance for masses at the cell centres.
    """
    p, q = _as_distribution(p, "p"), _as_distribution(q, "q")
    _same_shape(p, q, "p", "q")
    cell_width = check_float(cell_width, "cell_width", minimum=0.0, exclusive_minimum=True)
    return cell_width * float(np.abs(np.cumsum(p) - np.cumsum(q)).sum())


def wasserstein_matching(a, b) -> float:
    """W1 between two equally weighted point clouds of the same size.

    Args:
        a, b: points ``(N, D)`` (numpy arrays, tensors or nested lists), the same ``N`` and
            ``D``; Euclidean distances.

    Returns:
        The mean distance between matched points under the cheapest one-to-one matching, which
        is the exact W1 between the two empirical distributions.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    a, b = _as_matrix(a, "a"), _as_matrix(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape (N, D): N points each, got "
                         f"{a.shape} and {b.shape}")
    cost = cdist(a, b)  # (N, N) Euclidean distances
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())
