"""Perceptual path length (PPL, Karras et al. 2019, "A Style-Based Generator ...", section 4.1).

PPL measures how smooth a generator's latent space is: how much the image changes, as a
feature network sees it, per small step along a path between two latents. For a pair of random
latents ``a, b`` and a point ``t`` on their path, one value is ``d(G(i(t)), G(i(t + eps))) /
eps^2``, with ``i`` the interpolation: slerp between the normalised latents in Z, lerp in W.
Z is tied to a fixed Gaussian, so when the data lacks some combinations of features the path
from Z to the image must bend, and the image changes abruptly somewhere along a straight path.
W is learned; if the mapping makes it linear in the factors of variation (disentangled), paths
in W are shorter than in Z. As in NVlabs' code, the reported mean drops the values below the
1st and above the 99th percentile (a few pairs have huge values that would dominate it). The
distance ``d`` here is the squared L2 distance between the features of our small classifiers
(``load_feature_net("mnist")``), not LPIPS on VGG16, and the images are small: the numbers
compare models measured the same way (Z against W, one run against another), not the paper's.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_bool, check_choice, check_float, check_int
from .device import first_tensor, resolve_device
from .latent import check_latent_generator

__all__ = ["PathLength", "perceptual_path_length"]

SPACES = ("z", "w")
SAMPLINGS = ("full", "end")


@dataclass(frozen=True, eq=False)
class PathLength:
    """The result of :func:`perceptual_path_length`.

    Attributes:
        mean: the mean of the values between the 1st and 99th percentiles (NVlabs' PPL).
        median: the median of all values.
        values: every pair's value, ``(num_samples,)`` float64, read-only.
    """

    mean: float
    median: float
    values: np.ndarray

    def __str__(self) -> str:
        return (f"PPL {self.mean:.4g} (mean within the 1st-99th percentiles of "
                f"{len(self.values)} pairs; median {self.median:.4g})")


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of the unit vectors of ``a`` and ``b`` ``(N, D)`` at ``t``
    ``(N, 1)``; a unit vector per row (as NVlabs' ``slerp``)."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
    p = t * torch.acos(d)
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True)
    x = a * torch.cos(p) + c * torch.sin(p)
    return x / x.norm(dim=-1, keepdim=True)


@contextlib.contextmanager
def _eval_mode(*modules):
    """Every submodule in eval mode for the block; each one's own flag restored after."""
    flags = [(m, m.training) for module in modules if isinstance(module, torch.nn.Module)
             for m in module.modules()]
    for m, _ in flags:
        m.training = False
    try:
        yield
    finally:
        for m, training in flags:
            m.training = training


def _check_models(generator, feature_net, space: str):
    latent_dim, is_stylegan = check_latent_generator(generator, space)
    if not callable(getattr(feature_net, "features", None)):
        raise TypeError(f"feature_net must have a method .features(images) -> (N, D), got "
                        f"{type(feature_net).__name__}")
    return latent_dim, is_stylegan


def perceptual_path_length(generator, feature_net, *, space: str = "z",
                           num_samples: int = 1000, epsilon: float = 1e-4,
                           sampling: str = "full", batch_size: int = 100, seed: int = 0,
                           device=None, progress: bool = False) -> PathLength:
    """The perceptual path length of ``generator`` in Z or W.

    Args:
        generator: ``z (B, latent_dim) -> images (B, C, H, W)`` in [-1, 1] with an int
            ``latent_dim``; a :class:`~gan_lessons.models.stylegan.StyleGANGenerator` is run
            with ``noise_mode="const"``, so that noise adds no length (NVlabs also redraw
            the constant noise for every batch; here the stored one serves). A conditional generator
            (an int ``num_classes``) gets the label ``i % num_classes`` for pair ``i``, the
            same at both ends.
        feature_net: ``.features(images) -> (B, D)``, e.g. ``load_feature_net("mnist")``; the
            distance is ``||f(x) - f(y)||^2``.
        space: ``"z"`` (slerp between the unit vectors of two ``z``, scaled to the length
            ``sqrt(latent_dim)`` of a typical ``z``) or ``"w"`` (lerp between the two ``w =
            mapping(z)``, given to every style input; StyleGAN only).
        num_samples: pairs ``N`` (>= 2).
        epsilon: the step in ``t`` (> 0).
        sampling: ``"full"`` (``t ~ U(0, 1)``) or ``"end"`` (``t`` is 0 or 1, half each).
        batch_size: pairs per forward pass (two images each).
        seed: the draws come from ``torch.Generator().manual_seed(seed)`` on the CPU, in this
            order: ``z0 = randn(N, latent_dim)``, ``z1`` likewise, then ``rand(N)`` for ``t``
            (``"full"``) or ``randint(0, 2, (N,))`` (``"end"``); the result does not depend on
            ``batch_size`` or ``device``.
        device: where the latents go (default: the generator's parameters' device); the
            generator must be there. The images go to ``feature_net``'s device.
        progress: show a progress bar.

    Returns:
        :class:`PathLength`: ``values`` ``(N,)`` =
        ``||f(G(i(t + eps))) - f(G(i(t)))||^2 / eps^2``, their filtered mean and median.
        Both networks run in eval mode and without gradients; every module's training flag is
        restored after, and ``w_avg`` is not updated.
    """
    space = check_choice(space, "space", SPACES)
    sampling = check_choice(sampling, "sampling", SAMPLINGS)
    n = check_int(num_samples, "num_samples", minimum=2)
    eps = check_float(epsilon, "epsilon", minimum=0.0, exclusive_minimum=True)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    progress = check_bool(progress, "progress")
    latent_dim, is_stylegan = _check_models(generator, feature_net, space)
    device = resolve_device(device, generator)
    floats = [p for p in (generator.parameters() if isinstance(generator, torch.nn.Module)
                          else ()) if p.is_floating_point()]
    dtype = floats[0].dtype if floats else torch.float32
    net_tensor = first_tensor(feature_net)
    net_device = net_tensor.device if net_tensor is not None else device
    classes = getattr(generator, "num_classes", None)
    conditional = isinstance(classes, int) and not isinstance(classes, bool)

    rng = torch.Generator().manual_seed(seed)
    z0 = torch.randn(n, latent_dim, generator=rng, dtype=torch.float64)
    z1 = torch.randn(n, latent_dim, generator=rng, dtype=torch.float64)
    if sampling == "full":
        t = torch.rand(n, generator=rng, dtype=torch.float64)
    else:
        t = torch.randint(0, 2, (n,), generator=rng).to(torch.float64)
    labels = torch.arange(n) % classes if conditional else None

    def images(latents: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if space == "w":
            ws = latents[:, None, :].expand(-1, generator.num_ws, -1)
            return generator.synthesis(ws, noise_mode="const")  # tanh included
        kwargs = {"noise_mode": "const"} if is_stylegan else {}
        if y is not None:
            kwargs["labels"] = y
        return generator(latents, **kwargs)

    from tqdm.auto import tqdm

    values = []
    with torch.no_grad(), _eval_mode(generator, feature_net), tqdm(
            total=n, desc="path length", unit="pair", disable=not progress) as bar:
        for start in range(0, n, batch_size):
            part = slice(start, min(start + batch_size, n))
            a, b, tt = z0[part], z1[part], t[part, None]
            y = None if labels is None else torch.cat([labels[part]] * 2).to(device)
            if space == "z":
                scale = math.sqrt(latent_dim)
                latents = torch.cat([_slerp(a, b, tt), _slerp(a, b, tt + eps)]) * scale
                latents = latents.to(device, dtype)
            else:
                w = generator.mapping(torch.cat([a, b]).to(device, dtype), y,
                                      update_w_avg=False)
                w0, w1 = w.chunk(2)
                tt = tt.to(device, w.dtype)
                latents = torch.cat([w0.lerp(w1, tt), w0.lerp(w1, tt + eps)])
            x = images(latents, y)
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"generator must return a tensor of images, got "
                                f"{type(x).__name__}")
            f = feature_net.features(x.to(net_device))
            if not isinstance(f, torch.Tensor) or f.ndim < 2 or len(f) != len(x):
                raise TypeError(f"feature_net.features must return a tensor (B, D) for B "
                                f"images, got {getattr(f, 'shape', type(f).__name__)}")
            f0, f1 = f.flatten(1).double().chunk(2)
            values.append(((f1 - f0).square().sum(dim=1) / eps**2).cpu())
            bar.update(part.stop - part.start)
    values = torch.cat(values).numpy()
    if not np.isfinite(values).all():
        raise ValueError("generator or feature_net produced NaN or Inf values")
    lo = np.percentile(values, 1, method="lower")
    hi = np.percentile(values, 99, method="higher")
    values.flags.writeable = False
    return PathLength(mean=float(values[(values >= lo) & (values <= hi)].mean()),
                      median=float(np.median(values)), values=values)
