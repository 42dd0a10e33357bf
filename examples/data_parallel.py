# Train a GAN data-parallel: torchrun --nproc_per_node=2 data_parallel.py
# The same script runs in one process with python; fit() finds torchrun's processes itself.
from gan_lessons import distributed
from gan_lessons.checkpoints import load_checkpoint
from gan_lessons.data import as_tensor_dataset, load_dataset
from gan_lessons.gan_training import GANTrainConfig, train_gan
from gan_lessons.models import DCGANConfig, DCGANDiscriminator, DCGANGenerator

images = as_tensor_dataset(load_dataset("./my_images"))  # (N, C, H, W) in [-1, 1]
n, c, h, w = images.images.shape
config = DCGANConfig(image_size=h, channels=c)
generator, discriminator = DCGANGenerator(config), DCGANDiscriminator(config)
# batch_size is per process: the global batch is processes x 8
train_gan(generator, discriminator, images, GANTrainConfig(num_steps=40, batch_size=8),
          checkpoint_path="runs/ddp.pt")
if distributed.is_main():  # rank 0 alone wrote the file, and prints
    print(load_checkpoint("runs/ddp.pt")["extra"].get("distributed"))
