"""Each generator owns its settings: its own defaults (the ones users got before), old configs read to the
settings they ran with, runs made before still count as done, and the report says what each run really ran."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dalda.config import ConfigError, config_to_yaml
from dalda.configure import build_config, load_config, rebuild
from dalda.generation.stage import run_generate_stage
from dalda.generators import GENERATORS, generator_settings
from dalda.generators.settings import IP_ADAPTER_NEGATIVE_PROMPT
from dalda.io import read_jsonl
from dalda.pipeline import run_pipeline
from dalda.report.stage import build_report

FIXTURE = Path(__file__).parent / "fixtures" / "run_made_by_6cff4a0"
SD14, VAE, REPO = "CompVis/stable-diffusion-v1-4", "stabilityai/sd-vae-ft-mse", "h94/IP-Adapter"
IP_ADAPTER = {
    "sd_model": SD14, "vae": VAE, "scheduler": "ddim", "steps": 30, "guidance_scale": 7.5, "resolution": 512,
    "negative_prompt": IP_ADAPTER_NEGATIVE_PROMPT, "ip_adapter_repo": REPO, "ip_adapter_subfolder": "models",
    "ip_adapter_weight": "ip-adapter_sd15.bin", "image_encoder_subfolder": "models/image_encoder",
}  # fmt: skip
IMG2IMG = {
    "sd_model": SD14, "vae": VAE, "scheduler": "pndm", "steps": 50, "guidance_scale": 7.5, "resolution": 512,
    "negative_prompt": "",
}  # fmt: skip
TEXTUAL_INVERSION = {
    "ti_steps": 1000, "ti_batch_size": 4, "ti_learning_rate": 5e-4, "ti_scale_lr": True, "ti_resolution": 512,
    "ti_gradient_checkpointing": True, "ti_init_word": "the",
}  # fmt: skip
DEFAULTS = {
    "ip-adapter": IP_ADAPTER,
    "ip-adapter-plus": {
        **IP_ADAPTER, "sd_model": "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "ip_adapter_weight": "ip-adapter-plus_sd15.safetensors",
    },
    "sdxl-ip-adapter": {
        **IP_ADAPTER, "sd_model": "stabilityai/stable-diffusion-xl-base-1.0", "vae": None,
        "ip_adapter_subfolder": "sdxl_models", "ip_adapter_weight": "ip-adapter_sdxl_vit-h.safetensors",
        "resolution": 1024,
    },
    "real-guidance": {**IMG2IMG, "strength": 0.5},
    "da-fusion": {**IMG2IMG, **TEXTUAL_INVERSION, "strengths": [0.25, 0.5, 0.75, 1.0]},
}  # fmt: skip
"""What each generator ran with by default before it owned its settings (the central fields' defaults, the
generators' config_defaults, and the sampler and negative prompt each one resolved)."""


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_each_generator_holds_the_defaults_users_got_before(name):
    config = build_config({"generator": {"name": name}})
    assert config.generator.entry_values() == DEFAULTS[name]
    assert yaml.safe_load(config_to_yaml(config))["generator"] == {"name": name, **DEFAULTS[name]}
    assert set(type(config.generation).model_fields) == {
        "batch_size", "resize_to_source", "attention_slicing", "vae_tiling", "vae_slicing", "channels_last",
        "compile", "png_compress_level", "writer_threads", "cpu_offload",
    }  # fmt: skip
    assert not {"sd_model", "vae", "ip_adapter_repo"} & set(type(config.models).model_fields)


def test_the_fixture_run_loads_to_the_settings_its_images_were_made_with():
    """An ip-adapter run written before the change: its config reads (old spellings, one warning) to the settings
    its manifest lines record, so the same settings would make the same images."""
    with pytest.warns(DeprecationWarning) as caught:
        config = load_config(FIXTURE / "config.yaml")
    assert len(caught) == 1
    assert "generation.steps is now generator.steps" in str(caught[0].message)
    assert "models.sd_model is now generator.sd_model" in str(caught[0].message)
    settings = generator_settings(config)
    assert (settings.scheduler, settings.steps, settings.resolution) == ("ddim", 4, 64)  # not the old pndm, 50
    assert settings.negative_prompt == IP_ADAPTER_NEGATIVE_PROMPT
    recorded = read_jsonl(FIXTURE / "synthetic" / "metadata.jsonl")[0]
    ours = GENERATORS.get("ip-adapter").manifest_settings(config)
    assert {key: recorded.get(key) for key in ours if key != "revisions"} == {
        key: value for key, value in ours.items() if key != "revisions"
    }
    assert ours["revisions"] == {} and "revisions" not in recorded  # empty: left out of the line


def _old_layout(config) -> dict[str, Any]:
    """``config`` as dalda wrote config.yaml before each generator owned its settings: checkpoints under
    ``models``, the IP-Adapter generators' sampler under ``generation``, the baselines' under ``generator``."""
    values = config.model_dump(mode="json")
    settings = {**DEFAULTS["ip-adapter"], **values["generator"]}
    baseline = config.generator.name in ("real-guidance", "da-fusion")
    values["models"].update(
        {key: settings[key] for key in ("sd_model", "vae", "ip_adapter_repo", "ip_adapter_subfolder",
                                        "ip_adapter_weight", "image_encoder_subfolder")}  # fmt: skip
    )
    values["models"]["revisions"] = {}
    sampler = {"scheduler": "ddim", "steps": 30} if baseline else {k: settings[k] for k in ("scheduler", "steps")}
    values["generation"].update(
        {**sampler, "guidance_scale": settings["guidance_scale"], "resolution": settings["resolution"],
         "negative_prompt": None}  # fmt: skip
    )
    own = {"scheduler": settings["scheduler"], "steps": settings["steps"]} if baseline else {}
    values["generator"] = {
        "name": config.generator.name, "strength": 0.5, "da_fusion_strengths": [0.25, 0.5, 0.75, 1.0],
        **{key: settings.get(key, value) for key, value in TEXTUAL_INVERSION.items()}, "scheduler": "pndm",
        "steps": 50, **own,
    }  # fmt: skip
    return values


@pytest.mark.parametrize("name", ["ip-adapter", "da-fusion", "sdxl-ip-adapter"])
def test_old_config_files_load_to_the_same_effective_settings(name, tmp_path):
    own = {"ti_steps": 3} if name == "da-fusion" else {}
    config = build_config({"generator": {"name": name, "steps": 7, "resolution": 64, **own}})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(_old_layout(config)))
    with pytest.warns(DeprecationWarning):
        assert load_config(path) == config


def test_an_old_sampler_override_means_what_it_meant_for_the_generator_that_runs(tmp_path):
    """``-s generation.steps`` set the IP-Adapter generators' steps and did nothing for the img2img baselines."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"generator": {"name": "da-fusion", "steps": 12}}))
    with pytest.warns(DeprecationWarning, match=r"-s generation\.steps is now generator\.steps .*\(value dropped\)"):
        assert load_config(path, ["generation.steps=20"]).generator.steps == 12
    with pytest.warns(DeprecationWarning):
        assert load_config(path, ["generator.name=ip-adapter", "generation.steps=20"]).generator.steps == 20
    with pytest.warns(DeprecationWarning):
        assert build_config(overrides=["generation.scheduler=euler"]).generator.scheduler == "euler"


@pytest.mark.parametrize(
    ("old", "negative"), [(None, IP_ADAPTER_NEGATIVE_PROMPT), ("", ""), ("blurry", "blurry")]
)
def test_an_old_negative_prompt_null_meant_the_generators_own(old, negative):
    with pytest.warns(DeprecationWarning, match="generation.negative_prompt is now generator.negative_prompt"):
        assert build_config({"generation": {"negative_prompt": old}}).generator.negative_prompt == negative


def test_old_revision_keys_become_the_ids_their_fields_held_in_that_config(tmp_path):
    old = {"sd_model": "s1", "vae": "v1", "ip_adapter_repo": "r1", "clip_model": "c1"}
    with pytest.warns(DeprecationWarning, match="models.revisions is now models.revisions keyed by checkpoint id"):
        pinned = build_config({"models": {"revisions": old, "sd_model": "me/my-sd"}}).models.revisions
    assert pinned == {"me/my-sd": "s1", VAE: "v1", REPO: "r1", "openai/clip-vit-base-patch16": "c1"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"generator": {"name": "sdxl-ip-adapter"}}))
    with pytest.warns(DeprecationWarning, match=r"\(value dropped\)"):  # SDXL's own VAE: the vae pin was unused
        pinned = load_config(path, ["models.revisions={sd_model: s1, vae: v1}"]).models.revisions
    assert pinned == {"stabilityai/stable-diffusion-xl-base-1.0": "s1"}  # the file's generator, not the default
    with pytest.warns(DeprecationWarning):
        assert build_config(overrides=["models.revisions.sd_model=s2"]).models.revisions == {SD14: "s2"}
    new = {SD14: "abc", "google/siglip-base-patch16-224": "def"}  # any entry's checkpoint, by its id
    assert build_config({"models": {"revisions": new}}).models.revisions == new


def test_a_setting_of_another_generator_on_the_command_line_names_its_generator():
    with pytest.raises(ConfigError, match=r"generator\.ti_steps is a setting of generator\.name=da-fusion, not of "
                                          r"ip-adapter"):
        build_config(overrides=["generator.ti_steps=3"])
    with pytest.raises(ConfigError, match=r"generator\.strengths=\[1\.5\] must be a non-empty list of values in "
                                          r"\(0, 1\]"):
        build_config(overrides=["generator.name=da-fusion", "generator.strengths=[1.5]"])


HEAVY = ("torch", "diffusers", "transformers", "safetensors", "dalda.models")
"""What a generator entry module must not import at its top: torch and the libraries built on it, and the model
kit (every family module imports them)."""
HEAVY_OWN = ("ip_adapter_engine", "sdxl_engine", "img2img", "class_tokens", "textual_inversion", "per_sample_attention")
"""The generators' own modules that import torch (engines, textual inversion): imported inside ``build()``."""


def test_generator_entries_import_torch_only_when_they_build():
    package = Path(__file__).resolve().parents[1] / "src" / "dalda" / "generators"
    light = ["__init__", "spec", "settings", "placeholder_tokens", "ip_adapter", "ip_adapter_plus",
             "sdxl_ip_adapter", "real_guidance", "da_fusion"]  # fmt: skip
    heavy_own = tuple(f"dalda.generators.{name}" for name in HEAVY_OWN)
    for name in light:
        for node in ast.parse((package / f"{name}.py").read_text()).body:  # the module's top level only
            imported = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )
            for module in imported:
                assert not module.startswith(HEAVY) and module not in heavy_own, f"{name}.py imports {module}"
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, dalda.generators; "
         "print(sorted(m for m in ('diffusers', 'transformers') if m in sys.modules))"],  # fmt: skip
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert loaded == "[]"  # torch itself still comes with dalda.artefacts (its checkpoint records)


# ------------------------------------------------------------------------------------- runs made before


def _tiny(tmp_path: Path, name: str, **generator: Any):
    own = {"ti_steps": 1, "ti_batch_size": 1, "ti_resolution": 32} if name == "da-fusion" else {}
    return build_config(
        {
            "out_dir": str(tmp_path / name),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo"), "shots": 1},
            "models": {"profile": "tiny", "device": "cpu"},
            "prompts": {"source": "base", "num_prompts": 1},
            "guidance": {"strategy": "random"},
            "plan": {"images_per_real": 1},
            "generator": {"name": name, "resolution": 32, "steps": 2, **own, **generator},
        }
    )


@pytest.mark.parametrize("name", ["ip-adapter", "da-fusion"])
def test_a_run_made_before_the_change_generates_nothing_again(tmp_path, name):
    """A run whose config.yaml and manifest lines are in the old form (checkpoint and sampler fields where they
    were, every line with the old key set: a DA-Fusion line named the IP-Adapter too) counts as done."""
    config = _tiny(tmp_path, name)
    run = run_pipeline(config, ["data", "plan", "generate"])
    run.config.write_text(yaml.safe_dump(_old_layout(config)))
    lines = read_jsonl(run.manifest)
    old_keys = {"ip_adapter": f"{REPO}/models/ip-adapter_sd15.bin", "image_encoder": f"{REPO}/models/image_encoder"}
    run.manifest.write_text("".join(json.dumps({**old_keys, **line}) + "\n" for line in lines))
    with pytest.warns(DeprecationWarning):
        old = load_config(run.config)
    assert old == config
    summary = run_generate_stage(old, run)
    assert (summary.planned, summary.done_before, summary.generated) == (len(lines), len(lines), 0)
    assert [line["row_id"] for line in read_jsonl(run.manifest)] == [line["row_id"] for line in lines]
    changed = run_generate_stage(rebuild(config, {"generator": {"steps": 3}, "regenerate": True}), run)
    assert changed.generated == len(lines)  # a setting that decides the pixels still regenerates (--regenerate)


# ------------------------------------------------------------------------------------------ the report


@pytest.mark.slow
def test_the_report_header_shows_the_generator_that_ran_with_its_own_settings(tmp_path):
    """A tiny DA-Fusion run (few textual-inversion steps, its own sampler) reports PNDM, 50 steps and no
    IP-Adapter; an ip-adapter run in the same report names its IP-Adapter weight and image encoder."""
    runs = tmp_path / "runs"
    fusion = run_pipeline(_tiny(runs, "da-fusion", steps=50), ["data", "plan", "generate"])
    adapter = run_pipeline(_tiny(runs, "ip-adapter"), ["data", "plan", "generate"])
    assert {line["steps"] for line in read_jsonl(fusion.manifest)} == {50}
    page = build_report(runs).read_text()
    header = page[page.index("How the runs were made") :]
    rows = header[: header.index("</table>")].split("<tr>")
    (made_by_fusion,) = [row for row in rows if f"{fusion.root.name}</td>" in row]
    assert "da-fusion, pndm 50 steps, 32 px, guidance 7.5" in made_by_fusion
    assert f"SD {SD14}; VAE {VAE}; CLIP " in made_by_fusion and "IP-Adapter" not in made_by_fusion
    (made_by_adapter,) = [row for row in rows if f"{adapter.root.name}</td>" in row]
    assert "ip-adapter, ddim 2 steps, 32 px" in made_by_adapter
    assert f"IP-Adapter {REPO}/models/ip-adapter_sd15.bin; image encoder {REPO}/models/image_encoder" in made_by_adapter
