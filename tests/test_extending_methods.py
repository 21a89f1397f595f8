"""Adding a method is one ``Method`` entry plus one ``METHODS.register`` call: a toy method (the toy generator of
tests/test_extending_generators.py with Base prompts), registered here, is what a grid cell runs and what its
config reads back as, with its own title (docs/extending.md, "Method")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dalda.configure import build_config
from dalda.experiments.spec import build_cells, load_spec
from dalda.generators import GENERATORS
from dalda.methods import METHODS, Method, default_stages, get_method, method_label, method_title
from test_extending_generators import SolidColourGenerator

TOY = Method(
    "solid-colour",
    "Solid colour",
    {"generator": {"name": "solid-colour"}, "prompts": {"source": "base"}},
    stages=("data", "plan", "generate", "train", "evaluate"),
    identity=("generator.name",),
)


@pytest.fixture
def toy_method():
    GENERATORS.register("solid-colour", SolidColourGenerator())
    METHODS.register("solid-colour", TOY)
    yield TOY
    METHODS.unregister("solid-colour")
    GENERATORS.unregister("solid-colour")


def test_a_registered_method_is_found_by_name_and_read_back_from_a_config(toy_method):
    assert get_method("solid-colour") is toy_method and method_title("solid-colour") == "Solid colour"
    config = build_config(toy_method.overrides)
    assert config.generator.name == "solid-colour" and config.prompts.source == "base"
    assert method_label(config) == "solid-colour"
    assert default_stages(config) == ["data", "plan", "generate", "train", "evaluate", "report"]
    # Only its identity counts: the same generator with LLM prompts is still this method.
    assert method_label(build_config(toy_method.overrides, ["prompts.source=llm"])) == "solid-colour"


def test_a_grid_names_it_like_a_built_in_method(toy_method, tmp_path: Path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({
        "name": "toy", "out_dir": str(tmp_path / "out"),
        "datasets": ["demo"], "methods": ["llm-ags", "solid-colour"], "shots": [1], "trials": [0],
    }, sort_keys=False))  # fmt: skip
    cells = build_cells(load_spec(grid), tmp_path / "out")
    assert [cell.method for cell in cells] == ["llm-ags", "solid-colour"]
    toy = cells[1]
    assert toy.config.generator.name == "solid-colour" and toy.stages == toy_method.stages


def test_an_unregistered_method_is_unknown_again():
    with pytest.raises(ValueError, match="unknown method 'solid-colour'.*llm-ags"):
        get_method("solid-colour")
