"""The ``ip-adapter-plus`` and ``sdxl-ip-adapter`` generators (tiny models, CPU).

Batched rows with per-image lambdas are compared with diffusers' stock pipelines called one image at a time
with ``set_ip_adapter_scale``, at the SD engine's tolerance (``test_generation_engine.py``: float32, pixels in
[0, 1], batched and one-by-one differ only by summation order). Then: the generators' config defaults and
manifest settings, the real stages (data -> generate) with resume, and loading by the published Hub ids from
tiny checkpoints saved in the published folder layouts.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from dalda.config import GenerationConfig, ModelsConfig, config_to_yaml
from dalda.configure import build_config, load_config
from dalda.generators import GENERATORS, generator_settings
from dalda.generators.ip_adapter_engine import GenerationEngine
from dalda.generators.settings import IPAdapterSettings
from dalda.generators.sdxl_engine import SDXLGenerationEngine
from dalda.io import read_jsonl
from dalda.models import ModelLoadError
from dalda.models.sd import load_sd_ip_adapter_pipeline, load_sd_ip_adapter_plus_pipeline
from dalda.models.sdxl import load_sdxl_ip_adapter_pipeline
from dalda.pipeline import run_pipeline

ATOL = 1e-4
MODELS = ModelsConfig(profile="tiny", device="cpu")
SETTINGS = IPAdapterSettings(resolution=32, steps=2, negative_prompt="")  # the stock calls below pass none
CHECKPOINTS = SETTINGS.checkpoints()
PROMPTS = ["a photo of a cat", "a dog on the grass", "a red car at night"]
SCALES = [0.0, 0.5, 1.0]
SEEDS = [21, 22, 23]
KINDS = {
    "ip-adapter-plus": (load_sd_ip_adapter_plus_pipeline, GenerationEngine),
    "sdxl-ip-adapter": (load_sdxl_ip_adapter_pipeline, SDXLGenerationEngine),
}


def _references(count: int, offset: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(offset)
    return [Image.fromarray(rng.integers(0, 255, (40 + 8 * i, 48, 3), dtype=np.uint8)) for i in range(count)]


@pytest.fixture(scope="module", params=sorted(KINDS))
def kind(request):
    """(engine, stock pipeline) of one generator: the same deterministic tiny weights, loaded twice."""
    load, engine_class = KINDS[request.param]
    return request.param, engine_class(load(MODELS, CHECKPOINTS), SETTINGS), load(MODELS, CHECKPOINTS)


def _stock_one(pipe, prompt: str, scale: float, seed: int, image: Image.Image) -> np.ndarray:
    """The stock pipeline, one image per call, as a user of diffusers would make it (SDXL: its default
    size/crop conditioning)."""
    pipe.set_ip_adapter_scale(scale)
    size = SETTINGS.resolution
    return pipe(
        prompt=prompt,
        ip_adapter_image=image.resize((size, size), Image.Resampling.BILINEAR),
        num_inference_steps=SETTINGS.steps,
        guidance_scale=SETTINGS.guidance_scale,
        height=size,
        width=size,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="np",
    ).images[0]


def test_batched_per_image_lambda_equals_one_by_one_stock_pipeline(kind) -> None:
    _, engine, stock = kind
    images = _references(3)
    batched = engine.generate(PROMPTS, SCALES, SEEDS, engine.encode_references(images), output_type="np")
    one_by_one = np.stack([_stock_one(stock, *row) for row in zip(PROMPTS, SCALES, SEEDS, images)])
    np.testing.assert_allclose(batched, one_by_one, atol=ATOL, rtol=0)
    # lambda must change the picture: row 2 again with lambda 0 differs by far more than the tolerance
    assert np.abs(_stock_one(stock, PROMPTS[2], 0.0, SEEDS[2], images[2]) - one_by_one[2]).max() > 100 * ATOL


def test_each_image_depends_only_on_its_own_reference(kind) -> None:
    _, engine, _ = kind
    first, second = _references(3), _references(3, offset=9)
    swapped = [first[0], second[1], first[2]]
    scales = [0.9, 0.9, 0.9]
    out_first = engine.generate(PROMPTS, scales, SEEDS, engine.encode_references(first), output_type="np")
    out_swapped = engine.generate(PROMPTS, scales, SEEDS, engine.encode_references(swapped), output_type="np")
    np.testing.assert_allclose(out_swapped[[0, 2]], out_first[[0, 2]], atol=ATOL, rtol=0)
    assert np.abs(out_swapped[1] - out_first[1]).max() > 100 * ATOL


def test_plus_feeds_patch_tokens_through_the_resampler() -> None:
    from dalda.models.ip_adapter import SHAPES

    engine = GenerationEngine(load_sd_ip_adapter_plus_pipeline(MODELS, CHECKPOINTS), SETTINGS)
    encoder = engine.pipe.image_encoder.config
    patches = (encoder.image_size // encoder.patch_size) ** 2 + 1  # patch tokens + CLS
    prompt = engine.encode_references(_references(1))[0]
    assert prompt.cond[0].shape == (patches, encoder.hidden_size)  # penultimate hidden states, not a pooled vector
    assert prompt.uncond[0].abs().sum() > 0  # the encoding of an all-zero input, as diffusers makes it for "plus"
    projection = engine.pipe.unet.encoder_hid_proj.image_projection_layers[0]
    assert projection(prompt.cond[0][None]).shape[1] == SHAPES["tiny"]["plus"]["num_queries"]


def test_cpu_offload_needs_cuda() -> None:
    if torch.cuda.is_available():
        pytest.skip("checks the CPU-only error")
    with pytest.raises(ValueError, match="generation.cpu_offload=model needs a CUDA device"):
        SDXLGenerationEngine(
            load_sdxl_ip_adapter_pipeline(MODELS, CHECKPOINTS), SETTINGS, GenerationConfig(cpu_offload="model")
        )


def test_plus_refuses_a_plain_adapter_file() -> None:
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    from dalda.models.ip_adapter import expect_projection

    plain = load_sd_ip_adapter_pipeline(MODELS, CHECKPOINTS)
    with pytest.raises(ModelLoadError, match="generator.ip_adapter_weight='ip-adapter_sd15.bin' holds a ImageProjection"):
        expect_projection(plain, IPAdapterPlusImageProjection, CHECKPOINTS, "a plus one")


# ------------------------------------------------------------------------------------------ config, manifest


def test_each_generator_brings_its_checkpoints_and_resolution_unless_the_config_sets_them(tmp_path) -> None:
    plus = build_config(overrides=["generator.name=ip-adapter-plus"]).generator
    assert (plus.sd_model, plus.ip_adapter_subfolder, plus.ip_adapter_weight) == (
        "stable-diffusion-v1-5/stable-diffusion-v1-5", "models", "ip-adapter-plus_sd15.safetensors"
    )
    assert plus.resolution == 512 and plus.image_encoder_subfolder == "models/image_encoder"
    assert plus.vae == "stabilityai/sd-vae-ft-mse" and (plus.scheduler, plus.steps) == ("ddim", 30)
    xl = build_config(overrides=["generator.name=sdxl-ip-adapter"])
    assert (xl.generator.sd_model, xl.generator.vae, xl.generator.ip_adapter_subfolder) == (
        "stabilityai/stable-diffusion-xl-base-1.0", None, "sdxl_models"
    )
    assert xl.generator.ip_adapter_weight == "ip-adapter_sdxl_vit-h.safetensors"
    assert xl.generator.resolution == 1024 and xl.generator.image_encoder_subfolder == "models/image_encoder"
    plain = build_config().generator
    assert (plain.sd_model, plain.resolution) == ("CompVis/stable-diffusion-v1-4", 512)

    chosen = build_config(
        overrides=[
            "generator.name=sdxl-ip-adapter", "generator.resolution=768", "generator.vae=madebyollin/sdxl-vae-fp16-fix"
        ]
    ).generator
    assert (chosen.resolution, chosen.vae) == (768, "madebyollin/sdxl-vae-fp16-fix")
    assert chosen.sd_model == "stabilityai/stable-diffusion-xl-base-1.0"

    # a run directory's config.yaml keeps the resolved values when it is read back
    path = tmp_path / "config.yaml"
    path.write_text(config_to_yaml(xl))
    again = load_config(path)
    assert again.generator.resolution == 1024 and again.generator.ip_adapter_subfolder == "sdxl_models"
    assert yaml.safe_load(path.read_text())["generator"]["resolution"] == 1024


def test_manifest_settings_name_the_adapter_and_sdxl_size_conditioning() -> None:
    plus = build_config(overrides=["generator.name=ip-adapter-plus"])
    settings = GENERATORS.get("ip-adapter-plus").manifest_settings(plus)
    assert settings["ip_adapter"] == "h94/IP-Adapter/models/ip-adapter-plus_sd15.safetensors"
    assert settings["sd_model"] == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    xl = build_config(overrides=["generator.name=sdxl-ip-adapter"])
    settings = GENERATORS.get("sdxl-ip-adapter").manifest_settings(xl)
    assert settings["ip_adapter"] == "h94/IP-Adapter/sdxl_models/ip-adapter_sdxl_vit-h.safetensors"
    assert settings["resolution"] == 1024 and settings["vae"] is None
    assert (settings["original_size"], settings["target_size"], settings["crops_coords_top_left"]) == (
        [1024, 1024], [1024, 1024], [0, 0]
    )


# ------------------------------------------------------------------------------------------------ the stages


def _stage_config(tmp_path, name: str):
    return build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo"), "shots": 1},
            "models": {"profile": "tiny", "device": "cpu"},
            "plan": {"images_per_real": 2},
            "prompts": {"num_prompts": 2},
            "generation": {"batch_size": 3},
            "generator": {"name": name, "resolution": 32, "steps": 2},
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_real_stages_plan_and_generate_with_each_generator_and_resume(tmp_path, name) -> None:
    config = _stage_config(tmp_path, name)
    run = run_pipeline(config, ["data", "score", "prompts", "plan", "generate"])
    plan = read_jsonl(run.plan)
    manifest = {line["row_id"]: line for line in read_jsonl(run.manifest)}
    assert sorted(manifest) == [row["row_id"] for row in plan] and len(plan) >= 4
    expected = GENERATORS.get(name).manifest_settings(config)
    for row in plan:
        line = manifest[row["row_id"]]
        assert row["generator"] == name and line["generator"] == name
        assert line["ip_scale"] == row["ip_scale"] and line["seed"] == row["seed"]
        assert all(line[key] == value for key, value in expected.items() if not isinstance(value, dict))
    assert len({row["ip_scale"] for row in plan}) > 1  # AGS: lambdas differ within the run

    victim = run.synthetic / manifest[plan[1]["row_id"]]["file_name"]
    before = np.asarray(Image.open(victim), dtype=np.int16)
    victim.unlink()
    run_pipeline(config, ["generate"])  # resumes: only the missing row, alone in its batch this time
    assert len(read_jsonl(run.manifest)) == len(plan)
    # same seed and lambda, same picture (at most one 8-bit level of rounding, as for the SD engine)
    assert np.abs(np.asarray(Image.open(victim), dtype=np.int16) - before).max() <= 1


@pytest.mark.slow
def test_two_processes_share_the_sdxl_rows_without_overlap(tmp_path) -> None:
    """The generation stage's sharding (torchrun, two CPU processes, as ``test_generation_stage.py`` does for SD)
    with the SDXL engine: each process builds its own engine from the run's config.yaml."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    config = _stage_config(tmp_path, "sdxl-ip-adapter")
    run = run_pipeline(config, ["data", "score", "prompts", "plan"])
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, ACCELERATE_USE_CPU="true", PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "dalda.generation", str(run.root),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    shares = re.findall(r"process \d/2 generates (\d+) rows", result.stderr)
    assert len(shares) == 2 and all(int(count) > 0 for count in shares), result.stderr[-3000:]
    plan, manifest = read_jsonl(run.plan), read_jsonl(run.manifest)
    assert sorted(line["row_id"] for line in manifest) == [row["row_id"] for row in plan]
    assert {line["generator"] for line in manifest} == {"sdxl-ip-adapter"}
    assert {line["original_size"][0] for line in manifest} == {32}


# ------------------------------------------------------------------------------- published ids and layouts


def test_loading_by_published_ids_from_tiny_checkpoints_in_the_published_layouts(tmp_path, monkeypatch) -> None:
    import huggingface_hub.constants

    from tiny_checkpoints import as_hub_cache, write_tiny_beyond_checkpoints

    cache = as_hub_cache(write_tiny_beyond_checkpoints(tmp_path / "checkpoints"), tmp_path / "hub")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    for name, (load, _) in KINDS.items():
        # nothing but the generator and offline: every id, subfolder and file name is the generator's default
        config = build_config({"generator": {"name": name}, "models": {"offline": True, "device": "cpu"}})
        loaded, tiny = load(config.models, generator_settings(config).checkpoints()), load(MODELS, CHECKPOINTS)
        for part in ("unet", "vae", "text_encoder", "image_encoder"):
            ours, theirs = getattr(loaded, part).state_dict(), getattr(tiny, part).state_dict()
            assert ours.keys() == theirs.keys(), (name, part)
            assert all(torch.equal(ours[key], theirs[key]) for key in ours), (name, part)
