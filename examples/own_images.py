# Train a GAN on your own folder of images; resume, sample and evaluate it.
import torch

from gan_lessons.checkpoints import load_gan
from gan_lessons.data import as_tensor_dataset, load_dataset
from gan_lessons.gan_training import GANTrainConfig, train_gan
from gan_lessons.metrics import evaluate
from gan_lessons.models import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from gan_lessons.plotting import image_grid, save_figure

# .images: (N, C, H, W) in [-1, 1], at the images' own size
images = as_tensor_dataset(load_dataset("./my_images"))
n, c, h, w = images.images.shape
config = DCGANConfig(image_size=h, channels=c)
generator, discriminator = DCGANGenerator(config), DCGANDiscriminator(config)
train_gan(generator, discriminator, images, GANTrainConfig(num_steps=40),
          checkpoint_path="runs/mine.pt")
# later, or after an interruption: continue the same run, exactly, to 60 steps
train_gan(generator, discriminator, images, GANTrainConfig(num_steps=60),
          checkpoint_path="runs/mine.pt", resume=True)
# the models rebuilt from the file alone, in eval mode
generator, _ = load_gan("runs/mine.pt")
with torch.no_grad():
    samples = generator(torch.randn(64, generator.latent_dim))  # (64, C, H, W)
save_figure(image_grid(samples), "samples.png")
# FID, KID, ... beside their real-vs-real floor (at most half the images each)
print(evaluate(generator, images, num_samples=100, feature_net="cifar10"))
