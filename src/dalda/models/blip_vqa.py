"""BLIP for visual question answering, the model behind the ``vqa`` alignment scorer, as a :class:`VqaBundle`.

``real``: the checkpoint the caller names (``Salesforce/blip-vqa-base`` by default, or any
``BlipForQuestionAnswering`` folder), loaded with ``models.offline`` honoured. ``full-random``: BLIP-VQA base's
shape (transformers' ``BlipConfig`` defaults, at 384 px); ``tiny``: 32-wide towers at 32 px. The random
profiles use an offline BERT tokenizer (``tokenizer.build_wordpiece_tokenizer``).
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
from dalda.models.tokenizer import build_wordpiece_tokenizer

SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {
        "text_config": {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                        "encoder_hidden_size": 32, "max_position_embeddings": 64,
                        # ~1/sqrt(32): at the default 0.02 the 32-wide text stack drowns the image (p(yes) alike)
                        "initializer_range": 0.18},
        "vision_config": {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                          "num_attention_heads": 4, "image_size": 32, "patch_size": 8},
    },
    "full-random": {"text_config": {"vocab_size": 30524}, "vision_config": {"image_size": 384}},
}  # fmt: skip
SEED = 10
"""The seed the random model is built under (see ``random_profiles.seeded``)."""


@dataclass
class VqaBundle:
    """A BLIP VQA model with its processor (BERT tokenizer + image processor); ``field`` is the config field
    that named the model, for error messages."""

    model: Any  # transformers.BlipForQuestionAnswering
    processor: Any
    device: torch.device
    dtype: torch.dtype
    field: str

    def token_id(self, word: str) -> int:
        """The id of ``word`` as one answer token; an answer word the vocabulary splits cannot be scored."""
        ids = self.processor.tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ValueError(
                f"the tokenizer of {self.field} splits {word!r} into {len(ids)} tokens; use a BLIP VQA model "
                "whose vocabulary has it as one token (as Salesforce/blip-vqa-base has)"
            )
        return int(ids[0])

    @torch.inference_mode()
    def first_answer_distribution(self, images: list[Image.Image], questions: list[str]) -> torch.Tensor:
        """(N, vocab) probabilities of the answer's first token, one row per (image, question) pair.

        The same computation as ``BlipForQuestionAnswering.generate``'s first step: vision tower, question
        encoder over the image, then the answer decoder from its start token. Give questions of equal token
        length: the answer decoder attends to padded question tokens even when the mask excludes them.
        """
        inputs = self.processor(
            images=[image.convert("RGB") for image in images], text=questions, padding=True, return_tensors="pt"
        )
        model = self.model
        image_embeds = model.vision_model(pixel_values=inputs["pixel_values"].to(self.device, self.dtype))[0]
        image_mask = torch.ones(image_embeds.shape[:-1], dtype=torch.long, device=self.device)
        mask = inputs["attention_mask"].to(self.device)
        question = model.text_encoder(
            input_ids=inputs["input_ids"].to(self.device),
            attention_mask=mask,
            encoder_hidden_states=image_embeds,
            encoder_attention_mask=image_mask,
        )[0]
        start = torch.full((len(images), 1), model.decoder_start_token_id, dtype=torch.long, device=self.device)
        logits = model.text_decoder(
            input_ids=start, encoder_hidden_states=question, encoder_attention_mask=mask, use_cache=False
        ).logits
        return logits[:, 0].float().softmax(dim=-1).cpu()


def build_blip_vqa(profile: str) -> tuple[Any, Any]:
    """The random profile's BLIP VQA model and its processor (an offline BERT tokenizer + image processor)."""
    from transformers import BlipConfig, BlipForQuestionAnswering, BlipImageProcessor, BlipProcessor

    shape = shape_for(SHAPES, profile, "BLIP VQA model")
    tokenizer = build_wordpiece_tokenizer()
    text = {
        "vocab_size": len(tokenizer),
        **shape["text_config"],
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "sep_token_id": tokenizer.sep_token_id,
        "eos_token_id": tokenizer.sep_token_id,
    }
    config = BlipConfig(text_config=text, vision_config=shape["vision_config"])
    with seeded(SEED):
        model = BlipForQuestionAnswering(config)
        init_sighted_patch_embedding(model.vision_model.embeddings.patch_embedding)
    size = int(config.vision_config.image_size)
    image_processor = BlipImageProcessor(size={"height": size, "width": size})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return model, processor


def load_vqa(cfg: ModelsConfig, name: str, field: str) -> VqaBundle:
    """BLIP VQA per ``cfg.profile``; real: ``name`` (a Hub id or local folder), set by the config field ``field``."""
    from transformers import BlipForQuestionAnswering, BlipProcessor

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        model = hub.load(BlipForQuestionAnswering, cfg, name, field)
        processor = hub.load(BlipProcessor, cfg, name, field)
    else:
        model, processor = build_blip_vqa(cfg.profile)
    return VqaBundle(freeze(model, device, dtype), processor, device, dtype, field)
