"""The report's image sections: λ vs score scatter with the AGS band, λ histogram, prompt table, paged gallery.

Runs are written by hand (``report_images_support.make_image_run``); the browser side is
``tests/test_report_browser.py``.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from urllib.request import url2pathname

import numpy as np
import pytest
from PIL import Image
from report_images_support import class_names, make_image_run, prompts_of

from dalda.artefacts import PlanRow
from dalda.configure import build_config
from dalda.report.collect import load_run, run_scores, synthetic_rows
from dalda.report.figures import bound_sampler, lambda_histogram, lambda_points, lambda_vs_score, plt, sampler_band
from dalda.report.gallery import CLASSES_PER_PAGE, OPEN_UP_TO, THUMB_SIZE, gallery_html, prompt_tables_html
from dalda.report.stage import build_report, run_report_stage
from dalda.guidance import GUIDANCE, HIGH, LOW, AgsSettings, SamplingContext
from dalda.methods import get_method, method_of


def test_ags_band_is_the_plan_stages_range_and_mean():
    cfg = AgsSettings(alpha=0.4)
    xs = np.array([0.0, 0.2, 0.4, 0.41, 0.9, 1.0])
    band = sampler_band(GUIDANCE.get("ags").bind(cfg, SamplingContext(shots=4)), xs)
    assert list(band["group"]) == [LOW, LOW, LOW, HIGH, HIGH, HIGH]
    assert list(band["low"]) == [cfg.min_low] * 3 + [cfg.min_high] * 3
    assert list(band["high"]) == [cfg.max_low] * 3 + [cfg.max_high] * 3
    assert band["centre"][1] == pytest.approx(cfg.min_low + (cfg.max_low - cfg.min_low) * 0.8)
    assert band["centre"][4] == pytest.approx(cfg.min_high + (cfg.max_high - cfg.min_high) * 0.1)
    clipped = sampler_band(GUIDANCE.get("ags-clipped").bind(cfg, SamplingContext(shots=4)), xs)
    assert clipped["high"][4] == pytest.approx(cfg.max_high + 0.1 * math.sqrt(4)) and clipped["high"][0] == cfg.max_low


def test_scatter_points_are_plan_lambdas_over_their_real_images_scores(tmp_path):
    run = make_image_run(tmp_path / "run", classes=3)
    record = load_run(run.root)
    scores = run_scores(record)
    sampler = bound_sampler(record, scores)
    points = lambda_points(record, scores, sampler.threshold)
    plan = PlanRow.read_all(run)  # source paths back absolute (stored relative to the run or the data root)
    assert [(p.score, p.ip_scale, p.group) for p in points] == [
        (pytest.approx(scores[str(Path(row.source_path).resolve())]), row.ip_scale, row.group) for row in plan
    ]
    for point in points:  # every λ lies in its group's band, which the scatter draws
        low, high = sampler.band(point.score)
        assert low <= point.ip_scale <= high and (point.group == LOW) == (point.score <= sampler.threshold)
    assert lambda_vs_score([record], tmp_path / "scatter.png").is_file()


def test_scatter_uses_the_quantile_alpha_the_score_stage_used(tmp_path):
    run = make_image_run(tmp_path / "run", classes=4, overrides={"guidance": {"alpha_quantile": 0.5}})
    record = load_run(run.root)
    scores = run_scores(record)
    assert bound_sampler(record, scores).threshold == pytest.approx(float(np.median(list(scores.values()))))


def test_scatter_is_left_out_without_lambdas(tmp_path):
    run = make_image_run(tmp_path / "rg", classes=2, method="real-guidance")
    assert lambda_vs_score([load_run(run.root)], tmp_path / "scatter.png") is None
    assert not (tmp_path / "scatter.png").exists()


def test_lambda_histogram_keeps_methods_with_identical_draws_apart():
    figure, ax = plt.subplots()
    draws = [0.1, 0.15, 0.5, 0.52, 0.9]
    llm, base = (method_of(build_config(get_method(name).overrides)) for name in ("llm-ags", "base-ags"))
    lambda_histogram(ax, {llm: draws, base: list(draws)})
    bars = [[(patch.get_x(), patch.get_height()) for patch in container] for container in ax.containers]
    plt.close(figure)
    assert len(bars) == 2 and [h for _, h in bars[0]] == [h for _, h in bars[1]]  # same counts ...
    assert all(a[0] != b[0] for a, b in zip(*bars) if a[1])  # ... drawn side by side, not on top of each other
    assert sum(h for _, h in bars[0]) == len(draws)


def test_prompt_table_shows_every_prompt_escaped_with_its_source(tmp_path):
    run = make_image_run(tmp_path / "run", classes=3, num_prompts=OPEN_UP_TO + 2)
    page = prompt_tables_html([load_run(run.root)])
    for name in class_names(3):
        for prompt in prompts_of(name, OPEN_UP_TO + 2):
            assert f"<li>{html.escape(prompt)}</li>" in page
    assert "<b>" not in page and page.count("<details>") == 3  # long lists fold, one per class
    assert "source llm · backend template" in page and "3 classes, 15 prompts" in page
    short = make_image_run(tmp_path / "short", classes=2, num_prompts=OPEN_UP_TO)
    assert "<details>" not in prompt_tables_html([load_run(short.root)])


def _gallery_images(page: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<img [^>]*>", page)]


def test_gallery_shows_every_image_as_a_thumbnail_with_its_prompt_lambda_and_seed(tmp_path):
    classes = CLASSES_PER_PAGE + 2
    run = make_image_run(tmp_path / "run", classes=classes, reals_per_class=2, images_per_real=3)
    record = load_run(run.root)
    folder = tmp_path / "report"
    page = gallery_html([record], folder)
    images = _gallery_images(page)
    rows = synthetic_rows(record)
    assert len(images) == len(rows) + classes * 2  # every synthetic image and every real image
    assert page.count("class='gallery-page'") == 2 and page.count("class='gallery-class'") == classes
    for image in images:
        assert image["src"].startswith("thumbs/") and image["loading"] == "lazy"
        with Image.open(folder / image["src"]) as thumb:
            assert max(thumb.size) <= THUMB_SIZE and thumb.size == (int(image["width"]), int(image["height"]))
    titles = {html.unescape(image["title"]) for image in images}
    for row in rows:
        assert f"prompt: {row['prompt']}\nλ = {row['ip_scale']:.4f}\nseed = {row['seed']}\nfile: synthetic/{row['file_name']}" in titles
    assert len(list((folder / "thumbs").iterdir())) == len(images)  # one thumbnail per file
    full_size = re.findall(r'<a class="full-size" href="([^"]+)"', page)
    assert len(full_size) == len(images)  # every thumbnail opens its source, relative to the report folder
    sources = {(folder / url2pathname(href)).resolve() for href in full_size}
    assert {(run.root / "synthetic" / row["file_name"]).resolve() for row in rows} <= sources
    assert all(source.is_file() for source in sources)


def test_gallery_shows_strength_for_img2img_and_puts_methods_side_by_side(tmp_path):
    for method in ("llm-ags", "real-guidance"):  # one shared split: the same real images
        make_image_run(tmp_path / "exp" / method, classes=2, method=method, data=tmp_path / "data")
    index = build_report(tmp_path / "exp")
    page = index.read_text()
    gallery = page[page.index(">Gallery</h2>") :]
    assert "strength 0.5 · seed" in gallery and "λ 0." in gallery
    assert gallery.count("class='gallery-row'") == 2 * 2  # 2 classes x 2 real images, each once ...
    assert gallery.count("class='gallery-method'") == 2 * 2 * 2  # ... with both methods' images beside it
    report = tmp_path / "exp" / "report"
    written = json.loads((report / "manifest.json").read_text())["files"]
    srcs = {image["src"] for image in _gallery_images(page) if not image["src"].startswith("data:")}
    assert srcs and srcs <= set(written) and all((report / src).is_file() for src in srcs)


def test_report_with_gallery_replaces_its_thumbnails_and_keeps_a_users_file(tmp_path):
    run = make_image_run(tmp_path / "run", classes=2)
    config = build_config({"out_dir": str(run.root)})
    run_report_stage(config, run)
    (run.report / "notes.txt").write_text("mine")
    stale = run.report / "thumbs" / "0000000000000000.jpg"
    manifest = json.loads((run.report / "manifest.json").read_text())
    manifest["files"].append("thumbs/0000000000000000.jpg")
    (run.report / "manifest.json").write_text(json.dumps(manifest))
    stale.write_bytes(b"old")
    index = run_report_stage(config, run)
    assert (run.report / "notes.txt").read_text() == "mine" and not stale.exists()
    page = index.read_text()
    assert ">Prompts per class</h2>" in page and ">Gallery</h2>" in page
    assert all((run.report / image["src"]).is_file() for image in _gallery_images(page) if image["src"].startswith("thumbs/"))


def test_rebuilding_a_report_reuses_thumbnails_of_unchanged_images_only(tmp_path, monkeypatch):
    import dalda.report.gallery as gallery

    run = make_image_run(tmp_path / "run", classes=2, reals_per_class=1, images_per_real=2)
    config = build_config({"out_dir": str(run.root)})
    run_report_stage(config, run)
    before = sorted(path.name for path in (run.report / "thumbs").iterdir())
    decoded: list[Path] = []
    real_load = gallery.load_rgb
    monkeypatch.setattr(gallery, "load_rgb", lambda path: decoded.append(Path(path)) or real_load(path))
    run_report_stage(config, run)
    assert decoded == [] and sorted(path.name for path in (run.report / "thumbs").iterdir()) == before

    changed = sorted(run.synthetic.rglob("*.png"))[0]
    Image.new("RGB", (40, 20), (255, 0, 0)).save(changed)
    index = run_report_stage(config, run)
    assert decoded == [changed.resolve()]
    (image,) = [image for image in _gallery_images(index.read_text()) if changed.name in image.get("title", "")]
    with Image.open(run.report / image["src"]) as thumb:
        assert thumb.size == (40, 20) and thumb.getpixel((5, 5))[0] > 200
    assert len(list((run.report / "thumbs").iterdir())) == len(before)  # the old thumbnail is gone with its report
