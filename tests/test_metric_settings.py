"""Metrics own their settings: ``evaluate.metrics.<name>`` holds each registered metric's resolved settings
(``enabled`` included), ``evaluate.fidelity`` chooses the feature encoder with its settings beside it, old
spellings load to the same effective settings, one ``dalda.metrics`` plugin group reaches diversity and fidelity
metrics alike, and listing the metrics loads no model library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pydantic import Field

from dalda.config import ConfigError, config_to_yaml
from dalda.configure import build_config, load_config, rebuild
from dalda.metrics import FIDELITY_FEATURES, METRICS, MetricSettings, diversity_metrics, fidelity_metrics
from dalda.metrics.features import InceptionFeatures
from dalda.metrics.registry import MetricRegistry
from dalda.settings import EntrySettings

FIXTURE = Path(__file__).parent / "fixtures" / "run_made_by_6cff4a0" / "config.yaml"
ON_BY_DEFAULT = {"clip_i": True, "clip_i_real": True, "lpips": True, "dino": False, "dino_real": False,
                 "fid": False, "kid": False}  # fmt: skip


def _load_quietly(path: Path, overrides: list[str] | None = None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = load_config(path, overrides)
    return config, [w for w in caught if issubclass(w.category, DeprecationWarning)]


def test_every_metric_is_resolved_into_the_table_with_its_own_enabled_default(tmp_path):
    config = build_config(overrides=["evaluate.metrics.dino.enabled=true", "evaluate.metrics.kid.subsets=0010",
                                     "evaluate.metrics.dino_real.model=0123"])  # fmt: skip
    table = config.evaluate.metrics
    assert list(table) == list(METRICS)  # every registered metric, whether it runs or not
    assert {name: settings["enabled"] for name, settings in build_config().evaluate.metrics.items()} == ON_BY_DEFAULT
    assert table["dino"] == {"enabled": True, "model": "facebook/dinov2-small", "pooling": "cls"}
    assert table["dino_real"]["enabled"] is False  # each DINO metric has its own switch and model
    assert table["dino_real"]["model"] == "0123"  # typed by the metric's setting: a string stays as typed
    assert table["kid"] == {"enabled": False, "subset_size": 100, "subsets": 10}  # typed by the metric's setting
    recorded = yaml.safe_load(config_to_yaml(config))["evaluate"]
    assert recorded["metrics"] == table and recorded["fidelity"] == {"features": "inception", "max_images": 1000}
    path = tmp_path / "config.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(path) == config


def test_bad_metric_settings_name_the_field():
    with pytest.raises(ConfigError, match=r"evaluate\.metrics\.lpips\.size: Input should be greater than or equal to 64"):
        build_config(overrides=["evaluate.metrics.lpips.size=32"])
    with pytest.raises(ConfigError, match=r"evaluate\.metrics\.dino\.pooling: Input should be 'cls' or 'mean'"):
        build_config(overrides=["evaluate.metrics.dino.pooling=max"])
    with pytest.raises(ConfigError, match=r"evaluate\.metrics\.fid\.subsets: Extra inputs are not permitted"):
        build_config(overrides=["evaluate.metrics.fid.subsets=3"])  # KID's knob, not FID's
    with pytest.raises(ConfigError, match=r"evaluate\.metrics\.nope: 'nope' is not a known metric"):
        build_config({"evaluate": {"metrics": {"nope": {"enabled": True}}}})


def test_the_run_of_an_earlier_version_loads_to_the_same_effective_settings():
    old = yaml.safe_load(FIXTURE.read_text())["evaluate"]
    config, deprecations = _load_quietly(FIXTURE)
    assert len(deprecations) == 1  # one warning for every old spelling of the file
    metrics = config.evaluate.metrics
    for name in ("clip_i", "clip_i_real", "lpips", "fid", "kid"):
        assert metrics[name]["enabled"] is old[name]
    assert metrics["dino"]["enabled"] is metrics["dino_real"]["enabled"] is old["dino"]
    assert metrics["lpips"]["size"] == old["lpips_size"]
    assert metrics["kid"] == {"enabled": old["kid"], "subset_size": old["kid_subset_size"], "subsets": old["kid_subsets"]}
    assert config.evaluate.fidelity.features == old["fidelity_features"]
    assert config.evaluate.fidelity.max_images == old["fidelity_max_images"]
    assert config.evaluate.max_pairs == old["max_pairs"]


def test_the_old_dino_fields_reach_every_dino_user(tmp_path):
    old = {"models": {"dino_model": "my/dino"}, "evaluate": {"dino": True, "dino_pooling": "mean"}}
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(old))
    config, deprecations = _load_quietly(path)
    assert len(deprecations) == 1 and "evaluate.metrics.dino_real.enabled" in str(deprecations[0].message)
    for name in ("dino", "dino_real"):
        assert config.evaluate.metrics[name] == {"enabled": True, "model": "my/dino", "pooling": "mean"}
    assert config.evaluate.fidelity.entry_values() == {}  # inception has no DINO settings to receive

    old["evaluate"]["fidelity_features"] = "dino"
    path.write_text(yaml.safe_dump(old))
    config, _ = _load_quietly(path)
    assert config.evaluate.fidelity.features == "dino"
    assert config.evaluate.fidelity.entry_values() == {"model": "my/dino", "pooling": "mean"}

    config, _ = _load_quietly(path, ["evaluate.dino=false", "evaluate.lpips_size=128"])  # old overrides too
    assert not config.evaluate.metrics["dino"]["enabled"] and not config.evaluate.metrics["dino_real"]["enabled"]
    assert config.evaluate.metrics["lpips"]["size"] == 128


# ------------------------------------------------------------------------------- a choice in a nested section


class WidthSettings(EntrySettings):
    width: int = Field(8, ge=1, description="Feature width.")


@dataclass(frozen=True)
class ToyEncoder(InceptionFeatures):
    name: str = "toy-width"
    settings_model: type[WidthSettings] = WidthSettings


@pytest.fixture
def toy_encoder():
    FIDELITY_FEATURES.register("toy-width", ToyEncoder())
    yield "toy-width"
    FIDELITY_FEATURES.unregister("toy-width")


def test_a_choice_in_a_nested_section_resolves_its_entrys_settings_beside_it(toy_encoder, tmp_path, caplog):
    config = build_config(overrides=["evaluate.fidelity.features=toy-width", "evaluate.fidelity.width=0042",
                                     "evaluate.fidelity.max_images=0050"])  # fmt: skip
    assert config.evaluate.fidelity.entry_values() == {"width": 42}  # typed by the entry's own setting
    assert config.evaluate.fidelity.max_images == 50
    assert WidthSettings.of(config.evaluate.fidelity) == WidthSettings(width=42)
    path = tmp_path / "config.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(path) == config

    switched = load_config(path, ["evaluate.fidelity.features=dino"])  # another choice starts from its defaults
    assert switched.evaluate.fidelity.entry_values() == {"model": "facebook/dinov2-small", "pooling": "cls"}
    named = load_config(path, ["evaluate.fidelity.features=dino", "evaluate.fidelity.model=0123"])
    assert named.evaluate.fidelity.model == "0123"  # a string setting stays the string typed
    assert rebuild(config, {"evaluate": {"fidelity": {"features": "clip"}}}).evaluate.fidelity.entry_values() == {}
    with pytest.raises(ConfigError, match=r"evaluate\.fidelity\.width is a setting of "
                                          r"evaluate\.fidelity\.features=toy-width, not of inception"):
        build_config(overrides=["evaluate.fidelity.width=3"])
    with pytest.raises(ConfigError, match=r"evaluate\.fidelity\.width: Input should be greater than or equal to 1"):
        build_config(overrides=["evaluate.fidelity.features=toy-width", "evaluate.fidelity.width=0"])
    caplog.set_level("WARNING", logger="dalda.configure")
    build_config({"evaluate": {"fidelity": {"features": "clip", "width": 5}}})  # a file's: dropped, named
    assert "evaluate.fidelity.width=5 belongs to evaluate.fidelity.features=toy-width, not clip" in caplog.text


# ------------------------------------------------------------------------------------ the table of metrics


def test_the_metric_table_refuses_entries_the_stages_could_not_run():
    class NoKind:
        settings_model = MetricSettings

    class NoSwitch:
        kind = "diversity"
        settings_model = WidthSettings

    table = MetricRegistry()
    with pytest.raises(TypeError, match=r"metric 'x' declares kind None; a metric's kind is one of"):
        table.register("x", NoKind())
    with pytest.raises(TypeError, match=r"settings_model WidthSettings must subclass dalda\.metrics\.MetricSettings"):
        table.register("y", NoSwitch())
    assert [name for name, _ in diversity_metrics()] == ["clip_i", "clip_i_real", "lpips", "dino", "dino_real"]
    assert [name for name, _ in fidelity_metrics()] == ["fid", "kid"]


def _python(code: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([*map(str, paths), os.environ.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": path}, check=False)  # fmt: skip


def test_listing_the_metrics_loads_no_model_library():
    done = _python("""
        import sys
        import dalda.metrics
        print(sorted({"torch", "torchvision", "transformers", "diffusers"} & set(sys.modules)))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


PLUGIN = '''
from pydantic import Field
from dalda.metrics import MetricSettings


class SpreadSettings(MetricSettings):
    enabled: bool = Field(True, description="Compute the spread.")


class Spread:
    """A diversity metric: how far apart the images of a pair are in their file sizes."""
    name, title, kind, higher_is_more_diverse = "toy_spread", "Spread", "diversity", True
    settings_model = SpreadSettings
    result_settings = ()

    def recorded_settings(self, config, settings):
        return {}

    def load(self, config, settings):
        return None

    def group_scorer(self, model, paths, load_image, evaluate, settings):
        sizes = [path.stat().st_size for path in paths]
        return lambda pairs: {g: float(sum(abs(sizes[i] - sizes[j]) for i, j in p)) for g, p in pairs.items()}


class GapSettings(MetricSettings):
    scale: float = Field(1.0, gt=0, description="Multiplies the gap.")


class MeanGap:
    """A fidelity metric, off by default: the distance between the two sets' mean features."""
    name, title, kind, higher_is_more_diverse = "toy_gap", "Gap", "fidelity", False
    settings_model = GapSettings

    def compute(self, synthetic, real, settings, seed):
        return {"toy_gap": settings.scale * float(abs(synthetic.mean(0) - real.mean(0)).sum())}
'''


def test_one_plugin_group_reaches_diversity_and_fidelity_metrics(tmp_path):
    (tmp_path / "toy_metrics.py").write_text(PLUGIN)
    info = tmp_path / "toy_metrics-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-metrics\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[dalda.metrics]\ntoy_spread = toy_metrics:Spread\ntoy_gap = toy_metrics:MeanGap\n"
    )
    images = tmp_path / "images"
    images.mkdir()
    done = _python(f"""
        import json
        from pathlib import Path
        from PIL import Image
        from dalda.configure import build_config
        from dalda.evaluation.diversity import SyntheticImage, diversity_report
        from dalda.evaluation.fidelity import fidelity_report
        from dalda.metrics import diversity_metrics, fidelity_metrics, metric_names

        config = build_config(overrides=["models.profile=tiny", "models.device=cpu",
                                         "evaluate.metrics.toy_gap.enabled=true", "evaluate.metrics.toy_gap.scale=2"])
        paths = []
        for i in range(4):
            paths.append(Path({str(images)!r}) / f"{{i}}.png")
            Image.new("RGB", (8 + 8 * i, 16), (40 * i, 20, 200)).save(paths[-1])
        synthetic = [SyntheticImage(path, "real0", "cat") for path in paths]
        diversity = diversity_report(synthetic, {{"toy_spread": None}}, config.evaluate, 0)
        fidelity = fidelity_report(config, paths[:2], paths[2:])
        print(json.dumps({{
            "diversity": [name for name, _ in diversity_metrics()],
            "fidelity": [name for name, _ in fidelity_metrics()],
            "names": metric_names(),
            "table": {{name: config.evaluate.metrics[name] for name in ("toy_spread", "toy_gap")}},
            "spread": diversity["toy_spread"],
            "gap": fidelity["toy_gap"],
            "ran": fidelity["fidelity"]["metrics"],
        }}))
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["diversity"][-1] == "toy_spread" and seen["fidelity"][-1] == "toy_gap"
    assert seen["names"].index("toy_spread") < seen["names"].index("fid")  # diversity first, as the report shows
    assert seen["table"] == {"toy_spread": {"enabled": True}, "toy_gap": {"enabled": True, "scale": 2.0}}
    assert seen["spread"] > 0 and seen["gap"] > 0 and seen["ran"] == ["toy_gap"]  # FID / KID stay off
