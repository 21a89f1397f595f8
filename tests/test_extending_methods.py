"""Adding a method is adding an entry, with no method table to edit (docs/extending.md, "Method"): a generator
without λ registered from user code is a method under its own name, one that takes λ runs the λ methods, and a
λ sampler adds ``<prompt source>-<its part>`` methods; each is what a grid cell runs and what its config reads
back as."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml

from dalda.configure import build_config
from dalda.experiments.spec import build_cells, load_spec
from dalda.generators import GENERATORS
from dalda.guidance import GUIDANCE, FixedSettings, SamplingContext
from dalda.guidance.fixed import BoundFixed
from dalda.methods import get_method, method_of, reference_for
from dalda.settings import NoSettings
from test_extending_generators import SolidColourGenerator


@pytest.fixture
def solid_colour():
    GENERATORS.register("solid-colour", SolidColourGenerator())
    yield
    GENERATORS.unregister("solid-colour")


def _grid(tmp_path: Path, methods: list) -> Path:
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({
        "name": "toy", "out_dir": str(tmp_path / "out"),
        "datasets": ["demo"], "methods": methods, "shots": [1], "trials": [0],
    }, sort_keys=False))  # fmt: skip
    return grid


def test_a_generator_without_lambda_is_a_method_named_by_it(solid_colour):
    choice = get_method("solid-colour")
    assert choice.overrides == {"generator": {"name": "solid-colour"}, "prompts": {"source": "base"}}
    config = build_config(choice.overrides)
    label = method_of(config, "template")
    assert (label.name, label.title, label.sampler) == ("solid-colour", "Solid colour", None)
    assert label.generator == "solid-colour"
    # Its name is its generator's whatever the prompts: the same generator with LLM prompts is still this method.
    assert method_of(build_config(choice.overrides, ["prompts.source=llm"])).name == "solid-colour"
    baselines = sorted([label, method_of(build_config(get_method("da-fusion").overrides)), method_of(build_config())],
                       key=lambda method: method.sort_key)  # fmt: skip
    assert [method.name for method in baselines] == ["da-fusion", "solid-colour", "llm-ags"]  # after the paper's


def test_a_grid_names_it_like_a_built_in_method(solid_colour, tmp_path: Path):
    cells = build_cells(load_spec(_grid(tmp_path, ["llm-ags", "solid-colour"])), tmp_path / "out")
    assert [cell.method for cell in cells] == ["llm-ags", "solid-colour"]
    toy = cells[1]
    assert toy.config.generator.name == "solid-colour" and {"plan", "generate", "train", "evaluate"} <= set(toy.stages)


@pytest.fixture
def weighted_colour():
    """The toy generator, but taking the per-image λ: registered from user code, after the built-ins."""
    generator = SolidColourGenerator()
    generator.name, generator.uses_guidance, generator.uses_prompts = "weighted-colour", True, True
    GENERATORS.register("weighted-colour", generator)
    yield
    GENERATORS.unregister("weighted-colour")


def test_a_generator_that_takes_lambda_gets_the_lambda_methods_with_no_extra_step(weighted_colour, tmp_path):
    chosen = "generator.name=weighted-colour"
    assert method_of(build_config(overrides=[chosen])).name == "llm-ags"
    assert method_of(build_config(overrides=[chosen]), "template").title == "Template Prompt + AGS"
    fixed = method_of(build_config(overrides=[chosen, "guidance.strategy=fixed", "guidance.fixed_scale=0.3"]))
    assert (fixed.name, fixed.title, fixed.generator, fixed.fixed_lambda) == (
        "llm-fixed-0.3", "LLM Prompt + λ=0.3", "weighted-colour", 0.3
    )
    with pytest.raises(ValueError, match="unknown method 'weighted-colour'"):
        get_method("weighted-colour")  # a generator that takes λ is an axis of the λ methods, not a method
    entry = {"name": "wc", "method": "llm-ags", "overrides": {"generator": {"name": "weighted-colour"}}}
    grid = _grid(tmp_path, [entry])
    (cell,) = build_cells(load_spec(grid), tmp_path / "out")  # the cell runs llm-ags: no conflict to report
    assert cell.config.generator.name == "weighted-colour"


@dataclass(frozen=True)
class MidpointSampler:
    """A toy λ sampler: every image at λ = 0.5, named ``mid`` in method names."""

    name: str = "midpoint"
    title: str = "Midpoint"
    settings_model: type[NoSettings] = NoSettings
    needs_scores: bool = False

    def method_part(self, settings: NoSettings) -> str:
        return "mid"

    def method_title(self, settings: NoSettings) -> str:
        return "λ midpoint"

    def method_settings(self, part: str) -> dict | None:
        return {} if part == "mid" else None

    def fixed_lambda(self, settings: NoSettings) -> float | None:
        return 0.5

    def bind(self, settings: NoSettings, context: SamplingContext) -> BoundFixed:
        return BoundFixed(FixedSettings(fixed_scale=0.5))


@pytest.fixture
def midpoint():
    GUIDANCE.register("midpoint", MidpointSampler())
    yield
    GUIDANCE.unregister("midpoint")


def test_a_sampler_registered_from_user_code_adds_its_methods(midpoint, tmp_path):
    choice = get_method("base-mid")
    assert choice.overrides["guidance"] == {"strategy": "midpoint"}
    assert choice.overrides["prompts"] == {"source": "base"}
    label = method_of(build_config(choice.overrides))
    assert (label.name, label.title) == ("base-mid", "Base Prompt + λ midpoint")
    assert (label.sampler, label.fixed_lambda) == ("midpoint", 0.5)
    template = method_of(build_config(get_method("llm-mid").overrides), "template")
    assert template.name == "template-mid" and reference_for([template]) is None  # only AGS is DALDA's recipe
    (cell,) = build_cells(load_spec(_grid(tmp_path, ["llm-mid"])), tmp_path / "out")
    assert cell.config.guidance.strategy == "midpoint"


def test_two_samplers_reading_the_same_part_are_refused(midpoint):
    GUIDANCE.register("midpoint-copy", replace(MidpointSampler(), name="midpoint-copy"))
    try:
        with pytest.raises(ValueError, match="'llm-mid' is ambiguous.*midpoint-copy"):
            get_method("llm-mid")
    finally:
        GUIDANCE.unregister("midpoint-copy")


def test_an_unregistered_entry_is_no_method_again():
    for name in ("solid-colour", "llm-mid"):
        with pytest.raises(ValueError, match=f"unknown method '{name}'.*llm-ags"):
            get_method(name)
