"""The offline tiny tokenizer fits the demo's prompts in CLIP's 77-token context, as the real tokenizer does."""

from __future__ import annotations

import logging

from dalda.chat.template import EXTRAS, PLACES, VIEWS, template_prompts, template_sentence
from dalda.config import PromptsConfig
from dalda.datasets.demo import DEMO_CLASSES
from dalda.generation.truncation import one_truncation_warning
from dalda.models.tokenizer import CONTEXT_LENGTH, build_byte_level_tokenizer

PREFIX = PromptsConfig().prefix


def test_demo_prompts_are_not_reported_as_truncated(caplog):
    tokenizer = build_byte_level_tokenizer()
    assert tokenizer.model_max_length == CONTEXT_LENGTH == 77
    table = template_prompts(DEMO_CLASSES, 4, seed=0)  # the demo's prompts (configs/demo.yaml: M = 4, seed 0)
    prompts = [PREFIX + prompt for rows in table.values() for prompt in rows]
    caplog.set_level(logging.WARNING, logger="dalda.generation.truncation")
    with one_truncation_warning(tokenizer, prompts):
        pass
    assert "exceed" not in caplog.text


def test_the_longest_template_prompt_fits_and_words_stay_whole():
    tokenizer = build_byte_level_tokenizer()
    longest = max(DEMO_CLASSES, key=len)
    sentence = PREFIX + template_sentence(
        longest, max(VIEWS, key=len), max(PLACES, key=len), max(EXTRAS, key=len)
    )
    assert len(tokenizer(sentence, truncation=False).input_ids) <= CONTEXT_LENGTH
    # Known words are one token each, as in CLIP's vocabulary; an unknown one still spells out in pieces.
    assert tokenizer.tokenize("a checkerboard in warm golden light") == [
        "a</w>", "checkerboard</w>", "in</w>", "warm</w>", "golden</w>", "light</w>"
    ]
    pieces = tokenizer.tokenize("zebra")
    assert len(pieces) > 1 and "".join(pieces) == "zebra</w>"
