"""Adding a dataset is one spec plus one registration: a toy dataset, registered here, runs through the real
data, score and prompts stages, the config check and the report's headings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fake_openai_server import FakeOpenAIServer, answer_all
from PIL import Image

from dalda.config import ConfigError
from dalda.configure import build_config
from dalda.data.stage import run_data_stage
from dalda.datasets import DATASETS, DatasetIndex, DatasetSpec, ImageRecord
from dalda.pipeline import prepare_run
from dalda.prompts import run_prompts_stage
from dalda.report.collect import dataset_order, dataset_title
from dalda.scoring.stage import run_score_stage
from dalda.settings import NoSettings

TOY_CLASSES = ["red square", "green square", "blue square"]
TOY_DESCRIPTION = "Flat 32 x 32 squares of one colour each, three colours, for tests."
KEY_ENV = "DALDA_TEST_TOY_KEY"


def load_toy(root: Path | None, download: bool, cache_dir: Path, settings: NoSettings) -> DatasetIndex:
    """Draw 4 noisy squares per colour into ``root`` (or ``cache_dir/toy``) and index them; no test split."""
    folder = Path(root) if root is not None else Path(cache_dir) / "toy"
    rng = np.random.default_rng(0)
    records = []
    for label, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        for number in range(4):
            path = folder / str(label) / f"{number}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            pixels = np.clip(np.array(colour) + rng.normal(0, 10, size=(32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(path)
            records.append(ImageRecord(path, label))
    return DatasetIndex(name="toy", classes=list(TOY_CLASSES), trainval=records, test=None)


@pytest.fixture
def toy():
    spec = DATASETS.register(
        "toy", DatasetSpec(name="toy", title="Toy squares", description=TOY_DESCRIPTION, load=load_toy, needs_root=True)
    )
    yield spec
    DATASETS.unregister("toy")


def _config(tmp_path: Path, **prompts):
    return build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "toy", "root": str(tmp_path / "toy-data"), "shots": 2},
            "models": {"profile": "tiny"},
            "prompts": {"num_prompts": 1, **prompts},
        }
    )


def test_a_registered_dataset_runs_through_the_data_and_score_stages(toy, tmp_path):
    config = _config(tmp_path)
    run = prepare_run(config)
    split = run_data_stage(config, run)
    assert split.dataset == "toy" and split.classes == TOY_CLASSES
    assert len(split.train) == 2 * len(TOY_CLASSES) and len(split.eval) == 2 * len(TOY_CLASSES)
    scores = run_score_stage(config, run)
    assert [score.path for score in scores] == [str(record.path) for record in split.train]
    assert all(0.0 <= score.value("softmax") <= 1.0 for score in scores)
    assert {score.class_name for score in scores} == set(TOY_CLASSES)


def test_its_spec_is_what_the_config_check_prompts_and_report_read(toy, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"data\.dataset=toy needs data\.root"):
        build_config(overrides=["data.dataset=toy"])
    assert dataset_title("toy") == "Toy squares"
    assert dataset_order(["toy", "flowers102", "pets"]) == ["pets", "flowers102", "toy"]

    monkeypatch.setenv(KEY_ENV, "sk-toy")
    with FakeOpenAIServer([answer_all()] * 3) as server:
        config = _config(tmp_path, backend="openai", base_url=server.url, api_key_env=KEY_ENV, timeout_s=5.0)
        run = prepare_run(config)
        run_data_stage(config, run)
        table = run_prompts_stage(config, run)
    assert set(table) == set(TOY_CLASSES)
    assert TOY_DESCRIPTION in server.requests[0].user_message
    assert json.loads(run.prompts_record.read_text())["settings"]["description"] == TOY_DESCRIPTION


def test_unregistering_removes_it_everywhere(tmp_path):
    DATASETS.register("toy", DatasetSpec(name="toy", title="Toy", description=None, load=load_toy))
    DATASETS.unregister("toy")
    with pytest.raises(ConfigError, match=r"data\.dataset='toy' is not a known dataset"):
        build_config(overrides=["data.dataset=toy"])
    assert dataset_title("toy") == "toy"
