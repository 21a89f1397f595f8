"""The evaluate stage: accuracy of each trained classifier, the zero-shot CLIP reference, and diversity.

Writes ``results/<classifier>.json`` (one file per method x dataset x shots x trial x classifier run, carrying
every field the paper's tables are built from) and ``diversity.json``.

The zero-shot reference is the untrained head of the probe that offers one (``ProbeSpec.zero_shot``: CLIP,
whose initial head is the class-prompt text embeddings x logit scale) on the same evaluation features as the
probe, i.e. with the probe's preprocessing (``train.normalization``): it is exactly the CLIP classifier before
training, so the gap between the two rows is what training added.
A run with a real-only reference also gets, in its own results file, its gain over that reference on the same
evaluation images with a paired bootstrap interval and McNemar's exact test (``paired.py``); both files keep
each image's prediction, so the comparison can be redone from them.
A run whose training set had no synthetic image is labelled ``method: "none"`` (real images only), with the
configured method kept in ``configured_method``, so a table never lists it under a method it did not use.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dalda.artefacts import (
    Checkpoint,
    ClassifierResult,
    CurationRecord,
    DiversityReport,
    FilterRecord,
    Split,
    TrainingRecord,
    kept_by_person,
    read_split_for,
    rejected_by_filter,
)
from dalda.chat import prompt_source
from dalda.config import DaldaConfig
from dalda.methods import method_of, planned_method
from dalda.evaluation.accuracy import accuracy_report, chance_level, confusion_counts, eval_features, predict
from dalda.evaluation.diversity import SyntheticImage, diversity_report, manifest_images
from dalda.evaluation.fidelity import fidelity_report
from dalda.evaluation.paired import gain_over_reference
from dalda.images import drop_unreadable
from dalda.metrics import diversity_metrics, metric_names, metric_settings
from dalda.probes import PROBES
from dalda.probes.encoder import ProbeEncoder
from dalda.probes.accuracy import best_epoch
from dalda.probes.protocols import TrainingProtocol, training_protocol
from dalda.rundir import RunDir

log = logging.getLogger(__name__)


def _restore(classifier: str, config: DaldaConfig, checkpoint: Checkpoint) -> tuple[ProbeEncoder, nn.Linear]:
    """The backbone and head a checkpoint was trained with; a changed backbone/preprocessing is an error."""
    encoder = PROBES.get(classifier).load_backbone(config, checkpoint.record.seed)
    if encoder.identity != checkpoint.backbone_identity:
        raise ValueError(
            f"{classifier} was trained on backbone {checkpoint.backbone_identity!r} but the config now gives "
            f"{encoder.identity!r} (models or train.image_size/normalization/protocol changed); run `dalda train` again"
        )
    if checkpoint.record.finetuned_backbone:
        encoder.module.load_state_dict(checkpoint.backbone)
    elif checkpoint.backbone is not None:  # running statistics drifted by train-mode BatchNorm (authors)
        missing = set(checkpoint.backbone) - {name for name, _ in encoder.module.named_buffers()}
        if missing:
            raise ValueError(f"{classifier}'s checkpoint holds buffers this backbone lacks ({sorted(missing)[:3]})")
        encoder.module.load_state_dict(checkpoint.backbone, strict=False)
    head = nn.Linear(checkpoint.feature_dim, len(checkpoint.classes))
    head.load_state_dict(checkpoint.head)
    return encoder, head.to(encoder.device)


def synthetic_method_label(config: DaldaConfig, run: RunDir) -> str:
    """The method that made this run's plan (and so its synthetic set), as the plan stage recorded it
    (``dalda.methods.planned_method``); a run planned before that record: the method of the config its plan stage
    last finished with (``history.jsonl``), else of this command's config.

    ``dalda evaluate -s guidance.strategy=random`` on an AGS run thus still labels its results ``llm-ags``: an
    override on a later command cannot relabel images it did not make. The label names the prompt source the
    run's prompts record states (``template-ags`` when the offline template wrote them, ``docs/protocol.md``).
    """
    current = method_of(config, prompt_source(config, run)).name
    recorded = planned_method(config, run).name
    if recorded != current:
        log.warning(
            "the plan of %s was made by method %s, but this command's config runs %s; results are labelled %s "
            "(re-run `dalda plan` and `dalda generate` to make a %s set)", run.root, recorded, current, recorded, current
        )
    return recorded


def _diversity(config: DaldaConfig, run: RunDir, eval_paths: list[Path]) -> dict[str, Any]:
    ev = config.evaluate
    metrics = diversity_metrics()
    own = {name: metric_settings(ev, name) for name, _ in metrics}
    enabled = [(name, metric) for name, metric in metrics if own[name].enabled]
    settings: dict[str, Any] = {}  # a setting two metrics share (clip_model) is None only when both are off
    for name, metric in metrics:
        for key, value in metric.recorded_settings(config, own[name]).items():
            if own[name].enabled:
                settings[key] = value
            else:
                settings.setdefault(key, None)
    base: dict[str, Any] = {
        "method": synthetic_method_label(config, run),
        "dataset": config.data.dataset,
        "shots": config.data.shots,
        "trial": config.data.trial,
        "models_profile": config.models.profile,
        **settings,
        "seed": config.seed,
    }
    if not run.manifest.exists():
        scores = {name: None for name in metric_names()}
        return {**base, **scores, "note": f"no synthetic images (no manifest at {run.manifest})"}
    images, missing = manifest_images(run.manifest, run.synthetic)
    models = {name: metric.load(config, own[name]) for name, metric in enabled}
    report = diversity_report(images, models, ev, config.seed)
    fidelity = fidelity_report(config, [image.path for image in images], eval_paths)
    kept = _kept_only(config, run, images, models, eval_paths)
    return {**base, "manifest_rows_without_file": missing, **report, **fidelity, **kept}


def _kept_only(
    config: DaldaConfig, run: RunDir, images: list[SyntheticImage], models: dict[str, Any], eval_paths: list[Path]
) -> dict[str, Any]:
    """``{"kept": {num_images, <metric>: value, ...}}`` over the images kept (those training uses: a person's
    decision, else the filter's), when either decided; the top-level metrics stay over every image, so the two show what the filter changed."""
    decisions = FilterRecord.by_image(run)
    curated = CurationRecord.by_image(run)  # a person's decision overrides the filter's, as in training
    if not decisions and not curated:
        return {}

    def kept_now(image: SyntheticImage) -> bool:
        name = image.path.relative_to(run.synthetic).as_posix()
        person = kept_by_person(curated, name, image.path)
        return person if person is not None else not rejected_by_filter(decisions, name, image.path)

    kept = [image for image in images if kept_now(image)]
    report = diversity_report(kept, models, config.evaluate, config.seed)
    fidelity = fidelity_report(config, [image.path for image in kept], eval_paths)
    values = {name: report.get(name, fidelity.get(name)) for name in metric_names()}
    return {"kept": {"num_images": len(kept), **values}}


def _zero_shot_probe(frozen: dict[str, ProbeEncoder], config: DaldaConfig) -> tuple[str, ProbeEncoder] | None:
    """The probe giving the zero-shot reference: one just evaluated with a frozen backbone (``frozen``), else the
    first registered probe that offers one, loaded now; None when no probe offers one.

    The reference is always the ``fast`` probe's zero-shot head (normalised features, logit scale): the
    ``authors`` head starts with a random bias and is no zero-shot classifier.
    """
    if frozen and config.train.protocol == "fast":
        return next(iter(frozen.items()))
    name = next((name for name, probe in PROBES.items() if probe.zero_shot), None)
    fast = config.model_copy(update={"train": config.train.model_copy(update={"protocol": "fast"})})
    return None if name is None else (name, PROBES.get(name).load_backbone(fast, config.seed))


def run_evaluate_stage(config: DaldaConfig, run: RunDir) -> dict:
    """Score every classifier of ``train.classifiers`` on the evaluation split; write results and diversity."""
    split = read_split_for(config.data, run)
    eval_records = drop_unreadable(split.eval)
    labels = torch.as_tensor([record.label for record in eval_records])
    batch_size = config.train.encode_batch_size
    eval_records = list(eval_records)

    reports: dict[str, dict[str, Any]] = {}
    records: dict[str, TrainingRecord] = {}
    frozen: dict[str, ProbeEncoder] = {}
    for classifier in config.train.classifiers:
        report, record, encoder, changed = _evaluate_checkpoint(
            classifier, config, run, run.checkpoint_file(classifier), split, eval_records, labels
        )
        reports[classifier], records[classifier] = report, record
        if not changed and PROBES.get(classifier).zero_shot:
            frozen[classifier] = encoder  # the zero-shot reference reuses it (and its feature cache)

    zero_shot: dict[str, Any] | None = None
    reference = _zero_shot_probe(frozen, config) if config.evaluate.zero_shot else None
    if reference is not None:
        name, encoder = reference
        features = eval_features(encoder, eval_records, run.features, batch_size, use_cache=True)
        fast_train = config.train.model_copy(update={"protocol": "fast"})
        head = PROBES.get(name).build_head(encoder, split.classes, fast_train, config.seed).to(encoder.device)
        zero_shot = accuracy_report(predict(head, features), labels, split.classes)

    diversity = _diversity(config, run, [Path(record.path) for record in eval_records])
    DiversityReport(diversity).write(run)

    summary: dict[str, Any] = {
        "method": None,
        "accuracy": {},
        "zero_shot_clip_accuracy": zero_shot["accuracy"] if zero_shot else None,
        **{name: diversity.get(name) for name in metric_names()},
        "results": {},
    }
    for classifier, report in reports.items():
        record = records[classifier]
        result = _result(
            config, split, classifier, report, record, zero_shot, diversity, len(split.eval), diversity["method"]
        )
        reference = _evaluate_real_only_reference(
            config, run, classifier, split, eval_records, labels, zero_shot, diversity
        )
        if reference is not None:
            result = replace(result, gain_over_real_only=_gain(result, reference, config.seed))
        path = run.result_file(classifier)
        result.write(path)
        summary["method"] = result.method
        summary["accuracy"][classifier] = report["accuracy"]
        summary["results"][classifier] = str(path)
        log.info("%s accuracy %.4f on %d images", classifier, report["accuracy"], report["num_eval"])
    return summary


def _gain(result: ClassifierResult, reference: ClassifierResult, seed: int) -> dict[str, Any]:
    """The run's gain over its real-only reference on the same images, with its interval and McNemar's test."""
    metric = "macro" if result.accuracy_metric == "macro" else "micro"
    return gain_over_reference(
        result.predictions or [], reference.predictions or [], result.labels or [], len(result.classes or []),
        metric, seed,
    )  # fmt: skip


def _evaluate_checkpoint(
    classifier: str,
    config: DaldaConfig,
    run: RunDir,
    path: Path,
    split: Split,
    eval_records: list,
    labels: torch.Tensor,
) -> tuple[dict[str, Any], TrainingRecord, ProbeEncoder, bool]:
    """Accuracy report (with confusion counts) of the classifier saved at ``path``, its training record, its
    backbone, and whether that backbone's features are this checkpoint's alone (fine-tuned or drifted)."""
    checkpoint = Checkpoint.read(path)
    if checkpoint.classes != split.classes:
        raise ValueError(f"{path} was trained on other classes than {run.split} lists; run `dalda train` again")
    encoder, head = _restore(classifier, config, checkpoint)
    changed = checkpoint.record.finetuned_backbone or checkpoint.backbone is not None  # features: this run's alone
    features = eval_features(encoder, eval_records, run.features, config.train.encode_batch_size, use_cache=not changed)
    predictions = predict(head, features)
    report = accuracy_report(predictions, labels, split.classes)
    report["confusion"] = confusion_counts(predictions, labels, len(split.classes))
    report["predictions"], report["labels"] = predictions.tolist(), labels.tolist()
    return report, checkpoint.record, encoder, changed


def _evaluate_real_only_reference(
    config: DaldaConfig,
    run: RunDir,
    classifier: str,
    split: Split,
    eval_records: list,
    labels: torch.Tensor,
    zero_shot: dict[str, Any] | None,
    diversity: dict[str, Any],
) -> ClassifierResult | None:
    """``results/real_only/<classifier>.json`` from the reference the train stage made (``train.real_only_reference``),
    returned; a results file of an earlier reference is removed when the train stage made none this time."""
    path = run.reference_checkpoint_file(classifier)
    out = run.reference_result_file(classifier)
    if not path.is_file():
        out.unlink(missing_ok=True)
        return None
    report, record, _, _ = _evaluate_checkpoint(classifier, config, run, path, split, eval_records, labels)
    result = _result(
        config, split, classifier, report, record, zero_shot, diversity, len(split.eval), diversity["method"]
    )
    result = replace(result, reference="real_only")
    result.write(out)
    log.info("%s real-only reference accuracy %.4f", classifier, result.accuracy)
    return result


def _result(
    config: DaldaConfig,
    split: Split,
    classifier: str,
    report: dict[str, Any],
    record: TrainingRecord,
    zero_shot: dict[str, Any] | None,
    diversity: dict[str, Any],
    num_eval_listed: int,
    configured: str,
) -> ClassifierResult:
    """One results file: the row of the paper's tables plus everything needed to trust and rebuild it;
    ``configured`` is the method that made the synthetic set (:func:`synthetic_method_label`)."""
    protocol = training_protocol(record.protocol or "fast")
    uses_synthetic = record.num_synthetic > 0 and record.synthetic_probability > 0
    accuracy = report[f"{protocol.headline_metric}_accuracy"]
    chance = chance_level(accuracy, protocol.headline_metric, report["per_class_count"])
    if chance is not None:
        log.warning("%s: %s", classifier, chance)
    notes = split.warnings() + ([chance] if chance else [])  # not to be read as a usual result
    return ClassifierResult(
        method=configured if uses_synthetic else "none",
        configured_method=configured,
        dataset=split.dataset,
        shots=split.shots,
        trial=split.trial,
        eval_split=split.eval_split,
        classifier=classifier,
        accuracy=accuracy,
        per_class_accuracy=report["per_class_accuracy"],
        per_class_count=report["per_class_count"],
        num_eval=report["num_eval"],
        num_eval_unreadable=num_eval_listed - report["num_eval"],
        num_classes=len(split.classes),
        classes=split.classes,
        num_train_real=record.num_train_real,
        num_synthetic=record.num_synthetic,
        synthetic_probability=record.synthetic_probability,
        effective_synthetic_rate=record.effective_synthetic_rate,
        synthetic_source=record.synthetic_source,
        zero_shot_clip_accuracy=zero_shot["accuracy"] if zero_shot else None,
        zero_shot_clip_per_class_accuracy=zero_shot["per_class_accuracy"] if zero_shot else None,
        diversity=_diversity_summary(diversity),
        models={
            "profile": config.models.profile,
            "model_id": record.model_id,
            "backbone_identity": record.backbone_identity,
            "clip_model": config.models.clip_model,
        },
        seed=config.seed,
        training={key: value for key, value in record.to_json().items() if key != "train_config"},
        train_config=record.train_config,
        **_protocol_fields(protocol, report, record, config.train.epochs),
        confusion=report.get("confusion"),
        predictions=report.get("predictions"),
        labels=report.get("labels"),
        reference=None,
        at_chance_level=chance is not None,
        warnings=notes or None,
    )


def _protocol_fields(
    protocol: TrainingProtocol, report: dict[str, Any], record: TrainingRecord, epochs: int
) -> dict[str, Any]:
    """Which protocol made the numbers, and per-class / macro / micro accuracy of every evaluated epoch.

    The final epoch is always scored here on every evaluation image once. ``authors`` adds the per-epoch scores
    the train stage measured on evaluation draws, and the best of those epochs, marked as chosen on the
    evaluation split; it is reported beside the final-epoch numbers, never instead of them.
    """
    final = {
        "epoch": record.train_config.get("epochs", epochs),
        "num_draws": None,
        "evaluated_on": "every evaluation image once",
        "macro_accuracy": report["macro_accuracy"],
        "micro_accuracy": report["micro_accuracy"],
    }
    measured = record.epoch_evaluations or []
    per_epoch = [{**entry, "evaluated_on": "evaluation draws with replacement"} for entry in measured]
    if not per_epoch:
        per_class = {key: report[key] for key in ("per_class_accuracy", "per_class_count")}
        per_epoch = [{**final, **per_class}]
    return {
        "protocol": protocol.name,
        "protocol_description": protocol.description,
        "accuracy_metric": protocol.headline_metric,
        "macro_accuracy": report["macro_accuracy"],
        "micro_accuracy": report["micro_accuracy"],
        "final_epoch": final,
        "best_epoch": best_epoch(measured),
        "epochs": per_epoch,
    }


def _diversity_summary(diversity: dict[str, Any]) -> dict[str, Any]:
    """What a results file repeats of ``diversity.json``: each metric's score, its declared settings, the rule."""
    metrics = [metric for _, metric in diversity_metrics()]
    scores = {name: diversity.get(name) for name in metric_names()}
    settings = {key: diversity.get(key) for metric in metrics for key in metric.result_settings}
    fidelity = diversity.get("fidelity")
    if fidelity:  # which features FID/KID compared, and KID's spread
        settings.update({"fidelity_features": fidelity.get("features"), "kid_std": fidelity.get("kid_std")})
    return {**scores, **settings, "pairing_rule": diversity.get("pairing_rule")}
