"""Causal language models for the ``transformers`` prompt backend.

``load_causal_lm`` honours ``models.profile`` like every loader of this package:

- ``real``: a Hugging Face chat model by name or local folder (the caller's, e.g. ``prompts.hf_model``), with
  its own tokenizer and chat template;
- ``tiny``: a tiny randomly initialised Llama with a byte-level tokenizer and a small chat template, built
  offline in well under a second. Its answers are gibberish; it exists so tests run the real plumbing
  (chat template -> generate -> decode -> JSON parsing -> validation) without a download;
- ``full-random``: the named model's architecture with random weights (its config and tokenizer are still
  read from the Hub or the local folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from dalda.config import ModelsConfig
from dalda.models.device import resolve_device, resolve_dtype
from dalda.models.hub import ModelLoadError
from dalda.models.random_profiles import seeded

TINY_LM_NAME = "tiny-random-llama"
BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")

# A minimal chat template in the usual Jinja form: each message as <|role|>\ncontent<|end|>, then the
# assistant's header when a generation prompt is asked for.
TINY_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

TINY_LLAMA = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 8192,
}
"""``LlamaConfig`` keywords of the ``tiny`` profile's LM (``full-random`` reads the named model's own config)."""


@dataclass
class CausalLM:
    """A causal LM ready to generate: model (eval, no grad) on its device, tokenizer with a chat template."""

    model: Any
    tokenizer: Any
    name: str

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def build_tiny_chat_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level tokenizer (every string encodes, nothing is unknown) with special and chat-role tokens."""
    symbols = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {symbol: index for index, symbol in enumerate(symbols)}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS),
    )
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    return tokenizer


def build_tiny_causal_lm(seed: int = 0) -> CausalLM:
    """The tiny random chat LM of the ``tiny`` profile, deterministic for a given seed, on the CPU."""
    tokenizer = build_tiny_chat_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **TINY_LLAMA,
    )
    with seeded(seed):
        model = LlamaForCausalLM(config)
    return CausalLM(model=model.eval().requires_grad_(False), tokenizer=tokenizer, name=TINY_LM_NAME)


def _fix(field: str) -> str:
    return (
        f"Fix: download it once with network access (it is then cached), point {field} to a local folder with "
        "the model, or use models.profile=tiny for an offline random model."
    )


def load_causal_lm(cfg: ModelsConfig, name: str, field: str) -> CausalLM:
    """The chat LM ``name`` (set by the config field ``field``) per ``cfg.profile`` on
    ``resolve_device``/``resolve_dtype``; see the module docstring."""
    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "tiny":
        lm = build_tiny_causal_lm()
        lm.model.to(device=device, dtype=dtype)
        return lm
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=cfg.offline)
        if cfg.profile == "full-random":
            config = AutoConfig.from_pretrained(name, local_files_only=cfg.offline)
            model = AutoModelForCausalLM.from_config(config, dtype=dtype)
        else:
            model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype, local_files_only=cfg.offline)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"could not load the causal LM {field}={name!r}: {error}\n{_fix(field)}") from error
    if getattr(tokenizer, "chat_template", None) is None:
        raise ModelLoadError(
            f"{field}={name!r} has no chat template, so it cannot be sent chat messages; use an instruction-tuned "
            "chat model (e.g. one whose name ends in -Instruct or -chat)"
        )
    model.to(device).eval().requires_grad_(False)
    return CausalLM(model=model, tokenizer=tokenizer, name=name)
