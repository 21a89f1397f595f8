"""One warning for prompts longer than the text encoder's context, instead of diffusers' warning per batch."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

_TRUNCATION = "truncated because CLIP can only handle"

_PIPELINE_LOGGERS = (
    "diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion",
    "diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img",
)


@contextmanager
def one_truncation_warning(tokenizer: Any, prompts: Sequence[str]) -> Iterator[None]:
    """Say once how many prompts exceed the text encoder's context, naming the longest, and silence diffusers'
    per-batch warning."""
    limit = tokenizer.model_max_length
    tokens = {prompt: len(tokenizer(prompt, truncation=False).input_ids) for prompt in set(prompts)}
    too_long = sum(tokens[prompt] > limit for prompt in prompts)
    if too_long:
        longest = max(tokens, key=tokens.__getitem__)
        shown = longest if len(longest) <= 120 else longest[:117] + "..."
        logging.getLogger(__name__).warning(
            "%d of %d prompts exceed the text encoder's %d tokens and are truncated, e.g. %r (%d tokens)",
            too_long, len(prompts), limit, shown, tokens[longest],
        )
    quiet = _DropTruncationWarnings()
    loggers = [logging.getLogger(name) for name in _PIPELINE_LOGGERS]
    for source in loggers:
        source.addFilter(quiet)
    try:
        yield
    finally:
        for source in loggers:
            source.removeFilter(quiet)


class _DropTruncationWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _TRUNCATION not in record.getMessage()
