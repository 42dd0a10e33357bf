"""Checker for a student's DCGAN generator: shapes, output range, batch independence."""

from __future__ import annotations

import copy

import torch
from torch import nn

from gan_lessons._validate import check_int

from ._report import NOT_IMPLEMENTED_HINT, Case, CheckResult, StudentError, call, run_cases

__all__ = ["dcgan_generator"]

_SIZES = ("each stride-2 transposed conv with kernel 4 and padding 1 doubles the size: "
          "H_out = (H - 1)*2 - 2*1 + 4 = 2H; the first, from 1x1, is kernel 4 (or 7), stride 1, "
          "padding 0")


def _z_dim(generator: nn.Module) -> int | None:
    for name in ("latent_dim", "z_dim", "nz"):
        value = getattr(generator, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    for layer in generator.modules():
        if isinstance(layer, nn.Linear):
            return layer.in_features
        if isinstance(layer, nn.ConvTranspose2d | nn.Conv2d):
            return layer.in_channels
    return None


def _device(generator: nn.Module) -> torch.device:
    param = next(iter(generator.parameters()), None)
    return param.device if param is not None else torch.device("cpu")


class _Generator:
    """The student's generator (a private copy) and the sizes the checks expect."""

    def __init__(self, module: nn.Module, z_dim: int, image_size: int | None,
                 channels: int | None) -> None:
        self.module, self.z_dim = module, z_dim
        self.image_size, self.channels = image_size, channels
        self.device = _device(module)

    def z(self, batch: int, seed: int, scale: float = 1.0) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return (torch.randn(batch, self.z_dim, generator=g) * scale).to(self.device)

    def run(self, z: torch.Tensor, train: bool = False):
        """``(images, None)`` or ``(None, (message, hint))``."""
        self.module.train(train)
        try:
            with torch.no_grad():
                out = call(self.module, z)
        except StudentError as err:
            flat_ok = self._accepts_4d(z)
            if flat_ok:
                return None, (f"z of shape {tuple(z.shape)} raised {type(err.exc).__name__}: "
                              f"{str(err.exc)[:150]}",
                              f"your generator takes z as (B, {self.z_dim}, 1, 1); make forward "
                              f"accept (B, {self.z_dim}) as DCGANGenerator does, and reshape "
                              f"it inside: z[:, :, None, None].")
            raise
        return self._check_images(out, z.shape[0])

    def _accepts_4d(self, z: torch.Tensor) -> bool:
        try:
            with torch.no_grad():
                call(self.module, z[:, :, None, None])
        except StudentError:
            return False
        return True

    def _check_images(self, out, batch: int):
        if not isinstance(out, torch.Tensor):
            return None, (f"expected a tensor of images, got {type(out).__name__}",
                          "forward returns the images (B, C, H, W).")
        c = self.channels if self.channels is not None else "C"
        s = self.image_size if self.image_size is not None else "S"
        want = f"({batch}, {c}, {s}, {s})"
        shape = tuple(out.shape)
        wrong = (len(shape) != 4 or shape[0] != batch or shape[2] != shape[3]
                 or (self.channels is not None and shape[1] != self.channels)
                 or (self.image_size is not None and shape[2] != self.image_size))
        if wrong:
            hint = ("the batch dimension must stay first, with one image per z."
                    if len(shape) == 4 and shape[0] != batch else
                    f"the output must be {want}: {_SIZES}. The sizes along your layers: "
                    f"{self._trace()}." if len(shape) == 4 else
                    "return images shaped (B, C, H, W).")
            return None, (f"expected shape {want}, got {shape}", hint)
        if not torch.isfinite(out).all():
            return None, ("the images hold NaN or inf", None)
        return out, None

    def _trace(self) -> str:
        """The spatial sizes after each (transposed) convolution, for one z."""
        sizes: list[str] = []
        hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(
            "x".join(map(str, o.shape[-2:])))) for m in self.module.modules()
            if isinstance(m, nn.ConvTranspose2d | nn.Conv2d | nn.Upsample)]
        try:
            self.module.eval()
            with torch.no_grad():
                call(self.module, self.z(1, 0))
        except StudentError:
            pass
        finally:
            for h in hooks:
                h.remove()
        return " -> ".join(sizes) if sizes else "no convolution layers found"


def _shape_case(batch: int, train: bool) -> Case:
    def check(g: _Generator):
        _, problem = g.run(g.z(batch, batch), train)
        return problem
    mode = "train" if train else "eval"
    error = ("BatchNorm in train mode needs more than one value per channel; in eval mode it "
             "uses its running statistics, so one sample must work." if batch == 1 else None)
    return Case(f"z ({batch}, z_dim), {mode} mode: output shape", check, error)


def _range_case(batch: int, seed: int, train: bool = False, scale: float = 1.0) -> Case:
    """Images in [-1, 1] for z ~ N(0, scale^2): a large scale shows a missing tanh."""
    def check(g: _Generator):
        out, problem = g.run(g.z(batch, seed, scale), train)
        if problem:
            return problem
        low, high = float(out.min()), float(out.max())
        message = f"images range over [{low:.3g}, {high:.3g}]"
        if low < -1 or high > 1:
            return (f"{message}, outside [-1, 1]", "end the generator with tanh: images are in "
                                                   "[-1, 1] whatever z is.")
        if scale > 1 and low >= 0 and high > 0.5:
            return (f"{message}: never negative", "images are in [-1, 1]: end with tanh, not "
                                                  "sigmoid.")
        return None
    z = f"z ({batch}, z_dim)" + (f" * {scale:g}" if scale != 1 else "")
    return Case(f"{z}, {'train' if train else 'eval'} mode: values in [-1, 1]", check)


def _independence_case() -> Case:
    def check(g: _Generator):
        z = g.z(4, 3)
        out, problem = g.run(z)
        if problem:
            return problem
        alone, problem = g.run(z[:1])
        if problem:
            return problem
        z2 = z.clone()
        z2[1:] = g.z(3, 4)
        other, problem = g.run(z2)
        if problem:
            return problem
        hint = ("sample i must depend on z[i] only: a reshape/view that moves the batch "
                "dimension (e.g. z.view(-1, B, ...) or a .T) mixes the samples, and so does a "
                "BatchNorm that uses batch statistics in eval mode (track_running_stats=False).")
        if not torch.allclose(out[:1], alone, rtol=1e-4, atol=1e-5):
            return "image 0 of a batch of 4 differs from the same z generated alone", hint
        if not torch.allclose(out[:1], other[:1], rtol=1e-4, atol=1e-5):
            return "image 0 changes when the other samples' z change", hint
        if torch.allclose(out[1:2], other[1:2]):
            return "image 1 does not change when z[1] changes", "the output must depend on z."
        return None
    return Case("eval mode: each image depends on its own z only", check)


def _instance(generator_or_class) -> nn.Module:
    """A private copy of an instance, or a new instance of a class (no arguments)."""
    if isinstance(generator_or_class, nn.Module):
        return copy.deepcopy(generator_or_class)
    return generator_or_class()


def _optional_int(value, name: str) -> int | None:
    return None if value is None else check_int(value, name, minimum=1)


def dcgan_generator(generator_or_class, *, z_dim: int | None = None,
                    image_size: int | None = None, channels: int | None = None) -> CheckResult:
    """Check a DCGAN generator module: z ``(B, z_dim)`` -> images ``(B, channels, image_size,
    image_size)`` in [-1, 1] (as :class:`gan_lessons.models.dcgan.DCGANGenerator` takes z), for
    batches of 1, 2 and 5 in eval mode and of 4 in train mode, squashed by a tanh, and each image
    depending on its own z only (eval mode). A class is instantiated with no arguments; an
    instance is copied, so the checks leave it untouched. ``z_dim`` defaults to the module's
    ``latent_dim`` / ``z_dim`` / ``nz`` attribute (else the first layer's input size);
    ``image_size`` and ``channels`` are checked when given."""
    z_dim = _optional_int(z_dim, "z_dim")
    image_size = _optional_int(image_size, "image_size")
    channels = _optional_int(channels, "channels")
    if not (isinstance(generator_or_class, nn.Module) or (
            isinstance(generator_or_class, type) and issubclass(generator_or_class, nn.Module))):
        raise TypeError(f"generator_or_class must be an nn.Module or an nn.Module subclass, got "
                        f"{type(generator_or_class).__name__}")
    try:
        module = call(_instance, generator_or_class)
    except StudentError as err:
        report = f"raised {type(err.exc).__name__}: {err.exc}"
        hint = (NOT_IMPLEMENTED_HINT if isinstance(err.exc, NotImplementedError) else
                "pass an instance, or a class whose arguments all have defaults.")
        return run_cases("dcgan_generator", None, [Case(
            "building the generator", lambda _: (report, hint))])
    z_dim = z_dim or _z_dim(module)
    if z_dim is None:
        raise ValueError("z_dim must be given: the generator has no latent_dim, z_dim or nz "
                         "attribute to read it from")
    g = _Generator(module, z_dim, image_size, channels)
    cases = [_shape_case(2, False), _shape_case(1, False), _shape_case(5, False),
             _shape_case(4, True), _range_case(8, 1), _range_case(8, 1, train=True),
             _range_case(4, 2, scale=1e4), _independence_case()]
    return run_cases("dcgan_generator", g, cases, noun="checks pass")
