"""Building the generation plan: M rows per real image, each with its prompt, lambda and seed.

The plan is complete before generation starts, so it can be read, diffed and sharded, and an image never
depends on which process made it or when. Randomness comes from three independent streams spawned from the
run seed (prompt order, lambda, per-image seeds), so changing e.g. the lambda strategy leaves the prompt
assignment and the image seeds untouched: a fixed-lambda sweep differs only in lambda.
"""

from __future__ import annotations

import numpy as np

from dalda.config import DaldaConfig
from dalda.data.splits import FewShotSplit
from dalda.planning.guidance import clipscore_group, sample_lambdas
from dalda.planning.rows import PlanRow
from dalda.scoring.clipscore import ImageScore

SEED_LIMIT = 2**31 - 1


def base_prompts(classes: list[str], template: str) -> dict[str, list[str]]:
    """The paper's Base Prompt: one prompt per class, 'a photo of a {class}'."""
    return {name: [template.format(name)] for name in classes}


def _check_prompts(prompts: dict[str, list[str]], classes: list[str]) -> None:
    missing = [name for name in classes if not prompts.get(name)]
    if missing:
        raise ValueError(
            f"no prompts for classes {missing}; re-run `dalda prompts` (prompts.regenerate=true) or add them to "
            "prompts.prompts_file"
        )


def build_plan(
    config: DaldaConfig,
    split: FewShotSplit,
    prompts: dict[str, list[str]],
    scores: dict[str, ImageScore] | None,
) -> list[PlanRow]:
    """Rows for every real training image, in split order, ``plan.images_per_real`` each.

    Each class's prompts are shuffled once and cycled over that class's images, so the M images of one real
    image use M different prompts whenever the class has at least M prompts (the authors' scheme).
    """
    _check_prompts(prompts, split.classes)
    per_image = config.plan.images_per_real
    prompt_stream, lambda_stream, seed_stream = np.random.SeedSequence(config.seed).spawn(3)
    prompt_rng = np.random.default_rng(prompt_stream)
    lambda_rng = np.random.default_rng(lambda_stream)
    seed_rng = np.random.default_rng(seed_stream)

    if config.baseline.generator != "ip-adapter":
        return _baseline_rows(config, split, scores, lambda_rng, seed_rng)
    order = {name: prompt_rng.permutation(len(prompts[name])) for name in split.classes}
    images_seen = {name: 0 for name in split.classes}
    variant, alpha = config.score.variant, config.guidance.alpha
    rows: list[PlanRow] = []
    for source_index, record in enumerate(split.train):
        class_name = split.classes[record.label]
        score_record = scores.get(str(record.path)) if scores else None
        score = score_record.value(variant) if score_record else None
        lambdas, _ = sample_lambdas(config.guidance, per_image, lambda_rng, score=score, shots=split.shots)
        class_prompts, permutation = prompts[class_name], order[class_name]
        start = images_seen[class_name] * per_image
        images_seen[class_name] += 1
        for m in range(per_image):
            text = class_prompts[permutation[(start + m) % len(class_prompts)]]
            rows.append(
                PlanRow(
                    row_id=len(rows),
                    class_name=class_name,
                    label=record.label,
                    source_path=str(record.path),
                    source_index=source_index,
                    m=m,
                    prompt=config.prompts.prefix + text,
                    ip_scale=float(lambdas[m]),
                    clipscore=score,
                    group=clipscore_group(score, alpha) if score is not None else None,
                    seed=int(seed_rng.integers(0, SEED_LIMIT)),
                )
            )
    return rows


def _baseline_rows(
    config: DaldaConfig,
    split: FewShotSplit,
    scores: dict[str, ImageScore] | None,
    strength_rng: np.random.Generator,
    seed_rng: np.random.Generator,
) -> list[PlanRow]:
    """Rows for the img2img baselines, as the DA-Fusion code base makes them (no prompt prefix, no lambda).

    Real Guidance: the base prompt at one strength. DA-Fusion: the class's learned token in the base template,
    with a strength drawn per image from ``baseline.da_fusion_strengths``.
    """
    from dalda.baselines.textual_inversion import placeholder_token

    baseline = config.baseline
    rows: list[PlanRow] = []
    for source_index, record in enumerate(split.train):
        class_name = split.classes[record.label]
        score_record = scores.get(str(record.path)) if scores else None
        score = score_record.value(config.score.variant) if score_record else None
        if baseline.generator == "da-fusion":
            prompt = config.prompts.base_template.format(placeholder_token(class_name))
        else:
            prompt = config.prompts.base_template.format(class_name)
        for m in range(config.plan.images_per_real):
            if baseline.generator == "da-fusion":
                strength = float(strength_rng.choice(baseline.da_fusion_strengths))
            else:
                strength = baseline.strength
            rows.append(
                PlanRow(
                    row_id=len(rows),
                    class_name=class_name,
                    label=record.label,
                    source_path=str(record.path),
                    source_index=source_index,
                    m=m,
                    prompt=prompt,
                    ip_scale=None,
                    clipscore=score,
                    group=clipscore_group(score, config.guidance.alpha) if score is not None else None,
                    seed=int(seed_rng.integers(0, SEED_LIMIT)),
                    generator=baseline.generator,
                    strength=strength,
                )
            )
    return rows
