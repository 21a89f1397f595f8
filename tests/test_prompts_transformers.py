"""The ``transformers`` backend with a tiny random causal LM built offline.

Its answers are gibberish, which is the point: the test follows a request through the real plumbing (chat
template -> generate -> decode -> JSON parsing -> validation -> repair requests) to the error that names the
classes still missing, with every raw answer kept in the record.
"""

import json

import pytest

from dalda.chat.transformers import TransformersChatBackend
from dalda.configure import build_config
from dalda.models.llm import TINY_CHAT_TEMPLATE, build_tiny_causal_lm, load_causal_lm
from dalda.prompts import PromptsIncompleteError, prompts_for_classes
from dalda.rundir import RunDir

CLASSES = ["circle", "square", "triangle"]


def _config(tmp_path, **prompts):
    return build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo"},
            "models": {"profile": "tiny", "device": "cpu"},
            "prompts": {"backend": "transformers", "num_prompts": 2, "max_retries": 1, "max_new_tokens": 12, **prompts},
        }
    )


def test_tiny_lm_loads_offline_with_a_chat_template():
    models = build_config({"models": {"profile": "tiny", "device": "cpu"}}).models
    lm = load_causal_lm(models, "ignored-in-tiny", "prompts.hf_model")
    assert lm.tokenizer.chat_template == TINY_CHAT_TEMPLATE
    messages = [{"role": "user", "content": "héllo {}"}]
    text = lm.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text == "<|bos|><|user|>\nhéllo {}<|end|>\n<|assistant|>\n"
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert lm.tokenizer.decode(ids) == text  # byte-level: every string round-trips


def test_gibberish_answers_go_through_validation_and_exhausted_retries_name_missing_classes(tmp_path):
    run = RunDir(tmp_path / "run")
    with pytest.raises(PromptsIncompleteError) as caught:
        prompts_for_classes(_config(tmp_path), CLASSES, run)
    assert caught.value.missing == CLASSES and caught.value.round_index == 0
    assert "'circle', 'square', 'triangle'" in str(caught.value)
    assert "no usable answer" in str(caught.value)

    record = json.loads(run.prompts_record.read_text())
    assert record["status"] == "incomplete"
    assert record["settings"]["backend"] == "transformers" and record["settings"]["model"] == "tiny-random-llama"
    attempts = record["attempts"]
    assert len(attempts) == 2  # the request and max_retries=1 repair
    for attempt in attempts:
        rendered = attempt["details"]["rendered_prompt"]
        assert rendered.startswith("<|bos|><|system|>\n") and rendered.endswith("<|assistant|>\n")
        assert '["circle", "square", "triangle"]' in rendered  # the messages went through the chat template
        assert isinstance(attempt["response"], str)
        assert attempt["usage"]["completion_tokens"] <= 12 and attempt["usage"]["prompt_tokens"] > 100
        assert set(attempt["problems"]) == set(CLASSES)
    assert "Your previous answer could not be used" in attempts[1]["messages"][1]["content"]
    assert record["usage"]["total_tokens"] == sum(a["usage"]["total_tokens"] for a in attempts)
    assert not run.prompts.exists()


def test_sampling_is_seeded_per_request():
    lm = build_tiny_causal_lm()
    messages = [{"role": "user", "content": "Write JSON."}]

    def backend(seed):
        return TransformersChatBackend(lm, temperature=1.0, top_p=1.0, max_new_tokens=8, seed=seed)

    same_seed = backend(0)
    first, second = same_seed.complete(messages).text, same_seed.complete(messages).text
    assert first != second  # each request draws anew
    assert backend(0).complete(messages).text == first  # reproducible
    assert backend(1).complete(messages).text != first
