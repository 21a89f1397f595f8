"""Loaders of the models behind the non-CLIP alignment scorers: SigLIP and a BLIP visual-question-answering model.

Same contract as ``dalda.models.loaders``: ``real`` loads ``models.siglip_model`` / ``models.vqa_model`` (Hub ids
or local folders with the published layout, ``models.offline`` honoured), the random profiles build the same
classes offline (``random_build``), and the models come back frozen on ``resolve_device``/``resolve_dtype``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.loaders import _architecture, _frozen, resolve_device, resolve_dtype
from dalda.models.random_build import build_blip_vqa, build_siglip


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


def load_siglip(cfg: ModelsConfig) -> SiglipBundle:
    """SigLIP; real: ``models.siglip_model`` (google/siglip-base-patch16-224, its tokenizer needs sentencepiece)."""
    from transformers import AutoImageProcessor, AutoTokenizer, SiglipModel

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        model = hub.load(SiglipModel, cfg, cfg.siglip_model, "models.siglip_model")
        tokenizer = hub.load(AutoTokenizer, cfg, cfg.siglip_model, "models.siglip_model")
        processor = hub.load(AutoImageProcessor, cfg, cfg.siglip_model, "models.siglip_model")
    else:
        model, tokenizer, processor = build_siglip(_architecture(cfg))
    return SiglipBundle(_frozen(model, device, dtype), tokenizer, processor, device, dtype)


@dataclass
class VqaBundle:
    """A BLIP VQA model with its processor (BERT tokenizer + image processor)."""

    model: Any  # transformers.BlipForQuestionAnswering
    processor: Any
    device: torch.device
    dtype: torch.dtype

    def token_id(self, word: str) -> int:
        """The id of ``word`` as one answer token; an answer word the vocabulary splits cannot be scored."""
        ids = self.processor.tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ValueError(
                f"the tokenizer of models.vqa_model splits {word!r} into {len(ids)} tokens; use a BLIP VQA model "
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


def load_vqa(cfg: ModelsConfig) -> VqaBundle:
    """BLIP VQA; real: ``models.vqa_model`` (Salesforce/blip-vqa-base or any BlipForQuestionAnswering folder)."""
    from transformers import BlipForQuestionAnswering, BlipProcessor

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        model = hub.load(BlipForQuestionAnswering, cfg, cfg.vqa_model, "models.vqa_model")
        processor = hub.load(BlipProcessor, cfg, cfg.vqa_model, "models.vqa_model")
    else:
        model, processor = build_blip_vqa(_architecture(cfg))
    return VqaBundle(_frozen(model, device, dtype), processor, device, dtype)
