"""The batched per-image-lambda engine against diffusers' stock one-image-per-call pipeline (tiny models, CPU).

Tolerance: float32 on CPU, pixel values in [0, 1]. Batched and one-by-one images differ only by the summation
order of batched matrix products (measured at most ~2e-6); ATOL = 1e-4 leaves room for other CPUs while any
real difference (a wrong lambda, a neighbour's image tokens) changes pixels by far more (checked below).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline
from PIL import Image

from dalda.config import GenerationConfig, ModelsConfig
from dalda.generators.ip_adapter_engine import GenerationEngine
from dalda.generators.settings import IP_ADAPTER_NEGATIVE_PROMPT, IPAdapterSettings
from dalda.models.sd import load_sd_ip_adapter_pipeline
from dalda.models.unet_sharing import unet_without_ip_adapter

ATOL = 1e-4
MODELS = ModelsConfig(profile="tiny", device="cpu")
SETTINGS = IPAdapterSettings(resolution=32, steps=2, negative_prompt="")  # the stock calls pass none
CHECKPOINTS = SETTINGS.checkpoints()
PROMPTS = ["a photo of a cat", "a dog on the grass", "a red car at night", "a photo of a cat"]
SCALES = [0.0, 0.35, 0.8, 1.0]
SEEDS = [11, 12, 13, 14]


def _references(count: int, offset: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(offset)
    return [
        Image.fromarray(rng.integers(0, 255, (40 + 8 * i, 48, 3), dtype=np.uint8)) for i in range(count)
    ]


@pytest.fixture(scope="module")
def engine() -> GenerationEngine:
    return GenerationEngine(load_sd_ip_adapter_pipeline(MODELS, CHECKPOINTS), SETTINGS)


@pytest.fixture(scope="module")
def stock() -> StableDiffusionPipeline:
    """The untouched pipeline (same deterministic tiny weights as the engine's): the authors' way."""
    return load_sd_ip_adapter_pipeline(MODELS, CHECKPOINTS)


def _stock_one(pipe: StableDiffusionPipeline, prompt: str, scale: float, seed: int, image: Image.Image, guidance=7.5):
    pipe.set_ip_adapter_scale(scale)
    size = SETTINGS.resolution
    return pipe(
        prompt=prompt,
        ip_adapter_image=image.resize((size, size), Image.Resampling.BILINEAR),
        num_inference_steps=SETTINGS.steps,
        guidance_scale=guidance,
        height=size,
        width=size,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="np",
    ).images[0]


def test_batched_per_image_lambda_equals_one_by_one_stock_pipeline(engine, stock) -> None:
    images = _references(4)
    batched = engine.generate(PROMPTS, SCALES, SEEDS, engine.encode_references(images), output_type="np")
    one_by_one = np.stack([_stock_one(stock, *row) for row in zip(PROMPTS, SCALES, SEEDS, images)])
    np.testing.assert_allclose(batched, one_by_one, atol=ATOL, rtol=0)
    # Rows 0 and 3 share prompt and seed but not lambda: lambda must change the picture.
    lambda_effect = np.abs(_stock_one(stock, PROMPTS[3], 0.0, SEEDS[3], images[3]) - one_by_one[3]).max()
    assert lambda_effect > 100 * ATOL


def test_without_guidance_the_batch_is_not_doubled_and_still_matches(engine, stock) -> None:
    engine = GenerationEngine(engine.pipe, SETTINGS.model_copy(update={"guidance_scale": 1.0}))
    images = _references(2, offset=5)
    batched = engine.generate(PROMPTS[:2], [0.6, 0.2], SEEDS[:2], engine.encode_references(images), output_type="np")
    expected = [
        _stock_one(stock, prompt, scale, seed, image, guidance=1.0)
        for prompt, scale, seed, image in zip(PROMPTS, [0.6, 0.2], SEEDS, images)
    ]
    np.testing.assert_allclose(batched, np.stack(expected), atol=ATOL, rtol=0)


def test_lambda_zero_equals_text_only_pipeline(engine) -> None:
    """lambda = 0 rows, even batched with lambda > 0 rows, are what SD without any IP-Adapter makes."""
    pipe = engine.pipe
    text_only = StableDiffusionPipeline(
        vae=pipe.vae,
        text_encoder=pipe.text_encoder,
        tokenizer=pipe.tokenizer,
        unet=unet_without_ip_adapter(pipe.unet),
        scheduler=type(pipe.scheduler).from_config(pipe.scheduler.config),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    text_only.set_progress_bar_config(disable=True)
    batched = engine.generate(
        PROMPTS[:3], [0.0, 0.9, 0.0], SEEDS[:3], engine.encode_references(_references(3)), output_type="np"
    )
    for index in (0, 2):
        alone = text_only(
            prompt=PROMPTS[index],
            num_inference_steps=SETTINGS.steps,
            guidance_scale=SETTINGS.guidance_scale,
            height=SETTINGS.resolution,
            width=SETTINGS.resolution,
            generator=torch.Generator("cpu").manual_seed(SEEDS[index]),
            output_type="np",
        ).images[0]
        np.testing.assert_allclose(batched[index], alone, atol=ATOL, rtol=0)


def test_images_do_not_depend_on_batch_size_or_order(engine) -> None:
    references = engine.encode_references(_references(4))
    full = engine.generate(PROMPTS, SCALES, SEEDS, references, output_type="np")
    order = [2, 0, 3]
    pick = lambda values: [values[i] for i in order]  # noqa: E731
    reordered = engine.generate(pick(PROMPTS), pick(SCALES), pick(SEEDS), pick(references), output_type="np")
    single = engine.generate([PROMPTS[1]], [SCALES[1]], [SEEDS[1]], [references[1]], output_type="np")
    np.testing.assert_allclose(reordered, full[order], atol=ATOL, rtol=0)
    np.testing.assert_allclose(single[0], full[1], atol=ATOL, rtol=0)


def test_each_image_depends_only_on_its_own_reference(engine) -> None:
    """Guards against diffusers issue #9813 (image tokens of the whole batch reaching every sample)."""
    first, second = _references(3), _references(3, offset=9)
    swapped = [first[0], second[1], first[2]]
    scales = [0.9, 0.9, 0.9]
    out_first = engine.generate(PROMPTS[:3], scales, SEEDS[:3], engine.encode_references(first), output_type="np")
    out_swapped = engine.generate(PROMPTS[:3], scales, SEEDS[:3], engine.encode_references(swapped), output_type="np")
    np.testing.assert_allclose(out_swapped[[0, 2]], out_first[[0, 2]], atol=ATOL, rtol=0)
    assert np.abs(out_swapped[1] - out_first[1]).max() > 100 * ATOL


def test_generate_rejects_mismatched_rows(engine) -> None:
    with pytest.raises(ValueError, match="one scale, seed and reference per prompt"):
        engine.generate(PROMPTS[:2], SCALES[:1], SEEDS[:2], engine.encode_references(_references(2)))


def test_memory_options_do_not_change_images(engine) -> None:
    """Attention slicing, VAE slicing/tiling and channels_last trade speed for memory, never pixels."""
    lean = GenerationEngine(
        load_sd_ip_adapter_pipeline(MODELS, CHECKPOINTS),
        SETTINGS,
        GenerationConfig(attention_slicing=True, vae_slicing=True, vae_tiling=True, channels_last=True),
    )
    references = _references(2)
    args = (PROMPTS[1:3], SCALES[1:3], SEEDS[1:3])
    expected = engine.generate(*args, engine.encode_references(references), output_type="np")
    actual = lean.generate(*args, lean.encode_references(references), output_type="np")
    np.testing.assert_allclose(actual, expected, atol=ATOL, rtol=0)


def test_the_negative_prompt_reaches_the_pipeline_as_in_a_stock_call(engine, stock) -> None:
    negative = GenerationEngine(engine.pipe, SETTINGS.model_copy(update={"negative_prompt": IP_ADAPTER_NEGATIVE_PROMPT}))
    images = _references(2, offset=9)
    batched = negative.generate(PROMPTS[:2], [0.5, 0.3], SEEDS[:2], negative.encode_references(images), output_type="np")
    size = SETTINGS.resolution
    expected = []
    for prompt, scale, seed, image in zip(PROMPTS[:2], [0.5, 0.3], SEEDS[:2], images):
        stock.set_ip_adapter_scale(scale)
        expected.append(
            stock(
                prompt=prompt,
                negative_prompt=IP_ADAPTER_NEGATIVE_PROMPT,
                ip_adapter_image=image.resize((size, size), Image.Resampling.BILINEAR),
                num_inference_steps=SETTINGS.steps,
                guidance_scale=7.5,
                height=size,
                width=size,
                generator=torch.Generator("cpu").manual_seed(seed),
                output_type="np",
            ).images[0]
        )
    np.testing.assert_allclose(batched, np.stack(expected), atol=ATOL, rtol=0)
    without = _stock_one(stock, PROMPTS[0], 0.5, SEEDS[0], images[0])
    assert np.abs(without - expected[0]).max() > 100 * ATOL  # the negative prompt changes the picture
