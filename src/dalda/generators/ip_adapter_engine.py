"""Batched Stable Diffusion + IP-Adapter generation where every image has its own prompt, lambda and seed.

The engine wraps the pipeline that ``dalda.models.sd`` (or ``dalda.models.sdxl``) builds and changes exactly three
things, so that a batch of B rows gives the same images as B separate calls of the stock pipeline with
``set_ip_adapter_scale(lambda)``:

1. IP-Adapter layers take a per-row lambda (``per_sample_attention.PerSampleIPAdapterAttnProcessor``).
2. Image embeddings are passed per row (``ip_adapter_image_embeds``), computed once per reference image and
   reused for its M rows. The stock pipeline repeats user-given embeddings ``batch`` times, after which every
   sample attends to the image tokens of *all* reference images (diffusers issue #9813);
   ``PerRowIPAdapterPipeline`` passes them through unchanged instead.
3. Each row has its own seeded generator, so its starting noise depends on its seed alone. Generators live on
   the CPU: ``torch.Generator("cpu")`` and ``torch.Generator("cuda")`` produce different numbers for the same
   seed, and drawing on the CPU (then moving the latents, a few KB) makes a seed mean the same noise on every
   machine.

The engine samples with the generator's resolved settings (``settings``: scheduler, steps, guidance, resolution,
negative prompt, "" for none) and runs with the ``generation`` section's options (``runtime``: attention slicing,
VAE tiling and slicing, channels_last, CPU offload, compile), which change speed and memory, not the images
beyond float rounding.

Everything else (text encoding, classifier-free guidance, the scheduler loop, VAE decoding) is diffusers' own
``StableDiffusionPipeline.__call__``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from diffusers import StableDiffusionPipeline
from diffusers.models.embeddings import ImageProjection
from PIL import Image

from dalda.config import GenerationConfig
from dalda.generators.settings import StableDiffusionSettings
from dalda.generators.per_sample_attention import SampleScales, install_per_sample_processors
from dalda.models.schedulers import build_scheduler


class PerRowImageEmbeds:
    """Mixin for a diffusers pipeline class: IP-Adapter image embeddings are taken already laid out one per row.

    ``ip_adapter_image_embeds`` is a list (one tensor per IP-Adapter) of shape ``(B, 1, ...)``, or
    ``(2B, 1, ...)`` with the unconditional embeddings first under classifier-free guidance, the layout
    diffusers documents. The stock method repeats that tensor ``B`` more times (issue #9813); here it is used
    as given, and its batch is checked against the prompts'. The SD 1.x and SDXL pipelines share the method's
    signature, so one mixin serves both.
    """

    def prepare_ip_adapter_image_embeds(
        self,
        ip_adapter_image: Any,
        ip_adapter_image_embeds: list[torch.Tensor] | None,
        device: torch.device,
        num_images_per_prompt: int,
        do_classifier_free_guidance: bool,
    ) -> list[torch.Tensor]:
        if ip_adapter_image is not None or ip_adapter_image_embeds is None:
            raise ValueError(f"{type(self).__name__} takes ip_adapter_image_embeds (one per row), not images")
        expected = num_images_per_prompt * (2 if do_classifier_free_guidance else 1)
        for embeds in ip_adapter_image_embeds:
            if embeds.shape[0] != expected:
                doubled = ", doubled for classifier-free guidance" if do_classifier_free_guidance else ""
                raise ValueError(
                    f"ip_adapter_image_embeds has batch {embeds.shape[0]}, expected {expected} "
                    f"({num_images_per_prompt} rows{doubled})"
                )
        return [embeds.to(device) for embeds in ip_adapter_image_embeds]


class PerRowIPAdapterPipeline(PerRowImageEmbeds, StableDiffusionPipeline):
    """``StableDiffusionPipeline`` that takes IP-Adapter image embeddings already laid out one per row."""


@dataclass(frozen=True)
class ImagePrompt:
    """One reference image as the IP-Adapter sees it: per adapter, its conditional and unconditional embedding
    (the unconditional one is zeros for the plain IP-Adapter, the encoding of a black image for "plus" ones)."""

    cond: tuple[torch.Tensor, ...]
    uncond: tuple[torch.Tensor, ...]


class GenerationEngine:
    """Generates batches of rows (prompt, lambda, seed, reference image) with one pipeline call per batch.

    The engine takes over the given pipeline's modules (its UNet's IP-Adapter layers become per-sample ones;
    ``set_ip_adapter_scale`` keeps working on them whenever no per-row lambdas are set). Which IP-Adapter it
    drives (plain: one pooled image embedding; plus: patch tokens through a resampler) follows from the loaded
    projection layer. Another pipeline family (SDXL) subclasses it and overrides :meth:`_per_row_pipeline`
    and :meth:`_call_options`.
    """

    def __init__(
        self,
        pipe: StableDiffusionPipeline,
        settings: StableDiffusionSettings,
        runtime: GenerationConfig | None = None,
        resample: Image.Resampling = Image.Resampling.BILINEAR,
    ) -> None:
        """``resample``: the image prompt's resize (``train.protocol``'s choice, ``dalda.protocol``)."""
        if getattr(pipe, "image_encoder", None) is None or pipe.unet.encoder_hid_proj is None:
            raise ValueError(
                "the pipeline has no IP-Adapter (image encoder and image projection); load it with "
                "a loader of dalda.models.sd or dalda.models.sdxl (load_sd_ip_adapter_pipeline and its siblings)"
            )
        self.settings = settings
        self.runtime = runtime or GenerationConfig()
        self.resample = resample
        self.pipe = self._per_row_pipeline(pipe)
        self.pipe.set_progress_bar_config(disable=True)
        self.pipe.scheduler = build_scheduler(settings.scheduler, pipe.scheduler.config)
        self.scales: SampleScales = install_per_sample_processors(self.pipe.unet, self.runtime.attention_slicing)
        self._apply_speed_options()

    def _per_row_pipeline(self, pipe: Any) -> Any:
        """The per-row twin of ``pipe`` over the very same modules."""
        return PerRowIPAdapterPipeline(**pipe.components, requires_safety_checker=False)

    def _call_options(self) -> dict[str, Any]:
        """Pipeline-call arguments beyond the SD 1.x ones (none here)."""
        return {}

    def _apply_speed_options(self) -> None:
        runtime = self.runtime
        if runtime.channels_last:
            self.pipe.unet.to(memory_format=torch.channels_last)
            self.pipe.vae.to(memory_format=torch.channels_last)
        if runtime.vae_tiling:
            self.pipe.vae.enable_tiling()
        if runtime.vae_slicing:
            self.pipe.vae.enable_slicing()
        if runtime.cpu_offload != "none":
            device = self.device
            if device.type != "cuda":
                raise ValueError(
                    f"generation.cpu_offload={runtime.cpu_offload} needs a CUDA device, but the models are on "
                    f"{device}; set generation.cpu_offload=none"
                )
            if runtime.cpu_offload == "model":
                self.pipe.enable_model_cpu_offload(device=device)
            else:
                self.pipe.enable_sequential_cpu_offload(device=device)
        if runtime.compile:
            # After the processors are installed. Compiles again for a smaller last batch and once more the
            # first time a batch has all lambdas 0 (that batch skips the image attention); not per lambda value.
            self.pipe.unet = torch.compile(self.pipe.unet)

    @property
    def tokenizer(self) -> Any:
        return self.pipe.tokenizer

    @property
    def device(self) -> torch.device:
        return self.pipe._execution_device

    @property
    def classifier_free_guidance(self) -> bool:
        """Whether the pipeline will double the batch (its own rule: guidance > 1 and no guidance embedding)."""
        return self.settings.guidance_scale > 1 and self.pipe.unet.config.time_cond_proj_dim is None

    @torch.inference_mode()
    def encode_references(self, images: Sequence[Image.Image]) -> list[ImagePrompt]:
        """Encode reference images as the authors feed them: resized (not cropped) to the generation resolution,
        then CLIP's own preprocessing. One batch through the image encoder per IP-Adapter."""
        if not images:
            return []
        size = self.settings.resolution
        resized = [image.convert("RGB").resize((size, size), self.resample) for image in images]
        cond: list[torch.Tensor] = []
        uncond: list[torch.Tensor] = []
        for layer in self.pipe.unet.encoder_hid_proj.image_projection_layers:
            hidden_states = not isinstance(layer, ImageProjection)
            positive, negative = self.pipe.encode_image(resized, self.device, 1, hidden_states)
            cond.append(positive)
            uncond.append(negative)
        return [
            ImagePrompt(tuple(c[i] for c in cond), tuple(u[i] for u in uncond)) for i in range(len(resized))
        ]

    def _layout(self, prompts: Sequence[ImagePrompt]) -> list[torch.Tensor]:
        """Per adapter, the ``(B, 1, ...)`` or CFG ``(2B, 1, ...)`` tensor ``PerRowIPAdapterPipeline`` expects."""
        layouts = []
        for adapter in range(len(prompts[0].cond)):
            cond = torch.stack([p.cond[adapter] for p in prompts])[:, None]
            if self.classifier_free_guidance:
                uncond = torch.stack([p.uncond[adapter] for p in prompts])[:, None]
                cond = torch.cat([uncond, cond])
            layouts.append(cond)
        return layouts

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[str],
        scales: Sequence[float],
        seeds: Sequence[int],
        references: Sequence[ImagePrompt],
        output_type: str = "pil",
    ) -> list[Image.Image] | np.ndarray:
        """One image per row at the configured resolution: PIL images, or a float array (B, H, W, 3) in [0, 1]
        with ``output_type="np"``."""
        count = len(prompts)
        if not count or not (len(scales) == len(seeds) == len(references) == count):
            raise ValueError(
                f"generate needs one scale, seed and reference per prompt; got {count} prompts, "
                f"{len(scales)} scales, {len(seeds)} seeds, {len(references)} references"
            )
        self.scales.set(scales, self.device)
        try:
            result = self.pipe(
                prompt=list(prompts),
                negative_prompt=[self.settings.negative_prompt] * count if self.settings.negative_prompt else None,
                ip_adapter_image_embeds=self._layout(references),
                num_inference_steps=self.settings.steps,
                guidance_scale=self.settings.guidance_scale,
                height=self.settings.resolution,
                width=self.settings.resolution,
                generator=[torch.Generator("cpu").manual_seed(int(seed)) for seed in seeds],
                output_type=output_type,
                **self._call_options(),
            )
        finally:
            self.scales.set(None, self.device)
        return result.images
