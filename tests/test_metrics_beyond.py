"""DINO similarity and FID / KID: numbers checked against direct computations, the published DINO layout loads
offline, and the evaluate stage writes them to ``diversity.json`` and the results files only when enabled."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import linalg

from dalda.config import ConfigError, DaldaConfig, EvaluateConfig, ModelsConfig
from dalda.configure import build_config, rebuild
from dalda.evaluation.diversity import SyntheticImage, diversity_report
from dalda.evaluation.stage import run_evaluate_stage
from dalda.images import load_rgb
from dalda.metrics import FIDELITY_FEATURES, METRICS, fidelity_metrics
from dalda.metrics.dino import DEFAULT_DINO, DinoSettings
from dalda.metrics.fidelity import frechet_distance, kernel_inception_distance, polynomial_mmd2
from dalda.models.dino import build_dino, load_dino
from dalda.models.inception import load_inception
from dalda.settings import NoSettings
from dalda.training.stage import run_train_stage
from test_training_support import make_run, tiny_run_config

TINY = ModelsConfig(profile="tiny", device="cpu")


def _load_dino(models: ModelsConfig, pooling: str = "cls", name: str = DEFAULT_DINO):
    return load_dino(models, name, "evaluate.metrics.dino.model", pooling)


def _image(path: Path, seed: int) -> Path:
    blocks = np.random.default_rng(seed).integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    Image.fromarray(blocks).resize((48, 40), Image.NEAREST).save(path)
    return path


# --------------------------------------------------------------------------------------------- FID / KID


def test_fid_is_zero_for_identical_sets_and_matches_the_gaussian_formula():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    # 1-D: the Fréchet distance of two Gaussians is (m1 - m2)^2 + (s1 - s2)^2 (sample std, ddof=1)
    a, b = rng.normal(1.0, 2.0, size=(30, 1)), rng.normal(-0.5, 0.7, size=(25, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    # diagonal covariances: sum over dimensions of the 1-D formula
    c, d = rng.normal(size=(500, 3)) * [1.0, 2.0, 3.0], rng.normal(size=(500, 3)) * [2.0, 2.0, 1.0] + 1.0
    per_dimension = [(c[:, i].mean() - d[:, i].mean()) ** 2 + (c[:, i].std(ddof=1) - d[:, i].std(ddof=1)) ** 2
                     for i in range(3)]
    assert frechet_distance(c, d) == pytest.approx(sum(per_dimension), rel=0.05)  # sample covariances: nearly diagonal
    # the general case against scipy's matrix square root of the covariance product (fewer rows than dimensions
    # too: the rank-deficient case of few-shot sets)
    for rows in (60, 12):
        e, f = rng.normal(size=(rows, 16)), rng.normal(0.2, 1.5, size=(rows + 3, 16)) @ rng.normal(size=(16, 16))
        cov_e, cov_f = np.cov(e, rowvar=False), np.cov(f, rowvar=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            root = np.real(linalg.sqrtm(cov_e @ cov_f))
        diff = e.mean(0) - f.mean(0)
        expected = diff @ diff + np.trace(cov_e) + np.trace(cov_f) - 2 * np.trace(root)
        assert frechet_distance(e, f) == pytest.approx(expected, rel=1e-6)


def _mmd2_by_hand(x: np.ndarray, y: np.ndarray) -> float:
    def k(u, v):
        return (float(np.dot(u, v)) / len(u) + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_the_unbiased_polynomial_mmd_written_by_hand():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(7, 4)), rng.normal(0.3, 1.2, size=(9, 4))
    assert polynomial_mmd2(x, y) == pytest.approx(_mmd2_by_hand(x, y), rel=1e-10)
    mean, std = kernel_inception_distance(x, x.copy(), subset_size=50, subsets=10, seed=0)
    assert (mean, std) == (pytest.approx(polynomial_mmd2(x, x)), 0.0)  # whole sets: one draw
    mean, std = kernel_inception_distance(x, y, subset_size=5, subsets=20, seed=3)
    rng = np.random.default_rng([3, 14])
    draws = [_mmd2_by_hand(x[rng.choice(7, 5, replace=False)], y[rng.choice(9, 5, replace=False)]) for _ in range(20)]
    assert mean == pytest.approx(np.mean(draws), rel=1e-10) and std == pytest.approx(np.std(draws), rel=1e-10)
    assert std > 0
    # same distribution: KID near 0; shifted: clearly positive
    big = rng.normal(size=(200, 4))
    same, _ = kernel_inception_distance(big[:100], big[100:], 100, 1, 0)
    shifted, _ = kernel_inception_distance(big[:100], big[100:] + 1.0, 100, 1, 0)
    assert abs(same) < 0.1 < shifted


# -------------------------------------------------------------------------------------------------- DINO


def test_dino_similarity_is_the_cosine_of_the_models_own_embeddings(tmp_path):
    paths = [_image(tmp_path / f"{i}.png", i) for i in range(4)]
    images = [SyntheticImage(path, "r0", "cat") for path in paths]
    options = EvaluateConfig(max_pairs=50, within_class=False, batch_size=3)
    dino = _load_dino(TINY)
    report = diversity_report(images, {"dino": dino}, options, seed=0)

    model, processor = build_dino("tiny")
    with torch.no_grad():
        pixels = processor(images=[load_rgb(path) for path in paths], return_tensors="pt")["pixel_values"]
        cls = model(pixel_values=pixels).last_hidden_state[:, 0]
    unit = torch.nn.functional.normalize(cls, dim=-1)
    expected = np.mean([float(unit[i] @ unit[j]) for i in range(4) for j in range(i + 1, 4)])
    assert report["dino"] == pytest.approx(expected, abs=1e-5)
    assert report["by_source"]["dino"]["num_pairs"] == 6
    assert report["clip_i"] is None  # not asked for

    mean_pooled = _load_dino(TINY, "mean").encode_images([load_rgb(paths[0])])[0]
    with torch.no_grad():
        tokens = model(pixel_values=pixels[:1]).last_hidden_state[0, 1:].mean(dim=0)
    assert torch.allclose(mean_pooled, torch.nn.functional.normalize(tokens, dim=-1), atol=1e-5)


def test_dino_against_the_real_source_is_one_for_copies(tmp_path):
    source = _image(tmp_path / "real.png", 7)
    copy = tmp_path / "copy.png"
    copy.write_bytes(source.read_bytes())
    other = _image(tmp_path / "other.png", 8)
    images = [SyntheticImage(copy, str(source), "cat"), SyntheticImage(other, str(source), "cat")]
    report = diversity_report(images, {"dino_real": _load_dino(TINY)}, EvaluateConfig(within_class=False), seed=0)
    per_pair = report["by_source"]["dino_real"]
    assert per_pair["num_pairs"] == 2 and report["dino_real"] < 1.0
    alone = diversity_report(images[:1], {"dino_real": _load_dino(TINY)}, EvaluateConfig(within_class=False), 0)
    assert alone["dino_real"] == pytest.approx(1.0, abs=1e-5)


def test_real_profile_loads_dino_from_the_published_layout(tmp_path):
    model, processor = build_dino("tiny")
    folder = tmp_path / "dinov2-small"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    assert {"config.json", "model.safetensors", "preprocessor_config.json"} <= {p.name for p in folder.iterdir()}
    real = ModelsConfig(profile="real", offline=True, device="cpu")
    image = [load_rgb(_image(tmp_path / "a.png", 3))]
    own = DinoSettings(enabled=True, model=str(folder))
    loaded = METRICS.get("dino").load(DaldaConfig(models=real), own)
    assert torch.allclose(loaded.encode_images(image), _load_dino(TINY).encode_images(image), atol=1e-6)
    assert METRICS.get("dino").recorded_settings(DaldaConfig(models=real), own)["dino_model"] == str(folder)
    assert "random" in METRICS.get("dino").recorded_settings(DaldaConfig(models=TINY), own)["dino_model"]
    nowhere = DinoSettings(model=str(tmp_path / "nowhere"))
    with pytest.raises(Exception, match=r"evaluate\.metrics\.dino_real\.model"):  # the field to fix
        METRICS.get("dino_real").load(DaldaConfig(models=real), nowhere)


def test_inception_features_have_the_pool_layers_width():
    image = [Image.new("RGB", (40, 30), (200, 10, 10))]
    assert load_inception(TINY).encode_images(image).shape == (1, 64)
    with pytest.raises(Exception, match=r"evaluate\.fidelity\.features"):
        FIDELITY_FEATURES.get("pixels")
    with pytest.raises(ConfigError, match=r"evaluate\.fidelity\.features='pixels' is not a known"):
        build_config(overrides=["evaluate.fidelity.features=pixels"])  # refused before anything runs


# ---------------------------------------------------------------------------------------- evaluate stage


def test_evaluate_writes_dino_fid_and_kid_only_when_enabled(tmp_path):
    config = tiny_run_config(tmp_path, data={"max_eval_per_class": 4}, train={"classifiers": ["clip"]})
    run, split = make_run(config, images_per_real=3)
    run_train_stage(config, run)
    run_evaluate_stage(config, run)
    off = json.loads(run.diversity.read_text())
    assert all(off[name] is None for name in ("dino", "dino_real", "fid", "kid")) and "fidelity" not in off

    enable = {name: {"enabled": True} for name in ("dino", "dino_real", "fid", "kid")}
    on = rebuild(config, {"evaluate": {"metrics": enable}})
    summary = run_evaluate_stage(on, run)
    diversity = json.loads(run.diversity.read_text())
    assert 0 < diversity["dino"] <= 1 and 0 < diversity["dino_real"] <= 1
    assert diversity["dino_pooling"] == diversity["dino_real_pooling"] == "cls"  # each metric's own settings
    details = diversity["fidelity"]
    assert details["num_synthetic"] == 3 * len(split.train) and details["num_real"] == len(split.eval)
    assert details["features"] == "tiny-random:tiny-conv" and "biased" in details["note"]

    # FID / KID equal a direct computation on the encoder's own features of the same images
    encode = FIDELITY_FEATURES.get("inception").load(on, NoSettings())
    synthetic = sorted(run.synthetic.rglob("*.png"))
    features_s = encode([load_rgb(path) for path in synthetic])
    features_r = encode([load_rgb(record.path) for record in split.eval])
    assert diversity["fid"] == pytest.approx(frechet_distance(features_s, features_r), rel=1e-6)
    subset = min(on.evaluate.metrics["kid"]["subset_size"], len(synthetic), len(split.eval))
    assert details["kid_subset_size"] == subset and details["kid_subsets"] == on.evaluate.metrics["kid"]["subsets"]
    assert summary["fid"] == diversity["fid"] and summary["kid"] == diversity["kid"]
    result = json.loads((run.results / "clip.json").read_text())
    assert result["diversity"]["kid"] == diversity["kid"] and result["diversity"]["fidelity_features"]
    assert {name for name, _ in fidelity_metrics()} == {"fid", "kid"}
