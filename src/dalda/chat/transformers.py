"""The ``transformers`` chat backend: a local Hugging Face chat model run in-process.

Messages are rendered with the model's own chat template, sampled with the configured temperature and top_p,
and the new tokens decoded; the answer then goes through the same JSON parsing and validation as an API
answer. Sampling is seeded per request (``seed`` and a request counter) inside ``torch.random.fork_rng``, so a
run is reproducible and the caller's random state is untouched. OpenAI's frequency/presence penalties have no
exact equivalent in ``generate`` and are not applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from dalda.chat.protocol import ChatBackendSpec, ChatMessage, ChatReply
from dalda.config import DaldaConfig
from dalda.settings import EntrySettings

if TYPE_CHECKING:
    from dalda.models.llm import CausalLM

# torch and the language-model kit load when this backend is used, not when the registry is imported: every
# command checks its config against the registries, and most never touch a local LLM.


class TransformersSettings(EntrySettings):
    """The local chat model and how long its answers may be."""

    hf_model: str = Field(
        "Qwen/Qwen2.5-7B-Instruct",
        description="Hugging Face chat model name or folder (models.profile=tiny: a tiny random LM instead).",
    )
    max_new_tokens: int = Field(4096, ge=1, le=131_072, description="Tokens per response.")


class TransformersChatBackend:
    """Chat completions from an in-process causal LM."""

    name = "transformers"
    secrets: tuple[str, ...] = ()

    def __init__(self, lm: CausalLM, *, temperature: float, top_p: float, max_new_tokens: int, seed: int = 0) -> None:
        self.lm = lm
        self.temperature = temperature
        self.top_p = top_p
        self.max_new_tokens = max_new_tokens
        self.seed = seed
        self._requests = 0

    def complete(self, messages: list[ChatMessage]) -> ChatReply:
        import torch

        tokenizer = self.lm.tokenizer
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.lm.device)
        sampling = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
        if self.temperature == 0.0:
            sampling = {"do_sample": False}
        device = self.lm.device
        cuda_devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices), torch.inference_mode():
            torch.manual_seed(self.seed * 100_003 + self._requests)
            output = self.lm.model.generate(
                **encoded,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                **sampling,
            )
        self._requests += 1
        prompt_tokens = encoded["input_ids"].shape[1]
        new_tokens = output[0, prompt_tokens:]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True)
        usage = {
            "prompt_tokens": int(prompt_tokens),
            "completion_tokens": int(new_tokens.shape[0]),
            "total_tokens": int(prompt_tokens + new_tokens.shape[0]),
        }
        return ChatReply(text=text, usage=usage, details={"model": self.lm.name, "rendered_prompt": prompt})


def transformers_fingerprint(config: DaldaConfig, settings: TransformersSettings) -> dict[str, Any]:
    """Model and sampling parameters: what the answers depend on (the tiny profile swaps in the tiny LM)."""
    from dalda.models.llm import TINY_LM_NAME

    model = TINY_LM_NAME if config.models.profile == "tiny" else settings.hf_model
    return {
        "model": model,
        "parameters": {
            "profile": config.models.profile,
            "temperature": config.prompts.temperature,
            "top_p": config.prompts.top_p,
            "max_new_tokens": settings.max_new_tokens,
            "seed": config.seed,
        },
    }


def build_transformers(config: DaldaConfig, settings: TransformersSettings) -> TransformersChatBackend:
    from dalda.models.llm import load_causal_lm

    lm = load_causal_lm(config.models, settings.hf_model, "prompts.hf_model")
    return TransformersChatBackend(
        lm,
        temperature=config.prompts.temperature,
        top_p=config.prompts.top_p,
        max_new_tokens=settings.max_new_tokens,
        seed=config.seed,
    )


TRANSFORMERS = ChatBackendSpec(
    "transformers",
    is_llm=True,
    fingerprint=transformers_fingerprint,
    build=build_transformers,
    settings_model=TransformersSettings,
)
