"""Images per second of the package's DCGAN training step vs the pytorch/examples DCGAN loop.

The reference is a faithful re-implementation of ``dcgan/main.py`` from pytorch/examples: its
Generator/Discriminator (64 x 64, ngf = ndf = 64), ``Sigmoid`` + ``BCELoss``, one generator
forward reused for both updates, batches copied to the device every step, and its per-step
``.item()`` calls. The package side is :class:`gan_lessons.train.GANStep` on
:class:`gan_lessons.models.DCGANGenerator`/``DCGANDiscriminator`` with the same architecture,
batch size and Adam settings, fed by :class:`gan_lessons.train.BatchStream` (data already on
the device), in the variants that ``train_gan`` offers.

Both run in the same process, alternating rounds, and the script prints the median images/s of
each and the ratio to the reference (issue 17's target for train_gan's defaults on a 2-core
CPU: >= 1.3x). Run:

    .venv/bin/python benchmarks/dcgan_step.py                 # CPU, 64 x 64, batch 64
    .venv/bin/python benchmarks/dcgan_step.py --amp           # + bfloat16 autocast (CPU with
                                                              #   AVX-512 BF16 or AMX)
    .venv/bin/python benchmarks/dcgan_step.py --device cuda --amp --compile
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from gan_lessons.models import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from gan_lessons.train import BatchStream, GANStep, MixedPrecision

# --------------------------------------------------------------------------- the reference


class ExampleGenerator(nn.Module):
    """pytorch/examples dcgan ``Generator`` (64 x 64)."""

    def __init__(self, nz: int, ngf: int, nc: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, x):
        return self.main(x)


class ExampleDiscriminator(nn.Module):
    """pytorch/examples dcgan ``Discriminator`` (64 x 64), ending in a Sigmoid."""

    def __init__(self, ndf: int, nc: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def example_weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class ExampleLoop:
    """The body of the training loop of pytorch/examples dcgan/main.py, one batch per call."""

    def __init__(self, args, device):
        self.device, self.nz = device, args.latent_dim
        self.netG = ExampleGenerator(args.latent_dim, args.width, 3).to(device)
        self.netG.apply(example_weights_init)
        self.netD = ExampleDiscriminator(args.width, 3).to(device)
        self.netD.apply(example_weights_init)
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=args.lr, betas=(0.5, 0.999))
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=args.lr, betas=(0.5, 0.999))
        self.log: list[tuple[float, ...]] = []

    def step(self, data):
        real_label, fake_label = 1, 0
        netD, netG, criterion, device = self.netD, self.netG, self.criterion, self.device
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data[0].to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(batch_size, self.nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        self.optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        self.optimizerG.step()
        self.log.append((errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))  # the example prints these


# --------------------------------------------------------------------------- the package


class PackageLoop:
    """``GANStep`` as ``train_gan`` builds it, with the variant's options."""

    def __init__(self, args, device, images, *, channels_last: bool, fused: bool, compile_: bool,
                 reuse_fakes: bool = False, amp: bool = False):
        config = DCGANConfig(image_size=64, channels=3, latent_dim=args.latent_dim, width=args.width)
        self.generator = DCGANGenerator(config).to(device)
        self.discriminator = DCGANDiscriminator(config).to(device)
        if channels_last:
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        extra = {"fused": True} if fused else {}
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=args.lr, betas=(0.5, 0.999), **extra)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=args.lr, betas=(0.5, 0.999), **extra)
        generator, discriminator = self.generator, self.discriminator
        if compile_:
            generator, discriminator = torch.compile(generator), torch.compile(discriminator)
            generator.latent_dim = args.latent_dim
        self.step_fn = GANStep(generator, discriminator, opt_g, opt_d,
                               precision=MixedPrecision(device, amp),
                               reuse_fakes=reuse_fakes)
        self.batches = BatchStream(images, args.batch_size, device=device, channels_last=channels_last)
        self.history: list[dict[str, torch.Tensor]] = []

    def step(self, _data):
        self.history.append(self.step_fn(self.batches, len(self.history)))  # no .item() per step


# --------------------------------------------------------------------------- timing


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(loop, batches, device) -> float:
    """Seconds for ``len(batches)`` steps."""
    _sync(device)
    start = time.perf_counter()
    for batch in batches:
        loop.step(batch)
    _sync(device)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64, help="ngf = ndf (the example's default 64)")
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--steps", type=int, default=3, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per loop (alternating)")
    parser.add_argument("--amp", action="store_true",
                        help="also time mixed precision (CUDA; bfloat16 on a CPU that has it)")
    parser.add_argument("--compile", action="store_true", help="also time a torch.compile variant")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    images = torch.rand(max(4 * args.batch_size, 256), 3, 64, 64) * 2 - 1  # an in-memory data set
    cpu_batches = [(images[i * args.batch_size:(i + 1) * args.batch_size], None)
                   for i in range(args.steps)]

    variants = {
        "pytorch/examples loop (reference)": lambda: ExampleLoop(args, device),
        "gan_lessons GANStep": lambda: PackageLoop(args, device, images, channels_last=False,
                                                   fused=False, compile_=False),
        "gan_lessons GANStep + channels_last": lambda: PackageLoop(
            args, device, images, channels_last=True, fused=False, compile_=False),
        "gan_lessons GANStep + channels_last + fused Adam": lambda: PackageLoop(
            args, device, images, channels_last=True, fused=True, compile_=False),
    }
    variants["train_gan's defaults: + channels_last + fused Adam + reuse_fakes"] = lambda: PackageLoop(
        args, device, images, channels_last=True, fused=True, compile_=False, reuse_fakes=True)
    if args.amp:
        variants["gan_lessons GANStep + channels_last + fused Adam + reuse_fakes + amp"] = (
            lambda: PackageLoop(args, device, images, channels_last=True, fused=True,
                                compile_=False, reuse_fakes=True, amp=True))
    if args.compile:
        variants["gan_lessons GANStep + channels_last + fused Adam + reuse_fakes + compile"] = (
            lambda: PackageLoop(args, device, images, channels_last=True, fused=True,
                                compile_=True, reuse_fakes=True, amp=args.amp))
    loops = {name: make() for name, make in variants.items()}
    for loop in loops.values():  # warm-up (and compilation)
        time_steps(loop, cpu_batches[:2], device)
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):  # alternate so drifts in machine load hit every variant alike
        for name, loop in loops.items():
            seconds[name].append(time_steps(loop, cpu_batches, device))

    images_per_round = args.steps * args.batch_size
    reference = statistics.median(seconds["pytorch/examples loop (reference)"])
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"batch {args.batch_size}, 64x64, width {args.width}, {args.rounds} rounds x {args.steps} steps")
    print(f"{'variant':<72} {'images/s':>9} {'vs reference':>13}")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:<72} {images_per_round / median:9.1f} {reference / median:12.2f}x")


if __name__ == "__main__":
    main()
