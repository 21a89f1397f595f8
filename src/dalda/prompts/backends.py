"""Building the chat backend named by ``prompts.backend`` (``template`` needs none: it is not a chat model).

Backends are built only when prompts must really be generated, so a cached run needs neither an API key nor
a model download. The settings that decide what a backend writes (and so whether a cache is still valid)
come from the config alone, through :func:`backend_settings`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dalda.config import DaldaConfig
from dalda.prompts.chat import ChatBackend
from dalda.prompts.errors import PromptsError


def _openai(config: DaldaConfig) -> ChatBackend:
    from dalda.prompts.openai_backend import OpenAIChatBackend, read_api_key

    return OpenAIChatBackend(config.prompts, read_api_key(config.prompts), seed=config.seed)


def _transformers(config: DaldaConfig) -> ChatBackend:
    from dalda.models.llm import load_causal_lm
    from dalda.prompts.transformers_backend import TransformersChatBackend

    cfg = config.prompts
    lm = load_causal_lm(config.models, cfg.hf_model)
    return TransformersChatBackend(
        lm, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=config.seed
    )


CHAT_BACKENDS: dict[str, Callable[[DaldaConfig], ChatBackend]] = {"openai": _openai, "transformers": _transformers}


def make_chat_backend(config: DaldaConfig) -> ChatBackend:
    """The chat backend of ``prompts.backend`` (reads the API key / loads the model)."""
    name = config.prompts.backend
    if name not in CHAT_BACKENDS:
        raise PromptsError(f"prompts.backend={name!r} is not a chat backend; choose one of {sorted(CHAT_BACKENDS)}")
    return CHAT_BACKENDS[name](config)


def backend_settings(config: DaldaConfig) -> dict[str, Any]:
    """Model and sampling parameters of the configured backend: what its prompts depend on."""
    cfg = config.prompts
    if cfg.backend == "openai":
        return {
            "model": cfg.model,
            "parameters": {
                "api_type": cfg.api_type,
                "base_url": cfg.base_url,
                "api_version": cfg.api_version,
                "temperature": cfg.temperature,
                "top_p": cfg.top_p,
                "frequency_penalty": cfg.frequency_penalty,
                "presence_penalty": cfg.presence_penalty,
                "json_mode": cfg.json_mode,
                "api_key_env": cfg.api_key_env,
            },
        }
    if cfg.backend == "transformers":
        from dalda.models.llm import TINY_LM_NAME

        model = TINY_LM_NAME if config.models.profile == "tiny" else cfg.hf_model
        return {
            "model": model,
            "parameters": {
                "profile": config.models.profile,
                "temperature": cfg.temperature,
                "top_p": cfg.top_p,
                "max_new_tokens": cfg.max_new_tokens,
                "seed": config.seed,
            },
        }
    from dalda.prompts.template_backend import template_fingerprint

    return {"model": None, "parameters": {"seed": config.seed, "templates": template_fingerprint()}}
