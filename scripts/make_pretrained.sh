#!/usr/bin/env bash
# Rebuild every checkpoint bundled in gan_lessons/pretrained/ and rewrite registry.json.
#
#   bash scripts/make_pretrained.sh            # everything (about 2 hours on a 2-core CPU)
#   bash scripts/make_pretrained.sh mnist      # only mlp_mnist
#   bash scripts/make_pretrained.sh ring       # only the 2-D ring runs of the GAN chapter
#   bash scripts/make_pretrained.sh ring_games # the ring runs of the Wasserstein chapter
#   bash scripts/make_pretrained.sh conditional  # cgan_mnist (Wasserstein chapter)
#   bash scripts/make_pretrained.sh wgan_mnist # wgan_gp_mnist (Wasserstein chapter)
#   bash scripts/make_pretrained.sh wgan_cifar10 # wgan_gp_cifar10 (Wasserstein chapter)
#   bash scripts/make_pretrained.sh conditional_cifar10 # cgan_cifar10 (Wasserstein chapter)
#   bash scripts/make_pretrained.sh dcgan      # only dcgan_mnist and dcgan_cifar10 (DCGAN chapter)
#   bash scripts/make_pretrained.sh autoencoders  # conv_{ae,vae}{,16}_mnist (autoencoder chapter)
#   bash scripts/make_pretrained.sh features   # feature_mnist, feature_cifar10 (metrics' classifiers)
#   bash scripts/make_pretrained.sh stylegan   # stylegan_mnist, stylegan_cifar10 (StyleGAN chapter)
#   bash scripts/make_pretrained.sh stylegan_mnist    # (or stylegan_cifar10) only one of them
#   bash scripts/make_pretrained.sh pix2pix    # p2p_* and l1_* (applications chapter)
#   bash scripts/make_pretrained.sh sr         # srnet_l1_mnist, srgan_mnist (applications chapter)
#
# Each model is trained with the package's own command line (python -m gan_lessons train ... or
# train-ae ...),
# so the checkpoint records the exact command that made it. The full checkpoints (with optimizer
# states, float32) go to $WORK (default runs/pretrained, ignored by git); then
# `python -m gan_lessons.pretrained register` writes a compact float16 copy into
# gan_lessons/pretrained/, and stores its SHA-256, size, step count, training command and
# training time in gan_lessons/pretrained/registry.json. load_pretrained() refuses any file whose
# SHA-256 differs from the registry, so commit the .pt files and registry.json together.
#
# Training runs on the CPU with one thread per run (--device cpu, OMP_NUM_THREADS=1): on a shared
# 2-core machine a single thread is faster than two competing ones, and CPU results do not
# depend on which GPU a machine has. MNIST is read from $GAN_LESSONS_DATA (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
WORK=${WORK:-runs/pretrained}
WHAT=${1:-all}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
if [ -z "${GAN_LESSONS_DATA:-}" ] && [ -d ../shared/data ]; then
  export GAN_LESSONS_DATA="$(cd ../shared/data && pwd)"
fi
mkdir -p "$WORK"

# set_aside PATH: the CLI refuses to replace an existing checkpoint, so an earlier run's file is
# renamed (never deleted) before a fresh run, and the script says so.
set_aside() {
  if [ -e "$1" ]; then
    local kept="$1.$(date +%Y%m%d-%H%M%S).bak"
    echo "[make_pretrained] keeping the earlier $1 as $kept"
    mv "$1" "$kept"
  fi
}

# run_and_register NAME DESCRIPTION MODULE ARGS...: python -m MODULE ARGS... --out $WORK/NAME.pt,
# then register that file (compact copy, SHA-256, command, training time) in the package
run_and_register() {
  local name=$1 description=$2
  shift 2
  local start=$SECONDS
  echo "[make_pretrained] $name: python -m $*"
  set_aside "$WORK/$name.pt"
  "$PY" -m "$@" --out "$WORK/$name.pt"
  "$PY" -m gan_lessons.pretrained register "$name" "$WORK/$name.pt" \
    --description "$description" --train-seconds $((SECONDS - start))
}

# The GANs below were trained before issue 17 made --reuse-fakes (with --d-steps 1) and
# --fused-adam the defaults; they keep the old settings so that they reproduce. (mlp_mnist is
# older still: channels-last was off by default then.) The CLI records every option of a run in
# its checkpoint, e.g. `pretrained_info("dcgan_mnist")["command"]`.
LEGACY_GAN="--no-reuse-fakes --no-fused-adam"

# train NAME DESCRIPTION ARGS...: a GAN, with python -m gan_lessons train
train() { run_and_register "$1" "$2" gan_lessons train "${@:3}" --device cpu; }

# train_ae NAME DESCRIPTION ARGS...: an autoencoder, with python -m gan_lessons train-ae
train_ae() { run_and_register "$1" "$2" gan_lessons train-ae "${@:3}" --device cpu; }

# train_features NAME DESCRIPTION DATA ARGS...: a feature classifier of the metrics, with
# python -m gan_lessons.feature_nets train; then its accuracy on the whole test set, bundled copy
train_features() {
  run_and_register "$1" "$2" gan_lessons.feature_nets train "${@:3}"
  "$PY" -m gan_lessons.feature_nets accuracy "$3"
}

if [ "$WHAT" = all ] || [ "$WHAT" = mnist ]; then
  # The source article's MLP GAN (gan_lessons.models.MLPGANConfig defaults), non-saturating
  # loss, Adam lr 2e-4 with betas (0.5, 0.999) (the GANTrainConfig defaults), batch 64,
  # 10000 generator updates (about 10.7 epochs): 10-16 min on one CPU core.
  train mlp_mnist \
    "The source article's MLP GAN (G 100-256-512-1024-784 tanh, D 784-1024-512-256-1 with dropout 0.3) on MNIST, non-saturating loss, Adam 2e-4, betas (0.5, 0.999), batch 64; float16 weights." \
    --model mlp --data mnist --steps 10000 --batch-size 64 --lr 2e-4 --seed 0 \
    --checkpoint-every 1000 $LEGACY_GAN --no-channels-last
fi

if [ "$WHAT" = all ] || [ "$WHAT" = ring ]; then
  # The mode-coverage comparison of the GAN chapter: the toy MLP (two hidden layers of 128 in
  # both networks) on the ring of 8 Gaussians, latent size {2, 16} x {non-saturating, minimax}
  # generator loss x seeds {0, 1, 2}; 3000 generator updates of batch 256, lr 5e-4, one
  # discriminator step per generator step. About 30 s per run on one free CPU core.
  for z in 2 16; do
    for loss in non_saturating minimax; do
      for seed in 0 1 2; do
        short=$([ "$loss" = minimax ] && echo mm || echo ns)
        train "ring_z${z}_${short}_s${seed}" \
          "Toy MLP GAN on the ring of 8 Gaussians: latent size $z, $loss generator loss, seed $seed." \
          --model mlp --data ring --latent-dim "$z" --steps 3000 --batch-size 256 --lr 5e-4 \
          --generator-loss "$loss" --seed "$seed" --limit 10000 --quiet $LEGACY_GAN
      done
    done
  done
fi

if [ "$WHAT" = all ] || [ "$WHAT" = ring_games ]; then
  # The Wasserstein chapter's ring lab: the GANs chapter's toy MLP, data (10000 points), latent
  # sizes {2, 16} and seeds {0, 1, 2}, with the other games. Hinge and least squares with the
  # GANs chapter's settings (3000 generator steps of batch 256, lr 5e-4, one D step; about 20 s
  # each). WGAN-GP with the paper's lambda 10, 5 critic steps and Adam betas (0, 0.9), at the
  # lab's lr 5e-4, for 10000 generator steps (about 3 min each on one core): in a probe at
  # z=16, seed 0, it had not yet concentrated on the modes after 3000 steps (0 of 8 modes, 3 %
  # high-quality samples) but covered all 8 after 8000 (35 %).
  for z in 2 16; do
    for seed in 0 1 2; do
      for loss in hinge least-squares; do
        short=$([ "$loss" = hinge ] && echo hg || echo ls)
        train "ring_z${z}_${short}_s${seed}" \
          "Toy MLP GAN on the ring of 8 Gaussians: latent size $z, $loss loss, seed $seed." \
          --model mlp --data ring --latent-dim "$z" --steps 3000 --batch-size 256 --lr 5e-4 \
          --loss "$loss" --seed "$seed" --limit 10000 --quiet
      done
      train "ring_z${z}_gp_s${seed}" \
        "Toy MLP WGAN-GP on the ring of 8 Gaussians: latent size $z, lambda 10, 5 critic steps, Adam 5e-4 with betas (0, 0.9), 10000 generator steps, seed $seed." \
        --model mlp --data ring --latent-dim "$z" --steps 10000 --batch-size 256 --lr 5e-4 \
        --loss wgan-gp --seed "$seed" --limit 10000 --quiet
    done
  done
fi

if [ "$WHAT" = all ] || [ "$WHAT" = conditional ]; then
  # The Wasserstein chapter's conditional GAN: a conditional DCGAN on MNIST (width 32, the
  # label embedded and joined to z in G, the label as one-hot input channels of a BatchNorm
  # DCGAN discriminator: "concat"), non-saturating loss, Adam 2e-4 with betas (0.5, 0.999),
  # batch 128, 3000 steps (6.4 epochs), a moving average of G's weights (decay 0.999), the fast
  # defaults (reused fakes, fused Adam). About 8 min on one core. (The projection
  # discriminator collapsed in 600-step probes here, with the non-saturating and the hinge
  # loss, with and without spectral norm: every sample classified as one digit; the concat
  # one reached 70 % class accuracy in the same probe. Not yet understood.)
  train cgan_mnist \
    "Conditional DCGAN on MNIST 28x28: ConditionalGANConfig(num_classes=10, image_size=28, channels=1, width=32, discriminator='concat'), non-saturating loss, Adam 2e-4, betas (0.5, 0.999), batch 128, 3000 steps, EMA of the generator (decay 0.999) saved as generator_ema; float16 weights." \
    --model dcgan --data mnist --conditional --cond-discriminator concat \
    --loss non-saturating --width 32 --batch-size 128 --lr 2e-4 --steps 3000 \
    --ema-decay 0.999 --seed 0 --checkpoint-every 500 --resume
fi

if [ "$WHAT" = all ] || [ "$WHAT" = wgan_mnist ]; then
  # WGAN-GP on MNIST for the Wasserstein chapter: the DCGAN of the DCGAN chapter (width 32)
  # with a critic without BatchNorm (--d-norm layer: the penalty is per sample), the paper's
  # lambda 10, 5 critic steps per generator step, Adam 1e-4 with betas (0, 0.9), batch 64,
  # 2500 generator steps (12500 critic steps), a moving average of G (decay 0.999). About 10 min
  # on one free core; the same training cost as dcgan_mnist's 7000 steps within about 15 %
  # (benchmarks/recipe_cost.py).
  train wgan_gp_mnist \
    "WGAN-GP (Gulrajani et al. 2017) on MNIST 28x28: DCGANConfig(image_size=28, channels=1, width=32, d_norm='layer'), lambda 10, 5 critic steps, Adam 1e-4, betas (0, 0.9), batch 64, 2500 generator steps, EMA of the generator (decay 0.999) saved as generator_ema; float16 weights." \
    --model dcgan --data mnist --loss wgan-gp --d-norm layer --width 32 --batch-size 64 \
    --steps 2500 --ema-decay 0.999 --seed 0 --checkpoint-every 250 --resume
fi

if [ "$WHAT" = all ] || [ "$WHAT" = wgan_cifar10 ]; then
  # WGAN-GP on CIFAR-10 32x32 for the Wasserstein chapter, at about the training cost of the
  # bundled dcgan_cifar10: the same DCGAN (width 32) with a layer-norm critic, lambda 10,
  # 5 critic steps per generator step, Adam 1e-4 with betas (0, 0.9), batch 64, 2650 generator
  # steps (13250 critic steps), a moving average of G (decay 0.999). One WGAN-GP generator step
  # costs about five DCGAN steps on one core (five critic updates, each with a double-backward
  # penalty): `benchmarks/recipe_cost.py dcgan_cifar10 wgan_gp_cifar10` measured 0.084 and
  # 0.444 s per step, so 2650 steps cost what dcgan_cifar10's 14000 cost (1175 s). Trained to
  # 2000 steps, then resumed to 2650 with the recorded command (exact resume: the same weights
  # as one run). About 20 min on one free core.
  train wgan_gp_cifar10 \
    "WGAN-GP (Gulrajani et al. 2017) on CIFAR-10 32x32 (all 50,000 training images): DCGANConfig(image_size=32, channels=3, width=32, d_norm='layer'), lambda 10, 5 critic steps, Adam 1e-4, betas (0, 0.9), batch 64, 2650 generator steps (sized to the training cost of dcgan_cifar10; benchmarks/recipe_cost.py measured 1.22 times that cost), EMA of the generator (decay 0.999) saved as generator_ema; trained to 2000 steps, then resumed to 2650 with the recorded command; float16 weights." \
    --model dcgan --data cifar10 --limit 50000 --loss wgan-gp --d-norm layer --width 32 \
    --batch-size 64 --steps 2650 --ema-decay 0.999 --seed 0 --checkpoint-every 250 --resume
fi

if [ "$WHAT" = all ] || [ "$WHAT" = conditional_cifar10 ]; then
  # The Wasserstein chapter's conditional CIFAR-10 model: the conditional DCGAN of cgan_mnist
  # (label embedded and joined to z; one-hot label channels at the discriminator's input) at
  # 32x32, non-saturating loss, Adam 2e-4 with betas (0.5, 0.999), batch 64, 12000 steps
  # (about 15 epochs), EMA of G (decay 0.999). About 17 min on one free core.
  train cgan_cifar10 \
    "Conditional DCGAN on CIFAR-10 32x32 (all 50,000 training images): ConditionalGANConfig(num_classes=10, image_size=32, channels=3, width=32, discriminator='concat'), non-saturating loss, Adam 2e-4, betas (0.5, 0.999), batch 64, 12000 steps, EMA of the generator (decay 0.999) saved as generator_ema; float16 weights." \
    --model dcgan --data cifar10 --limit 50000 --conditional --cond-discriminator concat \
    --loss non-saturating --width 32 --batch-size 64 --lr 2e-4 --steps 12000 \
    --ema-decay 0.999 --seed 0 --checkpoint-every 500 --resume
fi

if [ "$WHAT" = all ] || [ "$WHAT" = autoencoders ]; then
  # The autoencoder chapter: the convolutional autoencoder and VAE (width 32) with a 2-D latent
  # space (scatter plots, decoded grids; 10000 steps of batch 128, about 21 epochs) and with a
  # 16-D one (3000 steps, 6.4 epochs); Bernoulli (BCE) reconstruction, beta 1, Adam lr 1e-3.
  # About 10 min (2-D) and 3 min (16-D) of one free CPU core each.
  for kind in ae vae; do
    title=$([ "$kind" = vae ] && echo "variational autoencoder (ELBO, beta 1)" || echo autoencoder)
    train_ae "conv_${kind}_mnist" \
      "Convolutional $title on MNIST, 2-D latent space, width 32, BCE reconstruction, Adam 1e-3, batch 128; float16 weights." \
      --model "conv_$kind" --data mnist --latent-dim 2 --steps 10000 --batch-size 128 \
      --lr 1e-3 --seed 0 --checkpoint-every 1000
    train_ae "conv_${kind}16_mnist" \
      "Convolutional $title on MNIST, 16-D latent space, width 32, BCE reconstruction, Adam 1e-3, batch 128; float16 weights." \
      --model "conv_$kind" --data mnist --latent-dim 16 --steps 3000 --batch-size 128 \
      --lr 1e-3 --seed 0 --checkpoint-every 1000
  done
fi

if [ "$WHAT" = all ] || [ "$WHAT" = dcgan ]; then
  # The DCGAN chapter (book/dcgan.ipynb): DCGANConfig width 32, Adam lr 2e-4 with betas
  # (0.5, 0.999), non-saturating loss. MNIST: 28x28, batch 128, 7000 steps (15 epochs).
  # CIFAR-10: 32x32, batch 64, 14000 steps (18 epochs); --limit 50000 decodes the whole
  # offline JPEG copy into memory once (about a minute) instead of decoding every batch.
  # --resume continues an interrupted run from its last --checkpoint-every save (the bundled
  # files were trained in sittings that way: MNIST to step 4000 then 7000, CIFAR-10 to 6000,
  # 9000 then 14000); resuming is exact, so one uninterrupted run gives the same weights. On a
  # busy 2-core machine, with both runs side by side: about 50 min (MNIST), 65 min (CIFAR-10;
  # about 30 min alone on a free core).
  train dcgan_mnist \
    "DCGAN (Radford et al. 2016) on MNIST 28x28: DCGANConfig(image_size=28, channels=1, width=32), batch 128, 7000 steps (about 15 epochs), Adam 2e-4, betas (0.5, 0.999), non-saturating loss; trained 4000 steps, then resumed to 7000 with the recorded command; float16 weights." \
    --model dcgan --data mnist --width 32 --batch-size 128 --lr 2e-4 --steps 7000 --seed 0 \
    --checkpoint-every 500 --resume $LEGACY_GAN
  train dcgan_cifar10 \
    "DCGAN (Radford et al. 2016) on CIFAR-10 32x32 (all 50,000 training images): DCGANConfig(image_size=32, channels=3, width=32), batch 64, 14000 steps (about 18 epochs), Adam 2e-4, betas (0.5, 0.999), non-saturating loss; trained in three sittings (6000, 9000, 14000 steps), resumed with the recorded command; float16 weights." \
    --model dcgan --data cifar10 --limit 50000 --width 32 --batch-size 64 --lr 2e-4 \
    --steps 14000 --seed 0 --checkpoint-every 500 --resume $LEGACY_GAN
fi

if [ "$WHAT" = all ] || [ "$WHAT" = features ]; then
  # The feature networks of FID/KID/IS/precision-recall (gan_lessons.feature_nets): small
  # VGG-style classifiers (conv-BN-ReLU, max-pool, global max-pool features), SGD Nesterov with
  # a linear warm-up then linear decay, label smoothing, random translations (and flips for
  # CIFAR-10), bfloat16 autocast where the CPU has native bfloat16 (--amp). The first run
  # decodes the CIFAR-10 JPEGs once into a uint8 cache in the temporary folder (1-4 min).
  # MNIST: 2 epochs, about 3-6 min on one busy core; CIFAR-10: 10 epochs, about 40-60 min.
  train_features feature_mnist \
    "The MNIST feature network of the metrics (gan_lessons.feature_nets): FeatureClassifier for 1x28x28 digits, conv-BN-ReLU stem 32 and three stages of widths 32/64/128 with max-pool, 128-d global-max-pooled features, 297,450 parameters; 2 epochs (468 steps) of batch 256, SGD Nesterov momentum 0.9, peak lr 0.2 (20 % linear warm-up, then linear decay), weight decay 5e-4, label smoothing 0.1, random shifts of up to 2 pixels, bfloat16 autocast; test accuracy 99.49 % on all 10,000 MNIST test images; float16 weights." \
    mnist --amp
  train_features feature_cifar10 \
    "The CIFAR-10 feature network of the metrics (gan_lessons.feature_nets): FeatureClassifier for 3x32x32 images, conv-BN-ReLU stem 32 and three stages of widths 64/128/256 with max-pool, 256-d global-max-pooled features, 1,166,506 parameters; 10 epochs (970 steps) of batch 512, SGD Nesterov momentum 0.9, peak lr 0.4 (20 % linear warm-up, then linear decay), weight decay 5e-4, label smoothing 0.2, random crops (reflection padding 4) and horizontal flips, bfloat16 autocast; test accuracy 86.28 % on all 10,000 CIFAR-10 test images (the offline JPEG copy), 86.26 % with the bundled float16 weights." \
    cifar10 --epochs 10 --amp
fi

if [ "$WHAT" = all ] || [ "$WHAT" = stylegan ] || [ "$WHAT" = stylegan_mnist ]; then
  # The StyleGAN chapter's models, each sized to about the training cost of the bundled DCGAN
  # of its data set from a first timing of two runs side by side; `benchmarks/recipe_cost.py
  # dcgan_mnist stylegan_mnist dcgan_cifar10 stylegan_cifar10 --long 30` (single-threaded,
  # median of 3 rounds) then measured 0.497 s/step against 0.080 (MNIST: 647 s, 1.16 times
  # dcgan_mnist's 559 s) and 0.351 against 0.074 (CIFAR-10: 1263 s, 1.22 times dcgan_cifar10's
  # 1033 s). StyleGANConfig's
  # defaults (z = w = 128, a 2-layer mapping network with lr multiplier 0.01, modulated
  # convolutions, skip generator, resnet discriminator, width 32 up to 128) and
  # StyleGANTrainConfig's (Adam 2e-3, betas (0, 0.99), lazy R1 gamma 0.1 every 16 steps,
  # style mixing 0.9, no path-length penalty, EMA 0.999 saved as generator_ema).
  # MNIST 28x28: batch 64, 1300 steps. About 15 min on one busy core.
  train stylegan_mnist \
    "StyleGAN2 (Karras et al. 2020) on MNIST 28x28: StyleGANConfig(image_size=28, channels=1) (z = w = 128, 2 mapping layers, modulated convolutions, skip generator, resnet discriminator), batch 64, 1300 steps (sized to the training cost of dcgan_mnist; benchmarks/recipe_cost.py measured 1.16 times that cost), Adam 2e-3, betas (0, 0.99), lazy R1 gamma 0.1 every 16 steps, style mixing 0.9, EMA of the generator (decay 0.999) saved as generator_ema; float16 weights." \
    --model stylegan --data mnist --batch-size 64 --steps 1300 --seed 0 \
    --checkpoint-every 250 --resume
fi

if [ "$WHAT" = all ] || [ "$WHAT" = stylegan ] || [ "$WHAT" = stylegan_cifar10 ]; then
  # CIFAR-10 32x32: batch 32, 3600 steps. About 23 min on one busy core.
  train stylegan_cifar10 \
    "StyleGAN2 (Karras et al. 2020) on CIFAR-10 32x32 (all 50,000 training images): StyleGANConfig(image_size=32, channels=3) (z = w = 128, 2 mapping layers, modulated convolutions, skip generator, resnet discriminator), batch 32, 3600 steps (sized to the training cost of dcgan_cifar10; benchmarks/recipe_cost.py measured 1.22 times that cost), Adam 2e-3, betas (0, 0.99), lazy R1 gamma 0.1 every 16 steps, style mixing 0.9, EMA of the generator (decay 0.999) saved as generator_ema; float16 weights." \
    --model stylegan --data cifar10 --limit 50000 --batch-size 32 --steps 3600 --seed 0 \
    --checkpoint-every 300 --resume
fi

if [ "$WHAT" = all ] || [ "$WHAT" = pix2pix ]; then
  # The applications chapter's image-to-image translation (pix2pix, Isola et al. 2017): a U-Net
  # (width 32, 32x32 down to 4x4) and a 34x34 PatchGAN, GAN + 100 L1, Adam 2e-4, betas
  # (0.5, 0.999), batch 32, 3000 steps; and the same U-Net trained on L1 alone, the baseline.
  # Colourisation of CIFAR-10 (all 50,000 training images) with and without keep_luma (predict
  # only the colour), and MNIST edge maps -> digits. About 5 min each on one free core.
  # `python -m gan_lessons.pix2pix_tasks evaluate TASK --weights FILE` measures them.
  p2p() { run_and_register "$1" "$2" gan_lessons.pix2pix_tasks train "${@:3}" --steps 3000 \
            --batch-size 32 --width 32 --seed 0 --checkpoint-every 500 --device cpu --quiet; }
  for luma in keep-luma no-keep-luma; do
    short=$([ "$luma" = keep-luma ] && echo _luma || echo "")
    what=$([ "$luma" = keep-luma ] && echo "predicting only the colour (keep_luma)" \
           || echo "predicting all three channels")
    p2p "p2p_colour${short}_cifar10" \
      "pix2pix on CIFAR-10 greyscale -> colour 32x32, $what: U-Net width 32, PatchGAN 34x34, GAN + 100 L1, Adam 2e-4, betas (0.5, 0.999), batch 32, 3000 steps; float16 weights." \
      colour_cifar10 --adversarial "--$luma"
    p2p "l1_colour${short}_cifar10" \
      "The L1-only baseline of pix2pix on CIFAR-10 greyscale -> colour 32x32, $what: the same U-Net (width 32) trained on 100 L1 alone, Adam 2e-4, batch 32, 3000 steps; float16 weights." \
      colour_cifar10 --no-adversarial "--$luma"
  done
  p2p p2p_edges_mnist \
    "pix2pix on MNIST Sobel edge maps -> digits 28x28: U-Net width 32, PatchGAN 34x34, GAN + 100 L1, Adam 2e-4, betas (0.5, 0.999), batch 32, 3000 steps; float16 weights." \
    edges_mnist --adversarial --no-keep-luma
  p2p l1_edges_mnist \
    "The L1-only baseline of pix2pix on MNIST Sobel edge maps -> digits 28x28: the same U-Net (width 32) trained on 100 L1 alone, Adam 2e-4, batch 32, 3000 steps; float16 weights." \
    edges_mnist --no-adversarial --no-keep-luma
fi

if [ "$WHAT" = all ] || [ "$WHAT" = sr ]; then
  # The applications chapter's supervised x4 super-resolution of MNIST (7x7 -> 28x28): an SRNet
  # (bicubic + a residual from 4 residual blocks of width 32 at 7x7, PixelShuffle up) trained
  # on all 60,000 training digits with L1 alone, and with L1 (weight 100) + a 16x16 PatchGAN
  # (the SRGAN idea); Adam 2e-4, betas (0.5, 0.999), batch 64, 2000 steps. About 2 and 3 min
  # on one free core. benchmarks/sr_table.py trains the same pair and scores it.
  for adv in no-adversarial adversarial; do
    name=$([ "$adv" = adversarial ] && echo srgan_mnist || echo srnet_l1_mnist)
    what=$([ "$adv" = adversarial ] && echo "L1 (weight 100) + a 16x16 PatchGAN (SRGAN idea)" \
           || echo "L1 alone")
    run_and_register "$name" \
      "x4 super-resolution of MNIST (7x7 -> 28x28): SRNetConfig(factor=4, image_size=28, channels=1, width=32, blocks=4) trained with $what, Adam 2e-4, betas (0.5, 0.999), batch 64, 2000 steps; float16 weights." \
      gan_lessons.pix2pix_tasks train sr4_mnist "--$adv" --no-keep-luma --steps 2000 \
      --batch-size 64 --width 32 --seed 0 --checkpoint-every 500 --device cpu --quiet
  done
fi

"$PY" -m gan_lessons.pretrained verify
