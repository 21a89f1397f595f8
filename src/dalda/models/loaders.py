"""The one place that builds every model dalda uses.

Each loader takes the ``models`` config section and honours its ``profile``:

- ``real``: the published checkpoints named in the config (Hub ids or local folders with the same layout);
- ``tiny``: small random models built offline in code (tests, the offline demo); deterministic;
- ``full-random``: the real architectures with random weights and no download (benchmarks of true cost).

The three profiles go through the same assembly code (same pipeline class, same IP-Adapter loader, same
scheduler), so what the tests exercise with tiny models is what runs with the real checkpoints. Every loader
returns models on ``resolve_device``/``resolve_dtype`` in eval mode with gradients off; each call builds fresh
objects (nothing is shared between calls) except where ``load_img2img_pipeline`` is asked to reuse a pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.architectures import RandomArchitecture
from dalda.models.profiles import PROFILES
from dalda.models.random_build import (
    build_backbone,
    build_clip,
    build_image_encoder,
    build_ip_adapter_plus_state_dict,
    build_ip_adapter_state_dict,
    build_lpips,
    build_sd_parts,
    build_sdxl_ip_adapter_state_dict,
    build_sdxl_parts,
)
from dalda.models.unet_sharing import unet_without_ip_adapter

if TYPE_CHECKING:
    import lpips
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionPipeline, StableDiffusionXLPipeline
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

# The authors' DDIM settings (docs/protocol.md, generation), identical to SD v1's training schedule.
DDIM_SETTINGS = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
}

# torchvision's ImageNet normalisation, which the ImageNet-trained ResNet50 weights expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resolve_device(cfg: ModelsConfig) -> torch.device:
    """``auto`` picks CUDA when available, else CPU; any other value is used as given (and checked)."""
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(cfg.device)
    except RuntimeError:
        raise ValueError(f"models.device={cfg.device!r} is not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"models.device={cfg.device!r} but CUDA is not available here; use models.device=cpu or auto")
    return device


def resolve_dtype(cfg: ModelsConfig, device: torch.device) -> torch.dtype:
    """``auto`` is float16 on CUDA (the authors' set-up) and float32 elsewhere (CPU half precision is slow)."""
    if cfg.dtype == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return getattr(torch, cfg.dtype)


def _frozen(module: torch.nn.Module, device: torch.device, dtype: torch.dtype | None) -> torch.nn.Module:
    """Move to device/dtype, switch to eval mode and turn gradients off: every model here is used for inference.

    ``torch.nn.Module.to`` is called directly because diffusers' override warns about float32-only modules on
    every dtype cast even when a model has none; none of the models built here is quantized or offloaded.
    """
    torch.nn.Module.to(module, device=device, dtype=dtype)
    module.eval()
    module.requires_grad_(False)
    return module


def _architecture(cfg: ModelsConfig) -> RandomArchitecture:
    return PROFILES.get(cfg.profile)


# ----------------------------------------------------------------------------------------------------- CLIP


@dataclass
class ClipBundle:
    """CLIP with its tokenizer and image processor: CLIPScore, CLIP-I diversity and the CLIP classifier.

    ``encode_*`` return L2-normalised projected embeddings as float32 tensors on the CPU, ready to be compared,
    stored or cached whatever device and dtype the model runs in.
    """

    model: CLIPModel
    tokenizer: CLIPTokenizer
    image_processor: CLIPImageProcessor
    device: torch.device
    dtype: torch.dtype
    batch_size: int = 32

    @property
    def logit_scale(self) -> float:
        """CLIP's learned temperature (``exp`` of the stored log value), as CLIP's own logits use it."""
        return float(self.model.logit_scale.detach().float().exp())

    @property
    def embed_dim(self) -> int:
        return int(self.model.config.projection_dim)

    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """(N, D) unit-norm image embeddings; images are resized/cropped/normalised by CLIP's own processor."""
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = [image.convert("RGB") for image in images[start : start + self.batch_size]]
            chunks.append(self.encode_pixels(self.image_processor(images=batch, return_tensors="pt")["pixel_values"]))
        return torch.cat(chunks) if chunks else torch.empty(0, self.embed_dim)

    @torch.inference_mode()
    def encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, D) unit-norm embeddings of already preprocessed images (B, 3, S, S), e.g. augmented views."""
        pooled = self.model.vision_model(pixel_values=pixels.to(self.device, self.dtype)).pooler_output
        return _unit(self.model.visual_projection(pooled))

    @torch.inference_mode()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """(N, D) unit-norm text embeddings; texts longer than CLIP's context are truncated."""
        max_length = int(self.model.config.text_config.max_position_embeddings)
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            tokens = self.tokenizer(
                list(texts[start : start + self.batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(self.device)
            pooled = self.model.text_model(
                input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
            ).pooler_output
            chunks.append(_unit(self.model.text_projection(pooled)))
        return torch.cat(chunks) if chunks else torch.empty(0, self.embed_dim)


def _unit(embeds: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(embeds.float(), dim=-1).cpu()


def load_clip(cfg: ModelsConfig) -> ClipBundle:
    """CLIP for scoring and probing; real: ``models.clip_model`` (openai/clip-vit-base-patch16)."""
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        model = hub.load(CLIPModel, cfg, cfg.clip_model, "models.clip_model")
        tokenizer = hub.load(CLIPTokenizer, cfg, cfg.clip_model, "models.clip_model")
        processor = hub.load(CLIPImageProcessor, cfg, cfg.clip_model, "models.clip_model")
    else:
        model, tokenizer, processor = build_clip(_architecture(cfg))
    return ClipBundle(_frozen(model, device, dtype), tokenizer, processor, device, dtype)


# ---------------------------------------------------------------------------------------- Stable Diffusion


def ddim_scheduler():
    """A fresh DDIM scheduler with the authors' settings."""
    from diffusers import DDIMScheduler

    return DDIMScheduler(**DDIM_SETTINGS)


def _sd_parts(cfg: ModelsConfig) -> dict[str, object]:
    """UNet, VAE, text encoder and tokenizer of the configured Stable Diffusion (no IP-Adapter)."""
    if cfg.profile != "real":
        return build_sd_parts(_architecture(cfg))
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    parts: dict[str, object] = {
        "unet": hub.load(UNet2DConditionModel, cfg, cfg.sd_model, "models.sd_model", subfolder="unet"),
        "text_encoder": hub.load(CLIPTextModel, cfg, cfg.sd_model, "models.sd_model", subfolder="text_encoder"),
        "tokenizer": hub.load(CLIPTokenizer, cfg, cfg.sd_model, "models.sd_model", subfolder="tokenizer"),
    }
    if cfg.vae is None:
        parts["vae"] = hub.load(AutoencoderKL, cfg, cfg.sd_model, "models.sd_model", subfolder="vae")
    else:
        parts["vae"] = hub.load(AutoencoderKL, cfg, cfg.vae, "models.vae")
    return parts


def _image_encoder(cfg: ModelsConfig):
    """The IP-Adapter's CLIP image encoder (ViT-H/14 for ip-adapter_sd15)."""
    if cfg.profile != "real":
        return build_image_encoder(_architecture(cfg))
    from transformers import CLIPVisionModelWithProjection

    return hub.load(
        CLIPVisionModelWithProjection,
        cfg,
        cfg.ip_adapter_repo,
        "models.ip_adapter_repo",
        subfolder=cfg.image_encoder_subfolder,
    )


def _image_processor_for(image_encoder) -> CLIPImageProcessor:
    """CLIP preprocessing at the encoder's resolution, as diffusers' own IP-Adapter loader would create it."""
    from transformers import CLIPImageProcessor

    size = int(image_encoder.config.image_size)
    return CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


def _finish(pipe, device: torch.device, dtype: torch.dtype):
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            _frozen(component, device, dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_sd_ip_adapter_pipeline(cfg: ModelsConfig) -> StableDiffusionPipeline:
    """SD 1.x + IP-Adapter, loaded through diffusers' own IP-Adapter loader, DDIM, no safety checker.

    ``pipe.set_ip_adapter_scale(lambda)`` sets the image-prompt weight; ``ip_adapter_image=`` the image prompt.
    """
    return _sd_ip_adapter_pipeline(
        cfg, lambda unet, encoder, arch: build_ip_adapter_state_dict(unet, int(encoder.config.projection_dim), arch)
    )


def load_sd_ip_adapter_plus_pipeline(cfg: ModelsConfig) -> StableDiffusionPipeline:
    """SD 1.x + IP-Adapter Plus (``ip-adapter-plus_sd15``): the image encoder's patch tokens (penultimate hidden
    states) go through a resampler instead of one pooled embedding through a linear projection.

    Same assembly as :func:`load_sd_ip_adapter_pipeline`; the real profile checks that the weight file named
    by ``models.ip_adapter_weight`` really is a "plus" one.
    """
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    pipe = _sd_ip_adapter_pipeline(
        cfg, lambda unet, encoder, arch: build_ip_adapter_plus_state_dict(unet, int(encoder.config.hidden_size), arch)
    )
    _expect_projection(pipe, IPAdapterPlusImageProjection, cfg, "a plus one such as ip-adapter-plus_sd15.safetensors")
    return pipe


def _sd_ip_adapter_pipeline(cfg: ModelsConfig, random_weights) -> StableDiffusionPipeline:
    """The SD 1.x assembly shared by both IP-Adapter kinds; ``random_weights(unet, image_encoder, arch)`` gives
    the adapter of the random profiles, in the published layout."""
    from diffusers import StableDiffusionPipeline

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    image_encoder = _image_encoder(cfg)
    pipe = StableDiffusionPipeline(
        **_sd_parts(cfg),
        scheduler=ddim_scheduler(),
        safety_checker=None,
        feature_extractor=_image_processor_for(image_encoder),
        image_encoder=image_encoder,
        requires_safety_checker=False,
    )
    _load_adapter(pipe, cfg, random_weights)
    return _finish(pipe, device, dtype)


def _load_adapter(pipe, cfg: ModelsConfig, random_weights) -> None:
    with _without_fp32_cast_warning():
        if cfg.profile == "real":
            hub.load_ip_adapter(pipe, cfg)
        else:
            weights = random_weights(pipe.unet, pipe.image_encoder, _architecture(cfg))
            pipe.load_ip_adapter(weights, subfolder=None, weight_name=None, image_encoder_folder=None)


def _expect_projection(pipe, kind: type, cfg: ModelsConfig, wanted: str) -> None:
    layers = pipe.unet.encoder_hid_proj.image_projection_layers
    if not all(isinstance(layer, kind) for layer in layers):
        found = ", ".join(type(layer).__name__ for layer in layers)
        raise hub.ModelLoadError(
            f"models.ip_adapter_weight={cfg.ip_adapter_weight!r} holds a {found}, not the {kind.__name__} this "
            f"generator needs; set models.ip_adapter_weight to {wanted} (or leave it unset for the default)"
        )


# ------------------------------------------------------------------------------------------------------ SDXL


def _sdxl_parts(cfg: ModelsConfig) -> dict[str, object]:
    """SDXL's UNet, VAE, both text encoders and tokenizers (``models.sd_model``; ``models.vae`` replaces the VAE)."""
    if cfg.profile != "real":
        return build_sdxl_parts(_architecture(cfg))
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    field = "models.sd_model"
    parts: dict[str, object] = {
        "unet": hub.load(UNet2DConditionModel, cfg, cfg.sd_model, field, subfolder="unet"),
        "text_encoder": hub.load(CLIPTextModel, cfg, cfg.sd_model, field, subfolder="text_encoder"),
        "text_encoder_2": hub.load(CLIPTextModelWithProjection, cfg, cfg.sd_model, field, subfolder="text_encoder_2"),
        "tokenizer": hub.load(CLIPTokenizer, cfg, cfg.sd_model, field, subfolder="tokenizer"),
        "tokenizer_2": hub.load(CLIPTokenizer, cfg, cfg.sd_model, field, subfolder="tokenizer_2"),
    }
    if cfg.vae is None:
        parts["vae"] = hub.load(AutoencoderKL, cfg, cfg.sd_model, field, subfolder="vae")
    else:
        parts["vae"] = hub.load(AutoencoderKL, cfg, cfg.vae, "models.vae")
    return parts


def load_sdxl_ip_adapter_pipeline(cfg: ModelsConfig) -> StableDiffusionXLPipeline:
    """SDXL + IP-Adapter (``sdxl_models/ip-adapter_sdxl_vit-h``, ViT-H image encoder), DDIM, no watermark.

    The sampler is DDIM with the same noise schedule as SD 1.x, which is also SDXL's own (its scheduler config
    has the same betas and offset); the engine swaps in ``generation.scheduler``. The invisible watermark of
    diffusers' SDXL pipeline is off: it would add a pattern to every training image. The VAE keeps its own
    ``force_upcast``: SDXL's VAE decodes in float32 even in a float16 run (the stock pipeline does the
    upcast), the fp16-fix VAE (``models.vae=madebyollin/sdxl-vae-fp16-fix``) decodes in float16.
    """
    from diffusers import StableDiffusionXLPipeline
    from diffusers.models.embeddings import ImageProjection

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    image_encoder = _image_encoder(cfg)
    pipe = StableDiffusionXLPipeline(
        **_sdxl_parts(cfg),
        scheduler=ddim_scheduler(),
        feature_extractor=_image_processor_for(image_encoder),
        image_encoder=image_encoder,
        add_watermarker=False,
    )
    _load_adapter(
        pipe,
        cfg,
        lambda unet, encoder, arch: build_sdxl_ip_adapter_state_dict(unet, int(encoder.config.projection_dim), arch),
    )
    _expect_projection(pipe, ImageProjection, cfg, "an SDXL one such as ip-adapter_sdxl_vit-h.safetensors")
    return _finish(pipe, device, dtype)


@contextmanager
def _without_fp32_cast_warning() -> Iterator[None]:
    """Silence diffusers' warning about float32-only modules, which it logs on every dtype cast even when a
    model has none (the IP-Adapter loader casts the UNet to its own dtype)."""
    source = logging.getLogger("diffusers.models.modeling_utils")

    def quiet(record: logging.LogRecord) -> bool:
        return "should be kept in float32" not in record.getMessage()

    source.addFilter(quiet)
    try:
        yield
    finally:
        source.removeFilter(quiet)


def load_img2img_pipeline(
    cfg: ModelsConfig, base: StableDiffusionPipeline | None = None
) -> StableDiffusionImg2ImgPipeline:
    """SD img2img for the baselines (Real Guidance, DA-Fusion).

    With ``base`` (``cfg`` is then not consulted; the pipeline lives where ``base`` does), its VAE, text encoder
    and tokenizer are the very same objects: no second copy in memory, and textual-inversion tokens added here
    are visible there too. If ``base``'s UNet carries an IP-Adapter, the img2img UNet is a second module whose
    parameters are ``base``'s own parameter objects but whose attention is plain, because an IP-Adapter UNet
    refuses to run without an image prompt. The scheduler is a fresh copy of ``base``'s (it is stateful and
    tiny). Without ``base``, the configured SD is loaded without IP-Adapter.
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    if base is not None:
        pipe = StableDiffusionImg2ImgPipeline(
            vae=base.vae,
            text_encoder=base.text_encoder,
            tokenizer=base.tokenizer,
            unet=unet_without_ip_adapter(base.unet),
            scheduler=base.scheduler.__class__.from_config(base.scheduler.config),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        pipe.set_progress_bar_config(disable=True)
        return pipe
    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    pipe = StableDiffusionImg2ImgPipeline(
        **_sd_parts(cfg),
        scheduler=ddim_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return _finish(pipe, device, dtype)


# ----------------------------------------------------------------------------------------- classifier, LPIPS


@dataclass
class Backbone:
    """A feature extractor: images (B, 3, image_size, image_size) normalised with mean/std -> (B, feature_dim).

    Returned frozen (eval mode, gradients off) on the configured device/dtype; a trainer that fine-tunes it
    turns gradients back on (and should then train in float32, not the float16 used on CUDA by default).
    """

    module: torch.nn.Module
    feature_dim: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    image_size: int


def load_resnet50_backbone(cfg: ModelsConfig, weights: str = "IMAGENET1K_V1") -> Backbone:
    """ResNet50 without its classification layer; real: torchvision's ImageNet weights ``weights``.

    ``mean``/``std`` are the normalisation the weights were trained with (ImageNet); a trainer may choose
    another (the authors' code normalises with 0.5/0.5) but then departs from what the weights expect.
    """
    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        module, feature_dim, image_size = hub.load_torchvision_resnet50(weights), 2048, 224
    else:
        module, feature_dim, image_size = build_backbone(_architecture(cfg))
    return Backbone(_frozen(module, device, dtype), feature_dim, IMAGENET_MEAN, IMAGENET_STD, image_size)


def load_lpips(cfg: ModelsConfig) -> lpips.LPIPS:
    """LPIPS (AlexNet); real: ImageNet AlexNet features; tiny/full-random: random AlexNet (offline).

    LPIPS is always run in float32: its calibrated linear heads are float32 and distances are small numbers.
    """
    device = resolve_device(cfg)
    if cfg.profile == "real":
        model = hub.load_lpips_alex()
    else:
        model = build_lpips(_architecture(cfg))
    return _frozen(model, device, None)
