"""DA-Fusion's class tokens: learned once per class, saved in the run directory, reused on every later run.

A saved token is reused only if it was learned from the same images, model and textual-inversion settings; it is
written atomically, so an interrupted run keeps every class finished before the interruption.
"""

from __future__ import annotations

import hashlib
import json
import logging

import torch
from rich.progress import Progress
from safetensors import safe_open
from safetensors.torch import save

from dalda.config import DaldaConfig
from dalda.baselines.textual_inversion import add_placeholder_tokens, learn_class_token, placeholder_token
from dalda.data.splits import FewShotSplit
from dalda.hashing import file_sha256
from dalda.images import load_rgb
from dalda.io import atomic_open
from dalda.rundir import RunDir

log = logging.getLogger(__name__)


def _fingerprint(config: DaldaConfig, class_name: str, image_hashes: list[str]) -> str:
    settings = config.baseline.model_dump(include={"ti_steps", "ti_batch_size", "ti_learning_rate", "ti_scale_lr", "ti_resolution"})
    payload = {
        "class": class_name,
        "images": sorted(image_hashes),
        "model": [config.models.profile, config.models.sd_model],
        "settings": settings,
        "seed": config.seed,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _load_if_fresh(path, fingerprint: str) -> torch.Tensor | None:
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as handle:
        if (handle.metadata() or {}).get("fingerprint") != fingerprint:
            return None
        return handle.get_tensor("embedding")


def _save(path, tensor: torch.Tensor, metadata: dict[str, str]) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(save({"embedding": tensor.contiguous()}, metadata=metadata))


def ensure_class_tokens(pipe, config: DaldaConfig, split: FewShotSplit, run: RunDir) -> dict[str, str]:
    """Give ``pipe`` a learned token per class (learning the missing ones); returns {class: token}."""
    add_placeholder_tokens(pipe.tokenizer, pipe.text_encoder, split.classes)
    weights = pipe.text_encoder.get_input_embeddings().weight
    tokens: dict[str, str] = {}
    with Progress(transient=True) as progress:
        for label, class_name in enumerate(split.classes):
            records = [record for record in split.train if record.label == label]
            fingerprint = _fingerprint(config, class_name, [file_sha256(record.path) for record in records])
            token = placeholder_token(class_name)
            path = run.textual_inversion / f"{token.strip('<>')}.safetensors"
            token_id = pipe.tokenizer.convert_tokens_to_ids(token)
            saved = _load_if_fresh(path, fingerprint)
            if saved is None:
                learned = learn_class_token(
                    pipe, class_name, [load_rgb(record.path) for record in records], config.baseline,
                    seed=config.seed + label, progress=progress,
                )
                saved = learned.embedding
                _save(path, saved, {"fingerprint": fingerprint, "class": class_name, "token": token,
                                    "final_loss": f"{learned.final_loss:.6f}"})
                log.info("learned %s for %r (final loss %.4f)", token, class_name, learned.final_loss)
            with torch.no_grad():
                weights[token_id] = saved.to(weights.device, weights.dtype)
            tokens[class_name] = token
    return tokens
