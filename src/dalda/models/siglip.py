"""SigLIP, the model behind the ``siglip`` alignment scorer, as a :class:`SiglipBundle`.

``real``: the checkpoint the caller names (``google/siglip-base-patch16-224`` by default; its tokenizer needs
sentencepiece), loaded with ``models.offline`` honoured. ``full-random``: that checkpoint's shape (transformers'
``SiglipConfig`` defaults are its shapes); ``tiny``: 32-wide towers at 32 px. The random profiles use the
offline byte-level tokenizer, with the text embedding table grown to fit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.device import freeze, resolve_device, resolve_dtype
from dalda.models.random_profiles import init_sighted_patch_embedding, seeded, shape_for
from dalda.models.tokenizer import CLIP_VOCAB_SIZE, build_byte_level_tokenizer, special_token_ids

SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {
        "text_config": {
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 64,
            "layer_norm_eps": 1e-5,
            "projection_size": 32,
        },
        "vision_config": {
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
            "num_channels": 3,
        },
        "tokenizer_vocab_size": None,  # the offline tokenizer's own size
    },
    # SigLIP base-patch16-224: transformers' config defaults are its shapes.
    "full-random": {"text_config": {"vocab_size": 32000}, "vision_config": {}, "tokenizer_vocab_size": CLIP_VOCAB_SIZE},
}
SEED = 9
"""The seed the random model is built under (see ``random_profiles.seeded``)."""


@dataclass
class SiglipBundle:
    """SigLIP with its tokenizer and image processor; ``logits`` are the model's own image-text logits."""

    model: Any  # transformers.SiglipModel
    tokenizer: Any
    image_processor: Any
    device: torch.device
    dtype: torch.dtype

    @torch.inference_mode()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """(N, D) unit-norm text embeddings, padded to the text tower's full length as SigLIP was trained."""
        length = int(self.model.config.text_config.max_position_embeddings)
        tokens = self.tokenizer(texts, padding="max_length", truncation=True, max_length=length, return_tensors="pt")
        pooled = self.model.text_model(input_ids=tokens["input_ids"].to(self.device)).pooler_output
        return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu()

    @torch.inference_mode()
    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """(N, D) unit-norm image embeddings."""
        pixels = self.image_processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        pooled = self.model.vision_model(pixel_values=pixels["pixel_values"].to(self.device, self.dtype)).pooler_output
        return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu()

    def logits(self, cosines: torch.Tensor) -> torch.Tensor:
        """SigLIP's pairwise logits from cosines: ``exp(logit_scale) * cos + logit_bias``."""
        scale = float(self.model.logit_scale.detach().float().exp())
        return scale * cosines + float(self.model.logit_bias.detach().float())


def build_siglip(profile: str) -> tuple[Any, Any, Any]:
    """The random profile's SigLIP (text + vision towers), a byte-level tokenizer and an image processor at the
    vision tower's size."""
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    shape = shape_for(SHAPES, profile, "SigLIP model")
    tokenizer = build_byte_level_tokenizer(shape["tokenizer_vocab_size"])
    text = {**shape["text_config"]}
    # the offline tokenizer's ids must fit the embedding table (full-random: 49 408 byte-level ids > SigLIP's 32 000)
    text["vocab_size"] = max(len(tokenizer), int(text.get("vocab_size", 0)))
    text.update({key: value for key, value in special_token_ids(tokenizer).items() if key != "vocab_size"})
    config = SiglipConfig(text_config=text, vision_config=shape["vision_config"])
    with seeded(SEED):
        model = SiglipModel(config)
        init_sighted_patch_embedding(model.vision_model.embeddings.patch_embedding)
    size = int(config.vision_config.image_size)
    processor = SiglipImageProcessor(size={"height": size, "width": size})
    return model, tokenizer, processor


def load_siglip(cfg: ModelsConfig, name: str, field: str) -> SiglipBundle:
    """SigLIP per ``cfg.profile``; real: ``name`` (a Hub id or local folder), set by the config field ``field``."""
    from transformers import AutoImageProcessor, AutoTokenizer, SiglipModel

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        model = hub.load(SiglipModel, cfg, name, field)
        tokenizer = hub.load(AutoTokenizer, cfg, name, field)
        processor = hub.load(AutoImageProcessor, cfg, name, field)
    else:
        model, tokenizer, processor = build_siglip(cfg.profile)
    return SiglipBundle(freeze(model, device, dtype), tokenizer, processor, device, dtype)
