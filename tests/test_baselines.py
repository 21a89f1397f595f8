"""Baseline generation (Real Guidance, DA-Fusion): img2img rows through the generation stage."""

import numpy as np
import pytest
from PIL import Image

from dalda.generators.img2img import Img2ImgEngine, steps_for
from dalda.config import ModelsConfig
from dalda.configure import rebuild
from dalda.images import load_rgb
from dalda.data.stage import run_data_stage
from dalda.generation.stage import run_generate_stage
from dalda.io import read_jsonl
from dalda.generators.settings import StableDiffusionSettings
from dalda.models.sd import load_img2img_pipeline
from dalda.pipeline import prepare_run
from dalda.planning.stage import run_plan_stage

SETTINGS = StableDiffusionSettings(resolution=32, steps=4, guidance_scale=7.5)


def test_mixed_strength_batch_equals_one_row_at_a_time():
    models = ModelsConfig(profile="tiny")
    engine = Img2ImgEngine(load_img2img_pipeline(models, SETTINGS.checkpoints()), SETTINGS)
    rng = np.random.default_rng(0)
    starts = engine.encode_references(
        [Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)) for _ in range(3)]
    )
    prompts, strengths, seeds = ["a photo of a a", "a photo of a b", "a photo of a c"], [0.25, 1.0, 0.25], [1, 2, 3]
    batch = engine.generate(prompts, strengths, seeds, starts)
    for index in range(3):
        alone = engine.generate([prompts[index]], [strengths[index]], [seeds[index]], [starts[index]])[0]
        difference = np.abs(np.asarray(alone, float) - np.asarray(batch[index], float)).max()
        assert difference <= 1  # one 8-bit level: batching only changes float rounding
    assert batch[0].size == (32, 32)


def test_low_strength_with_few_steps_still_runs_one_step():
    assert steps_for(0.25, 2) == 4 and steps_for(0.3, 2) == 4 and steps_for(0.5, 30) == 30


@pytest.mark.parametrize("generator", ["real-guidance", "da-fusion"])
def test_baseline_plan_generates_through_the_stage(tiny_config, generator):
    own = {"ti_steps": 2, "ti_batch_size": 1, "ti_resolution": 32} if generator == "da-fusion" else {}
    config = rebuild(tiny_config, {"generator": {"name": generator, "resolution": 32, "steps": 4, **own}})
    run = prepare_run(config)
    split = run_data_stage(config, run)
    rows = run_plan_stage(config, run)
    summary = run_generate_stage(config, run)
    assert summary.generated == len(rows) and not summary.failed
    manifest = read_jsonl(run.manifest)
    assert sorted(line["row_id"] for line in manifest) == [row.row_id for row in rows]
    assert {line["generator"] for line in manifest} == {generator}
    assert all(line["ip_scale"] is None and line["strength"] > 0 for line in manifest)
    for line in manifest:  # resized back to the source image's size, readable
        assert load_rgb(run.synthetic / line["file_name"]).size == load_rgb(run.root / line["source_path"]).size
    if generator == "da-fusion":
        assert len(list(run.textual_inversion.glob("*.safetensors"))) == len(split.classes)


def test_a_plan_for_another_generator_is_refused(tiny_config):
    run = prepare_run(tiny_config)
    run_data_stage(tiny_config, run)
    run_plan_stage(rebuild(tiny_config, {"prompts": {"source": "base"}, "guidance": {"strategy": "random"}}), run)
    other = rebuild(tiny_config, {"generator": {"name": "real-guidance"}})
    with pytest.raises(ValueError, match="re-run `dalda plan`"):
        run_generate_stage(other, run)


def test_generators_hand_their_engines_the_authors_sampling_defaults(tiny_config):
    from diffusers import DDIMScheduler, PNDMScheduler

    from dalda.generators import GENERATORS
    from dalda.generators.settings import IP_ADAPTER_NEGATIVE_PROMPT

    baseline = rebuild(tiny_config, {"generator": {"name": "real-guidance"}})
    engine = GENERATORS.get("real-guidance").build(baseline, prepare_run(baseline), baseline.models)
    assert isinstance(engine.pipe.scheduler, PNDMScheduler)  # the DA-Fusion code base: PNDM, 50 steps, no negative
    assert engine.settings.steps == 50 and not engine.settings.negative_prompt
    manifest = GENERATORS.get("real-guidance").manifest_settings(baseline)
    assert (manifest["scheduler"], manifest["steps"], manifest["negative_prompt"]) == ("pndm", 50, "")

    ip = GENERATORS.get("ip-adapter")
    assert ip.settings(tiny_config).negative_prompt == IP_ADAPTER_NEGATIVE_PROMPT
    assert ip.manifest_settings(tiny_config)["negative_prompt"] == IP_ADAPTER_NEGATIVE_PROMPT
    assert ip.manifest_settings(tiny_config)["scheduler"] == "ddim"

    changed = rebuild(baseline, {"generator": {"scheduler": "ddim", "steps": 7, "negative_prompt": "blurry"}})
    engine = GENERATORS.get("real-guidance").build(changed, prepare_run(changed), changed.models)
    assert isinstance(engine.pipe.scheduler, DDIMScheduler)
    assert (engine.settings.steps, engine.settings.negative_prompt) == (7, "blurry")
    off = rebuild(tiny_config, {"generator": {"negative_prompt": ""}})
    assert ip.manifest_settings(off)["negative_prompt"] == ""


def test_img2img_negative_prompt_reaches_the_pipeline(tiny_config):
    import torch

    models = ModelsConfig(profile="tiny")
    pipe = load_img2img_pipeline(models, SETTINGS.checkpoints())
    negative = Img2ImgEngine(pipe, SETTINGS.model_copy(update={"negative_prompt": "blurry, dark"}))
    start = negative.encode_references([Image.fromarray(np.full((32, 32, 3), 120, dtype=np.uint8))])
    ours = np.asarray(negative.generate(["a photo of a cat"], [0.5], [3], start)[0], float)
    stock = pipe(
        prompt=["a photo of a cat"], negative_prompt=["blurry, dark"], image=start, strength=0.5,
        num_inference_steps=steps_for(0.5, SETTINGS.steps), guidance_scale=SETTINGS.guidance_scale,
        generator=[torch.Generator("cpu").manual_seed(3)],
    ).images[0]
    assert np.abs(ours - np.asarray(stock, float)).max() <= 1
    plain = Img2ImgEngine(pipe, SETTINGS).generate(["a photo of a cat"], [0.5], [3], start)[0]
    assert np.abs(ours - np.asarray(plain, float)).max() > 1
