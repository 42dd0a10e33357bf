"""GAN inversion by latent optimisation: which latent makes the generator draw this image?

A generator maps latents to images, ``x = G(z)``; it has no encoder for the way back. To
*invert* it on a target image ``t`` we search for the latent whose image is closest to it,

    ``latent* = argmin  image_loss(G(latent), t) + prior_weight * prior(latent)``,

by gradient descent on the latent alone (Adam), the generator frozen (Zhu et al., 2016;
Creswell & Bharath, 2018; Abdal et al., 2019, "Image2StyleGAN"). The same search repairs
damaged images (inpainting: compare only the known pixels, the ``mask``), and it measures what a
generator *can* draw: an image it made inverts almost exactly, a real image only as far as the
generator's range reaches it.

**Where to search** (``space``):

* ``"z"``: the generator's input, any generator. The landscape is not convex, so the result
  depends on the start; ``restarts`` runs several random starts per target side by side (one
  batch) and keeps the best.
* ``"w"`` (StyleGAN only): the mapping network's output, one ``w`` broadcast to every style
  input of the synthesis network. ``W`` is learned to be flatter than ``Z``, so the search is
  easier.
* ``"w+"`` (StyleGAN only): one ``w`` per style input (``num_ws`` of them). Far more freedom:
  it reconstructs even images the generator could not draw from a single ``w``, which is a
  warning as much as a feature: the latent may leave the region the generator was trained on.

**The image loss** (``loss``): ``"pixel"`` is the mean squared error over the pixels,
``"pixel_l1"`` the mean absolute error;
``"perceptual"`` the mean squared difference of a feature network's features (e.g. the book's
MNIST classifier, ``metrics.load_feature_net("mnist")``), which cares about what the image
shows more than where each pixel is; ``"pixel+perceptual"`` their sum. With a ``mask`` (1 = known
pixel) the pixel term averages over the known pixels only, and the feature network sees both
images with the unknown pixels set to 0, so a pixel the mask hides has no influence at all.
A classifier's features make a rough perceptual loss: they are trained to keep the class and
drop the rest, and they are hard to descend. On 16 MNIST test digits and the bundled DCGAN,
200 steps of the pixel loss even reached a *smaller* feature distance (0.25) than 200 steps of
the perceptual loss itself (0.70); LPIPS-style features, trained to match human judgements of
similarity, are what papers use.

Instead of a mask, ``weights`` (>= 0 per pixel) make the pixel term a weighted mean,
``sum(w * error) / sum(w)``: a mask is the special case of 0/1 weights, and a pixel of weight 0
has no influence (the feature network sees it as 0). With ``loss="pixel_l1"`` this is the
*context loss* of Yeh et al. (2017), ``|| W * (G(z) - y) ||_1`` up to the normalisation (see
:func:`gan_lessons.restoration.context_weights`).

**Measurements** (``operator``): to restore an image from a measurement of it, a low-resolution
copy say, compare ``operator(G(latent))`` with the measurement (``target`` then has the
operator's output shape; a mask or weights are in that shape too). PULSE (Menon et al., 2020)
is ``operator = downsample``.

**The adversarial prior** (``discriminator``, ``adversarial_weight``): Yeh et al.'s *prior
loss* ``adversarial_weight * log(1 - sigmoid(D(G(latent))))``, computed as
``-adversarial_weight * softplus(D(G(latent)))`` (``D`` returns logits), rewards latents
whose images the discriminator finds real. ``D`` sees ``G(latent)``, not the measurement, and
is frozen like the generator. A discriminator with a minibatch-standard-deviation layer
(StyleGAN's) couples the latents optimised together: each one's term depends on the others.

**The prior** keeps the latent where the generator was trained:

* in Z: ``(||z||^2 / D - 1)^2``. A Gaussian ``z`` of ``D`` numbers almost never lies near the
  origin (its most likely point); ``||z||^2 / D`` concentrates at 1 (the *typical set*, a thin
  shell of radius ``sqrt(D)``). The Gaussian negative log-likelihood ``||z||^2 / 2`` would pull
  ``z`` towards the origin, which the generator never saw in training; this prior pulls it to
  the shell instead. ``norm_constraint=True`` goes further: after every step ``z`` is projected
  back onto the sphere of radius ``sqrt(D)`` (as PULSE does, Menon et al., 2020), where this
  prior is 0.
* in W and W+: ``||w - w_avg||^2 / w_dim`` (averaged over the style inputs for W+), the squared
  distance from the centre of W; large weights act like the truncation trick.

Everything is deterministic given ``seed``: the starts are drawn on the CPU.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_bool, check_choice, check_float, check_int
from .degradations import check_images, check_mask, check_pixel_map_shape
from .device import first_tensor, resolve_device
from .latent import check_latent_generator

__all__ = ["LOSSES", "SPACES", "Inversion", "image_loss", "invert"]

SPACES = ("z", "w", "w+")
LOSSES = ("pixel", "pixel_l1", "perceptual", "pixel+perceptual")
TARGET_RANGE = 1.0 + 1e-3  # targets may exceed [-1, 1] by rounding, not by a different scale


@dataclass(frozen=True, eq=False)
class Inversion:
    """The result of :func:`invert`.

    Attributes:
        latents: the best latent per target, detached: ``(B, latent_dim)`` in Z, ``(B, w_dim)``
            in W, ``(B, num_ws, w_dim)`` in W+.
        images: their images ``(B, C, H, W)``, detached.
        losses: ``(B,)`` the objective (image loss + ``prior_weight`` * prior [+ the
            adversarial term]) of each returned latent: the best final value of the target's
            restarts.
        history: ``(steps,)`` float64 numpy array, read-only: the objective at each step,
            averaged over all ``B * restarts`` latents (before that step's update).
    """

    latents: torch.Tensor
    images: torch.Tensor
    losses: torch.Tensor
    history: np.ndarray

    def __str__(self) -> str:
        return (f"Inversion of {len(self.losses)} images: mean final loss "
                f"{float(self.losses.mean()):.4g} after {len(self.history)} steps")


# --------------------------------------------------------------------------- the losses


def _check_weights(weights, mask, target: torch.Tensor) -> torch.Tensor | None:
    """``weights`` ``(B, 1, H, W)`` or ``(1, 1, H, W)``, finite and >= 0, on ``target``'s device;
    or ``mask`` as 0/1 weights; or None."""
    if weights is None:
        return None if mask is None else check_mask(mask, target)
    if mask is not None:
        raise ValueError("weights and mask must not both be given: a mask is 0/1 weights")
    if not isinstance(weights, torch.Tensor) or not weights.is_floating_point():
        raise TypeError(f"weights must be a float tensor (B, 1, H, W), got "
                        f"{getattr(weights, 'dtype', type(weights).__name__)}")
    check_pixel_map_shape(weights, target, "weights")
    if not bool((torch.isfinite(weights) & (weights >= 0)).all()):
        raise ValueError("weights must be finite and >= 0")
    return weights.to(target.device, target.dtype)


def _check_loss_args(loss, feature_net) -> str:
    loss = check_choice(loss, "loss", LOSSES)
    if "perceptual" in loss:
        if feature_net is None:
            raise ValueError(f"feature_net is required for loss={loss!r} (e.g. "
                             f"gan_lessons.metrics.load_feature_net('mnist'))")
        if not callable(getattr(feature_net, "features", None)):
            raise TypeError(f"feature_net must have a method .features(images) -> (B, F), got "
                            f"{type(feature_net).__name__}")
    return loss


def _image_loss(images: torch.Tensor, target: torch.Tensor, loss: str, feature_net,
                weights: torch.Tensor | None) -> torch.Tensor:
    """The per-image loss ``(N,)``; ``target`` and ``weights`` (0/1 for a mask) broadcast
    against ``images``."""
    total = images.new_zeros(len(images))
    known = None if weights is None else weights > 0
    if known is not None:  # a NaN or Inf target under an unknown pixel stays out, gradient too
        target = torch.where(known, target, target.new_zeros(()))
    if loss in ("pixel", "pixel_l1", "pixel+perceptual"):
        error = (images - target).abs() if loss == "pixel_l1" else (images - target).square()
        if known is None:
            total = total + error.flatten(1).mean(dim=1)
        else:
            error = torch.where(known, error, error.new_zeros(())) * weights
            norm = weights.to(error.dtype).expand_as(error).flatten(1).sum(dim=1)
            norm = torch.where(norm > 0, norm, norm.new_ones(()))  # all weights 0: loss 0
            total = total + error.flatten(1).sum(dim=1) / norm
    if "perceptual" in loss:
        if known is not None:
            images = torch.where(known, images, images.new_zeros(()))
        f = feature_net.features(images)
        g = feature_net.features(target.expand_as(images))
        total = total + (f - g).flatten(1).square().mean(dim=1).to(total.dtype)
    return total


def image_loss(images: torch.Tensor, target: torch.Tensor, *, loss: str = "pixel",
               feature_net=None, mask: torch.Tensor | None = None,
               weights: torch.Tensor | None = None) -> torch.Tensor:
    """The image term of :func:`invert`'s objective, per image, differentiable in ``images``.

    Args:
        images: ``(B, C, H, W)``, e.g. the generator's.
        target: ``(B, C, H, W)`` or ``(1, C, H, W)``.
        loss: ``"pixel"``: mean squared error over the (known) pixels; ``"pixel_l1"``: mean
            absolute error over them; ``"perceptual"``: mean
            squared difference of ``feature_net.features`` (``(B, F)``; the same as
            :func:`gan_lessons.image_metrics.feature_distance` divided by ``F``);
            ``"pixel+perceptual"``: their sum.
        feature_net: needed for the perceptual losses; it sees images in [-1, 1].
        mask: ``(B, 1, H, W)`` or ``(1, 1, H, W)`` of 0s and 1s (1 = known pixel). The pixel term
            averages over the known pixels (an image with none scores 0); the feature network
            sees both images with unknown pixels set to 0. Either way the target's unknown
            pixels have no influence on the value or its gradient.
        weights: instead of ``mask``, ``(B, 1, H, W)`` or ``(1, 1, H, W)`` finite weights
            >= 0: the pixel term is ``sum(w * error) / sum(w)`` per image (0 if all are 0); a
            pixel of weight 0 is unknown, as under a mask.

    Returns:
        ``(B,)`` losses.
    """
    images = check_images(images, "images")
    target = check_images(target, "target")
    if target.shape[1:] != images.shape[1:] or target.shape[0] not in (1, images.shape[0]):
        raise ValueError(f"target must have shape {tuple(images.shape)} or "
                         f"{(1, *images.shape[1:])} to match images, got {tuple(target.shape)}")
    loss = _check_loss_args(loss, feature_net)
    weights = _check_weights(weights, mask, images)
    return _image_loss(images, target.to(images.device, images.dtype), loss, feature_net, weights)


# --------------------------------------------------------------------------- inversion


@contextlib.contextmanager
def _frozen(*modules):
    """Every submodule in eval mode and every parameter without ``requires_grad`` for the
    block (only the latent is optimised, and no ``.grad`` of the networks is touched); each
    flag restored after."""
    modules = [m for m in modules if isinstance(m, torch.nn.Module)]
    training = [(m, m.training) for module in modules for m in module.modules()]
    grads = [(p, p.requires_grad) for module in modules for p in module.parameters()]
    for m, _ in training:
        m.training = False
    for p, _ in grads:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for m, flag in training:
            m.training = flag
        for p, flag in grads:
            p.requires_grad_(flag)


def _check_generator(generator, space: str, norm_constraint: bool) -> tuple[int, bool]:
    latent_dim, is_stylegan = check_latent_generator(generator, space)
    if norm_constraint and space != "z":
        raise ValueError(f"norm_constraint=True projects z onto its sphere; it needs space='z', "
                         f"got space={space!r}")
    return latent_dim, is_stylegan


def _check_labels(labels, generator, batch: int, device) -> torch.Tensor | None:
    classes = getattr(generator, "num_classes", None)
    conditional = isinstance(classes, int) and not isinstance(classes, bool)
    if not conditional:
        if labels is not None:
            raise ValueError("labels must be None: generator is unconditional (no int "
                             "num_classes)")
        return None
    if labels is None:
        raise ValueError(f"labels are required: generator is conditional "
                         f"(num_classes={classes}); give one class per target")
    from .models.conditional import check_labels

    return check_labels(labels, batch, classes).to(device)


def _check_target(target, device, in_range: bool = True) -> torch.Tensor:
    target = check_images(target, "target")
    if len(target) == 0:
        raise ValueError("target must hold at least one image, got B = 0")
    if not bool(torch.isfinite(target).all()):
        raise ValueError("target must be finite, got NaN or Inf values")
    if not in_range:
        return target.to(device)
    low, high = torch.stack(torch.aminmax(target)).tolist()
    if low < -TARGET_RANGE or high > TARGET_RANGE:
        raise ValueError(f"target must be images in [-1, 1] (the generator's range), got values "
                         f"from {low:.4g} to {high:.4g}; map [0, 1] images with 2 * x - 1")
    return target.to(device)


def _check_adversarial(discriminator, adversarial_weight) -> float:
    adversarial_weight = check_float(adversarial_weight, "adversarial_weight", minimum=0.0)
    if discriminator is None:
        if adversarial_weight > 0:
            raise ValueError(f"discriminator is required for adversarial_weight="
                             f"{adversarial_weight} > 0")
    elif not callable(discriminator):
        raise TypeError(f"discriminator must be callable, images -> logits (B, 1), got "
                        f"{type(discriminator).__name__}")
    return adversarial_weight


def invert(generator, target: torch.Tensor, *, space: str = "z", loss: str = "pixel",
           feature_net=None, prior_weight: float = 0.01, steps: int = 200, lr: float = 0.1,
           restarts: int = 1, norm_constraint: bool = False,
           labels: torch.Tensor | None = None, seed: int = 0, device=None,
           progress: bool = False, mask: torch.Tensor | None = None,
           weights: torch.Tensor | None = None, operator=None, discriminator=None,
           adversarial_weight: float = 0.0) -> Inversion:
    """The latents whose images come closest to ``target``, found by Adam on the latents.

    Minimises ``image_loss(operator(G(latent)), target) + prior_weight * prior(latent)
    - adversarial_weight * softplus(D(G(latent)))`` for every target (see the module docstring
    and :func:`image_loss`); the generator and discriminator are not changed.

    Args:
        generator: ``z (B, latent_dim) -> images (B, C, H, W)`` in [-1, 1] with an int
            ``latent_dim`` (a conditional one, with an int ``num_classes``, is called with
            ``labels=``); a :class:`~gan_lessons.models.stylegan.StyleGANGenerator` is run with
            ``noise_mode="const"`` and no truncation.
        target: ``(B, C, H, W)`` finite images in [-1, 1] of the generator's shape; with an
            ``operator``, finite measurements ``(B, C', H', W')`` of its output's shape.
        space: ``"z"``, or (StyleGAN only) ``"w"`` (one ``w`` for every style input) or
            ``"w+"`` (one per style input).
        loss: ``"pixel"``, ``"pixel_l1"``, ``"perceptual"`` or ``"pixel+perceptual"`` (see
            :func:`image_loss`).
        feature_net: ``.features(images) -> (B, F)``, for the perceptual losses.
        prior_weight: weight (>= 0) of the prior: ``(||z||^2 / D - 1)^2`` in Z,
            ``||w - w_avg||^2 / w_dim`` in W (averaged over the style inputs in W+).
        steps: Adam steps (>= 1).
        lr: Adam's learning rate (> 0).
        restarts: random starts per target (>= 1), optimised together as ``B * restarts``
            latents; the one with the lowest final objective is kept.
        norm_constraint: (Z only) start on, and after every step project ``z`` back onto, the
            sphere of radius ``sqrt(latent_dim)``.
        labels: ``(B,)`` class indices, one per target, for a conditional generator (in W and
            W+ they only choose the starts ``mapping(z, labels)``).
        seed: the starts are ``torch.randn(B, restarts, latent_dim)`` from
            ``torch.Generator().manual_seed(seed)`` on the CPU; in W and W+ each start is
            ``mapping(z)`` of that draw (the same ``w`` for every style input in W+).
        device: where to optimise (default: the generator's device; it must be there).
        progress: show a progress bar with the current mean objective.
        mask: ``(B, 1, H, W)`` or ``(1, 1, H, W)`` of 0s and 1s, 1 = known pixel: only the known
            pixels count (inpainting).
        weights: instead of ``mask``, per-pixel weights ``(B, 1, H, W)`` or ``(1, 1, H, W)``,
            finite and >= 0 (see :func:`image_loss`); weight 0 = unknown.
        operator: a differentiable callable, images ``(N, C, H, W)`` -> measurements
            ``(N, C', H', W')`` (e.g. ``functools.partial(degradations.downsample, factor=4)``),
            applied to ``G(latent)`` before the image loss; ``mask``/``weights`` and the
            feature network then act on the measurements.
        discriminator: ``images -> logits (N,)`` or ``(N, 1)`` (called with ``labels`` too for a
            conditional generator), for the adversarial prior; frozen like the generator.
        adversarial_weight: weight (>= 0) of the prior loss
            ``log(1 - sigmoid(D(G(latent)))) = -softplus(D(G(latent)))``; > 0 needs a
            ``discriminator``.

    Returns:
        :class:`Inversion`. Every module's (generator's, discriminator's, feature network's)
        training flag and every parameter's ``requires_grad`` are restored after the call, and
        ``w_avg`` is not updated.
    """
    space = check_choice(space, "space", SPACES)
    loss = _check_loss_args(loss, feature_net)
    prior_weight = check_float(prior_weight, "prior_weight", minimum=0.0)
    steps = check_int(steps, "steps", minimum=1)
    lr = check_float(lr, "lr", minimum=0.0, exclusive_minimum=True)
    restarts = check_int(restarts, "restarts", minimum=1)
    norm_constraint = check_bool(norm_constraint, "norm_constraint")
    seed = check_int(seed, "seed", minimum=0)
    progress = check_bool(progress, "progress")
    adversarial_weight = _check_adversarial(discriminator, adversarial_weight)
    if operator is not None and not callable(operator):
        raise TypeError(f"operator must be callable, images -> measurements, got "
                        f"{type(operator).__name__}")
    latent_dim, is_stylegan = _check_generator(generator, space, norm_constraint)
    device = resolve_device(device, generator)
    target = _check_target(target, device, in_range=operator is None)
    b = len(target)
    labels = _check_labels(labels, generator, b, device)
    pixel_weights = _check_weights(weights, mask, target)
    floats = [p for p in (generator.parameters() if isinstance(generator, torch.nn.Module)
                          else ()) if p.is_floating_point()]
    dtype = floats[0].dtype if floats else torch.float32
    target = target.to(dtype)
    n = b * restarts
    # run k (0 ... n - 1) inverts target k // restarts
    run_labels = None if labels is None else labels.repeat_interleave(restarts)
    net_device = getattr(first_tensor(feature_net), "device", device)

    def render(latent: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if space == "z":
            kwargs = {"noise_mode": "const"} if is_stylegan else {}
            if y is not None:
                kwargs["labels"] = y
            return generator(latent, **kwargs)
        ws = latent[:, None, :].expand(-1, generator.num_ws, -1) if space == "w" else latent
        return generator.synthesis(ws, noise_mode="const")

    def prior(latent: torch.Tensor) -> torch.Tensor:
        if space == "z":
            return (latent.square().mean(dim=1) - 1.0).square()
        centre = generator.w_avg.to(latent.dtype)
        return (latent - centre).square().flatten(1).mean(dim=1)

    def adversarial(images: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        logits = discriminator(images) if y is None else discriminator(images, y)
        if not isinstance(logits, torch.Tensor) or logits.numel() != len(images):
            raise TypeError(f"discriminator must return one logit per image, (N,) or (N, 1), "
                            f"got {getattr(logits, 'shape', type(logits).__name__)}")
        # log(1 - sigmoid(l)) = -softplus(l), stable for any logit
        return -torch.nn.functional.softplus(logits.reshape(len(images)))

    def objective(latent: torch.Tensor, images: torch.Tensor, index) -> torch.Tensor:
        t = target[index]
        k = pixel_weights
        if k is not None and len(k) != 1:
            k = k[index]
        value = 0.0
        if adversarial_weight:
            value = adversarial_weight * adversarial(images, run_labels).to(latent.dtype)
        if operator is not None:
            images = operator(images)
        if "perceptual" in loss:
            images, t = images.to(net_device), t.to(net_device)
            k = None if k is None else k.to(net_device)
        value = _image_loss(images, t, loss, feature_net, k).to(latent.dtype) + value
        return value + prior_weight * prior(latent) if prior_weight else value

    def project(z: torch.Tensor) -> torch.Tensor:
        return z * (math.sqrt(latent_dim) / z.norm(dim=1, keepdim=True).clamp(min=1e-12))

    from tqdm.auto import tqdm

    runs = torch.arange(n, device=device) // restarts
    history = np.empty(steps)
    with _frozen(generator, feature_net, discriminator):
        shape = getattr(getattr(generator, "config", None), "data_shape", None)
        if shape is None or operator is not None:
            with torch.no_grad():
                probe = render(torch.zeros(1, latent_dim, device=device, dtype=dtype),
                               None if labels is None else labels[:1])
                if not isinstance(probe, torch.Tensor) or probe.ndim != 4:
                    raise TypeError(f"generator must return images (B, C, H, W), got "
                                    f"{getattr(probe, 'shape', type(probe).__name__)}")
                if operator is not None:
                    probe = operator(probe)
                    if not isinstance(probe, torch.Tensor) or probe.ndim != 4:
                        raise TypeError(f"operator must return measurements (N, C, H, W), got "
                                        f"{getattr(probe, 'shape', type(probe).__name__)}")
            shape = tuple(probe.shape[1:])
        if tuple(target.shape[1:]) != tuple(shape):
            what = "the generator's images" if operator is None else "operator(images)"
            raise ValueError(f"target must have shape (B, {', '.join(map(str, shape))}) like "
                             f"{what}, got {tuple(target.shape)}")

        rng = torch.Generator().manual_seed(seed)
        z = torch.randn(b, restarts, latent_dim, generator=rng, dtype=torch.float64)
        z = z.reshape(n, latent_dim).to(device, dtype)
        if space == "z":
            latent = project(z) if norm_constraint else z
        else:
            with torch.no_grad():
                latent = generator.mapping(z, run_labels, update_w_avg=False)
            if space == "w+":
                latent = latent[:, None, :].repeat(1, generator.num_ws, 1)
        latent = latent.detach().clone().requires_grad_(True)
        optimizer = torch.optim.Adam([latent], lr=lr)
        with tqdm(range(steps), desc="inversion", disable=not progress) as bar:
            for step in bar:
                optimizer.zero_grad(set_to_none=True)
                value = objective(latent, render(latent, run_labels), runs)
                # each latent's gradient is that of its own loss (a sum, not a mean)
                value.sum().backward()
                optimizer.step()
                if norm_constraint:
                    with torch.no_grad():
                        latent.copy_(project(latent))
                history[step] = mean = float(value.detach().double().mean())
                if progress:
                    bar.set_postfix(loss=f"{mean:.4g}")
        with torch.no_grad():
            latent = latent.detach()
            images = render(latent, run_labels)
            final = objective(latent, images, runs)
    if not bool(torch.isfinite(final).all()):
        raise ValueError("the objective became NaN or Inf: lower lr, or check the generator "
                         "and feature_net")
    best = final.reshape(b, restarts).argmin(dim=1) + torch.arange(b, device=device) * restarts
    history.flags.writeable = False
    return Inversion(latents=latent[best].clone(), images=images[best].detach().clone(),
                     losses=final[best].clone(), history=history)
