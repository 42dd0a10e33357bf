"""Reference solutions of homework/03_dcgan_on_your_images.ipynb, one per solution cell
(``grade_id``)."""

from torch import nn


class Generator(nn.Module):
    """DCGAN generator: z (B, latent_dim) -> images (B, channels, 32, 32)
    in [-1, 1]."""

    def __init__(self, latent_dim=64, channels=3, width=32):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            # (B, latent_dim, 1, 1) -> (B, 4w, 4, 4)
            nn.ConvTranspose2d(latent_dim, 4 * width, 4, 1, 0, bias=False),
            nn.BatchNorm2d(4 * width),
            nn.ReLU(),
            # -> (B, 2w, 8, 8): (H - 1) * 2 - 2 + 4 = 2H
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            # -> (B, w, 16, 16)
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            # -> (B, channels, 32, 32), squashed into [-1, 1]
            nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z[:, :, None, None])


SOLUTIONS = {"generator": [Generator]}
