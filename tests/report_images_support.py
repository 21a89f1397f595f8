"""A finished run with many classes, written by hand for the report's image sections (scatter, prompts, gallery).

Only the files the report reads: ``config.yaml``, ``scores.jsonl``, ``prompts.json``, ``prompts_record.json``,
``plan.jsonl`` (λ drawn by the plan stage's own sampler) and ``synthetic/`` with its manifest. Every image is a
small solid-colour PNG, so a report builds in seconds.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from dalda.artefacts import ManifestLine, PlanRow, PromptsRecord, PromptTable, ScoreRecord
from dalda.config import config_to_yaml
from dalda.configure import build_config
from dalda.methods import get_method
from dalda.guidance import SamplingContext, bind, clipscore_group
from dalda.rundir import RunDir


def _image(path: Path, colour: tuple[int, int, int], size: int = 96) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), colour).save(path)
    return path


def class_names(count: int) -> list[str]:
    return [f"class{index:02d}" for index in range(count)]


def prompts_of(name: str, count: int) -> list[str]:
    return [f"a <b>{name}</b> on a beach, view {m} & friends" for m in range(count)]


def make_image_run(
    root: Path,
    *,
    classes: int = 12,
    reals_per_class: int = 2,
    images_per_real: int = 2,
    num_prompts: int = 4,
    method: str = "llm-ags",
    overrides: dict | None = None,
    seed: int = 0,
    data: Path | None = None,
) -> RunDir:
    """A finished run of ``method`` on the demo dataset with ``classes`` classes (see the module doc); the real
    images go to ``data`` (runs of one experiment share them), else into the run's own ``data/``."""
    values = {"out_dir": str(root), "data": {"dataset": "demo", "shots": reals_per_class},
              "prompts": {"num_prompts": num_prompts}, **get_method(method).overrides}  # fmt: skip
    for key, section in (overrides or {}).items():
        values[key] = {**values.get(key, {}), **section}
    config = build_config(values)
    run = RunDir(Path(root)).ensure()
    run.config.write_text(config_to_yaml(config))
    names = class_names(classes)
    rng = np.random.default_rng(seed)
    reals = []
    for label, name in enumerate(names):
        for index in range(reals_per_class):
            path = _image((data or run.root / "data") / name / f"{index:03d}.png", (20 * label % 256, 60 * index % 256, 120))
            reals.append((label, name, path, float(rng.uniform(0.0, 1.0))))
    sampler = bind(config.guidance, SamplingContext(reals_per_class, [real[3] for real in reals], default_alpha=0.3))
    alpha = 0.3 if sampler.threshold is None else sampler.threshold
    scores = [ScoreRecord(path=str(path), class_name=name, label=label, sha256="x",
                          measures={"softmax": score, "cosine": 0.3, "hessel": 0.7}, clip_model="m",
                          template="a photo of a {}", score=score, group=clipscore_group(score, alpha))
              for label, name, path, score in reals]  # fmt: skip
    ScoreRecord.write_all(run, scores)
    prompts = {name: prompts_of(name, num_prompts) for name in names}
    PromptTable(prompts).write(run)
    PromptsRecord(status="complete", settings={"source": "llm", "backend": "template", "classes": names},
                      started_at="2026-01-01T00:00:00", finished_at="2026-01-01T00:00:01", usage={},
                      rounds=[], attempts=[]).write(run)  # fmt: skip
    plan, manifest = [], []
    img2img = get_method(method).overrides.get("generator", {}).get("name") in ("real-guidance", "da-fusion")
    for source_index, (label, name, path, score) in enumerate(reals):
        lambdas = sampler.draw(images_per_real, score, rng)
        group = None if sampler.threshold is None else clipscore_group(score, sampler.threshold)
        for m in range(images_per_real):
            row = PlanRow(row_id=len(plan), class_name=name, label=label, source_path=str(path),
                          source_index=source_index, m=m, prompt=f"best quality, high quality, {prompts[name][m % num_prompts]}",
                          ip_scale=None if img2img else float(lambdas[m]), clipscore=score, group=group,
                          seed=1000 + len(plan), generator="real-guidance" if img2img else "ip-adapter",
                          strength=0.5 if img2img else None, scorer="softmax")  # fmt: skip
            plan.append(row)
            file_name = f"{name}/{row.row_id:06d}.png"
            _image(run.synthetic / file_name, (30 * m % 256, 20 * label % 256, 200), size=64)
            manifest.append(ManifestLine(file_name=file_name, **asdict(row)))
    PlanRow.write_all(run, plan)
    ManifestLine.write_all(run, manifest)
    return run
