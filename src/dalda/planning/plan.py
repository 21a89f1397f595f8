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
from dalda.planning.guidance import sample_lambdas
from dalda.planning.rows import PlanRow
from dalda.scorers import ImageScore, clipscore_group

SEED_LIMIT = 2**31 - 1


def _check_prompts(prompts: dict[str, list[str]], classes: list[str]) -> None:
    missing = [name for name in classes if not prompts.get(name)]
    if missing:
        raise ValueError(
            f"no prompts for classes {missing}; re-run `dalda prompts` (prompts.regenerate=true) or add them to "
            "prompts.prompts_file"
        )


def _shared_fields(
    config: DaldaConfig, split: FewShotSplit, source_index: int, scores: dict[str, ImageScore] | None
) -> dict:
    """The fields every row made from one real image shares: its class, path, CLIPScore and group."""
    record = split.train[source_index]
    score_record = scores.get(str(record.path)) if scores else None
    score = score_record.value(config.score.variant) if score_record else None
    return {
        "class_name": split.classes[record.label],
        "label": record.label,
        "source_path": str(record.path),
        "source_index": source_index,
        "clipscore": score,
        "group": clipscore_group(score, config.guidance.alpha) if score is not None else None,
    }


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
    rows: list[PlanRow] = []
    for source_index in range(len(split.train)):
        shared = _shared_fields(config, split, source_index, scores)
        class_name = shared["class_name"]
        lambdas, _ = sample_lambdas(
            config.guidance, per_image, lambda_rng, score=shared["clipscore"], shots=split.shots
        )
        class_prompts, permutation = prompts[class_name], order[class_name]
        start = images_seen[class_name] * per_image
        images_seen[class_name] += 1
        for m in range(per_image):
            text = class_prompts[permutation[(start + m) % len(class_prompts)]]
            rows.append(
                PlanRow(
                    row_id=len(rows),
                    m=m,
                    prompt=config.prompts.prefix + text,
                    ip_scale=float(lambdas[m]),
                    seed=int(seed_rng.integers(0, SEED_LIMIT)),
                    **shared,
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
    da_fusion = baseline.generator == "da-fusion"
    rows: list[PlanRow] = []
    for source_index in range(len(split.train)):
        shared = _shared_fields(config, split, source_index, scores)
        subject = placeholder_token(shared["class_name"]) if da_fusion else shared["class_name"]
        for m in range(config.plan.images_per_real):
            strength = float(strength_rng.choice(baseline.da_fusion_strengths)) if da_fusion else baseline.strength
            rows.append(
                PlanRow(
                    row_id=len(rows),
                    m=m,
                    prompt=config.prompts.base_template.format(subject),
                    ip_scale=None,
                    seed=int(seed_rng.integers(0, SEED_LIMIT)),
                    generator=baseline.generator,
                    strength=strength,
                    **shared,
                )
            )
    return rows
