"""Adding a generator is one spec plus one ``GENERATORS.register`` call: a toy generator with its own settings,
defined and registered here, runs through the real plan and generate stages, with no other file edited."""

from collections.abc import Sequence
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from pydantic import Field

from dalda.artefacts import PlanRow
from dalda.configure import build_config
from dalda.data.stage import run_data_stage
from dalda.generators import GENERATORS, PlanInputs, Preparation
from dalda.generation.manifest import RegenerationRefused
from dalda.generation.stage import run_generate_stage
from dalda.io import read_jsonl
from dalda.pipeline import prepare_run
from dalda.planning.stage import run_plan_stage
from dalda.settings import EntrySettings


def colour(seed: int, weight: float) -> tuple[int, int, int]:
    """The toy engine's whole output: one colour from the row's seed and weight."""
    return (seed % 256, (seed // 256) % 256, round(weight * 255))


class _WordTokenizer:
    model_max_length = 77

    def __call__(self, text: str, truncation: bool = False) -> SimpleNamespace:
        return SimpleNamespace(input_ids=text.split())


class SolidColourEngine:
    tokenizer = _WordTokenizer()

    def __init__(self, size: int) -> None:
        self.size = size

    def encode_references(self, images: Sequence[Image.Image]) -> list[None]:
        return [None for _ in images]  # the reference image is ignored

    def generate(self, prompts, weights, seeds, references) -> list[Image.Image]:
        return [Image.new("RGB", (self.size, self.size), colour(s, w)) for s, w in zip(seeds, weights)]


class SolidColourSettings(EntrySettings):
    size: int = Field(24, ge=1, description="Side of every (square) image, in pixels.")


class SolidColourGenerator:
    name = "solid-colour"
    title = "Solid colour"
    uses_prompts = False
    uses_guidance = False
    settings_model = SolidColourSettings

    def plan_rows(self, config, inputs: PlanInputs) -> list[PlanRow]:
        rows = []
        for source in inputs.sources:
            for m in range(config.plan.images_per_real):
                rows.append(
                    PlanRow(
                        row_id=len(rows), m=m, prompt=inputs.prompts[source.class_name][0], ip_scale=None,
                        strength=float(inputs.streams.weight.uniform()), seed=inputs.streams.next_seed(),
                        generator=self.name, **asdict(source),
                    )
                )
        return rows

    def manifest_settings(self, config) -> dict:
        return {"size": SolidColourSettings.of(config.generator).size}

    def row_weight(self, row: PlanRow) -> float:
        return row.strength

    def preparation(self, config, run, rows) -> Preparation:
        """One unit, made once per run before generation (several processes would share the units out)."""
        marker = run.root / "prepared"

        def make(units, models) -> None:
            marker.write_text(str(len(rows)))

        return Preparation("row count", ("rows",), lambda unit: marker.is_file(), make)

    def build(self, config, run, models) -> SolidColourEngine:
        return SolidColourEngine(SolidColourSettings.of(config.generator).size)


@pytest.fixture
def solid_colour():
    GENERATORS.register("solid-colour", SolidColourGenerator())
    yield
    GENERATORS.unregister("solid-colour")


def test_a_registered_toy_generator_runs_through_plan_and_generate(tmp_path, solid_colour):
    config = build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo"), "shots": 2},
            "models": {"profile": "tiny"},
            "plan": {"images_per_real": 2},
            "generation": {"resize_to_source": False, "batch_size": 3},
            "generator": {"name": "solid-colour", "size": 16},
        }
    )
    run = prepare_run(config)
    run_data_stage(config, run)
    rows = run_plan_stage(config, run)  # no scores and no prompts needed: it uses neither
    assert rows and {row.generator for row in rows} == {"solid-colour"}
    assert {row.prompt for row in rows if row.class_name == "circle"} == {"a photo of a circle"}

    summary = run_generate_stage(config, run)
    assert summary.generated == len(rows) and not summary.failed
    assert (run.root / "prepared").read_text() == str(len(rows))
    manifest = read_jsonl(run.manifest)
    assert [line["row_id"] for line in manifest] == [row.row_id for row in rows]
    for row, line in zip(rows, manifest):
        assert line["generator"] == "solid-colour" and line["size"] == 16 and line["seed"] == row.seed
        image = np.asarray(Image.open(run.synthetic / line["file_name"]))
        assert image.shape == (16, 16, 3) and (image == colour(row.seed, row.strength)).all()

    assert run_generate_stage(config, run).generated == 0  # resumes: every row already done
    assert build_config({"generator": {"name": "solid-colour"}}).generator.size == 24  # the generator's default
    bigger = build_config(config.model_dump(mode="json"), ["generator.size=20"])
    with pytest.raises(RegenerationRefused, match="changed size"):  # the entry's own setting names the cause
        run_generate_stage(bigger, run)
    bigger = build_config(config.model_dump(mode="json"), ["generator.size=20", "regenerate=true"])
    assert run_generate_stage(bigger, run).generated == len(rows)  # --regenerate: a changed setting remakes them
