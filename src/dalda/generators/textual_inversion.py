"""Textual Inversion for the DA-Fusion baseline: one new token embedding per class, learned from the few shots.

Only the new tokens' rows of the text encoder's input embeddings train; the UNet, VAE and every other token
stay frozen (after each step the other rows are restored, so weight decay cannot move them). The standard
denoising loss on the class's real images, with DA-Fusion's "object" caption templates, as in DA-Fusion's
set-up: batch 4, learning rate 5e-4 scaled by the batch size, constant schedule, no warm-up.

A token starts from the mean embedding of the words of ``generator.ti_init_word`` ("the", as the DA-Fusion code
base does), or of the class name's own tokens when that setting is null (``add_placeholder_tokens``).

Each training image becomes a ``ti_resolution`` square: under ``train.protocol=authors`` it is first squashed
whole to the square, as DA-Fusion does (:func:`squash`, applied by ``dalda.generators.class_tokens``); under
``fast`` its shorter side is resized and the centre cropped (:func:`_to_tensor`, a no-op crop on a square).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dalda.generators.placeholder_tokens import placeholder_token
from dalda.generators.settings import TextualInversionSettings

log = logging.getLogger(__name__)

OBJECT_TEMPLATES = (
    "a photo of a {}",
    "a rendering of a {}",
    "a cropped photo of the {}",
    "the photo of a {}",
    "a photo of a clean {}",
    "a photo of a dirty {}",
    "a dark photo of the {}",
    "a photo of my {}",
    "a photo of the cool {}",
    "a close-up photo of a {}",
    "a bright photo of the {}",
    "a cropped photo of a {}",
    "a photo of the {}",
    "a good photo of the {}",
    "a photo of one {}",
    "a close-up photo of the {}",
    "a rendition of the {}",
    "a photo of the clean {}",
    "a rendition of a {}",
    "a photo of a nice {}",
    "a good photo of a {}",
    "a photo of the nice {}",
    "a photo of the small {}",
    "a photo of the weird {}",
    "a photo of the large {}",
    "a photo of a cool {}",
    "a photo of a small {}",
)


@dataclass(frozen=True)
class LearnedToken:
    class_name: str
    token: str
    embedding: torch.Tensor
    final_loss: float


def squash(image: Image.Image, size: int) -> Image.Image:
    """The whole image resized to ``size`` x ``size`` (aspect ratio not kept, nothing cropped), BICUBIC as in
    DA-Fusion's textual-inversion training."""
    return image.convert("RGB").resize((size, size), Image.Resampling.BICUBIC)


def _to_tensor(image: Image.Image, size: int, flip: bool) -> torch.Tensor:
    """Resize (shorter side) + centre crop + optional flip, scaled to [-1, 1] as the VAE expects."""
    width, height = image.size
    scale = size / min(width, height)
    image = image.resize((max(size, round(width * scale)), max(size, round(height * scale))), Image.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    image = image.crop((left, top, left + size, top + size))
    if flip:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)


def add_placeholder_tokens(
    tokenizer, text_encoder, class_names: list[str], init_word: str | None = None
) -> list[int]:
    """Add one token per class and initialise each from the mean embedding of ``init_word``'s tokens (the
    DA-Fusion code base: "the"), or of its class name's tokens when ``init_word`` is None or empty."""
    tokens = [placeholder_token(name) for name in class_names]
    tokenizer.add_tokens(tokens)
    text_encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)  # rows are set just below
    ids = tokenizer.convert_tokens_to_ids(tokens)
    weights = text_encoder.get_input_embeddings().weight
    with torch.no_grad():
        for name, token_id in zip(class_names, ids):
            word_ids = tokenizer(init_word or name, add_special_tokens=False).input_ids
            if not word_ids:
                raise ValueError(f"generator.ti_init_word={init_word!r} has no tokens; give a word or null")
            weights[token_id] = weights[word_ids].mean(dim=0)
    return ids


def learn_class_token(
    pipe,
    class_name: str,
    images: list[Image.Image],
    cfg: TextualInversionSettings,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> LearnedToken:
    """Learn the embedding of ``class_name``'s placeholder token from its real images.

    ``pipe`` is a Stable Diffusion pipeline whose tokenizer already holds the token (add_placeholder_tokens).
    """
    token = placeholder_token(class_name)
    token_id = pipe.tokenizer.convert_tokens_to_ids(token)
    device = pipe.unet.device
    unet_dtype = pipe.unet.dtype
    encoder_dtype = pipe.text_encoder.dtype
    text_encoder = pipe.text_encoder.to(torch.float32)  # the trained rows need full precision
    embeddings = text_encoder.get_input_embeddings()
    original = embeddings.weight.detach().clone()
    embeddings.weight.requires_grad_(True)
    keep = torch.ones(original.shape[0], dtype=torch.bool, device=original.device)
    keep[token_id] = False

    learning_rate = cfg.ti_learning_rate * (cfg.ti_batch_size if cfg.ti_scale_lr else 1)
    optimizer = torch.optim.AdamW([embeddings.weight], lr=learning_rate, betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-8)
    from diffusers import DDPMScheduler

    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    if cfg.ti_gradient_checkpointing and device.type == "cuda":
        pipe.unet.enable_gradient_checkpointing()
    loss_value = float("nan")
    text_encoder.train()
    try:
        for _ in range(cfg.ti_steps):
            picks = rng.integers(0, len(images), size=cfg.ti_batch_size)
            pixels = torch.stack(
                [_to_tensor(images[i], cfg.ti_resolution, flip=bool(rng.integers(0, 2))) for i in picks]
            ).to(device, pipe.vae.dtype)
            captions = [OBJECT_TEMPLATES[i].format(token) for i in rng.integers(0, len(OBJECT_TEMPLATES), size=len(picks))]
            with torch.no_grad():
                latents = pipe.vae.encode(pixels).latent_dist.sample(generator=generator) * pipe.vae.config.scaling_factor
            noise = torch.randn(latents.shape, generator=generator).to(device, latents.dtype)
            steps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(picks),), generator=generator)
            steps = steps.to(device)
            noisy = noise_scheduler.add_noise(latents, noise, steps)
            ids = pipe.tokenizer(
                captions, padding="max_length", max_length=pipe.tokenizer.model_max_length, truncation=True,
                return_tensors="pt",
            ).input_ids.to(device)
            hidden = text_encoder(ids)[0].to(unet_dtype)
            prediction = pipe.unet(noisy, steps, hidden).sample
            if noise_scheduler.config.prediction_type == "v_prediction":
                target = noise_scheduler.get_velocity(latents, noise, steps)
            else:
                target = noise
            loss = F.mse_loss(prediction.float(), target.float())
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            with torch.no_grad():
                embeddings.weight[keep] = original[keep]
            loss_value = float(loss.detach())
            if progress is not None:
                progress(1)
    finally:
        embeddings.weight.requires_grad_(False)
        text_encoder.to(encoder_dtype).eval()
        if cfg.ti_gradient_checkpointing and device.type == "cuda":
            pipe.unet.disable_gradient_checkpointing()
    return LearnedToken(class_name, token, embeddings.weight[token_id].detach().cpu().clone(), loss_value)
