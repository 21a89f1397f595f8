"""CLIP-I and LPIPS: 1 and 0 for identical images, the right direction for different ones; the pairing rule."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dalda.config import EvaluateConfig
from dalda.evaluation.diversity import SyntheticImage, diversity_report, group_pairs, sample_pairs
from dalda.models.clip import load_clip
from dalda.models.lpips import load_lpips
from test_training_support import tiny_run_config


OPTIONS = {"max_pairs": 50, "batch_size": 4, "within_class": True, "metrics": {"lpips": {"size": 64}}}


def _image(path: Path, seed: int) -> Path:
    """A 64 px picture: blocks of random colour, different for every seed."""
    blocks = np.random.default_rng(seed).integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    Image.fromarray(blocks).resize((64, 64), Image.NEAREST).save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    config = tiny_run_config(tmp_path_factory.mktemp("div"))
    return load_clip(config.models), load_lpips(config.models)


def _report(images, models, seed=0, **kwargs):
    clip, lpips_model = models
    options = EvaluateConfig(**{**OPTIONS, **kwargs})
    return diversity_report(images, {"clip_i": clip, "lpips": lpips_model}, options, seed)


def test_identical_images_give_clip_i_one_and_lpips_zero(tmp_path, models):
    original = _image(tmp_path / "a.png", 0)
    copies = [original] + [tmp_path / f"copy{i}.png" for i in range(3)]
    for copy in copies[1:]:
        copy.write_bytes(original.read_bytes())
    report = _report([SyntheticImage(p, "real0", "cat") for p in copies], models)
    assert report["clip_i"] == pytest.approx(1.0, abs=1e-5)
    assert report["lpips"] == pytest.approx(0.0, abs=1e-6)
    assert report["by_source"]["clip_i"]["num_pairs"] == 6  # all 4*3/2 pairs


def test_different_images_lower_clip_i_and_raise_lpips(tmp_path, models):
    same = [SyntheticImage(_image(tmp_path / "s.png", 1), "real0", "cat")] * 3
    different = [SyntheticImage(_image(tmp_path / f"d{i}.png", 10 + i), "real1", "dog") for i in range(3)]
    report = _report(same + different, models)
    clip_i, lpips = report["by_source"]["clip_i"], report["by_source"]["lpips"]
    assert clip_i["per_class"]["dog"] < clip_i["per_class"]["cat"] - 1e-3
    assert lpips["per_class"]["dog"] > lpips["per_class"]["cat"] + 1e-3
    assert clip_i["num_groups"] == 2 and report["clip_i"] == pytest.approx(np.mean(list(clip_i["per_class"].values())))


def test_groups_by_source_and_by_class_and_single_images_have_no_pairs(tmp_path, models):
    paths = [_image(tmp_path / f"{i}.png", i) for i in range(5)]
    images = [
        SyntheticImage(paths[0], "r0", "cat"),
        SyntheticImage(paths[1], "r0", "cat"),
        SyntheticImage(paths[2], "r1", "cat"),
        SyntheticImage(paths[3], "r1", "cat"),
        SyntheticImage(paths[4], "r2", "dog"),  # alone in its group and its class
    ]
    report = _report(images, models)
    assert report["by_source"]["groups_without_pairs"] == 1
    assert report["by_source"]["lpips"]["num_pairs"] == 2
    assert report["by_class"]["lpips"]["num_pairs"] == 6  # the four cat images pair across sources too
    assert set(report["by_class"]["clip_i"]["per_class"]) == {"cat"}


def test_sample_pairs_all_or_capped_distinct_and_deterministic():
    everything = sample_pairs(6, 100, np.random.default_rng(0))
    assert {tuple(p) for p in everything} == {(i, j) for i in range(6) for j in range(i + 1, 6)}
    capped = sample_pairs(40, 50, np.random.default_rng(1))
    assert len(capped) == 50 and len({tuple(p) for p in capped}) == 50
    assert (capped[:, 0] < capped[:, 1]).all() and capped.max() < 40
    assert np.array_equal(capped, sample_pairs(40, 50, np.random.default_rng(1)))
    # Unranking covers every pair exactly once when asked for all of them through the sampling path.
    full = sample_pairs(9, 35, np.random.default_rng(2))  # 36 pairs exist, 35 drawn
    assert len({tuple(p) for p in full}) == 35 and (full[:, 0] < full[:, 1]).all() and full.max() < 9


def test_group_pairs_are_seeded_per_group():
    groups = {"a": list(range(30)), "b": list(range(30, 60))}
    first, again = group_pairs(groups, 10, seed=3), group_pairs({"b": groups["b"]}, 10, seed=3)
    assert np.array_equal(first["b"], again["b"])  # a group's pairs do not depend on the other groups
    assert first["b"].min() >= 30


def _report_with_real(images, models, **kwargs):
    clip, _ = models
    options = EvaluateConfig(**{**OPTIONS, **kwargs})
    return diversity_report(images, {"clip_i": clip, "clip_i_real": clip}, options, 0)


def test_clip_i_against_the_real_source_is_one_for_copies_and_lower_for_unrelated_images(tmp_path, models):
    real_a, real_b = _image(tmp_path / "real_a.png", 0), _image(tmp_path / "real_b.png", 1)
    copies = [tmp_path / f"copy{i}.png" for i in range(3)]
    for copy in copies:
        copy.write_bytes(real_a.read_bytes())
    unrelated = [_image(tmp_path / f"u{i}.png", 20 + i) for i in range(3)]
    images = [SyntheticImage(p, str(real_a), "cat") for p in copies]
    images += [SyntheticImage(p, str(real_b), "dog") for p in unrelated]
    report = _report_with_real(images, models)

    both = report["by_source"]
    assert both["clip_i_real"]["per_class"]["cat"] == pytest.approx(1.0, abs=1e-5)  # identical to the source
    assert both["clip_i"]["per_class"]["cat"] == pytest.approx(1.0, abs=1e-5)  # identical to each other
    assert both["clip_i_real"]["per_class"]["dog"] < 1.0 - 1e-3
    assert both["clip_i_real"]["num_pairs"] == 6 and both["clip_i_real"]["num_groups"] == 2  # one pair per image
    assert report["clip_i_real"] == pytest.approx(np.mean(list(both["clip_i_real"]["per_class"].values())))
    assert "with_source" in report["pairing_rule"]


def test_clip_i_real_skips_images_whose_source_file_is_missing(tmp_path, models):
    real = _image(tmp_path / "real.png", 0)
    images = [SyntheticImage(_image(tmp_path / f"s{i}.png", i + 1), str(real), "cat") for i in range(2)]
    images.append(SyntheticImage(_image(tmp_path / "orphan.png", 9), str(tmp_path / "gone.png"), "dog"))
    report = _report_with_real(images, models, within_class=False)
    assert report["by_source"]["clip_i_real"]["num_pairs"] == 2
    assert set(report["by_source"]["clip_i_real"]["per_class"]) == {"cat"}
