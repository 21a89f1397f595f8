"""DINO(v2), the image embedder of the optional ``dino`` diversity metrics and fidelity features, as a
:class:`DinoBundle`.

``real``: the checkpoint the caller names (``facebook/dinov2-small``, ``facebook/dino-vitb16``, or a local folder
with the published layout), loaded with ``models.offline`` honoured. The random profiles build a
``Dinov2Model`` under a fixed seed: ``full-random`` at dinov2-small's shape, ``tiny`` small enough for tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.device import freeze, resolve_device, resolve_dtype
from dalda.models.imagenet import IMAGENET_MEAN, IMAGENET_STD
from dalda.models.random_profiles import init_sighted_patch_embedding, seeded, shape_for

SHAPES: dict[str, dict[str, Any]] = {
    # facebook/dinov2-small's config.json: ViT-S/14, 384-d, 12 layers, 6 heads, trained at 518 px.
    "full-random": {
        "model": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6, "image_size": 518},
        "input": (256, 224),
    },
    "tiny": {
        "model": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "mlp_ratio": 1,
                  "patch_size": 8, "image_size": 32},
        "input": (32, 32),
    },
}  # fmt: skip
"""``model``: ``Dinov2Config`` keywords; ``input``: (resize of the shorter side, centre crop) of the processor
(the published dinov2 processors resize to 256 and crop 224)."""
SEED = 11
"""The seed the random model is built under (see ``random_profiles.seeded``)."""


def dino_identity(cfg: ModelsConfig, name: str) -> str:
    """Names the DINO weights ``name`` stands for under ``cfg.profile``; random weights never pass for the real
    model."""
    return name if cfg.profile == "real" else f"{cfg.profile}-random:{name}"


def build_dino(profile: str) -> tuple[Any, Any]:
    """A random ``Dinov2Model`` and its ``BitImageProcessor`` (the dinov2 checkpoints' processor class)."""
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    shape = shape_for(SHAPES, profile, "DINO model")
    config = Dinov2Config(**shape["model"])
    with seeded(SEED):
        model = Dinov2Model(config)
        init_sighted_patch_embedding(model.embeddings.patch_embeddings.projection)
    short, crop = shape["input"]
    processor = BitImageProcessor(
        size={"shortest_edge": short},
        crop_size={"height": crop, "width": crop},
        image_mean=list(IMAGENET_MEAN),
        image_std=list(IMAGENET_STD),
        do_convert_rgb=True,
    )
    return model, processor


@dataclass
class DinoBundle:
    """A DINO / DINOv2 vision transformer with its image processor.

    ``pooling``: ``cls`` reads the class token of the last (layer-normed) hidden state, which is what DINO
    trains as the global descriptor; ``mean`` averages the patch tokens instead.
    """

    model: Any  # transformers.Dinov2Model or ViTModel (facebook/dino-vitb16)
    processor: Any
    device: torch.device
    dtype: torch.dtype
    pooling: Literal["cls", "mean"] = "cls"

    @torch.inference_mode()
    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """(N, D) unit-norm float32 embeddings on the CPU."""
        pixels = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        hidden = self.model(pixel_values=pixels["pixel_values"].to(self.device, self.dtype)).last_hidden_state
        pooled = hidden[:, 0] if self.pooling == "cls" else hidden[:, 1:].mean(dim=1)
        return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu()


def load_dino(cfg: ModelsConfig, name: str, field: str, pooling: Literal["cls", "mean"] = "cls") -> DinoBundle:
    """DINO per ``cfg.profile``; real: ``name`` (a Hub id or local folder), set by the config field ``field``."""
    from transformers import AutoImageProcessor, AutoModel

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        model = hub.load(AutoModel, cfg, name, field)
        processor = hub.load(AutoImageProcessor, cfg, name, field)
    else:
        model, processor = build_dino(cfg.profile)
    return DinoBundle(freeze(model, device, dtype), processor, device, dtype, pooling)
