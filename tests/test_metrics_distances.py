"""FID, KID, IS and precision/recall/density/coverage in gan_lessons.metrics against independent
references on random features (pytorch-fid's formula, torchmetrics with an identity feature
module, Naeem et al.'s ``prdc`` package), known cases, and one table of bad inputs."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_lessons.metrics import (
    PRDC,
    frechet_distance,
    inception_score,
    kernel_distance,
    prdc,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EXAMPLES = settings(max_examples=25, deadline=None)


class Identity(torch.nn.Module):
    """torchmetrics' custom feature extractor: the features are the input (``num_features``
    tells torchmetrics the dimension without a dummy forward pass)."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x):
        return x


@st.composite
def feature_pairs(draw, min_rows: int = 2, min_dim: int = 1, max_dim: int = 6):
    """Two float64 sets of features ``(N_r, D)``, ``(N_f, D)`` from different Gaussians (mixed
    scales and offsets), N comfortably above D so that the covariances are well conditioned."""
    seed = draw(st.integers(0, 2**32 - 1))
    d = draw(st.integers(min_dim, max_dim))
    n_real = draw(st.integers(max(min_rows, 3 * d + 2), 60))
    n_fake = draw(st.integers(max(min_rows, 3 * d + 2), 60))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([0.1, 1.0, 10.0]))
    real = scale * rng.standard_normal((n_real, d))
    mix = np.eye(d) + draw(st.floats(0, 1)) * rng.standard_normal((d, d))
    fake = scale * (rng.standard_normal((n_fake, d)) @ mix + draw(st.floats(-2, 2)))
    return real, fake


# ----------------------------------------------------------------------------- FID


def _pytorch_fid(x, y):
    from pytorch_fid.fid_score import calculate_frechet_distance

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its "singular product" and sqrtm notices
        return calculate_frechet_distance(x.mean(0), np.atleast_2d(np.cov(x, rowvar=False)),
                                          y.mean(0), np.atleast_2d(np.cov(y, rowvar=False)))


@EXAMPLES
@given(pair=feature_pairs(min_dim=2))  # scipy 1.17's sqrtm(disp=False) breaks on 1 x 1
def test_fid_matches_the_pytorch_fid_formula(pair):
    real, fake = pair
    expected = _pytorch_fid(real, fake)
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@EXAMPLES
@given(pair=feature_pairs())
def test_fid_matches_torchmetrics_with_an_identity_feature_module(pair):
    from torchmetrics.image.fid import FrechetInceptionDistance

    real, fake = pair
    metric = FrechetInceptionDistance(feature=Identity(real.shape[1]))
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    expected = float(metric.compute())
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@EXAMPLES
@given(pair=feature_pairs())
def test_fid_of_a_set_against_itself_is_zero_and_a_shift_adds_its_squared_length(pair):
    real, _ = pair
    scale = float(np.trace(np.atleast_2d(np.cov(real, rowvar=False))))
    assert frechet_distance(real, real) <= 1e-9 * scale
    shift = np.linspace(-1, 2, real.shape[1])
    assert frechet_distance(real, real + shift) == pytest.approx(shift @ shift, rel=1e-7,
                                                                 abs=1e-9 * scale)


def test_fid_with_fewer_samples_than_dimensions_and_constant_features():
    """Singular covariances take the eigendecomposition path and still give 0 for a set
    against itself; tensors (float32, any device) are accepted."""
    rng = np.random.default_rng(0)
    few = rng.standard_normal((5, 20))
    assert frechet_distance(few, few) == pytest.approx(0, abs=1e-6)
    constant = np.hstack([rng.standard_normal((50, 3)), np.zeros((50, 2))])
    assert frechet_distance(constant, constant) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(constant, constant + 1) == pytest.approx(5, rel=1e-9)
    x = torch.from_numpy(rng.standard_normal((40, 4)).astype(np.float32))
    assert frechet_distance(x, x) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(x, x.numpy() + 2) == pytest.approx(16, rel=1e-6)


# ----------------------------------------------------------------------------- KID


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save")
@EXAMPLES
@given(pair=feature_pairs(min_rows=12), data=st.data())
def test_kid_matches_torchmetrics_with_the_same_subsets(pair, data):
    from torchmetrics.image.kid import KernelInceptionDistance

    real, fake = pair
    subset_size = data.draw(st.integers(2, min(len(real), len(fake))), label="subset_size")
    num_subsets = data.draw(st.integers(1, 8), label="num_subsets")
    seed = data.draw(st.integers(0, 1000), label="seed")
    metric = KernelInceptionDistance(feature=Identity(real.shape[1]), subsets=num_subsets,
                                     subset_size=subset_size)
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # torchmetrics draws its subsets from the global generator
        expected_mean, expected_std = (float(v) for v in metric.compute())
    mean, std = kernel_distance(real, fake, num_subsets=num_subsets, subset_size=subset_size,
                                seed=seed)
    scale = float(np.mean(np.abs(((real @ fake.T) / real.shape[1] + 1) ** 3)))
    assert mean == pytest.approx(expected_mean, rel=1e-6, abs=1e-9 * scale)
    assert std == pytest.approx(expected_std, rel=1e-6, abs=1e-9 * scale)


def test_kid_direct_formula_on_whole_sets():
    """With subsets as large as the sets, every subset is the whole set: the unbiased MMD^2
    written out with loops over pairs, and std 0."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 3)) + 0.5

    def k(a, b):
        return (a @ b / 3 + 1) ** 3

    m = 7
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
    mean, std = kernel_distance(x, y, num_subsets=3, subset_size=7)
    assert mean == pytest.approx(xx + yy - 2 * xy, rel=1e-12)
    assert std == pytest.approx(0, abs=1e-12)
    assert kernel_distance(x, y, num_subsets=5, subset_size=4, seed=3) == \
        kernel_distance(torch.from_numpy(x), y, num_subsets=5, subset_size=4, seed=3)


def test_kid_blocks_give_the_same_answer(monkeypatch):
    """Large subsets are computed in blocks of kernel rows; tiny blocks change nothing."""
    from gan_lessons import metrics

    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((40, 3)), rng.standard_normal((30, 3)) + 0.2
    whole = kernel_distance(x, y, num_subsets=4, subset_size=25, seed=1)
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 120)  # blocks of two or three rows
    assert kernel_distance(x, y, num_subsets=4, subset_size=25, seed=1) == pytest.approx(
        whole, rel=1e-12, abs=1e-14)


# ----------------------------------------------------------------------------- IS


def _is_reference(logits, splits):
    """The original formula with scipy: exp(mean KL(p(y|x) || p(y))) per split."""
    from scipy.special import softmax
    from scipy.stats import entropy

    p = softmax(logits, axis=1)
    n = len(p)
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        scores.append(np.exp(np.mean([entropy(row, part.mean(0)) for row in part])))
    return np.mean(scores), np.std(scores)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60), k=st.integers(1, 12),
       scale=st.sampled_from([0.1, 1.0, 5.0]), data=st.data())
def test_is_matches_the_original_formula(seed, n, k, scale, data):
    logits = scale * np.random.default_rng(seed).standard_normal((n, k))
    splits = data.draw(st.integers(1, n), label="splits")
    mean, std = inception_score(logits, splits=splits)
    expected = _is_reference(logits, splits)
    assert mean == pytest.approx(expected[0], rel=1e-9)
    assert std == pytest.approx(expected[1], rel=1e-6, abs=1e-9)
    assert 1 - 1e-9 <= mean <= k + 1e-9


@pytest.mark.parametrize("k", [2, 10, 100])
def test_is_known_cases(k):
    uniform = np.zeros((5 * k, k))
    assert inception_score(uniform, splits=5) == pytest.approx((1.0, 0.0), abs=1e-12)
    confident = 100.0 * np.eye(k)[np.arange(5 * k) % k]  # balanced within every split
    mean, std = inception_score(torch.from_numpy(confident), splits=5)
    assert mean == pytest.approx(k, rel=1e-9)
    assert std == pytest.approx(0, abs=1e-9)
    one_class = 100.0 * np.eye(k)[np.zeros(5 * k, dtype=int)]  # confident, collapsed
    assert inception_score(one_class, splits=1)[0] == pytest.approx(1.0, abs=1e-9)
    assert inception_score(confident, splits=5 * k)[0] == pytest.approx(1.0)  # one per split


def test_is_survives_extreme_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    assert inception_score(logits, splits=1) == pytest.approx((2.0, 0.0))


# ----------------------------------------------------------------------------- PRDC


@EXAMPLES
@given(pair=feature_pairs(min_rows=8), k=st.integers(1, 6))
def test_prdc_matches_the_prdc_package(pair, k):
    from prdc import compute_prdc

    real, fake = pair
    expected = compute_prdc(real, fake, nearest_k=k)
    result = prdc(real, fake, k=k)
    assert isinstance(result, PRDC)
    assert result.k == k
    for name in ("precision", "recall", "density", "coverage"):
        assert getattr(result, name) == pytest.approx(expected[name], rel=1e-12), name


def test_prdc_of_a_set_against_itself_and_of_a_collapsed_set():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((200, 5))
    same = prdc(x, torch.from_numpy(x), k=5)
    assert (same.precision, same.recall, same.coverage) == (1.0, 1.0, 1.0)
    assert same.density == pytest.approx(1.0)  # each ball holds itself and k - 1 others
    collapsed = prdc(x, np.repeat(x[:1], 50, axis=0), k=5)
    assert collapsed.recall == 0.0  # the fakes' balls have radius 0
    assert collapsed.precision == 1.0
    assert collapsed.coverage == pytest.approx(6 / 200, abs=0.03)
    assert "precision 1.000" in str(collapsed)


def test_prdc_blocks_give_the_same_answer(monkeypatch):
    """Distances are computed in blocks; tiny blocks must not change anything."""
    from gan_lessons import metrics

    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((90, 4)), rng.standard_normal((70, 4)) * 1.3
    whole = prdc(x, y, k=3)
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 150)  # blocks of one or two rows
    assert prdc(x, y, k=3) == whole


# ----------------------------------------------------------------------------- bad input

X = np.zeros((10, 3)) + np.arange(3)
Y = np.ones((8, 3))
LOGITS = np.zeros((6, 4))
NAN_ROW = np.vstack([X[:4], [[0.0, np.nan, 1.0]]])
INF = torch.tensor([[0.0, 1.0, 2.0], [1.0, float("inf"), 0.0]])

BAD_INPUTS = [
    # features: types, shapes, values (the same checks for every metric)
    (frechet_distance, {"real_features": "x", "fake_features": Y}, TypeError,
     "real_features must be a numpy array or torch tensor of shape (N, D), got str"),
    (frechet_distance, {"real_features": None, "fake_features": Y}, TypeError,
     "real_features must be a numpy array or torch tensor"),
    (frechet_distance, {"real_features": X, "fake_features": {"a": 1}}, TypeError,
     "fake_features must be a numpy array or torch tensor"),
    (frechet_distance, {"real_features": X.astype(bool), "fake_features": Y}, TypeError,
     "real_features must hold real numbers"),
    (frechet_distance, {"real_features": X, "fake_features": torch.ones(4, 3).bool()},
     TypeError, "fake_features must hold real numbers"),
    (frechet_distance, {"real_features": X + 1j, "fake_features": Y}, TypeError,
     "real_features must hold real numbers"),
    (frechet_distance, {"real_features": np.array([[1, "a"]], dtype=object),
                        "fake_features": Y}, TypeError, "real_features must hold real numbers"),
    (frechet_distance, {"real_features": np.zeros(10), "fake_features": Y}, ValueError,
     "real_features must be 2-D (N, D): N samples of D features, got shape (10,); one feature"),
    (frechet_distance, {"real_features": X, "fake_features": np.zeros((2, 2, 3))}, ValueError,
     "fake_features must be 2-D (N, D)"),
    (frechet_distance, {"real_features": X, "fake_features": np.zeros((8, 2))}, ValueError,
     "real_features and fake_features must have the same feature dimension D, got "
     "real_features (10, 3) and fake_features (8, 2)"),
    (frechet_distance, {"real_features": X[:1], "fake_features": Y}, ValueError,
     "real_features must hold at least 2 samples (rows), got 1"),
    (frechet_distance, {"real_features": X, "fake_features": np.zeros((0, 3))}, ValueError,
     "fake_features must hold at least 2 samples"),
    (frechet_distance, {"real_features": np.zeros((4, 0)), "fake_features": Y}, ValueError,
     "real_features must have at least 1 feature"),
    (frechet_distance, {"real_features": NAN_ROW, "fake_features": Y}, ValueError,
     "real_features must be finite: row 4 holds NaN or Inf"),
    (frechet_distance, {"real_features": X, "fake_features": INF}, ValueError,
     "fake_features must be finite: row 1 holds NaN or Inf"),
    (kernel_distance, {"real_features": X, "fake_features": np.zeros(8)}, ValueError,
     "fake_features must be 2-D"),
    (kernel_distance, {"real_features": X, "fake_features": Y[:, :2]}, ValueError,
     "must have the same feature dimension"),
    (kernel_distance, {"real_features": NAN_ROW, "fake_features": Y}, ValueError,
     "real_features must be finite"),
    (inception_score, {"logits": np.zeros(5)}, ValueError, "logits must be 2-D"),
    (inception_score, {"logits": LOGITS[:1]}, ValueError, "logits must hold at least 2 samples"),
    (inception_score, {"logits": LOGITS + np.nan}, ValueError, "logits must be finite"),
    (inception_score, {"logits": "logits"}, TypeError, "logits must be a numpy array"),
    (prdc, {"real_features": X, "fake_features": Y[:, :1]}, ValueError,
     "must have the same feature dimension"),
    (prdc, {"real_features": X, "fake_features": INF}, ValueError,
     "fake_features must be finite"),
    (prdc, {"real_features": [1.0, 2.0, 3.0], "fake_features": Y}, ValueError,
     "real_features must be 2-D"),
    # KID options
    (kernel_distance, {"real_features": X, "fake_features": Y, "subset_size": 9}, ValueError,
     "subset_size must be at most the size of each set, got 9 with 10 real and 8 fake samples"),
    (kernel_distance, {"real_features": X, "fake_features": Y, "subset_size": 1}, ValueError,
     "subset_size must be >= 2, got 1"),
    (kernel_distance, {"real_features": X, "fake_features": Y, "subset_size": 4.0}, TypeError,
     "subset_size must be an int, got float"),
    (kernel_distance, {"real_features": X, "fake_features": Y, "subset_size": 4,
                       "num_subsets": 0}, ValueError, "num_subsets must be >= 1, got 0"),
    (kernel_distance, {"real_features": X, "fake_features": Y, "subset_size": 4,
                       "num_subsets": True}, TypeError, "num_subsets must be an int, got bool"),
    (kernel_distance, {"real_features": X, "fake_features": Y, "subset_size": 4, "seed": -1},
     ValueError, "seed must be >= 0, got -1"),
    (kernel_distance, {"real_features": X, "fake_features": Y, "subset_size": 4, "seed": "0"},
     TypeError, "seed must be an int, got str"),
    # IS options
    (inception_score, {"logits": LOGITS, "splits": 0}, ValueError, "splits must be >= 1, got 0"),
    (inception_score, {"logits": LOGITS, "splits": 7}, ValueError, "splits must be <= 6, got 7"),
    (inception_score, {"logits": LOGITS, "splits": 2.0}, TypeError,
     "splits must be an int, got float"),
    # PRDC options
    (prdc, {"real_features": X, "fake_features": Y, "k": 8}, ValueError,
     "k must be below the number of samples in each set, got k=8 with 10 real and 8 fake"),
    (prdc, {"real_features": X, "fake_features": Y, "k": 0}, ValueError, "k must be >= 1, got 0"),
    (prdc, {"real_features": X, "fake_features": Y, "k": None}, TypeError,
     "k must be an int, got NoneType"),
]


@pytest.mark.parametrize(("fn", "kwargs", "error", "fragment"), BAD_INPUTS,
                         ids=[f"{row[0].__name__}-{i}" for i, row in enumerate(BAD_INPUTS)])
def test_bad_input_raises_a_clear_error(fn, kwargs, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        fn(**kwargs)
