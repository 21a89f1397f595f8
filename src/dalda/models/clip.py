"""CLIP for scoring and probing (CLIPScore, CLIP-I diversity, the CLIP classifier), as a :class:`ClipBundle`.

``real``: ``models.clip_model`` (openai/clip-vit-base-patch16 by default), the one CLIP every stage shares, so
it is read from the ``models`` section itself. ``full-random``: CLIP ViT-B/16's architecture with the offline
tokenizer padded to CLIP's vocabulary; ``tiny``: 32-wide towers at 32 px.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.device import freeze, resolve_device, resolve_dtype
from dalda.models.random_profiles import init_sighted_patch_embedding, seeded, shape_for
from dalda.models.tokenizer import CLIP_VOCAB_SIZE, build_byte_level_tokenizer, special_token_ids

if TYPE_CHECKING:
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {
        "text": {  # transformers.CLIPTextConfig
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "layer_norm_eps": 1e-5,
        },
        "vision": {  # transformers.CLIPVisionConfig
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
            "num_channels": 3,
            "layer_norm_eps": 1e-5,
        },
        "projection_dim": 16,
        "tokenizer_vocab_size": None,  # the offline tokenizer's own size
    },
    "full-random": {
        "text": {
            "hidden_size": 512,
            "intermediate_size": 2048,
            "num_hidden_layers": 12,
            "num_attention_heads": 8,
            "max_position_embeddings": 77,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5,
        },
        "vision": {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "image_size": 224,
            "patch_size": 16,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5,
        },
        "projection_dim": 512,
        "tokenizer_vocab_size": CLIP_VOCAB_SIZE,
    },
}
SEED = 6
"""The seed the random model is built under (see ``random_profiles.seeded``)."""


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


def build_clip(profile: str) -> tuple[CLIPModel, CLIPTokenizer, CLIPImageProcessor]:
    """The random profile's CLIP (text + vision + projections), its tokenizer and an image processor at its
    resolution."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    shape = shape_for(SHAPES, profile, "CLIP model")
    tokenizer = build_byte_level_tokenizer(shape["tokenizer_vocab_size"])
    config = CLIPConfig(
        text_config={**shape["text"], **special_token_ids(tokenizer)},
        vision_config=shape["vision"],
        projection_dim=shape["projection_dim"],
    )
    with seeded(SEED):
        model = CLIPModel(config)
        init_sighted_patch_embedding(model.vision_model.embeddings.patch_embedding)
    size = int(shape["vision"]["image_size"])
    processor = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    return model, tokenizer, processor


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
        model, tokenizer, processor = build_clip(cfg.profile)
    return ClipBundle(freeze(model, device, dtype), tokenizer, processor, device, dtype)
