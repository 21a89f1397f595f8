"""``train.protocol``'s choices outside the probes (``dalda.protocol``), each through the code that uses it.

Under ``authors``: BILINEAR resizes, squashed textual-inversion images, float32 scorer and probes, the authors'
Caltech-101 texts and the Base Prompt with underscores; under ``fast`` dalda's earlier choices (docs/protocol.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from dalda.configure import build_config, rebuild
from dalda.config import base_prompts
from dalda.data.stage import run_data_stage
from dalda.generation.stage import PngWriter
from dalda.generators import GENERATORS
from dalda.models.device import resolve_dtype
from dalda.pipeline import prepare_run
from dalda.protocol import probe_models, protocol_choices
import dalda.scorers.clip_forward  # noqa: F401  (bound to the real load_clip before any test patches it)

_CUDA = torch.device("cuda")


def _protocol(config, protocol: str):
    return rebuild(config, {"train": {"protocol": protocol}})


def _gradient(width: int, height: int) -> Image.Image:
    values = bytes((x * 37 + y * 11 + c * 50) % 256 for y in range(height) for x in range(width) for c in range(3))
    return Image.frombytes("RGB", (width, height), values)


def test_the_img2img_start_image_is_resized_bilinear_under_authors(tiny_config):
    image = _gradient(37, 23)
    for protocol, resample in (("authors", Image.Resampling.BILINEAR), ("fast", Image.Resampling.BICUBIC)):
        config = _protocol(rebuild(tiny_config, {"generator": {"name": "real-guidance"}}), protocol)
        engine = GENERATORS.get("real-guidance").build(config, prepare_run(config), config.models)
        size = engine.settings.resolution
        assert engine.encode_references([image])[0].tobytes() == image.resize((size, size), resample).tobytes()
    assert Image.Resampling.BILINEAR != Image.Resampling.BICUBIC


def test_the_image_prompt_resize_follows_the_protocol(tiny_config):
    for protocol, resample in (("authors", Image.Resampling.BILINEAR), ("fast", Image.Resampling.BICUBIC)):
        config = _protocol(tiny_config, protocol)
        engine = GENERATORS.get("ip-adapter").build(config, prepare_run(config), config.models)
        assert engine.resample == resample


def test_the_output_goes_back_to_the_source_size_bilinear(tmp_path):
    from dalda.artefacts import ManifestLine
    from dalda.rundir import RunDir

    image = _gradient(64, 64)
    for protocol, resample in (("authors", Image.Resampling.BILINEAR), ("fast", Image.Resampling.BICUBIC)):
        run = RunDir(tmp_path / protocol)
        run.synthetic.mkdir(parents=True)
        writer = PngWriter(run, run.manifest, True, 0, 1, protocol_choices(protocol).resample)
        try:
            writer.submit([(image, (30, 20), ManifestLine("000000.png", row_id=0))])
        finally:
            writer.close()
        with Image.open(run.synthetic / "000000.png") as written:
            assert written.convert("RGB").tobytes() == image.resize((30, 20), resample).tobytes()


def test_scorer_and_probes_load_in_float32_under_authors_even_on_cuda(tiny_config, monkeypatch):
    authors, fast = _protocol(tiny_config, "authors"), _protocol(tiny_config, "fast")
    assert resolve_dtype(probe_models(authors), _CUDA) == torch.float32
    assert resolve_dtype(probe_models(fast), _CUDA) == torch.float16
    explicit = rebuild(authors, {"models": {"dtype": "bfloat16"}})
    assert resolve_dtype(probe_models(explicit), _CUDA) == torch.bfloat16  # an explicit dtype wins

    import dalda.models.clip as clip_models
    import dalda.models.resnet50 as resnet_models
    from dalda.probes import PROBES

    seen: dict[str, str] = {}

    class Loaded(Exception):
        pass

    def recording(name):
        def load(cfg, *args, **kwargs):
            seen[name] = cfg.dtype
            raise Loaded

        return load

    monkeypatch.setattr(clip_models, "load_clip", recording("clip"))
    monkeypatch.setattr(resnet_models, "load_resnet50_backbone", recording("resnet50"))
    for name in ("clip", "resnet50"):
        with pytest.raises(Loaded):
            PROBES.get(name).load_backbone(authors, 0)
    assert seen == {"clip": "float32", "resnet50": "float32"}

    from dalda.scoring.stage import run_score_stage

    run = prepare_run(authors)
    run_data_stage(authors, run)
    monkeypatch.setattr("dalda.scorers.clip_forward.load_clip", recording("scorer"))
    with pytest.raises(Loaded):
        run_score_stage(authors, run)
    assert seen["scorer"] == "float32"


def _fake_caltech(root: Path) -> None:
    base = root / "caltech101" / "101_ObjectCategories"
    for folder in ("BACKGROUND_Google", "Faces", "Faces_easy", "Leopards", "car_side", "water_lilly"):
        for n in range(1, 5):
            (base / folder).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8), (n * 40, 20, 60)).save(base / folder / f"image_{n:04d}.jpg")


@pytest.mark.parametrize(
    ("protocol", "names"),
    [
        ("authors", ["faces", "faces easy", "leopards", "car side", "water lilly"]),
        ("fast", ["portrait", "face", "leopard", "car side", "water lily"]),
    ],
)
def test_caltech_class_texts_follow_the_protocol(tmp_path, protocol, names):
    from dalda.datasets.caltech101 import CALTECH101_LLM_NAMES

    _fake_caltech(tmp_path / "data")
    config = build_config(
        {"out_dir": str(tmp_path / "run"), "data": {"dataset": "caltech101", "root": str(tmp_path / "data"), "shots": 1},
         "train": {"protocol": protocol}}
    )  # fmt: skip
    split = run_data_stage(config, prepare_run(config))
    assert split.classes == names
    # the LLM alone still gets the noun phrases that tell the two face folders apart
    faces, faces_easy = names[0], names[1]
    assert (CALTECH101_LLM_NAMES[faces], CALTECH101_LLM_NAMES[faces_easy]) == ("portrait of a person", "close-up face")


def test_base_prompt_has_the_authors_underscores_under_authors(tiny_config):
    from dalda.planning.stage import run_plan_stage
    from dalda.scoring.stage import run_score_stage
    from dalda.artefacts import Split

    assert base_prompts(["american bulldog"], underscores=True) == {"american bulldog": ["a photo of a american_bulldog"]}
    assert base_prompts(["american bulldog"]) == {"american bulldog": ["a photo of a american bulldog"]}
    for protocol, expected in (("authors", "a photo of a two_words"), ("fast", "a photo of a two words")):
        config = rebuild(_protocol(tiny_config, protocol), {"prompts": {"source": "base"}, "plan": {"images_per_real": 1}})
        run = prepare_run(config)
        split = run_data_stage(config, run)
        run_score_stage(config, run)
        Split.write(split.__class__(**{**split.__dict__, "classes": ["two words", *split.classes[1:]]}), run)
        rows = run_plan_stage(config, run)
        assert {row.prompt.removeprefix("best quality, high quality, ") for row in rows if row.label == 0} == {expected}
