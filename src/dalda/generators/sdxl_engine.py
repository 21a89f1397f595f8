"""The batched per-image-lambda engine on SDXL: ``GenerationEngine`` with diffusers' SDXL pipeline underneath.

Everything that makes a batch equal to one-image-at-a-time calls of the stock pipeline with
``set_ip_adapter_scale`` is the SD 1.x engine's (``ip_adapter_engine``): per-sample IP-Adapter processors
(``per_sample_attention``; SDXL's cross-attention layers are the same ``Attention`` modules), image embeddings
passed one per row (``PerRowImageEmbeds``) and one seeded CPU generator per row. What SDXL adds is handled by
``StableDiffusionXLPipeline.__call__`` itself: the second text encoder and its pooled embedding, the
size/crop conditioning and the VAE upcast. The size/crop conditioning is passed explicitly, with the values
the stock pipeline uses by default for a square image made from scratch: ``original_size`` and
``target_size`` equal to the generation size, ``crops_coords_top_left`` (0, 0), i.e. "an uncropped picture
of this size" (``settings.size_conditioning``), so a manifest records them and they cannot drift with a
diffusers release.
"""

from __future__ import annotations

from typing import Any

from diffusers import StableDiffusionXLPipeline

from dalda.generators.ip_adapter_engine import GenerationEngine, PerRowImageEmbeds
from dalda.generators.settings import size_conditioning


class PerRowIPAdapterXLPipeline(PerRowImageEmbeds, StableDiffusionXLPipeline):
    """``StableDiffusionXLPipeline`` that takes IP-Adapter image embeddings already laid out one per row."""


class SDXLGenerationEngine(GenerationEngine):
    """Batches of rows (prompt, lambda, seed, reference image) through SDXL + IP-Adapter, one call per batch."""

    def _per_row_pipeline(self, pipe: Any) -> PerRowIPAdapterXLPipeline:
        return PerRowIPAdapterXLPipeline(
            **pipe.components,
            force_zeros_for_empty_prompt=bool(pipe.config.force_zeros_for_empty_prompt),
            add_watermarker=False,
        )

    def _call_options(self) -> dict[str, Any]:
        return size_conditioning(self.settings.resolution)
